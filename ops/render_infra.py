"""Render chalkboard's deploy templates and IAM policy files from one description.

    python -m ops render-infra           # rewrite the files below
    python -m ops render-infra --check   # exit 1 if a committed file is stale (the tests do this)

Written files, for each deployed stage (dev, prod) in .chalice/config.json:

- ``infra/<stage>.json`` — the merge template for the one stack
  (``chalice package --merge-template infra/<stage>.json``): the DynamoDB tables,
  their names wired into both functions, IAM roles restated with exact ARNs,
  CORS on API Gateway's own error responses and on every preflight, and the web
  app (private S3 bucket behind CloudFront with Origin Access Control).
- ``infra/web-<stage>.json`` — a plain CloudFormation template for `chalice deploy`
  (``chalice deploy``): the same web app resources on their own.
- ``.chalice/policy-<stage>.json`` — the Lambda roles' policy for `chalice deploy`. Chalice
  copies it verbatim, so it cannot name the account or region; it names the
  stage's exact tables, keyring parameter and log groups instead (see docs/deploy.md).

Everything comes from .chalice/config.json, the app's routes and authorizer, and
``ops.tables.table_definitions``, so the templates cannot drift
from the code: the tests re-render and compare. The pieces live in ``ops/infra/``
by concern (api, tables_iam, web, edge, monitoring); this module assembles them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib.store.dynamodb import TableNames
from ops.generated import command_main
from ops.infra.api import (
    ACCESS_LOG_FORMAT,
    API_DOMAIN_CONDITIONS,
    API_DOMAIN_RULES,
    api_domain_parameters,
    api_domain_resources,
    cors_paths,
    gateway_responses,
    is_sign_in_path,
    method_settings,
    reserved_concurrency_conditions,
    reserved_concurrency_parameters,
    sign_in_routes,
)
from ops.infra.common import (
    API_STAGE,
    PLACEHOLDER_ORIGIN,
    STAGE_OPTIONS,
    STAGES,
    Deployment,
    arn,
    authorizer_names,
    load_app,
    ref,
    retained,
    sub,
)
from ops.infra.live import (
    LIVE_FUNCTION,
    LIVE_LOGICAL_ID,
    live_origin,
    live_outputs,
    live_resources,
)
from ops.infra.monitoring import (
    ops_conditions,
    ops_parameters,
    ops_resources,
    ops_rules,
    ops_template,
)
from ops.infra.tables_iam import (
    TABLE_KEYS,
    TABLE_RESOURCES,
    function_statements,
    key_decrypt_statement,
    keyring_key_alias,
    policy_files,
    table_resources,
)
from ops.infra.web import CLOUDFRONT_HOSTED_ZONE, content_security_policy, web_origin, web_resources
from ops.infra.web_stack import (
    WEB_CONDITIONS,
    web_outputs,
    web_parameters,
    web_rules,
    web_template,
)
from ops.mail import sender_statement
from ops.stage import ROOT, TABLE_ENVIRONMENT, load_config, stage_environment

# What the tests and other commands read from here.
__all__ = [
    "API_STAGE", "CLOUDFRONT_HOSTED_ZONE", "PLACEHOLDER_ORIGIN", "TABLE_KEYS",
    "content_security_policy", "is_sign_in_path", "load_app", "main", "rendered",
    "sign_in_routes", "stage_environment",
]


def merge_template(stage: str, config: dict[str, Any], app: Any) -> dict[str, Any]:
    env = stage_environment(config, stage)
    keyring_parameter = env["CHALKBOARD_SIGNING_KEYS_PARAMETER"]
    functions = {"APIHandler": ("api_handler", "api")}
    for name in authorizer_names(app):
        functions[to_cfn_resource_name(name)] = (name, name.replace("_", "-"))
    functions[LIVE_LOGICAL_ID] = (LIVE_FUNCTION, LIVE_FUNCTION)  # issue 26: ops/infra/live.py

    resources: dict[str, Any] = {}
    resources.update(table_resources(stage, TableNames(**{k: k for k in TABLE_RESOURCES})))
    wiring: dict[str, Any] = {
        variable: ref(TABLE_RESOURCES[key]) for key, variable in TABLE_ENVIRONMENT.items()
    }
    wiring["CHALKBOARD_WEB_ORIGIN"] = web_origin()
    # WebAuthn's relying party is the web app's host name (Split keeps https: and "" first).
    wiring["CHALKBOARD_WEBAUTHN_RP_ID"] = {"Fn::If": [
        "HasWebDomain", ref("WebDomainName"),
        {"Fn::Select": [2, {"Fn::Split": ["/", ref("WebOrigin")]}]},
    ]}
    via_ssm = {"StringEquals": {"kms:ViaService": sub("ssm.${AWS::Region}.amazonaws.com")}}
    for logical_id, (chalice_name, suffix) in functions.items():
        function_name = f"${{AWS::StackName}}-{suffix}"
        log_group = f"/aws/lambda/{function_name}"
        resources[logical_id] = {
            "Type": "AWS::Serverless::Function",
            "DependsOn": ["KeyringKeyDecrypt"],
            "Properties": {
                # Fixed names let each role name its own log group without a cycle.
                "FunctionName": sub(function_name),
                "Environment": {"Variables": dict(wiring)},
            },
        }
        reserved = STAGE_OPTIONS[stage]["reserved_concurrency"].get(chalice_name)
        if reserved:  # only when asked: a new account's concurrency quota cannot give it
            resources[logical_id]["Properties"]["ReservedConcurrentExecutions"] = {
                "Fn::If": ["UseReservedConcurrency", reserved, ref("AWS::NoValue")]}
        # Chalice names the log group after "ApiHandler", which is not a resource
        # (the function is "APIHandler"): name it here, for both functions alike.
        resources[to_cfn_resource_name(f"{chalice_name}_log_group")] = {
            "Type": "AWS::Logs::LogGroup",
            **retained(stage),
            "Properties": {"LogGroupName": sub(log_group)},
        }
        resources[to_cfn_resource_name(f"{chalice_name}_role")] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                # Replaces (lists are not merged) the policy copied from the policy file.
                "Policies": [{
                    "PolicyName": f"chalkboard-{stage}-{suffix}",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": function_statements(
                        chalice_name,
                        lambda key: {"Fn::GetAtt": [TABLE_RESOURCES[key], "Arn"]},
                        arn("ssm", f"parameter{keyring_parameter}"),
                        None,  # KeyringKeyDecrypt below: the key's policy names these roles
                        [arn("logs", f"log-group:{log_group}:log-stream:*")],
                        sender_statement(lambda name: arn("ses", f"identity/{name}"),
                                         env["CHALKBOARD_MAIL_FROM"]),
                    )},
                }],
            },
        }

    resources.update(live_resources(web_origin()))
    preflight_origin = web_origin(quoted=True)
    paths = {
        path: {"options": {"x-amazon-apigateway-integration": {"responses": {"default": {
            "responseParameters": {
                "method.response.header.Access-Control-Allow-Origin": preflight_origin,
            },
        }}}}}
        for path in cors_paths(app)
    }
    resources["RestAPI"] = {
        "Type": "AWS::Serverless::Api",
        "Properties": {
            # The stack's name, so two stages in one account have their own API metrics.
            "Name": sub("${AWS::StackName}"),
            # SAM redeploys the stage only when the API's text changes; a new WebOrigin
            # changes only a parameter's value, so deploy the stage on every update.
            "AlwaysDeploy": True,
            "TracingEnabled": STAGE_OPTIONS[stage]["xray"],
            "GatewayResponses": gateway_responses(ref("WebOrigin")),
            "MethodSettings": method_settings(app, stage),
            "AccessLogSetting": {
                "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                "Format": ACCESS_LOG_FORMAT,
            },
            # Chalice writes the origin it saw when packaging into each preflight;
            # the stack's web origin replaces it.
            "DefinitionBody": {"paths": paths},
        },
    }
    resources.update(api_domain_resources())
    execute_api = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    api_origin = {"Fn::If": ["HasApiDomain", sub("https://${ApiDomainName}"), sub(execute_api)]}
    resources.update(web_resources(stage, api_origin, live_origin()))
    table_names = {key: ref(logical_id) for key, logical_id in TABLE_RESOURCES.items()}
    deployment = Deployment(
        functions={chalice_name: ref(logical_id)
                   for logical_id, (chalice_name, _) in functions.items()},
        roles={chalice_name: {"Fn::GetAtt": [to_cfn_resource_name(f"{chalice_name}_role"),
                                             "Arn"]}
               for chalice_name, _ in functions.values()},
        tables=table_names,
        log_groups={chalice_name: ref(to_cfn_resource_name(f"{chalice_name}_log_group"))
                    for chalice_name, _ in functions.values()},
        api_name=sub("${AWS::StackName}"),
        api_id=ref("RestAPI"),
        stage_ref=ref("RestAPI.Stage"),  # SAM resolves it to the stage it makes
    )
    resources.update(ops_resources(stage, config, deployment))
    # A policy of its own: inline in the roles it would be a cycle (key policy → role → key).
    resources["KeyringKeyDecrypt"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": f"chalkboard-{stage}-keyring-key",
            "Roles": [ref(to_cfn_resource_name(f"{name}_role")) for name, _ in functions.values()],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                key_decrypt_statement({"Fn::GetAtt": ["KeyringKey", "Arn"]}, via_ssm),
            ]},
        },
    }

    outputs = web_outputs()
    outputs.update(live_outputs())
    outputs.update({
        "ApiOrigin": {"Description": "The API's origin (the CSP's connect-src)",
                      "Value": api_origin},
        "SigningKeysParameter": {"Value": keyring_parameter},
        "KeyringKeyAlias": {"Description": "python -m ops keyring --kms-key-id",
                            "Value": keyring_key_alias(config, stage)},
        **{f"{logical_id}Name": {"Value": ref(logical_id)}
           for logical_id in TABLE_RESOURCES.values()},
    })
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"chalkboard {stage}: API, tables, web app and operations "
                       f"(chalice package --merge-template infra/{stage}.json)",
        # Any OpenApiVersion stops the SAM transform adding a second stage named "Stage".
        "Globals": {"Api": {"OpenApiVersion": "2.0"}},
        "Parameters": {
            "WebOrigin": {
                "Type": "String",
                "Default": PLACEHOLDER_ORIGIN,
                "AllowedPattern": r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
                "Description": "The one origin allowed to call the API: the WebOrigin output "
                               "of the first deploy (ignored when WebDomainName is set)",
            },
            **web_parameters(),
            **api_domain_parameters(),
            **ops_parameters(stage),
            **reserved_concurrency_parameters(stage),
        },
        "Rules": {**web_rules(stage), **API_DOMAIN_RULES, **ops_rules(stage)},
        "Conditions": {**WEB_CONDITIONS, **API_DOMAIN_CONDITIONS, **ops_conditions(stage),
                       **reserved_concurrency_conditions(stage)},
        "Resources": resources,
        "Outputs": outputs,
    }


def rendered() -> dict[Path, str]:
    """Every generated file and its exact contents."""
    config, app = load_config(), load_app()
    files: dict[Path, Any] = {}
    for stage in STAGES:
        files[ROOT / "infra" / f"{stage}.json"] = merge_template(stage, config, app)
        files[ROOT / "infra" / f"web-{stage}.json"] = web_template(stage)
        files[ROOT / "infra" / f"ops-{stage}.json"] = ops_template(stage, config, app)
        for name, document in policy_files(stage, config, app).items():
            files[ROOT / ".chalice" / name] = document
    return {path: json.dumps(document, indent=2) + "\n" for path, document in files.items()}


def main(argv: list[str] | None = None) -> int:
    return command_main(argv, command="python -m ops render-infra",
                        summary=__doc__.splitlines()[0], files=rendered)
