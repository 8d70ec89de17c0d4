"""The API stage: throttling, access logs, gateway responses (CORS on API Gateway's own
errors) and the optional custom domain."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.errors import StoreUnavailable
from ops.infra.common import (
    DOMAIN_PATTERN,
    STAGE_OPTIONS,
    is_set,
    optional_parameter,
    ref,
    retained,
    rule,
    sub,
)
from ops.infra.web import web_origin

# API.md's sign-in and sign-up paths: stricter throttling and the WAF rate rule.
# A path ending in "/" covers itself and every route under it (/login/passkey, /login/passkey/...).
SIGN_IN_PATHS = ("/login", "/signup", "/token/refresh", "/login/totp", "/login/passkey/")


def cors_paths(app: Any) -> list[str]:
    """Paths with a CORS preflight (Chalice adds one OPTIONS per path with CORS)."""
    return sorted(path for path, methods in app.routes.items()
                  if any(entry.cors for entry in methods.values()))


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
    """API Gateway stage settings: throttling (stricter on each sign-in route), and on
    every method execution logs of errors only, without request or response bodies.

    Detailed per-method metrics stay off (each method's metrics would bill as custom
    metrics, $0.30 a metric-month); the stage-level metrics that the alarms and the
    dashboard use come without them, and the access log has every request's route.
    """
    rate, burst = STAGE_OPTIONS[stage]["throttle"]
    sign_in_rate, sign_in_burst = STAGE_OPTIONS[stage]["sign_in_throttle"]
    settings = [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": False,
                 "LoggingLevel": "ERROR", "DataTraceEnabled": False,
                 "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}]
    for path, method in sign_in_routes(app):
        settings.append({
            "ResourcePath": "/" + path.replace("/", "~1"), "HttpMethod": method,
            "MetricsEnabled": False, "LoggingLevel": "ERROR", "DataTraceEnabled": False,
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


def cors_headers(origin: Any) -> dict[str, Any]:
    """Header values for a gateway response; API Gateway wants them in single quotes.

    ``Cache-Control: no-store`` as on every API response (API.md): no cache keeps a 401.
    """
    quoted = web_origin(quoted=True) if origin == ref("WebOrigin") else f"'{origin}'"
    return {
        "Access-Control-Allow-Origin": quoted,
        "Access-Control-Expose-Headers": "'Retry-After'",
        "Vary": "'Origin'",
        "Cache-Control": "'no-store'",
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


def access_log_group(stage: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"ApiAccessLogGroup": {
        "Type": "AWS::Logs::LogGroup",
        **retained(stage),
        "Properties": {
            "LogGroupName": sub("/aws/apigateway/${AWS::StackName}-access"),
            "RetentionInDays": config["stages"][stage]["log_retention_in_days"],
        },
    }}


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
    """The one stack's equivalent of Chalice's api_gateway_custom_domain: a regional domain name
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


def reserved_concurrency_parameters(stage: str) -> dict[str, Any]:
    if not STAGE_OPTIONS[stage]["reserved_concurrency"]:
        return {}
    reserved = ", ".join(f"{name} {count}" for name, count in
                         STAGE_OPTIONS[stage]["reserved_concurrency"].items())
    return {"ReservedConcurrency": {
        "Type": "String", "AllowedValues": ["true", "false"], "Default": "false",
        "Description": f"Reserve Lambda concurrency ({reserved}): needs an account concurrency "
                       "quota of at least their sum + 100 (a new account has 10; ask for more "
                       "in Service Quotas first)",
    }}


def reserved_concurrency_conditions(stage: str) -> dict[str, Any]:
    if not STAGE_OPTIONS[stage]["reserved_concurrency"]:
        return {}
    return {"UseReservedConcurrency": {"Fn::Equals": [ref("ReservedConcurrency"), "true"]}}
