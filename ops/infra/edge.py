"""Edge security in front of the API: the AWS WAF web ACL and its logs."""

from __future__ import annotations

from typing import Any

from ops.infra.api import SIGN_IN_PATHS
from ops.infra.common import API_STAGE, STAGE_OPTIONS, Deployment, arn, retained, sub


def web_acl(stage: str, config: dict[str, Any], deployment: Deployment) -> dict[str, Any]:
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
                "Name": sub("${AWS::StackName}-api"),  # the alarm's WebACL dimension
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
        **waf_logging(stage, config),
    }


def waf_logging(stage: str, config: dict[str, Any]) -> dict[str, Any]:
    """The web ACL's log (every blocked request, with the rule that blocked it) in a log
    group WAF accepts: its name must start with ``aws-waf-logs-``. The Authorization
    header is redacted: a bearer token must never reach a log."""
    return {
        "WafLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Condition": "UseWaf",
            **retained(stage),
            "Properties": {
                "LogGroupName": sub("aws-waf-logs-${AWS::StackName}"),
                "RetentionInDays": config["stages"][stage]["log_retention_in_days"],
            },
        },
        "WafLogging": {
            "Type": "AWS::WAFv2::LoggingConfiguration",
            "Condition": "UseWaf",
            "Properties": {
                "ResourceArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]},
                # The log group's ARN without the ":*" its Arn attribute ends in.
                "LogDestinationConfigs": [arn("logs", "log-group:${WafLogGroup}")],
                "RedactedFields": [{"SingleHeader": {"Name": "authorization"}}],
            },
        },
    }
