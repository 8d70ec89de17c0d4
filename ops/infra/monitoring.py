"""Operations around either way in: alarms, the dashboard and the ops parameters."""

from __future__ import annotations

import json
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib import telemetry
from ops.infra.api import access_log_group
from ops.infra.common import API_STAGE, STAGE_OPTIONS, SUB, Deployment, camel, is_set, ref, sub
from ops.infra.edge import web_acl
from ops.infra.tables_iam import keyring_key


def alarm(description: str, namespace: str, metric: str, dimensions: dict[str, Any],
          statistic: str, threshold: float, *, period: int = 300,
          evaluation_periods: int = 1) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": evaluation_periods,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")],
        },
    }


def alarms(stage: str, deployment: Deployment) -> dict[str, Any]:
    """Prod's alarms to one SNS topic; docs/deploy.md's runbook says what each means."""
    api = {"ApiName": deployment.api_name, "Stage": API_STAGE}
    resources: dict[str, Any] = {
        "AlarmTopic": {"Type": "AWS::SNS::Topic",
                       "Properties": {"DisplayName": f"chalkboard {stage} alarms"}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": ref("AlarmTopic"), "Protocol": "email",
                           "Endpoint": ref("AlarmEmail")},
        },
        "ApiServerErrorsAlarm": alarm(
            "API 5xx rate >= 5% for 5 minutes (runbook: API 5xx)",
            "AWS/ApiGateway", "5XXError", api, "Average", 0.05),
        "AuthorizerErrorsAlarm": alarm(
            "The authorizer could not decide (store or SSM down) (runbook: authorizer errors)",
            telemetry.NAMESPACE, "AuthorizerErrors", {"Stage": stage}, "Sum", 5),
        "RefreshTokenReuseAlarm": alarm(
            "Spent refresh tokens presented again: stolen tokens? (runbook: refresh reuse)",
            telemetry.NAMESPACE, "RefreshTokenReuse", {"Stage": stage}, "Sum", 5),
    }
    for chalice_name, function_name in deployment.functions.items():
        label = to_cfn_resource_name(chalice_name)
        dims = {"FunctionName": function_name}
        if chalice_name == "api_handler":  # the authorizer's every 401 is a Lambda "error"
            resources[f"{label}ErrorsAlarm"] = alarm(
                f"{chalice_name}: unhandled errors (runbook: Lambda errors)",
                "AWS/Lambda", "Errors", dims, "Sum", 1)
        resources[f"{label}ThrottlesAlarm"] = alarm(
            f"{chalice_name}: invocations throttled (runbook: Lambda throttles)",
            "AWS/Lambda", "Throttles", dims, "Sum", 1)
    for key, table in deployment.tables.items():
        resources[f"{camel(key)}TableThrottlesAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"{key} table: requests throttled (runbook: DynamoDB "
                                    "throttles)",
                "Metrics": [
                    {"Id": "throttled", "Expression": "reads + writes", "ReturnData": True,
                     "Label": "throttled requests"},
                    *[{"Id": kind, "ReturnData": False, "MetricStat": {
                        "Metric": {"Namespace": "AWS/DynamoDB", "MetricName": metric,
                                   "Dimensions": [{"Name": "TableName", "Value": table}]},
                        "Period": 300, "Stat": "Sum"}}
                      for kind, metric in (("reads", "ReadThrottleEvents"),
                                           ("writes", "WriteThrottleEvents"))],
                ],
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [ref("AlarmTopic")],
                "OKActions": [ref("AlarmTopic")],
            },
        }
    return resources


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
            "AllowedPattern": r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/:-]+$",
            "Description": "ARN of the IAM role or user that runs python -m ops keyring: the only "
                           "principal, besides the two functions, that may use the keyring's "
                           "KMS key (aws sts get-caller-identity; for an assumed role use "
                           "the role's ARN)",
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


def ops_conditions(stage: str) -> dict[str, Any]:
    conditions: dict[str, Any] = {"UseWaf": {"Fn::Equals": [ref("EnableWaf"), "true"]}}
    if STAGE_OPTIONS[stage]["alarms"]:
        conditions["HasAlarmEmail"] = is_set("AlarmEmail")
    return conditions


def ops_resources(stage: str, config: dict[str, Any], deployment: Deployment) -> dict[str, Any]:
    resources = {**keyring_key(config, stage, deployment), **web_acl(stage, deployment),
                 **access_log_group(stage, config), **dashboard(stage, deployment)}
    if STAGE_OPTIONS[stage]["alarms"]:
        resources.update(alarms(stage, deployment))
    return resources
