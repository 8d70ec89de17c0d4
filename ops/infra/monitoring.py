"""Operations around either way in: the dashboard, and what the ops resources need
(the keyring key, WAF, access logs, alarms) as parameters, rules and conditions."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import telemetry
from ops.infra.alarms import alarms
from ops.infra.api import access_log_group
from ops.infra.common import API_STAGE, STAGE_OPTIONS, SUB, Deployment, is_set, ref, sub
from ops.infra.edge import web_acl
from ops.infra.tables_iam import keyring_key, keyring_key_alias, way_2_names
from ops.stage import TABLE_ENVIRONMENT, stage_environment

KEYRING_ADMIN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"


def dashboard(stage: str, deployment: Deployment) -> dict[str, Any]:
    """One CloudWatch dashboard: the API, the functions, the tables and the business metrics."""
    values: dict[str, Any] = {"ApiNameValue": deployment.api_name}
    values.update({f"Function{i}": name for i, name in enumerate(deployment.functions.values())})
    values.update({f"Table{i}": name for i, name in enumerate(deployment.tables.values())})

    def widget(title: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
        return {"type": "metric", "width": 12, "height": 6, "properties": {
            "title": title, "region": "${AWS::Region}", "stat": stat, "period": 300,
            "metrics": metrics}}

    api = ["ApiName", "${ApiNameValue}", "Stage", API_STAGE]
    functions = [f"${{Function{i}}}" for i in range(len(deployment.functions))]
    tables = [f"${{Table{i}}}" for i in range(len(deployment.tables))]
    body = {"widgets": [
        widget("API requests and errors", [["AWS/ApiGateway", m, *api]
                                           for m in ("Count", "4XXError", "5XXError")]),
        widget("API latency (p99)", [["AWS/ApiGateway", "Latency", *api]], stat="p99"),
        widget("Lambda errors and throttles", [["AWS/Lambda", m, "FunctionName", f]
                                               for f in functions
                                               for m in ("Errors", "Throttles")]),
        widget("Lambda duration (p99)", [["AWS/Lambda", "Duration", "FunctionName", f]
                                         for f in functions], stat="p99"),
        widget("DynamoDB throttles", [["AWS/DynamoDB", m, "TableName", t] for t in tables
                                      for m in ("ReadThrottleEvents", "WriteThrottleEvents")]),
        widget("Sign-ins, sign-ups, posts", [[telemetry.NAMESPACE, name, "Stage", stage]
                                             for name in telemetry.METRICS]),
    ]}
    return {"Dashboard": {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": sub("${AWS::StackName}"),
            "DashboardBody": {SUB: [json.dumps(body, separators=(",", ":")), values]},
        },
    }}


def ops_parameters(stage: str) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "KeyringAdminArn": {
            "Type": "String",
            # A role, never an sts assumed-role session: a session's ARN stops matching
            # at the next session, and the keyring could no longer be rotated.
            "AllowedPattern": KEYRING_ADMIN_PATTERN,
            "Description": "ARN of the IAM role that runs python -m ops keyring "
                           "(arn:aws:iam::<account>:role/<name>): the only principal, besides "
                           "the functions, that may use the keyring's KMS key",
        },
        "EnableWaf": {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "true" if STAGE_OPTIONS[stage]["waf"] else "false",
            "Description": "Put the AWS WAF web ACL in front of the API (it costs money)",
        },
    }
    if STAGE_OPTIONS[stage]["alarms"]:
        parameters["AlarmEmail"] = {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+$",
            "Description": "E-mail address subscribed to the alarm topic (confirm the mail)",
        }
    return parameters


def ops_rules(stage: str) -> dict[str, Any]:
    """A stage with alarms needs someone to receive them: AlarmEmail is required."""
    if not STAGE_OPTIONS[stage]["alarms"]:
        return {}
    return {"AlarmEmailRequired": {"Assertions": [{
        "Assert": is_set("AlarmEmail"),
        "AssertDescription": f"{stage} needs AlarmEmail: without it the alarms reach nobody",
    }]}}


def ops_conditions(stage: str) -> dict[str, Any]:
    return {"UseWaf": {"Fn::Equals": [ref("EnableWaf"), "true"]}}


def ops_resources(stage: str, config: dict[str, Any], deployment: Deployment) -> dict[str, Any]:
    resources = {**keyring_key(config, stage, deployment), **web_acl(stage, config, deployment),
                 **access_log_group(stage, config), **dashboard(stage, deployment)}
    if STAGE_OPTIONS[stage]["alarms"]:
        resources.update(alarms(stage, deployment, config["lambda_timeout"]))
    return resources


def ops_template(stage: str, config: dict[str, Any], app: Any) -> dict[str, Any]:
    """The operations stack beside `chalice deploy`: what Chalice cannot declare."""
    env = stage_environment(config, stage)
    prefix = f"{config['app_name']}-{stage}"
    deployment = Deployment(
        functions=way_2_names(config, stage, app),
        roles={name: sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{prefix}-{name}")
               for name in way_2_names(config, stage, app)},
        tables={key: env[variable] for key, variable in TABLE_ENVIRONMENT.items()},
        log_groups={name: f"/aws/lambda/{function}"
                    for name, function in way_2_names(config, stage, app).items()},
        api_name=config["app_name"],
        api_id=ref("RestApiId"),
        stage_ref=API_STAGE,
    )
    resources = ops_resources(stage, config, deployment)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"chalkboard {stage}: keyring key, WAF, access logs, alarms and dashboard "
                       f"for a `chalice deploy` API (deploy after chalice deploy)",
        "Parameters": {
            "RestApiId": {
                "Type": "String",
                "AllowedPattern": r"^[a-z0-9]{10}$",
                "Description": "The API's id (.chalice/deployed/" + stage + ".json, rest_api_id)",
            },
            **ops_parameters(stage),
        },
        "Rules": ops_rules(stage),
        "Conditions": ops_conditions(stage),
        "Resources": resources,
        "Outputs": {
            "KeyringKeyAlias": {"Value": keyring_key_alias(config, stage)},
            "ApiAccessLogGroupArn": {"Value": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}},
        },
    }
