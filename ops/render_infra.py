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
``ops.tables.table_definitions``, so the templates cannot drift
from the code: the tests re-render and compare.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib import telemetry
from chalicelib.errors import StoreUnavailable
from chalicelib.store.dynamodb import TableNames
from ops import infra_live
from ops.stage import ROOT, TABLE_ENVIRONMENT, load_config, stage_environment
from ops.tables import table_definitions, tables_with_ttl

STAGES = ("dev", "prod")
PLACEHOLDER_ORIGIN = "https://web-origin-not-set.invalid"

# The only DynamoDB actions the store makes, per table (chalicelib/store/dynamodb.py;
# tests/deploy checks this against the code). Nothing else touches DynamoDB at run time.
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("BatchGetItem", "DeleteItem", "GetItem", "PutItem", "UpdateItem"),
    "messages": ("BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query"),
    "auth": ("DeleteItem", "GetItem", "PutItem", "UpdateItem"),
    "user_items": (
        "BatchGetItem", "BatchWriteItem", "DeleteItem", "PutItem", "Query", "UpdateItem",
    ),
}
# The authorizer only reads: the user and the token's session, in one BatchGetItem
# (DynamoDBStore.access_state). (IAM's LeadingKeys condition restricts partition keys
# only, and user_items' partition key is the username, so no prefix narrows it.)
AUTHORIZER_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("BatchGetItem",),
    "user_items": ("BatchGetItem",),
}
AUTHORIZER_ITEM_PREFIXES: dict[str, tuple[str, ...]] = {}
# One table per field of TableNames (the store's own list): a new table flows in here.
TABLE_KEYS = tuple(field.name for field in dataclasses.fields(TableNames))
def camel(key: str) -> str:
    """A TableNames field as a CloudFormation name part: user_items -> UserItems."""
    return "".join(part.capitalize() for part in key.split("_"))


TABLE_RESOURCES = {key: f"{camel(key)}Table" for key in TABLE_KEYS}
missing = (set(TABLE_KEYS) - set(TABLE_ACTIONS)) | (set(TABLE_KEYS) - set(TABLE_ENVIRONMENT))
if missing:
    raise SystemExit(f"ops/render_infra.py: add the DynamoDB actions for {sorted(missing)} "
                     "to TABLE_ACTIONS (and AUTHORIZER_TABLE_ACTIONS if the authorizer reads it), "
                     "and its variable to ops.stage.TABLE_ENVIRONMENT")

# API.md's sign-in and sign-up paths: stricter throttling and the WAF rate rule.
# A path ending in "/" covers itself and every route under it (/login/passkey, /login/passkey/...).
SIGN_IN_PATHS = ("/login", "/signup", "/token/refresh", "/login/totp", "/login/passkey/")
API_STAGE = "api"

# AWS managed CloudFront cache policies (the same IDs in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# CloudFront's hosted zone for alias records (the same in every account).
CLOUDFRONT_HOSTED_ZONE = "Z2FDTNDATAQYW2"
# Paths that must never be stale: the page and the file naming the API.
NEVER_CACHED = ("/index.html", "/config.js")

# Per-stage choices that are not app settings.
STAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "dev": {
        "retain_data": False, "point_in_time_recovery": False, "waf": False, "alarms": False,
        # requests per second, burst: the whole stage, and each sign-in route
        "throttle": (50, 100), "sign_in_throttle": (5, 10),
        "waf_sign_in_limit": 100,  # per client IP per 5 minutes (WAF's window)
    },
    "prod": {
        "retain_data": True, "point_in_time_recovery": True, "waf": True, "alarms": True,
        "throttle": (500, 1000), "sign_in_throttle": (20, 40),
        "waf_sign_in_limit": 300,
    },
}

SUB = "Fn::Sub"


def sub(text: str) -> dict[str, str]:
    return {SUB: text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def is_set(parameter: str) -> dict[str, Any]:
    """A condition: the (optional, default empty) parameter was given."""
    return {"Fn::Not": [{"Fn::Equals": [ref(parameter), ""]}]}


def rule(when_set: str, needs: str, description: str) -> dict[str, Any]:
    """A template rule: giving ``when_set`` requires giving ``needs`` too."""
    return {
        "RuleCondition": is_set(when_set),
        "Assertions": [{"Assert": is_set(needs), "AssertDescription": description}],
    }


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


def is_sign_in_path(path: str) -> bool:
    return any(
        (path.startswith(p) or path == p[:-1]) if p.endswith("/") else path == p
        for p in SIGN_IN_PATHS
    )


def sign_in_routes(app: Any) -> list[tuple[str, str]]:
    """The app's (path, method) pairs that sign in or sign up, from its own route list."""
    return sorted((path, method) for path, methods in app.routes.items() if is_sign_in_path(path)
                  for method in methods if method != "OPTIONS")


def method_settings(app: Any, stage: str) -> list[dict[str, Any]]:
    """API Gateway stage throttling: one default, stricter on each sign-in route."""
    rate, burst = STAGE_OPTIONS[stage]["throttle"]
    sign_in_rate, sign_in_burst = STAGE_OPTIONS[stage]["sign_in_throttle"]
    settings = [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                 "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}]
    for path, method in sign_in_routes(app):
        settings.append({
            "ResourcePath": "/" + path.replace("/", "~1"), "HttpMethod": method,
            "MetricsEnabled": True,
            "ThrottlingRateLimit": sign_in_rate, "ThrottlingBurstLimit": sign_in_burst,
        })
    return settings


# API Gateway's access log line: JSON, one per request, nothing secret in it.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerError": "$context.authorizer.error",
    "errorType": "$context.error.responseType",
    "wafStatus": "$context.waf.status",
    "userAgent": "$context.identity.userAgent",
}, separators=(",", ":"))


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


def web_origin(*, quoted: bool = False) -> dict[str, Any]:
    """Way 1's web origin: https://<WebDomainName> when one is set, else the WebOrigin parameter."""
    q = "'" if quoted else ""
    return {"Fn::If": ["HasWebDomain", sub(f"{q}https://${{WebDomainName}}{q}"),
                       sub(f"{q}${{WebOrigin}}{q}")]}


def cors_headers(origin: Any) -> dict[str, Any]:
    """Header values for a gateway response; API Gateway wants them in single quotes."""
    quoted = web_origin(quoted=True) if origin == ref("WebOrigin") else f"'{origin}'"
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

    def store_down() -> dict[str, Any]:
        return {
            "StatusCode": "503",
            "ResponseParameters": {
                "Headers": {**headers, "Retry-After": f"'{unavailable.retry_after}'"},
            },
            "ResponseTemplates": {
                "application/json": json.dumps(
                    {"Code": "ServiceUnavailable", "Message": str(unavailable)}
                ),
            },
        }

    return {
        "DEFAULT_4XX": {"ResponseParameters": {"Headers": dict(headers)}},
        "DEFAULT_5XX": {"ResponseParameters": {"Headers": dict(headers)}},
        # Deployed, an authorizer raising anything but "Unauthorized" is reported as
        # AUTHORIZER_CONFIGURATION_ERROR (500), not AUTHORIZER_FAILURE: map both.
        "AUTHORIZER_FAILURE": store_down(),
        "AUTHORIZER_CONFIGURATION_ERROR": store_down(),
    }


def web_resources(stage: str, api_origin: Any) -> dict[str, Any]:
    """Private S3 bucket + Origin Access Control + CloudFront (HTTPS only) + security headers,
    and Route 53 alias records for a custom domain when its hosted zone is given.

    ``api_origin`` is the API's origin (a parameter, or the stack's RestAPI or
    custom domain): the CSP's only ``connect-src``.
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
                            "ContentSecurityPolicy": {SUB: [
                                content_security_policy("${ApiOriginValue}"),
                                {"ApiOriginValue": api_origin},
                            ]},
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
        **{f"WebDnsRecord{kind}": {
            "Type": "AWS::Route53::RecordSet",
            "Condition": "HasWebDnsZone",
            "Properties": {
                "HostedZoneId": ref("HostedZoneId"),
                "Name": ref("WebDomainName"),
                "Type": kind,
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": ["WebDistribution", "DomainName"]},
                    "HostedZoneId": CLOUDFRONT_HOSTED_ZONE,
                },
            },
        } for kind in ("A", "AAAA")},
    }


DOMAIN_PATTERN = r"^$|^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"


def optional_parameter(pattern: str, description: str) -> dict[str, Any]:
    """A string parameter that may be left empty, else must match ``pattern``."""
    return {"Type": "String", "Default": "", "AllowedPattern": pattern,
            "Description": description}


def web_parameters() -> dict[str, Any]:
    return {
        "WebDomainName": optional_parameter(
            DOMAIN_PATTERN, "Optional custom domain for the web app (needs WebCertificateArn)"),
        "WebCertificateArn": optional_parameter(
            r"^$|^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$",
            "ACM certificate in us-east-1 covering WebDomainName"),
        "HostedZoneId": optional_parameter(
            r"^$|^Z[A-Z0-9]{1,31}$",
            "Optional Route 53 hosted zone for the custom domain(s): alias records are made there"),
    }


WEB_RULES = {
    "CustomDomainNeedsCertificate": rule(
        "WebDomainName", "WebCertificateArn",
        "WebDomainName needs WebCertificateArn (an ACM certificate in us-east-1)",
    ),
    "CertificateNeedsCustomDomain": rule(
        "WebCertificateArn", "WebDomainName", "WebCertificateArn is only used with WebDomainName",
    ),
}

WEB_CONDITIONS = {
    "HasWebDomain": is_set("WebDomainName"),
    "HasWebCertificate": is_set("WebCertificateArn"),
    "HasHostedZone": is_set("HostedZoneId"),
    "HasWebDnsZone": {"Fn::And": [{"Condition": "HasWebDomain"}, {"Condition": "HasHostedZone"}]},
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


# -- operations: key, edge limits, logs, alarms (shared by both ways) ---------------


@dataclass(frozen=True)
class Deployment:
    """What one way in names its resources: values are strings or CloudFormation intrinsics."""

    functions: dict[str, Any]  # chalice function name → Lambda function name
    roles: dict[str, Any]  # chalice function name → role ARN
    tables: dict[str, Any]  # table key → table name
    api_name: Any  # the REST API's name (API Gateway's metric dimension)
    api_id: Any  # the REST API's id
    stage_ref: Any  # the API stage's name, as a value that orders after its creation


def keyring_key_alias(config: dict[str, Any], stage: str) -> str:
    """The customer-managed key's alias: fixed per stage, so way 2's static policy can name it."""
    return f"alias/{config['app_name']}-{stage}-keyring"


def keyring_key(config: dict[str, Any], stage: str, deployment: Deployment) -> dict[str, Any]:
    """A KMS key (rotation on) for the keyring SecureString.

    Decrypt is allowed only to the two function roles, through SSM; encrypt and
    decrypt to the principal that runs ``python -m ops keyring`` (KeyringAdminArn).
    The account may manage the key but holds no cryptographic permission, so an
    IAM policy elsewhere in the account cannot grant decryption.
    """
    account = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    via_ssm = {"StringEquals": {"kms:ViaService": sub("ssm.${AWS::Region}.amazonaws.com")}}
    return {
        "KeyringKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": f"chalkboard {stage}: encrypts the signing keyring in SSM",
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountManagesButCannotUseTheKey",
                            "Effect": "Allow",
                            "Principal": {"AWS": account},
                            "Action": [
                                "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*",
                                "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*",
                                "kms:Get*", "kms:Delete*", "kms:TagResource",
                                "kms:UntagResource", "kms:ScheduleKeyDeletion",
                                "kms:CancelKeyDeletion",
                            ],
                            "Resource": "*",
                        },
                        {
                            "Sid": "FunctionsDecryptTheKeyringThroughSsm",
                            "Effect": "Allow",
                            "Principal": {"AWS": list(deployment.roles.values())},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                            "Condition": via_ssm,
                        },
                        {
                            "Sid": "KeyringAdminWritesAndReadsTheKeyring",
                            "Effect": "Allow",
                            "Principal": {"AWS": ref("KeyringAdminArn")},
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": "*",
                            "Condition": via_ssm,
                        },
                    ],
                },
                "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
            },
        },
        "KeyringKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": keyring_key_alias(config, stage),
                "TargetKeyId": ref("KeyringKey"),
            },
        },
    }


def web_acl(stage: str, deployment: Deployment) -> dict[str, Any]:
    """WAF in front of the API stage: a per-IP rate rule on sign-in paths + AWS's common rules.

    The per-username login throttle cannot see one address trying many usernames
    (password spraying); this rule can. Off when EnableWaf is "false" (it costs money).
    """
    limit = STAGE_OPTIONS[stage]["waf_sign_in_limit"]
    alternatives = "|".join(p.rstrip("/") for p in SIGN_IN_PATHS)
    # The stage prefix is in the path on the execute-api host, not on a custom domain.
    pattern = f"^(/{API_STAGE})?({alternatives})(/|$)"

    def visibility(name: str) -> dict[str, Any]:
        return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                "MetricName": name}

    return {
        "ApiWebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Condition": "UseWaf",
            "Properties": {
                "Scope": "REGIONAL",
                "Description": f"chalkboard {stage}: API rate limits and common protections",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": visibility(f"chalkboard-{stage}-api"),
                "Rules": [
                    {
                        "Name": "sign-in-rate-per-ip",
                        "Priority": 0,
                        "Action": {"Block": {}},
                        "Statement": {"RateBasedStatement": {
                            "Limit": limit,
                            "AggregateKeyType": "IP",
                            "ScopeDownStatement": {"RegexMatchStatement": {
                                "RegexString": pattern,
                                "FieldToMatch": {"UriPath": {}},
                                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                            }},
                        }},
                        "VisibilityConfig": visibility(f"chalkboard-{stage}-sign-in-rate"),
                    },
                    {
                        "Name": "aws-common-rule-set",
                        "Priority": 1,
                        "OverrideAction": {"None": {}},
                        "Statement": {"ManagedRuleGroupStatement": {
                            "VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
                        }},
                        "VisibilityConfig": visibility(f"chalkboard-{stage}-common"),
                    },
                ],
            },
        },
        "ApiWebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Condition": "UseWaf",
            "Properties": {
                "ResourceArn": {"Fn::Join": ["", [
                    sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/"),
                    deployment.api_id, "/stages/", deployment.stage_ref,
                ]]},
                "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]},
            },
        },
    }


def retained(stage: str) -> dict[str, str]:
    policy = "Retain" if STAGE_OPTIONS[stage]["retain_data"] else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


def access_log_group(stage: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"ApiAccessLogGroup": {
        "Type": "AWS::Logs::LogGroup",
        **retained(stage),
        "Properties": {
            "LogGroupName": sub("/aws/apigateway/${AWS::StackName}-access"),
            "RetentionInDays": config["stages"][stage]["log_retention_in_days"],
        },
    }}


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
        for optional in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if optional in definition:
                properties[optional] = definition[optional]
        if definition["TableName"] in ttl:
            properties["TimeToLiveSpecification"] = {
                "AttributeName": ttl[definition["TableName"]], "Enabled": True,
            }
        if options["point_in_time_recovery"]:
            properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        if options["retain_data"]:
            properties["DeletionProtectionEnabled"] = True
        resources[logical_id] = {
            "Type": "AWS::DynamoDB::Table",
            **retained(stage),
            "Properties": properties,
        }
    return resources


def dynamodb_statements(table_arn: Any, actions: dict[str, tuple[str, ...]],
                        prefixes: dict[str, tuple[str, ...]] | None = None
                        ) -> list[dict[str, Any]]:
    statements = []
    for key, table_actions in actions.items():
        statement: dict[str, Any] = {
            "Sid": f"{camel(key)}Table",
            "Effect": "Allow",
            "Action": [f"dynamodb:{action}" for action in table_actions],
            "Resource": table_arn(key),
        }
        if prefixes and key in prefixes:
            statement["Condition"] = {"ForAllValues:StringLike": {
                "dynamodb:LeadingKeys": [f"{prefix}*" for prefix in prefixes[key]],
            }}
        statements.append(statement)
    return statements


def function_statements(chalice_name: str, table_arn: Any, keyring_arn: Any,
                        key_statement: dict[str, Any] | None, log_groups: list[Any]
                        ) -> list[dict[str, Any]]:
    """One function's policy: the API handler's tables, or the authorizer's reads only."""
    if chalice_name == "api_handler":
        statements = dynamodb_statements(table_arn, TABLE_ACTIONS)
    elif chalice_name == infra_live.LIVE_FUNCTION:  # issue 26: ops/infra_live.py
        statements = dynamodb_statements(table_arn, infra_live.LIVE_TABLE_ACTIONS)
    else:
        statements = dynamodb_statements(table_arn, AUTHORIZER_TABLE_ACTIONS,
                                         AUTHORIZER_ITEM_PREFIXES)
    statements += [
        {"Sid": "SigningKeyring", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": keyring_arn},
        {"Sid": "FunctionLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": log_groups},
    ]
    if key_statement is not None:
        statements.append(key_statement)
    return statements


def key_decrypt_statement(key_arn: Any, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Sid": "SigningKeyringKey", "Effect": "Allow", "Action": "kms:Decrypt",
            "Resource": key_arn, "Condition": condition}


def merge_template(stage: str, config: dict[str, Any], app: Any) -> dict[str, Any]:
    env = stage_environment(config, stage)
    keyring_parameter = env["CHALKBOARD_SIGNING_KEYS_PARAMETER"]
    functions = {"APIHandler": ("api_handler", "api")}
    for name in authorizer_names(app):
        functions[to_cfn_resource_name(name)] = (name, name.replace("_", "-"))
    functions[infra_live.LIVE_LOGICAL_ID] = (infra_live.LIVE_FUNCTION, infra_live.LIVE_FUNCTION)

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
                    )},
                }],
            },
        }

    resources[infra_live.LIVE_LOGICAL_ID]["Properties"].update(
        infra_live.live_function_properties())
    resources.update(infra_live.live_resources(web_origin()))
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
    resources.update(web_resources(stage, api_origin))
    table_names = {key: ref(logical_id) for key, logical_id in TABLE_RESOURCES.items()}
    deployment = Deployment(
        functions={chalice_name: ref(logical_id)
                   for logical_id, (chalice_name, _) in functions.items()},
        roles={chalice_name: {"Fn::GetAtt": [to_cfn_resource_name(f"{chalice_name}_role"),
                                             "Arn"]}
               for chalice_name, _ in functions.values()},
        tables=table_names,
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
    outputs.update(infra_live.live_outputs())
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
        },
        "Rules": {**WEB_RULES, **API_DOMAIN_RULES},
        "Conditions": {**WEB_CONDITIONS, **API_DOMAIN_CONDITIONS, **ops_conditions(stage)},
        "Resources": resources,
        "Outputs": outputs,
    }


def api_domain_parameters() -> dict[str, Any]:
    return {
        "ApiDomainName": optional_parameter(
            DOMAIN_PATTERN, "Optional custom domain for the API (needs ApiCertificateArn)"),
        "ApiCertificateArn": optional_parameter(
            r"^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$",
            "ACM certificate in the stack's region covering ApiDomainName"),
    }


API_DOMAIN_RULES = {
    "ApiDomainNeedsCertificate": rule(
        "ApiDomainName", "ApiCertificateArn",
        "ApiDomainName needs ApiCertificateArn (ACM, this region)",
    ),
}
API_DOMAIN_CONDITIONS = {
    "HasApiDomain": is_set("ApiDomainName"),
    "HasApiDnsZone": {"Fn::And": [{"Condition": "HasApiDomain"}, {"Condition": "HasHostedZone"}]},
}


def api_domain_resources() -> dict[str, Any]:
    """Way 1's equivalent of Chalice's api_gateway_custom_domain: a regional domain name
    mapped to the stage at the root, and its alias record when a hosted zone is given."""
    return {
        "ApiDomain": {
            "Type": "AWS::ApiGateway::DomainName",
            "Condition": "HasApiDomain",
            "Properties": {
                "DomainName": ref("ApiDomainName"),
                "RegionalCertificateArn": ref("ApiCertificateArn"),
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
                "SecurityPolicy": "TLS_1_2",
            },
        },
        "ApiDomainMapping": {
            "Type": "AWS::ApiGateway::BasePathMapping",
            "Condition": "HasApiDomain",
            "Properties": {
                "DomainName": ref("ApiDomain"),
                "RestApiId": ref("RestAPI"),
                "Stage": ref("RestAPI.Stage"),
            },
        },
        "ApiDnsRecord": {
            "Type": "AWS::Route53::RecordSet",
            "Condition": "HasApiDnsZone",
            "Properties": {
                "HostedZoneId": ref("HostedZoneId"),
                "Name": ref("ApiDomainName"),
                "Type": "A",
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]},
                    "HostedZoneId": {"Fn::GetAtt": ["ApiDomain", "RegionalHostedZoneId"]},
                },
            },
        },
    }


# -- way 2: the web and operations stacks and policy files for chalice deploy -------


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
                               ".amazonaws.com (chalice url --stage " + stage + ", no path), "
                               "or https://<api_gateway_custom_domain>",
            },
            **web_parameters(),
        },
        "Rules": WEB_RULES,
        "Conditions": WEB_CONDITIONS,
        "Resources": web_resources(stage, ref("ApiOrigin")),
        "Outputs": web_outputs(),
    }


def way_2_names(config: dict[str, Any], stage: str, app: Any) -> dict[str, str]:
    """chalice deploy's own names: function → Lambda function name (role names add nothing)."""
    prefix = f"{config['app_name']}-{stage}"
    return {"api_handler": prefix, **{name: f"{prefix}-{name}" for name in authorizer_names(app)},
            infra_live.LIVE_FUNCTION: f"{prefix}-{infra_live.LIVE_FUNCTION}"}


def ops_template(stage: str, config: dict[str, Any], app: Any) -> dict[str, Any]:
    """Way 2's operations stack: what `chalice deploy` cannot declare, around what it made."""
    env = stage_environment(config, stage)
    prefix = f"{config['app_name']}-{stage}"
    deployment = Deployment(
        functions=way_2_names(config, stage, app),
        roles={name: sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{prefix}-{name}")
               for name in way_2_names(config, stage, app)},
        tables={key: env[variable] for key, variable in TABLE_ENVIRONMENT.items()},
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
        "Conditions": ops_conditions(stage),
        "Resources": resources,
        "Outputs": {
            "KeyringKeyAlias": {"Value": keyring_key_alias(config, stage)},
            "ApiAccessLogGroupArn": {"Value": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}},
        },
    }


def policy_files(stage: str, config: dict[str, Any], app: Any) -> dict[str, dict[str, Any]]:
    """Way 2's per-function policies: chalice copies them as is, so no account or region.

    Every resource is still exact by name: this stage's tables, keyring parameter
    and each function's own log group; the KMS key is named by its alias.
    (Way 1 restates the roles with full ARNs.)
    """
    env = stage_environment(config, stage)
    key_condition = {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": keyring_key_alias(config, stage)},
        "StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"},
    }
    files = {}
    for chalice_name, function_name in way_2_names(config, stage, app).items():
        statements = function_statements(
            chalice_name,
            lambda key: f"arn:aws:dynamodb:*:*:table/{env[TABLE_ENVIRONMENT[key]]}",
            f"arn:aws:ssm:*:*:parameter{env['CHALKBOARD_SIGNING_KEYS_PARAMETER']}",
            # The key is made later, by the ops stack: named by its alias, not its id.
            key_decrypt_statement("arn:aws:kms:*:*:key/*", key_condition),
            [f"arn:aws:logs:*:*:log-group:/aws/lambda/{function_name}:log-stream:*"],
        )
        files[policy_file_name(stage, chalice_name)] = {
            "Version": "2012-10-17", "Statement": statements,
        }
    return files


def policy_file_name(stage: str, chalice_name: str) -> str:
    return f"policy-{stage}-{chalice_name.replace('_', '-')}.json"


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

