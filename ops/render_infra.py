"""Render chalkboard's deploy templates and IAM policy files from one description.

    python -m ops render-infra           # rewrite the files below
    python -m ops render-infra --check   # exit 1 if a committed file is stale (the tests do this)

Written files, for each deployed stage (dev, prod) in .chalice/config.json:

- ``infra/<stage>.json`` — the merge template for way 1
  (``chalice package --merge-template infra/<stage>.json``): the DynamoDB tables,
  their names wired into both functions, IAM roles restated with exact ARNs,
  CORS on API Gateway's own error responses and on every preflight, and the web
  app (private S3 bucket behind CloudFront with Origin Access Control).
- ``infra/web-<stage>.json`` — a plain CloudFormation template for way 2
  (``chalice deploy``): the same web app resources on their own.
- ``.chalice/policy-<stage>.json`` — the Lambda roles' policy for way 2. Chalice
  copies it verbatim, so it cannot name the account or region; it names the
  stage's exact tables, keyring parameter and log groups instead (see docs/deploy.md).

Everything comes from .chalice/config.json, the app's routes and authorizer, and
``chalicelib.store.dynamodb.table_definitions``, so the templates cannot drift
from the code: the tests re-render and compare.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib.errors import StoreUnavailable
from chalicelib.store.dynamodb import TableNames, table_definitions, tables_with_ttl
from ops.stage import ROOT, TABLE_ENVIRONMENT, load_config, stage_environment

STAGES = ("dev", "prod")
PLACEHOLDER_ORIGIN = "https://web-origin-not-set.invalid"

# The only DynamoDB actions the store makes, per table (chalicelib/store/dynamodb.py;
# tests/deploy checks this against the code). Nothing else touches DynamoDB at run time.
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("BatchGetItem", "GetItem", "PutItem", "UpdateItem"),
    "messages": ("DeleteItem", "GetItem", "PutItem", "Query"),
    "auth": ("BatchGetItem", "DeleteItem", "GetItem", "PutItem", "UpdateItem"),
}
TABLE_RESOURCES = {"users": "UsersTable", "messages": "MessagesTable", "auth": "AuthTable"}

# AWS managed CloudFront cache policies (the same IDs in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Paths that must never be stale: the page and the file naming the API.
NEVER_CACHED = ("/index.html", "/config.js")

# Per-stage choices that are not app settings.
STAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "dev": {"retain_data": False, "point_in_time_recovery": False},
    "prod": {"retain_data": True, "point_in_time_recovery": True},
}

SUB = "Fn::Sub"


def sub(text: str) -> dict[str, str]:
    return {SUB: text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def arn(service: str, resource: str) -> dict[str, str]:
    """An exact ARN in this stack's partition, region and account."""
    return sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


# -- what the app and its config say ------------------------------------------------


def load_app() -> Any:
    from app import app  # imports chalicelib; does no work at import

    return app


def cors_paths(app: Any) -> list[str]:
    """Paths with a CORS preflight (Chalice adds one OPTIONS per path with CORS)."""
    return sorted(path for path, methods in app.routes.items()
                  if any(entry.cors for entry in methods.values()))


def authorizer_names(app: Any) -> list[str]:
    return [handler.name for handler in app.builtin_auth_handlers]


# -- pieces shared by both ways ----------------------------------------------------


def content_security_policy(api_origin: str) -> str:
    """The web app's CSP as an HTTP header: the page's own meta CSP plus frame-ancestors.

    ``api_origin`` may be a ``${...}`` reference for Fn::Sub. It is the only
    ``connect-src``: the page may talk to the API and nowhere else.
    """
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        f"connect-src {api_origin}",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ])


def cors_headers(origin: Any) -> dict[str, Any]:
    """Header values for a gateway response; API Gateway wants them in single quotes."""
    quoted = sub("'${WebOrigin}'") if origin == ref("WebOrigin") else f"'{origin}'"
    return {
        "Access-Control-Allow-Origin": quoted,
        "Access-Control-Expose-Headers": "'Retry-After'",
        "Vary": "'Origin'",
    }


def gateway_responses(origin: Any) -> dict[str, Any]:
    """API Gateway's own answers (401 from the authorizer, 403 unknown route, 5xx), with CORS.

    Without these a browser cannot read API Gateway's 401 and cannot tell an
    expired token from a network failure. AUTHORIZER_FAILURE is the authorizer
    raising anything but "Unauthorized" — the store being unreachable — and
    answers as the app's own 503 does (chalicelib/responses.py).
    """
    headers = cors_headers(origin)
    unavailable = StoreUnavailable()
    return {
        "DEFAULT_4XX": {"ResponseParameters": {"Headers": dict(headers)}},
        "DEFAULT_5XX": {"ResponseParameters": {"Headers": dict(headers)}},
        "AUTHORIZER_FAILURE": {
            "StatusCode": "503",
            "ResponseParameters": {
                "Headers": {**headers, "Retry-After": f"'{unavailable.retry_after}'"},
            },
            "ResponseTemplates": {
                "application/json": json.dumps(
                    {"Code": "ServiceUnavailable", "Message": str(unavailable)}
                ),
            },
        },
    }


def web_resources(stage: str, api_origin: str) -> dict[str, Any]:
    """Private S3 bucket + Origin Access Control + CloudFront (HTTPS only) + security headers.

    ``api_origin`` is Fn::Sub text naming the API's origin (a parameter, or the
    stack's own RestAPI).
    """
    behaviour = {
        "TargetOriginId": "web-bucket",
        "ViewerProtocolPolicy": "redirect-to-https",
        "Compress": True,
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_OPTIMIZED,
        "ResponseHeadersPolicyId": ref("WebHeadersPolicy"),
    }
    return {
        "WebBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
            },
        },
        "WebBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("WebBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "CloudFrontReadsThroughOriginAccessControl",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": sub("${WebBucket.Arn}/*"),
                        "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                            ":distribution/${WebDistribution}"
                        )}},
                    }],
                },
            },
        },
        "WebOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": sub("${AWS::StackName}-web"),
                    "Description": f"chalkboard {stage}: CloudFront signs requests to the bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                },
            },
        },
        "WebHeadersPolicy": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": sub("${AWS::StackName}-web-security-headers"),
                    "Comment": f"chalkboard {stage}: HSTS, nosniff, no framing, no referrer, CSP",
                    "SecurityHeadersConfig": {
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": 63072000,
                            "IncludeSubdomains": True,
                            "Override": True,
                        },
                        "ContentTypeOptions": {"Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": sub(content_security_policy(api_origin)),
                            "Override": True,
                        },
                    },
                },
            },
        },
        "WebDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": f"chalkboard {stage} web app",
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    "Aliases": {"Fn::If": [
                        "HasWebDomain", [ref("WebDomainName")], ref("AWS::NoValue"),
                    ]},
                    "ViewerCertificate": {"Fn::If": [
                        "HasWebCertificate",
                        {
                            "AcmCertificateArn": ref("WebCertificateArn"),
                            "SslSupportMethod": "sni-only",
                            "MinimumProtocolVersion": "TLSv1.2_2021",
                        },
                        {"CloudFrontDefaultCertificate": True},
                    ]},
                    "Origins": [{
                        "Id": "web-bucket",
                        "DomainName": {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]},
                        "OriginAccessControlId": {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }],
                    "DefaultCacheBehavior": behaviour,
                    "CacheBehaviors": [
                        {**behaviour, "PathPattern": path, "CachePolicyId": CACHING_DISABLED}
                        for path in NEVER_CACHED
                    ],
                },
            },
        },
    }


def web_parameters() -> dict[str, Any]:
    return {
        "WebDomainName": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^$|^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$",
            "Description": "Optional custom domain for the web app (needs WebCertificateArn)",
        },
        "WebCertificateArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^$|^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$",
            "Description": "ACM certificate in us-east-1 covering WebDomainName",
        },
    }


WEB_RULES = {
    "CustomDomainNeedsCertificate": {
        "RuleCondition": {"Fn::Not": [{"Fn::Equals": [ref("WebDomainName"), ""]}]},
        "Assertions": [{
            "Assert": {"Fn::Not": [{"Fn::Equals": [ref("WebCertificateArn"), ""]}]},
            "AssertDescription": "WebDomainName needs WebCertificateArn (an ACM certificate "
                                 "in us-east-1)",
        }],
    },
    "CertificateNeedsCustomDomain": {
        "RuleCondition": {"Fn::Not": [{"Fn::Equals": [ref("WebCertificateArn"), ""]}]},
        "Assertions": [{
            "Assert": {"Fn::Not": [{"Fn::Equals": [ref("WebDomainName"), ""]}]},
            "AssertDescription": "WebCertificateArn is only used with WebDomainName",
        }],
    },
}

WEB_CONDITIONS = {
    "HasWebDomain": {"Fn::Not": [{"Fn::Equals": [ref("WebDomainName"), ""]}]},
    "HasWebCertificate": {"Fn::Not": [{"Fn::Equals": [ref("WebCertificateArn"), ""]}]},
}


def web_outputs() -> dict[str, Any]:
    origin = {"Fn::If": [
        "HasWebDomain", sub("https://${WebDomainName}"), sub("https://${WebDistribution.DomainName}"),
    ]}
    return {
        "WebUrl": {
            "Description": "Open this in a browser",
            "Value": {"Fn::Join": ["", [origin, "/"]]},
        },
        "WebOrigin": {
            "Description": "The web app's origin: the API's one allowed CORS origin",
            "Value": origin,
        },
        "WebBucketName": {"Value": ref("WebBucket")},
        "WebDistributionId": {"Value": ref("WebDistribution")},
        "WebDistributionDomainName": {"Value": {"Fn::GetAtt": ["WebDistribution", "DomainName"]}},
    }


# -- way 1: the merge template for chalice package ---------------------------------


def table_resources(stage: str, names: TableNames) -> dict[str, Any]:
    options = STAGE_OPTIONS[stage]
    ttl = tables_with_ttl(names)
    by_name = {definition["TableName"]: definition for definition in table_definitions(names)}
    resources = {}
    for key, logical_id in TABLE_RESOURCES.items():
        definition = by_name[getattr(names, key)]
        properties: dict[str, Any] = {
            "BillingMode": definition["BillingMode"],
            "KeySchema": definition["KeySchema"],
            "AttributeDefinitions": definition["AttributeDefinitions"],
            "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
        }
        if definition["TableName"] in ttl:
            properties["TimeToLiveSpecification"] = {
                "AttributeName": ttl[definition["TableName"]], "Enabled": True,
            }
        if options["point_in_time_recovery"]:
            properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        if options["retain_data"]:
            properties["DeletionProtectionEnabled"] = True
        policy = "Retain" if options["retain_data"] else "Delete"
        resources[logical_id] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
            "Properties": properties,
        }
    return resources


def dynamodb_statements(table_arn: Any) -> list[dict[str, Any]]:
    return [
        {
            "Sid": f"{key.capitalize()}Table",
            "Effect": "Allow",
            "Action": [f"dynamodb:{action}" for action in actions],
            "Resource": table_arn(key),
        }
        for key, actions in TABLE_ACTIONS.items()
    ]


def role_policy(keyring_parameter: str, log_groups: list[Any]) -> dict[str, Any]:
    """The Lambda role's policy for way 1: exact ARNs from this stack."""
    statements = dynamodb_statements(
        lambda key: {"Fn::GetAtt": [TABLE_RESOURCES[key], "Arn"]}
    )
    statements.append({
        "Sid": "SigningKeyring",
        "Effect": "Allow",
        "Action": "ssm:GetParameter",
        "Resource": arn("ssm", f"parameter{keyring_parameter}"),
    })
    statements.append({
        "Sid": "FunctionLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": log_groups,
    })
    return {"Version": "2012-10-17", "Statement": statements}


def merge_template(stage: str, config: dict[str, Any], app: Any) -> dict[str, Any]:
    env = stage_environment(config, stage)
    keyring_parameter = env["CHALKBOARD_SIGNING_KEYS_PARAMETER"]
    functions = {"APIHandler": ("api_handler", "api")}
    for name in authorizer_names(app):
        functions[to_cfn_resource_name(name)] = (name, name.replace("_", "-"))

    resources: dict[str, Any] = {}
    resources.update(table_resources(stage, TableNames(**{k: k for k in TABLE_RESOURCES})))
    wiring = {variable: ref(TABLE_RESOURCES[key]) for key, variable in TABLE_ENVIRONMENT.items()}
    wiring["CHALKBOARD_WEB_ORIGIN"] = ref("WebOrigin")
    for logical_id, (chalice_name, suffix) in functions.items():
        function_name = f"${{AWS::StackName}}-{suffix}"
        log_group = f"/aws/lambda/{function_name}"
        resources[logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                # Fixed names let each role name its own log group without a cycle.
                "FunctionName": sub(function_name),
                "Environment": {"Variables": dict(wiring)},
            },
        }
        # Chalice names the log group after "ApiHandler", which is not a resource
        # (the function is "APIHandler"): name it here, for both functions alike.
        resources[to_cfn_resource_name(f"{chalice_name}_log_group")] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": sub(log_group)},
        }
        resources[to_cfn_resource_name(f"{chalice_name}_role")] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                # Replaces (lists are not merged) the policy copied from policy-<stage>.json.
                "Policies": [{
                    "PolicyName": f"chalkboard-{stage}-{suffix}",
                    "PolicyDocument": role_policy(
                        keyring_parameter, [arn("logs", f"log-group:{log_group}:log-stream:*")]
                    ),
                }],
            },
        }

    preflight_origin = sub("'${WebOrigin}'")
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
            # SAM redeploys the stage only when the API's text changes; a new WebOrigin
            # changes only a parameter's value, so deploy the stage on every update.
            "AlwaysDeploy": True,
            "GatewayResponses": gateway_responses(ref("WebOrigin")),
            # Chalice writes the origin it saw when packaging into each preflight;
            # the stack's WebOrigin parameter replaces it.
            "DefinitionBody": {"paths": paths},
        },
    }
    api_origin = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    resources.update(web_resources(stage, api_origin))

    outputs = web_outputs()
    outputs.update({
        "ApiOrigin": {"Description": "The API's origin (the CSP's connect-src)",
                      "Value": sub(api_origin)},
        "SigningKeysParameter": {"Value": keyring_parameter},
        **{f"{logical_id}Name": {"Value": ref(logical_id)}
           for logical_id in TABLE_RESOURCES.values()},
    })
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"chalkboard {stage}: API, tables and web app "
                       f"(chalice package --merge-template infra/{stage}.json)",
        "Parameters": {
            "WebOrigin": {
                "Type": "String",
                "Default": PLACEHOLDER_ORIGIN,
                "AllowedPattern": r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
                "Description": "The one origin allowed to call the API: the WebOrigin output "
                               "of the first deploy, or https://<WebDomainName>",
            },
            **web_parameters(),
        },
        "Rules": WEB_RULES,
        "Conditions": WEB_CONDITIONS,
        "Resources": resources,
        "Outputs": outputs,
    }


# -- way 2: the web stack and policy file for chalice deploy ------------------------


def web_template(stage: str) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"chalkboard {stage}: the web app for a `chalice deploy` API "
                       f"(private S3 bucket behind CloudFront)",
        "Parameters": {
            "ApiOrigin": {
                "Type": "String",
                "AllowedPattern": r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
                "Description": "The API's origin, e.g. https://abc123.execute-api.eu-west-1"
                               ".amazonaws.com (chalice url --stage " + stage + ", no path)",
            },
            **web_parameters(),
        },
        "Rules": WEB_RULES,
        "Conditions": WEB_CONDITIONS,
        "Resources": web_resources(stage, "${ApiOrigin}"),
        "Outputs": web_outputs(),
    }


def policy_file(stage: str, config: dict[str, Any], app: Any) -> dict[str, Any]:
    """Way 2's role policy: chalice copies it as is, so no account or region can be named.

    Every resource is still exact by name: this stage's tables, keyring parameter
    and the two functions' log groups. (Way 1 restates the roles with full ARNs.)
    """
    env = stage_environment(config, stage)
    prefix = f"{config['app_name']}-{stage}"
    statements = dynamodb_statements(
        lambda key: f"arn:aws:dynamodb:*:*:table/{env[TABLE_ENVIRONMENT[key]]}"
    )
    statements.append({
        "Sid": "SigningKeyring",
        "Effect": "Allow",
        "Action": "ssm:GetParameter",
        "Resource": f"arn:aws:ssm:*:*:parameter{env['CHALKBOARD_SIGNING_KEYS_PARAMETER']}",
    })
    groups = [prefix] + [f"{prefix}-{name}" for name in authorizer_names(app)]
    statements.append({
        "Sid": "FunctionLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [f"arn:aws:logs:*:*:log-group:/aws/lambda/{group}:log-stream:*"
                     for group in groups],
    })
    return {"Version": "2012-10-17", "Statement": statements}


def rendered() -> dict[Path, str]:
    """Every generated file and its exact contents."""
    config, app = load_config(), load_app()
    files = {}
    for stage in STAGES:
        files[ROOT / "infra" / f"{stage}.json"] = merge_template(stage, config, app)
        files[ROOT / "infra" / f"web-{stage}.json"] = web_template(stage)
        files[ROOT / ".chalice" / f"policy-{stage}.json"] = policy_file(stage, config, app)
    return {path: json.dumps(document, indent=2) + "\n" for path, document in files.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops render-infra",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report stale files and exit 1 instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.write_text(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path}")
    if args.check and stale:
        print("run: python -m ops render-infra", file=sys.stderr)
        return 1
    return 0

