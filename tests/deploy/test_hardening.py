"""Issue 22's operations gaps, one test each, on the packaged stack (way 1, after the SAM
transform) and on way 2's web and ops templates where that way has the resource."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ops import gateway_responses as gateway_script
from ops.infra.common import STAGE_OPTIONS
from ops.infra.monitoring import KEYRING_ADMIN_PATTERN
from ops.stage import ROOT
from tests.deploy.conftest import STAGES, Packaged
from tests.deploy.test_operations import ops_template, ways


def web_template(stage: str) -> dict[str, Any]:
    return json.loads((ROOT / "infra" / f"web-{stage}.json").read_text())


def web_ways(packaged: Packaged) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    web = web_template(packaged.stage)
    return [("way 1", packaged.resources, packaged.template),
            ("way 2", web["Resources"], web)]


def api_stage(packaged: Packaged) -> dict[str, Any]:
    (stage,) = packaged.of_type("AWS::ApiGateway::Stage").values()
    properties: dict[str, Any] = stage["Properties"]
    return properties


def test_every_gateway_response_says_no_store(packaged: Packaged) -> None:
    responses = packaged.swagger["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "AUTHORIZER_FAILURE",
            "AUTHORIZER_CONFIGURATION_ERROR"} <= set(responses)
    for response in responses.values():
        assert response["responseParameters"]["gatewayresponse.header.Cache-Control"] == \
            "'no-store'"


def test_api_execution_logs_errors_only_and_no_per_method_metrics(packaged: Packaged) -> None:
    settings = api_stage(packaged)["MethodSettings"]
    assert settings
    for setting in settings:
        assert setting["LoggingLevel"] == "ERROR"
        assert setting["DataTraceEnabled"] is False  # bodies hold passwords
        assert setting["MetricsEnabled"] is False  # $0.30 per metric-month per method
    assert any(s["ResourcePath"] == "/*" for s in settings)


def test_api_tracing_is_a_stage_setting_on_in_prod(packaged: Packaged) -> None:
    assert api_stage(packaged).get("TracingEnabled", False) is STAGE_OPTIONS[packaged.stage][
        "xray"]
    assert STAGE_OPTIONS["prod"]["xray"] is True


@pytest.mark.parametrize("stage", STAGES)
def test_way_2_stage_patch_sets_the_same_logging_metrics_and_tracing(stage: str) -> None:
    patch = {op["path"]: op["value"] for op in gateway_script.stage_patch(stage, None)}
    assert patch["/*/*/logging/loglevel"] == "ERROR"
    assert patch["/*/*/logging/dataTrace"] == "false"
    assert patch["/*/*/metrics/enabled"] == "false"
    assert patch["/tracingEnabled"] == str(STAGE_OPTIONS[stage]["xray"]).lower()


def test_waf_logs_to_an_aws_waf_logs_group_without_the_token(packaged: Packaged) -> None:
    for way, resources, _ in ways(packaged):
        group = resources["WafLogGroup"]
        assert group["Condition"] == "UseWaf"
        assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("aws-waf-logs-")
        logging = resources["WafLogging"]
        assert logging["Type"] == "AWS::WAFv2::LoggingConfiguration", way
        assert logging["Condition"] == "UseWaf"
        properties = logging["Properties"]
        assert properties["ResourceArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
        (destination,) = properties["LogDestinationConfigs"]
        assert destination["Fn::Sub"].endswith(":log-group:${WafLogGroup}")  # no ":*"
        assert {"SingleHeader": {"Name": "authorization"}} in properties["RedactedFields"]


def test_the_web_bucket_refuses_plain_http_and_keeps_replaced_versions(
    packaged: Packaged,
) -> None:
    for way, resources, _ in web_ways(packaged):
        bucket = resources["WebBucket"]["Properties"]
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}, way
        (rule,) = bucket["LifecycleConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert 1 <= rule["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 90
        for policy in ("WebBucketPolicy", "WebLogBucketPolicy"):
            statements = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
            (deny,) = [s for s in statements if s["Effect"] == "Deny"]
            assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, policy
            assert (deny["Principal"], deny["Action"]) == ("*", "s3:*")


def test_cloudfront_writes_standard_access_logs_to_a_private_expiring_bucket(
    packaged: Packaged,
) -> None:
    for way, resources, _ in web_ways(packaged):
        distribution = resources["WebDistribution"]["Properties"]["DistributionConfig"]
        assert distribution["Logging"]["Bucket"] == {
            "Fn::GetAtt": ["WebLogBucket", "DomainName"]}, way
        logs = resources["WebLogBucket"]["Properties"]
        assert all(logs["PublicAccessBlockConfiguration"].values())
        # CloudFront's standard logging writes with an ACL: ACLs must stay enabled.
        assert logs["OwnershipControls"] == {"Rules": [{"ObjectOwnership":
                                                        "BucketOwnerPreferred"}]}
        (rule,) = logs["LifecycleConfiguration"]["Rules"]
        assert rule["ExpirationInDays"] > 0


def test_prod_requires_a_web_domain_so_viewers_get_tls_1_2(packaged: Packaged) -> None:
    for way, resources, template in web_ways(packaged):
        certificate = resources["WebDistribution"]["Properties"]["DistributionConfig"][
            "ViewerCertificate"]["Fn::If"]
        assert certificate[0] == "HasWebCertificate"
        assert certificate[1]["MinimumProtocolVersion"] == "TLSv1.2_2021"
        rule = template["Rules"].get("StageNeedsWebDomain")
        if packaged.stage == "prod":
            (assertion,) = rule["Assertions"]
            assert assertion["Assert"] == {
                "Fn::Not": [{"Fn::Equals": [{"Ref": "WebDomainName"}, ""]}]}, way
            assert "RuleCondition" not in rule
        else:  # dev keeps *.cloudfront.net (TLS 1.0 allowed): docs/deploy.md says so
            assert rule is None


@pytest.mark.parametrize("arn, accepted", [
    ("arn:aws:iam::123456789012:role/chalkboard-operator", True),
    ("arn:aws:iam::123456789012:role/team/ops-admin", True),
    ("arn:aws:sts::123456789012:assumed-role/chalkboard-operator/alice", False),
    ("arn:aws:iam::123456789012:user/alice", False),
    ("arn:aws:iam::123456789012:root", False),
])
def test_the_keyring_admin_is_a_role_never_a_session(arn: str, accepted: bool) -> None:
    for stage in STAGES:
        pattern = ops_template(stage)["Parameters"]["KeyringAdminArn"]["AllowedPattern"]
        assert pattern == KEYRING_ADMIN_PATTERN
        assert bool(re.fullmatch(pattern, arn)) is accepted


def test_the_merge_template_checks_the_keyring_admin_the_same_way(packaged: Packaged) -> None:
    assert packaged.template["Parameters"]["KeyringAdminArn"]["AllowedPattern"] == \
        KEYRING_ADMIN_PATTERN
