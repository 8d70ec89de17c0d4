"""The web app's stack interface: parameters, rules, conditions, outputs, and `chalice deploy`'s
stand-alone web template (``infra/web-<stage>.json``)."""

from __future__ import annotations

from typing import Any

from ops.infra.common import (
    DOMAIN_PATTERN,
    STAGE_OPTIONS,
    is_set,
    optional_parameter,
    ref,
    rule,
    sub,
)
from ops.infra.web import web_resources


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


def web_rules(stage: str) -> dict[str, Any]:
    """WEB_RULES, and on a stage that requires it a custom web domain: CloudFront's own
    certificate (*.cloudfront.net) lets viewers connect with TLS 1.0; only a certificate
    of ours takes MinimumProtocolVersion TLSv1.2_2021."""
    if not STAGE_OPTIONS[stage]["require_web_domain"]:
        return dict(WEB_RULES)
    return {**WEB_RULES, "StageNeedsWebDomain": {"Assertions": [{
        "Assert": is_set("WebDomainName"),
        "AssertDescription": f"{stage} needs WebDomainName and WebCertificateArn: viewers get "
                             "TLS 1.2 or later only with a certificate of your own",
    }]}}


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
        "WebLogBucketName": {"Value": ref("WebLogBucket")},
        "WebDistributionId": {"Value": ref("WebDistribution")},
        "WebDistributionDomainName": {"Value": {"Fn::GetAtt": ["WebDistribution", "DomainName"]}},
    }


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
        "Rules": web_rules(stage),
        "Conditions": WEB_CONDITIONS,
        "Resources": web_resources(stage, ref("ApiOrigin")),
        "Outputs": web_outputs(),
    }
