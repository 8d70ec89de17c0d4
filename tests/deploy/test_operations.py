"""Operations in both ways in: edge limits, logs, alarms, the keyring's KMS key, domains.

Way 1 is the packaged template after the SAM transform (``packaged``); way 2 is
``infra/ops-<stage>.json`` (cfn-linted here), the per-function policy files and
the stage settings of scripts/gateway_responses.py (tested against moto there).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib import telemetry
from ops import render_infra as render
from ops.infra.common import STAGE_OPTIONS
from ops.stage import ROOT
from tests.deploy.conftest import STAGES, Packaged
from tests.deploy.test_templates import CONFIG, lint

SIGN_IN_ROUTES = {("/login", "POST"), ("/signup", "POST"), ("/token/refresh", "POST")}


def ops_template(stage: str) -> dict[str, Any]:
    return json.loads((ROOT / "infra" / f"ops-{stage}.json").read_text())


def ways(packaged: Packaged) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(way, resources, template-with-parameters) for the packaged stack and the ops stack."""
    ops = ops_template(packaged.stage)
    return [("way 1", packaged.resources, packaged.template),
            ("way 2", ops["Resources"], ops)]


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_finds_nothing_in_the_way_2_ops_template(stage: str) -> None:
    result = lint(ROOT / "infra" / f"ops-{stage}.json")
    assert result.returncode == 0, result.stdout + result.stderr


# -- 2. limits at the edge ------------------------------------------------------------


def test_sign_in_routes_come_from_the_apps_routes_and_apimds_paths() -> None:
    routes = set(render.sign_in_routes(render.load_app()))
    assert routes >= SIGN_IN_ROUTES
    assert all(render.is_sign_in_path(path) for path, _ in routes)
    for path in ("/login/totp", "/login/passkey", "/login/passkey/options",
                 "/login/passkey/verify"):
        assert render.is_sign_in_path(path)
    for path in ("/logout", "/loginx", "/messages", "/me/passkeys", "/login/passkeys"):
        assert not render.is_sign_in_path(path)


def test_sign_in_routes_are_throttled_harder_than_the_stage(packaged: Packaged) -> None:
    (stage,) = packaged.of_type("AWS::ApiGateway::Stage").values()
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in
                stage["Properties"]["MethodSettings"]}
    default = settings.pop(("/*", "*"))
    assert {(path.replace("~1", "/")[1:], method) for path, method in settings} == \
        set(render.sign_in_routes(render.load_app()))
    for setting in settings.values():
        assert 0 < setting["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]
        assert 0 < setting["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]


def test_the_sam_transform_makes_only_the_api_stage(packaged: Packaged) -> None:
    """Without OpenApiVersion SAM adds a second stage named "Stage" (SAM issues 191, 1202)."""
    stages = packaged.of_type("AWS::ApiGateway::Stage")
    assert [s["Properties"]["StageName"] for s in stages.values()] == [render.API_STAGE]
    assert packaged.template["Globals"]["Api"]["OpenApiVersion"]


def test_reserved_concurrency_is_a_prod_parameter_off_by_default(packaged: Packaged) -> None:
    """A new account's concurrency quota (10) cannot reserve 150: a first deploy must not
    ask for it; the ReservedConcurrency parameter turns it on once the quota is raised.
    chalice deploy (way 2) never reserves: the stage config sets no reserved_concurrency."""
    reserved = STAGE_OPTIONS[packaged.stage]["reserved_concurrency"]
    functions = {"APIHandler": "api_handler", "JwtAuth": "jwt_auth"}
    for logical_id, name in functions.items():
        properties = packaged.resources[logical_id]["Properties"]
        assert "reserved_concurrency" not in CONFIG["stages"][packaged.stage][
            "lambda_functions"][name]
        if packaged.stage == "prod":
            assert reserved[name] > 0
            assert properties["ReservedConcurrentExecutions"] == {
                "Fn::If": ["UseReservedConcurrency", reserved[name], {"Ref": "AWS::NoValue"}]}
        else:
            assert "ReservedConcurrentExecutions" not in properties
    parameters = packaged.template["Parameters"]
    if packaged.stage == "prod":
        assert parameters["ReservedConcurrency"]["Default"] == "false"
        assert packaged.template["Conditions"]["UseReservedConcurrency"] == {
            "Fn::Equals": [{"Ref": "ReservedConcurrency"}, "true"]}
    else:
        assert "ReservedConcurrency" not in parameters


def test_waf_limits_sign_ins_per_ip_and_applies_aws_common_rules(packaged: Packaged) -> None:
    for way, resources, template in ways(packaged):
        acl = resources["ApiWebAcl"]
        assert acl.get("Condition") == "UseWaf", way
        default = template["Parameters"]["EnableWaf"]["Default"]
        assert default == ("true" if packaged.stage == "prod" else "false"), way
        rate, common = acl["Properties"]["Rules"]
        statement = rate["Statement"]["RateBasedStatement"]
        assert rate["Action"] == {"Block": {}} and statement["AggregateKeyType"] == "IP"
        assert statement["Limit"] >= 10
        pattern = statement["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"]
        for path in ("/api/login", "/login", "/api/signup", "/api/token/refresh",
                     "/api/login/totp", "/login/passkey/verify"):
            assert re.search(pattern, path), (way, path)
        for path in ("/api/messages", "/api/logout", "/api/loginx", "/api/me"):
            assert not re.search(pattern, path), (way, path)
        assert common["Statement"]["ManagedRuleGroupStatement"] == {
            "VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}
        association = resources["ApiWebAclAssociation"]
        assert association["Condition"] == "UseWaf"
        assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
        parts = association["Properties"]["ResourceArn"]["Fn::Join"][1]
        assert "/stages/" in parts
    # Way 1 associates the stage SAM made (so after it exists); way 2 the API it is given.
    stage_parts = packaged.resources["ApiWebAclAssociation"]["Properties"]["ResourceArn"][
        "Fn::Join"][1]
    assert {"Ref": "RestAPI"} in stage_parts and {"Ref": "RestAPIapiStage"} in stage_parts
    assert {"Ref": "RestApiId"} in ops_template(packaged.stage)["Resources"][
        "ApiWebAclAssociation"]["Properties"]["ResourceArn"]["Fn::Join"][1]


# -- 4. logs ---------------------------------------------------------------------


def test_api_access_logs_are_json_without_secrets(packaged: Packaged) -> None:
    (stage,) = packaged.of_type("AWS::ApiGateway::Stage").values()
    setting = stage["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {"requestId", "ip", "status", "resourcePath", "latencyMs"} <= set(fields)
    assert not any("authorization" in value.lower() or "body" in value.lower()
                   for value in fields.values())


def test_log_groups_keep_the_stages_retention_and_prod_keeps_them(packaged: Packaged) -> None:
    days = CONFIG["stages"][packaged.stage]["log_retention_in_days"]
    for way, resources, _ in ways(packaged):
        groups = {name: r for name, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
        assert groups, way
        if way == "way 1":
            assert set(groups) == {"ApiHandlerLogGroup", "JwtAuthLogGroup", "LiveLogGroup",
                                   "ApiAccessLogGroup", "WafLogGroup"}
        for name, group in groups.items():
            assert group["Properties"]["RetentionInDays"] == days, (way, name)
            expected = "Retain" if packaged.stage == "prod" else "Delete"
            assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == expected, name
    assert days == {"dev": 14, "prod": 90}[packaged.stage]


# -- 5. metrics and alarms ----------------------------------------------------------------


def alarm_metrics(resources: dict[str, Any]) -> dict[str, tuple[str, str]]:
    alarms = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        properties = resource["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        if "Metrics" in properties:
            stats = [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]
            alarms[name] = (stats[0]["Namespace"], "+".join(s["MetricName"] for s in stats))
        else:
            alarms[name] = (properties["Namespace"], properties["MetricName"])
    return alarms


def test_prod_alarms_cover_an_auth_services_failure_modes(packaged: Packaged) -> None:
    for way, resources, template in ways(packaged):
        alarms = alarm_metrics(resources)
        if packaged.stage != "prod":
            assert alarms == {}, way
            assert "AlarmEmail" not in template["Parameters"]
            continue
        assert set(alarms.values()) >= {
            ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"),
            ("AWS/ApiGateway", "5XXError+Count"), ("AWS/ApiGateway", "Latency"),
            ("chalkboard", "AuthorizerErrors"), ("chalkboard", "RefreshTokenReuse"),
            ("chalkboard", "LoginFailed"), ("chalkboard", "LoginThrottled"),
            ("AWS/WAFV2", "BlockedRequests"),
            ("chalkboard/runtime", f"{packaged.stage}-jwt_auth-crashes"),
            ("AWS/DynamoDB", "ReadThrottleEvents+WriteThrottleEvents"),
        }, way
        throttles = [n for n, m in alarms.items() if m == ("AWS/Lambda", "Throttles")]
        assert len(throttles) == 3, way  # one per function: API, authorizer, live (issue 26)
        table_alarms = [n for n, m in alarms.items() if m[0] == "AWS/DynamoDB"]
        assert len(table_alarms) == len(render.TABLE_KEYS), way
        for namespace, metric in alarms.values():
            if namespace == telemetry.NAMESPACE:
                assert metric in telemetry.METRICS  # an alarm on a metric never sent is silent
        subscription = resources["AlarmEmailSubscription"]
        assert "Condition" not in subscription
        assert subscription["Properties"]["Protocol"] == "email"
        assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
        (assertion,) = template["Rules"]["AlarmEmailRequired"]["Assertions"]
        assert "RuleCondition" not in template["Rules"]["AlarmEmailRequired"]
        assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def evaluate(expression: str, **values: float) -> float:
    """A CloudWatch metric math IF/AND expression, evaluated for one period (only the
    operators such an expression uses: IF, AND, comparisons, arithmetic)."""
    import ast
    import operator

    operators: dict[type, Any] = {ast.GtE: operator.ge, ast.Gt: operator.gt,
                                  ast.LtE: operator.le, ast.Lt: operator.lt,
                                  ast.Div: operator.truediv, ast.Mult: operator.mul,
                                  ast.Add: operator.add, ast.Sub: operator.sub}

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.BinOp):
            return operators[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return operators[type(node.ops[0])](value(node.left), value(node.comparators[0]))
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            return all(value(operand) for operand in node.values)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "IF":
            test, yes, no = node.args
            return value(yes) if value(test) else value(no)
        raise AssertionError(f"unexpected metric math: {ast.dump(node)}")

    tree = ast.parse(expression.replace(" AND ", " and "), mode="eval")
    return float(value(tree.body))


def test_the_5xx_alarm_needs_a_count_and_a_rate_over_several_periods(packaged: Packaged) -> None:
    if packaged.stage != "prod":
        return
    for way, resources, _ in ways(packaged):
        properties = resources["ApiServerErrorsAlarm"]["Properties"]
        (expression,) = [m["Expression"] for m in properties["Metrics"] if m["ReturnData"]]
        stats = {m["Id"]: m["MetricStat"] for m in properties["Metrics"] if "MetricStat" in m}
        assert {k: (v["Metric"]["MetricName"], v["Stat"]) for k, v in stats.items()} == {
            "errors": ("5XXError", "Sum"), "requests": ("Count", "Sum")}, way

        def pages(errors: float, requests: float, expression: str = expression,
                  threshold: float = properties["Threshold"]) -> bool:
            return evaluate(expression, errors=errors, requests=requests) >= threshold

        assert not pages(1, 20)  # one failure in 20 requests
        assert not pages(5, 1000)  # a count without a rate
        assert not pages(4, 10)  # a rate without a count
        assert pages(10, 100)
        assert properties["EvaluationPeriods"] >= 3
        assert properties["DatapointsToAlarm"] == properties["EvaluationPeriods"]


def test_authorizer_crashes_and_timeouts_page_from_its_own_log(packaged: Packaged) -> None:
    """Lambda's Errors metric counts the authorizer's every refusal: its log tells crashes."""
    if packaged.stage != "prod":
        return
    for way, resources, _ in ways(packaged):
        filters = [r["Properties"] for r in resources.values()
                   if r["Type"] == "AWS::Logs::MetricFilter"]
        (crashes,) = filters
        expected_group = ({"Ref": "JwtAuthLogGroup"} if way == "way 1" else
                          f"/aws/lambda/chalkboard-{packaged.stage}-jwt_auth")
        assert crashes["LogGroupName"] == expected_group, way
        assert '"Task timed out"' in crashes["FilterPattern"]
        assert '"Runtime."' in crashes["FilterPattern"]
        assert "Unauthorized" not in crashes["FilterPattern"]
        (transformation,) = crashes["MetricTransformations"]
        alarm = resources["JwtAuthCrashesAlarm"]["Properties"]
        assert (alarm["Namespace"], alarm["MetricName"]) == (
            transformation["MetricNamespace"], transformation["MetricName"])
        assert alarm["Threshold"] == 1


def test_p99_latency_near_the_timeout_and_sign_in_spikes_page(packaged: Packaged) -> None:
    if packaged.stage != "prod":
        return
    timeout_ms = CONFIG["lambda_timeout"] * 1000
    for way, resources, _ in ways(packaged):
        latency = resources["ApiLatencyAlarm"]["Properties"]
        assert latency["ExtendedStatistic"] == "p99" and "Statistic" not in latency
        assert 0.5 * timeout_ms <= latency["Threshold"] < timeout_ms, way
        for name, metric in (("LoginFailuresAlarm", "LoginFailed"),
                             ("LoginThrottledAlarm", "LoginThrottled")):
            properties = resources[name]["Properties"]
            assert (properties["MetricName"], properties["Statistic"]) == (metric, "Sum")
            assert properties["Threshold"] > 1  # a spike, not one mistyped password
        waf = resources["WafBlocksAlarm"]
        assert waf["Condition"] == "UseWaf"
        dims = {d["Name"]: d["Value"] for d in waf["Properties"]["Dimensions"]}
        assert dims["WebACL"] == resources["ApiWebAcl"]["Properties"]["Name"]
        assert dims["Rule"] == "ALL"


def test_a_dashboard_shows_the_api_functions_tables_and_business_metrics(
    packaged: Packaged,
) -> None:
    for way, resources, _ in ways(packaged):
        body, values = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        widgets = json.loads(body)["widgets"]
        namespaces = {metric[0] for w in widgets for metric in w["properties"]["metrics"]}
        assert namespaces == {"AWS/ApiGateway", "AWS/Lambda", "AWS/DynamoDB", "chalkboard"}, way
        business = {m[1] for w in widgets for m in w["properties"]["metrics"]
                    if m[0] == "chalkboard"}
        assert business == set(telemetry.METRICS)
        assert len([v for k, v in values.items() if k.startswith("Function")]) == 3


# -- 6. the keyring's customer-managed key -------------------------------------------


def test_the_keyring_key_rotates_and_only_the_functions_and_admin_may_use_it(
    packaged: Packaged,
) -> None:
    for way, resources, template in ways(packaged):
        key = resources["KeyringKey"]["Properties"]
        assert key["EnableKeyRotation"] is True
        assert resources["KeyringKey"]["DeletionPolicy"] == "Retain"
        statements = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
        crypto = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}
        account = statements.pop("AccountManagesButCannotUseTheKey")
        assert not crypto & set(account["Action"]) and "kms:*" not in account["Action"]
        functions = statements.pop("FunctionsDecryptTheKeyringThroughSsm")
        assert functions["Action"] == "kms:Decrypt"
        assert len(functions["Principal"]["AWS"]) == 3
        admin = statements.pop("KeyringAdminWritesAndReadsTheKeyring")
        assert admin["Principal"] == {"AWS": {"Ref": "KeyringAdminArn"}}
        assert "Default" not in template["Parameters"]["KeyringAdminArn"]
        assert statements == {}, way
        for statement in (functions, admin):
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]
        alias = resources["KeyringKeyAlias"]["Properties"]
        assert alias["AliasName"] == f"alias/chalkboard-{packaged.stage}-keyring"
    way_1_roles = packaged.resources["KeyringKey"]["Properties"]["KeyPolicy"]["Statement"][1]
    assert way_1_roles["Principal"]["AWS"] == [{"Fn::GetAtt": ["ApiHandlerRole", "Arn"]},
                                               {"Fn::GetAtt": ["JwtAuthRole", "Arn"]},
                                               {"Fn::GetAtt": ["LiveRole", "Arn"]}]
    (decrypt,) = packaged.of_type("AWS::IAM::Policy").values()
    assert decrypt["Properties"]["Roles"] == [{"Ref": "ApiHandlerRole"}, {"Ref": "JwtAuthRole"},
                                              {"Ref": "LiveRole"}]
    (statement,) = decrypt["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "kms:Decrypt", {"Fn::GetAtt": ["KeyringKey", "Arn"]})


def test_way_2_key_policy_names_the_roles_chalice_deploy_makes(packaged: Packaged) -> None:
    roles = ops_template(packaged.stage)["Resources"]["KeyringKey"]["Properties"]["KeyPolicy"][
        "Statement"][1]["Principal"]["AWS"]
    prefix = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    assert [r["Fn::Sub"] for r in roles] == [f"{prefix}chalkboard-{packaged.stage}-api_handler",
                                             f"{prefix}chalkboard-{packaged.stage}-jwt_auth",
                                             f"{prefix}chalkboard-{packaged.stage}-live"]


# -- 7. custom domains ---------------------------------------------------------------


def test_custom_domains_are_optional_and_get_alias_records_in_the_hosted_zone(
    packaged: Packaged,
) -> None:
    resources, conditions = packaged.resources, packaged.template["Conditions"]
    assert resources["ApiDomain"]["Condition"] == "HasApiDomain"
    assert resources["ApiDomain"]["Properties"]["EndpointConfiguration"] == {
        "Types": ["REGIONAL"]}
    assert resources["ApiDomainMapping"]["Properties"]["RestApiId"] == {"Ref": "RestAPI"}
    assert resources["ApiDnsRecord"]["Condition"] == "HasApiDnsZone"
    assert resources["ApiDnsRecord"]["Properties"]["AliasTarget"]["DNSName"] == {
        "Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]}
    web = json.loads((ROOT / "infra" / f"web-{packaged.stage}.json").read_text())
    for template_resources in (resources, web["Resources"]):
        for kind in ("A", "AAAA"):
            record = template_resources[f"WebDnsRecord{kind}"]
            assert record["Condition"] == "HasWebDnsZone"
            assert record["Properties"]["Name"] == {"Ref": "WebDomainName"}
            assert record["Properties"]["AliasTarget"]["HostedZoneId"] == \
                render.CLOUDFRONT_HOSTED_ZONE
    for name in ("HasWebDnsZone", "HasApiDnsZone"):
        assert {"Condition": "HasHostedZone"} in conditions[name]["Fn::And"]


def test_the_web_origin_and_webauthn_rp_id_follow_a_custom_web_domain(
    packaged: Packaged,
) -> None:
    env = packaged.resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["CHALKBOARD_WEB_ORIGIN"] == {"Fn::If": [
        "HasWebDomain", {"Fn::Sub": "https://${WebDomainName}"}, {"Fn::Sub": "${WebOrigin}"}]}
    assert env["CHALKBOARD_WEBAUTHN_RP_ID"] == {"Fn::If": [
        "HasWebDomain", {"Ref": "WebDomainName"},
        {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "WebOrigin"}]}]}]}
    gateway = packaged.swagger["x-amazon-apigateway-gateway-responses"]["DEFAULT_4XX"]
    origin = gateway["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
    assert origin["Fn::If"][1] == {"Fn::Sub": "'https://${WebDomainName}'"}


def test_way_2_stages_set_the_webauthn_rp_id_beside_the_web_origin() -> None:
    for stage in STAGES:
        env = render.stage_environment(CONFIG, stage)
        origin_host = env["CHALKBOARD_WEB_ORIGIN"].split("/")[2]
        assert env["CHALKBOARD_WEBAUTHN_RP_ID"] == origin_host


def test_packaged_template_is_too_big_to_send_inline(packaged: Packaged) -> None:
    """docs/deploy.md uploads it with --s3-bucket: CloudFormation takes 51,200 bytes inline."""
    assert Path(packaged.path).stat().st_size > 51_200
    assert "--s3-bucket" in (ROOT / "docs" / "deploy.md").read_text()
