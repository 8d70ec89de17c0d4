"""Way 1 (chalice package + merge template) and way 2 (policy files, web template).

Every assertion is on a real `chalice package` output for each stage, after the
SAM transform CloudFormation would run, or on the committed files way 2 uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import StoreUnavailable
from chalicelib.store.dynamodb import TableNames
from ops import render_infra as render
from ops.stage import ROOT, stage_environment
from ops.tables import table_definitions, tables_with_ttl
from tests.deploy.conftest import (
    EXAMPLE_WEB_ORIGIN,
    STAGES,
    Packaged,
    aws_env,
    chalice_package,
)

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
TABLES = {"users": "UsersTable", "messages": "MessagesTable", "auth": "AuthTable",
          "user_items": "UserItemsTable"}
NAMES = TableNames(users="users", messages="messages", auth="auth", user_items="user_items")
# docs/openapi.yaml: the routes that take a bearer token, and only those.
GUARDED_ROUTES = {
    ("/logout", "post"),
    ("/me", "get"),
    ("/me", "delete"),
    ("/me", "patch"),
    ("/me/sessions", "get"),
    ("/me/sessions/{session_id}", "delete"),
    ("/me/password", "post"),
    ("/messages", "get"),
    ("/messages", "post"),
    ("/messages/{message_id}", "delete"),
    ("/live/ticket", "get"),
    ("/me/totp", "post"),
    ("/me/totp", "delete"),
    ("/me/totp/confirm", "post"),
    ("/me/totp/recovery-codes", "post"),
    ("/me/passkeys", "get"),
    ("/me/passkeys", "post"),
    ("/me/passkeys/options", "post"),
    ("/me/passkeys/{passkey_id}", "patch"),
    ("/me/passkeys/{passkey_id}", "delete"),
    ("/me/security-events", "get"),

    ("/me/email", "post"),
}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def stage_env(stage: str) -> dict[str, str]:
    return stage_environment(CONFIG, stage)


def resolve(value: Any, parameters: dict[str, str]) -> Any:
    """Resolve the Ref/Fn::Sub to parameters that these assertions need (no pseudo-parameters);
    an Fn::If on the custom web domain resolves as if none were given."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        assert value["Fn::If"][0] == "HasWebDomain"
        return resolve(value["Fn::If"][2], parameters)
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([A-Za-z0-9]+)\}",
                      lambda m: parameters.get(m.group(1), m.group(0)), value["Fn::Sub"])
    return value


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True,
                          env=aws_env(), timeout=180)


def role_statements(packaged: Packaged) -> dict[str, list[dict[str, Any]]]:
    roles = packaged.of_type("AWS::IAM::Role")
    assert set(roles) == {"ApiHandlerRole", "JwtAuthRole", "LiveRole"}
    statements = {}
    for name, role in roles.items():
        policies = role["Properties"]["Policies"]
        assert len(policies) == 1, f"{name} keeps chalice's copy of policy-<stage>.json"
        statements[name] = policies[0]["PolicyDocument"]["Statement"]
    return statements


def policy_file(stage: str, function: str) -> dict[str, Any]:
    """Way 2's policy for one function, as .chalice/config.json names it."""
    name = CONFIG["stages"][stage]["lambda_functions"][function]["iam_policy_file"]
    return json.loads((ROOT / ".chalice" / name).read_text())


FUNCTIONS = ("api_handler", "jwt_auth", "live")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- linting and freshness -----------------------------------------------------------


def test_cfn_lint_finds_nothing_in_the_packaged_template(packaged: Packaged) -> None:
    result = lint(packaged.path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_finds_nothing_after_the_sam_transform(packaged: Packaged, tmp_path: Path) -> None:
    """cfn-lint checks SAM templates against SAM's schema; this lints what SAM makes of it."""
    path = tmp_path / "cloudformation.json"
    path.write_text(json.dumps(packaged.cloudformation))
    result = lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_finds_nothing_in_the_way_2_web_template(stage: str) -> None:
    result = lint(ROOT / "infra" / f"web-{stage}.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_rejects_chalices_own_template_without_the_merge(
    project_copy: Path, tmp_path: Path,
) -> None:
    """The lint can fail: Chalice 1.34 names the API log group after a resource that
    does not exist (`${ApiHandler}`); the merge template renames it."""
    chalice_package(project_copy, "dev", tmp_path, merge=False)
    result = lint(tmp_path / "sam.json")
    assert result.returncode != 0
    assert "ApiHandler" in result.stdout


def test_committed_templates_and_policies_are_rendered_from_config_and_app() -> None:
    stale = [str(path.relative_to(ROOT)) for path, text in render.rendered().items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"run `python -m ops render-infra`; stale: {stale}"


# -- tables ---------------------------------------------------------------------------


def test_tables_are_exactly_the_stores_table_definitions(packaged: Packaged) -> None:
    expected = {d["TableName"]: d for d in table_definitions(NAMES)}
    tables = packaged.of_type("AWS::DynamoDB::Table")
    assert set(tables) == set(TABLES.values())
    for key, logical_id in TABLES.items():
        properties = tables[logical_id]["Properties"]
        definition = expected[key]
        assert properties["KeySchema"] == definition["KeySchema"]
        assert properties["AttributeDefinitions"] == definition["AttributeDefinitions"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST" == definition["BillingMode"]
        assert "GlobalSecondaryIndexes" not in properties
        assert "LocalSecondaryIndexes" not in properties
        assert "TableName" not in properties  # CloudFormation names them; no collisions


def test_only_the_auth_and_user_items_tables_expire_items_by_ttl(packaged: Packaged) -> None:
    ttl = tables_with_ttl(NAMES)
    assert ttl == {"auth": "expires_at", "user_items": "expires_at"}
    for key, logical_id in TABLES.items():
        properties = packaged.resources[logical_id]["Properties"]
        if key in ttl:
            assert properties["TimeToLiveSpecification"] == {
                "AttributeName": ttl[key], "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in properties


def test_prod_tables_have_point_in_time_recovery_and_outlive_the_stack(
    packaged: Packaged,
) -> None:
    for logical_id in TABLES.values():
        table = packaged.resources[logical_id]
        pitr = table["Properties"].get("PointInTimeRecoverySpecification", {})
        if packaged.stage == "prod":
            assert pitr == {"PointInTimeRecoveryEnabled": True}
            assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
            assert table["Properties"]["DeletionProtectionEnabled"] is True
        else:
            assert table["DeletionPolicy"] == "Delete"


# -- functions ------------------------------------------------------------------------


def test_both_functions_get_the_stacks_table_names_and_the_stage_settings(
    packaged: Packaged,
) -> None:
    functions = packaged.of_type("AWS::Lambda::Function")
    assert set(functions) == {"APIHandler", "JwtAuth", "Live"}
    config_env = stage_env(packaged.stage)
    for function in functions.values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["CHALKBOARD_USERS_TABLE"] == {"Ref": "UsersTable"}
        assert env["CHALKBOARD_MESSAGES_TABLE"] == {"Ref": "MessagesTable"}
        assert env["CHALKBOARD_AUTH_TABLE"] == {"Ref": "AuthTable"}
        assert env["CHALKBOARD_USER_ITEMS_TABLE"] == {"Ref": "UserItemsTable"}
        assert resolve(env["CHALKBOARD_WEB_ORIGIN"], {"WebOrigin": EXAMPLE_WEB_ORIGIN}) == \
            EXAMPLE_WEB_ORIGIN
        assert env["CHALKBOARD_STAGE"] == packaged.stage
        assert env["CHALKBOARD_STORE"] == "dynamodb"
        assert env["CHALKBOARD_SIGNING_KEYS_PARAMETER"] == \
            f"/chalkboard/{packaged.stage}/signing-keys"
        for name in ("CHALKBOARD_ACCESS_TOKEN_TTL", "CHALKBOARD_REFRESH_TOKEN_TTL",
                     "CHALKBOARD_AUTHORIZER_TTL"):
            assert env[name] == config_env[name]
        assert "CHALKBOARD_SIGNING_KEYS" not in env  # never a keyring in the template


def test_stage_token_lifetimes_and_authorizer_cache_are_set_and_sane() -> None:
    for stage in STAGES:
        env = stage_env(stage)
        assert int(env["CHALKBOARD_ACCESS_TOKEN_TTL"]) == 900
        assert int(env["CHALKBOARD_REFRESH_TOKEN_TTL"]) > int(env["CHALKBOARD_ACCESS_TOKEN_TTL"])
        # Logout and password changes must take effect at once: no cached "Allow".
        assert env["CHALKBOARD_AUTHORIZER_TTL"] == "0"
        assert CONFIG["stages"][stage]["autogen_policy"] is False
        assert "iam_policy_file" not in CONFIG["stages"][stage]  # one file per function
        for function in FUNCTIONS:
            assert CONFIG["stages"][stage]["lambda_functions"][function]["iam_policy_file"] == \
                f"policy-{stage}-{function.replace('_', '-')}.json"
        assert CONFIG["stages"][stage]["api_gateway_stage"] == "api"


def test_each_log_group_is_the_one_its_function_writes_to(packaged: Packaged) -> None:
    groups = packaged.of_type("AWS::Logs::LogGroup")
    assert set(groups) == {"ApiHandlerLogGroup", "JwtAuthLogGroup", "LiveLogGroup",
                           "ApiAccessLogGroup", "WafLogGroup"}
    del groups["ApiAccessLogGroup"]  # API Gateway's (tests/deploy/test_operations.py)
    del groups["WafLogGroup"]  # WAF's (tests/deploy/test_operations.py)
    pairs = {"ApiHandlerLogGroup": "APIHandler", "JwtAuthLogGroup": "JwtAuth",
             "LiveLogGroup": "Live"}
    for group, function in pairs.items():
        name = packaged.resources[function]["Properties"]["FunctionName"]["Fn::Sub"]
        assert groups[group]["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}
        assert groups[group]["Properties"]["RetentionInDays"] == \
            CONFIG["stages"][packaged.stage]["log_retention_in_days"]


# -- the API ----------------------------------------------------------------------


def test_every_guarded_route_uses_the_jwt_authorizer(packaged: Packaged) -> None:
    from app import app

    in_app = {(path, method.lower()) for path, methods in app.routes.items()
              for method, entry in methods.items() if entry.authorizer is not None}
    assert in_app == GUARDED_ROUTES
    guarded, open_routes = set(), set()
    for path, operations in packaged.swagger["paths"].items():
        for method, operation in operations.items():
            if method == "options":
                assert "security" not in operation  # preflights carry no token
                continue
            (guarded if operation.get("security") else open_routes).add((path, method))
            if operation.get("security"):
                assert operation["security"] == [{"jwt_auth": []}]
    assert guarded == GUARDED_ROUTES
    assert open_routes == {("/signup", "post"), ("/login", "post"),
                           ("/token/refresh", "post"), ("/health", "get"),
                           ("/login/totp", "post"), ("/login/passkey/options", "post"),
                           ("/login/passkey", "post"), ("/email/verify", "post"),
                           ("/password/forgot", "post"), ("/password/reset", "post"),
                           ("/live", "get")}  # the live ticket is its credential (issue 26)
    authorizer = packaged.swagger["securityDefinitions"]["jwt_auth"]
    assert authorizer["x-amazon-apigateway-authorizer"]["type"] == "token"
    assert authorizer["name"] == "Authorization"
    assert authorizer["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"] == \
        int(stage_env(packaged.stage)["CHALKBOARD_AUTHORIZER_TTL"])
    assert "JwtAuth.Arn" in authorizer["x-amazon-apigateway-authorizer"]["authorizerUri"]["Fn::Sub"]


def test_gateway_responses_carry_cors_for_the_exact_web_origin(packaged: Packaged) -> None:
    responses = packaged.swagger["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "AUTHORIZER_FAILURE",
            "AUTHORIZER_CONFIGURATION_ERROR"} <= set(responses)
    for response in responses.values():
        headers = response["responseParameters"]
        origin = headers["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert resolve(origin, {"WebOrigin": EXAMPLE_WEB_ORIGIN}) == f"'{EXAMPLE_WEB_ORIGIN}'"
        assert headers["gatewayresponse.header.Access-Control-Expose-Headers"] == "'Retry-After'"


@pytest.mark.parametrize("response_type", ["AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"])
def test_an_unreachable_store_in_the_authorizer_is_a_503_like_the_apps(
    packaged: Packaged, response_type: str,
) -> None:
    """Deployed, the authorizer's exception arrives as AUTHORIZER_CONFIGURATION_ERROR (500)."""
    failure = packaged.swagger["x-amazon-apigateway-gateway-responses"][response_type]
    error = StoreUnavailable()
    assert failure["statusCode"] == "503"
    assert failure["responseParameters"]["gatewayresponse.header.Retry-After"] == \
        f"'{error.retry_after}'"
    assert json.loads(failure["responseTemplates"]["application/json"]) == {
        "Code": "ServiceUnavailable", "Message": str(error),
    }


def test_every_preflight_allows_only_the_stacks_web_origin(packaged: Packaged) -> None:
    preflights = 0
    for operations in packaged.swagger["paths"].values():
        parameters = operations["options"]["x-amazon-apigateway-integration"]["responses"][
            "default"]["responseParameters"]
        origin = parameters["method.response.header.Access-Control-Allow-Origin"]
        assert resolve(origin, {"WebOrigin": EXAMPLE_WEB_ORIGIN}) == f"'{EXAMPLE_WEB_ORIGIN}'"
        preflights += 1
    assert preflights == len(packaged.swagger["paths"])
    # The origin chalice saw when packaging is left nowhere but the parameter's default.
    text = json.dumps(packaged.cloudformation["Resources"])
    assert render.PLACEHOLDER_ORIGIN not in text


def test_a_new_web_origin_redeploys_the_api_stage(packaged: Packaged) -> None:
    """A parameter change leaves the API's text alone, so SAM must deploy on every update."""
    assert packaged.template["Resources"]["RestAPI"]["Properties"]["AlwaysDeploy"] is True
    assert packaged.template["Parameters"]["WebOrigin"]["Default"] == render.PLACEHOLDER_ORIGIN
    assert re.match(packaged.template["Parameters"]["WebOrigin"]["AllowedPattern"],
                    EXAMPLE_WEB_ORIGIN)
    for bad in ("*", "http://example.com", "https://example.com/path", "https://a.com https://b"):
        assert not re.match(packaged.template["Parameters"]["WebOrigin"]["AllowedPattern"], bad)


# -- IAM ------------------------------------------------------------------------------


# The tests that drive every DynamoDBStore method on dynalite: the store contract tests,
# and the two-factor and passkey tests (their store capabilities run on both adapters).
STORE_TESTS = (
    "tests/test_store_contract.py", "tests/test_totp.py", "tests/test_passkeys.py",
    "tests/test_store_security_events.py", "tests/test_known_devices.py",
    "tests/test_store_email.py", "tests/test_store_passkey_limits.py",
)
# The store methods the authorizer calls
# (app.jwt_auth → authorizer.decide → sessions.authenticate).
AUTHORIZER_STORE_METHODS = {"access_state"}
# The store methods the live function calls (app.live_url → live.newer, issue 26): the
# ticket's session, then the newest page or what is newer than ``since``.
LIVE_STORE_METHODS = {"access_state", "list_messages", "list_newer_messages"}


@pytest.fixture(scope="module")
def recorded_calls(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """Every DynamoDB call those tests make, recorded by a botocore before-call hook
    (tests/deploy/dynamodb_calls.py): store method, operation and table."""
    from tests.deploy.dynamodb_calls import VARIABLE

    out = tmp_path_factory.mktemp("dynamodb-calls") / "calls.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "-p", "tests.deploy.dynamodb_calls", *STORE_TESTS, "-k", "dynamodb"],
        cwd=ROOT, env={**os.environ, VARIABLE: str(out)}, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [json.loads(line) for line in out.read_text().splitlines()]


def store_calls(calls: list[dict[str, str]], methods: set[str] | None = None
                ) -> dict[str, set[str]]:
    """Table → the DynamoDB actions called on it (by ``methods`` only, if given)."""
    actions: dict[str, set[str]] = {}
    for call in calls:
        if methods is None or call["method"] in methods:
            actions.setdefault(call["table"], set()).add(call["operation"])
    return actions


def test_the_recorded_tests_call_every_store_method(recorded_calls: list[dict[str, str]]
                                                     ) -> None:
    """A method no test drives would leave its actions out of the comparison below."""
    import inspect

    from chalicelib.store.dynamodb import DynamoDBStore

    public = {name for name, _ in inspect.getmembers(DynamoDBStore, inspect.isfunction)
              if not name.startswith("_")}
    called = {call["method"] for call in recorded_calls}
    assert public - called == set(), "add the test file that drives them to STORE_TESTS"
    assert called >= AUTHORIZER_STORE_METHODS | LIVE_STORE_METHODS
    assert {call["table"] for call in recorded_calls} == set(TABLES)


def dynamodb_grants(statements: list[dict[str, Any]], table_of: Any
                    ) -> tuple[dict[str, set[str]], dict[str, Any]]:
    """Table → granted actions, and table → the statement's condition (if any)."""
    granted: dict[str, set[str]] = {}
    conditions: dict[str, Any] = {}
    for statement in statements:
        dynamodb = [a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")]
        if not dynamodb:
            continue
        table = table_of(statement["Resource"])
        granted.setdefault(table, set()).update(a.split(":")[1] for a in dynamodb)
        if "Condition" in statement:
            conditions[table] = statement["Condition"]
    return granted, conditions


def check_authorizer_reads(granted: dict[str, set[str]], conditions: dict[str, Any],
                           calls: list[dict[str, str]]) -> None:
    """The authorizer reads the user and the token's session, nothing else."""
    assert granted == store_calls(calls, methods=AUTHORIZER_STORE_METHODS)
    assert all(actions <= {"BatchGetItem", "GetItem"} for actions in granted.values())
    assert conditions == {}


def check_live_reads(granted: dict[str, set[str]], conditions: dict[str, Any],
                     calls: list[dict[str, str]]) -> None:
    """GET /live's function (issue 26) reads the ticket's session and the board, nothing else."""
    assert granted == store_calls(calls, methods=LIVE_STORE_METHODS)
    assert all(actions <= {"BatchGetItem", "GetItem", "Query"} for actions in granted.values())
    assert conditions == {}


def test_roles_grant_exactly_the_dynamodb_actions_their_function_calls(
    packaged: Packaged, recorded_calls: list[dict[str, str]],
) -> None:
    expected = store_calls(recorded_calls)
    assert set(expected) == set(TABLES)
    statements = role_statements(packaged)

    def table_of(resource: Any) -> str:
        (table,) = [k for k, v in TABLES.items() if resource == {"Fn::GetAtt": [v, "Arn"]}]
        return table

    assert dynamodb_grants(statements["ApiHandlerRole"], table_of) == (expected, {})
    check_authorizer_reads(*dynamodb_grants(statements["JwtAuthRole"], table_of), recorded_calls)
    check_live_reads(*dynamodb_grants(statements["LiveRole"], table_of), recorded_calls)


def test_way_2_policies_grant_exactly_the_dynamodb_actions_their_function_calls(
    recorded_calls: list[dict[str, str]],
) -> None:
    expected = store_calls(recorded_calls)
    for stage in STAGES:
        env = stage_env(stage)
        names = {key: env[f"CHALKBOARD_{key.upper()}_TABLE"] for key in TABLES}

        def table_of(resource: Any, names: dict[str, str] = names) -> str:
            (table,) = [k for k, name in names.items()
                        if resource == f"arn:aws:dynamodb:*:*:table/{name}"]
            return table

        assert dynamodb_grants(policy_file(stage, "api_handler")["Statement"], table_of) == \
            (expected, {})
        check_authorizer_reads(*dynamodb_grants(policy_file(stage, "jwt_auth")["Statement"],
                                                table_of), recorded_calls)
        check_live_reads(*dynamodb_grants(policy_file(stage, "live")["Statement"], table_of),
                         recorded_calls)


def all_statements(packaged: Packaged) -> list[dict[str, Any]]:
    statements = [s for role in role_statements(packaged).values() for s in role]
    for function in FUNCTIONS:
        statements += policy_file(packaged.stage, function)["Statement"]
    for policy in packaged.of_type("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for policy in packaged.of_type("AWS::S3::BucketPolicy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_no_iam_statement_has_a_wildcard_resource_or_action(packaged: Packaged) -> None:
    statements = all_statements(packaged)
    assert statements
    for statement in statements:
        if statement["Effect"] == "Deny":  # refusals may be broad: only plain-HTTP S3 ones
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            continue
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement
        for resource in as_list(statement["Resource"]):
            assert resource != "*", statement
            text = json.dumps(resource)
            # The only wildcards: log streams (named at run time), the objects of
            # the web bucket, and, in the static way-2 policy file, the region and
            # account (see ops/render_infra.py) and the KMS key, which only its alias names.
            for allowed in (":log-stream:*", "${WebBucket.Arn}/*", ":*:*:"):
                text = text.replace(allowed, "")
            if text == '"arn:aws:kmskey/*"':  # arn:aws:kms:*:*:key/*
                assert statement["Condition"]["ForAnyValue:StringEquals"] == {
                    "kms:ResourceAliases": f"alias/chalkboard-{packaged.stage}-keyring"}
                continue
            assert "*" not in text, statement


def test_roles_read_only_the_stages_keyring_and_write_only_their_own_logs(
    packaged: Packaged,
) -> None:
    parameter = stage_env(packaged.stage)["CHALKBOARD_SIGNING_KEYS_PARAMETER"]
    own_function = {"ApiHandlerRole": "APIHandler", "JwtAuthRole": "JwtAuth", "LiveRole": "Live"}
    for role, statements in role_statements(packaged).items():
        actions = {a for s in statements for a in as_list(s["Action"])}
        assert not any(a.startswith(("kms:", "s3:", "iam:", "lambda:")) for a in actions)
        (ssm,) = [s for s in statements if s["Action"] == "ssm:GetParameter"]
        assert ssm["Resource"]["Fn::Sub"].endswith(f":parameter{parameter}")
        (logs,) = [s for s in statements if "logs:PutLogEvents" in as_list(s["Action"])]
        function_name = packaged.resources[own_function[role]]["Properties"]["FunctionName"]
        assert [r["Fn::Sub"] for r in logs["Resource"]] == [
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            f"/aws/lambda/{function_name['Fn::Sub']}:log-stream:*"
        ]


def test_way_2_policies_name_only_the_stages_tables_keyring_key_and_own_logs() -> None:
    for stage in STAGES:
        env = stage_env(stage)
        tables = {"api_handler": ("USERS", "MESSAGES", "AUTH", "USER_ITEMS"),
                  "jwt_auth": ("USERS", "USER_ITEMS"),
                  "live": ("USERS", "USER_ITEMS", "MESSAGES")}
        log_groups = {"api_handler": f"chalkboard-{stage}",
                      "jwt_auth": f"chalkboard-{stage}-jwt_auth",
                      "live": f"chalkboard-{stage}-live"}
        for function in FUNCTIONS:
            allowed = {
                f"arn:aws:dynamodb:*:*:table/{env[f'CHALKBOARD_{name}_TABLE']}"
                for name in tables[function]
            } | {f"arn:aws:ssm:*:*:parameter{env['CHALKBOARD_SIGNING_KEYS_PARAMETER']}",
                 "arn:aws:kms:*:*:key/*",
                 f"arn:aws:logs:*:*:log-group:/aws/lambda/{log_groups[function]}:log-stream:*"}
            if function == "api_handler":  # SES: the sender's identity (tests/test_mail.py)
                domain = "web-origin-not-set.invalid"
                allowed |= {f"arn:aws:ses:*:*:identity/chalkboard@{domain}",
                            f"arn:aws:ses:*:*:identity/{domain}"}
            statements = policy_file(stage, function)["Statement"]
            assert {r for s in statements for r in as_list(s["Resource"])} == allowed


# -- the web app: private bucket, CloudFront, headers ------------------------------


def web_checks(resources: dict[str, Any], api_origin: Any, live_origin: Any = None) -> None:
    """Shared by way 1 (after the transform) and way 2 (the web template as is)."""
    bucket = resources["WebBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert "WebsiteConfiguration" not in bucket
    assert "AccessControl" not in bucket
    deny, statement = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny == {
        "Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [{"Fn::GetAtt": ["WebBucket", "Arn"]}, {"Fn::Sub": "${WebBucket.Arn}/*"}],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"].endswith(
        ":distribution/${WebDistribution}")

    oac = resources["WebOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"],
            oac["SigningProtocol"]) == ("s3", "always", "sigv4")

    distribution = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "CustomOriginConfig" not in origin  # never the HTTP-only website endpoint
    assert distribution["DefaultRootObject"] == "index.html"
    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["Compress"] is True
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "WebHeadersPolicy"}
        assert behaviour["TargetOriginId"] == origin["Id"]
    never_cached = {b["PathPattern"] for b in distribution["CacheBehaviors"]
                    if b["CachePolicyId"] == CACHING_DISABLED}
    assert never_cached == {"/index.html", "/config.js"}

    headers = resources["WebHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert all(header["Override"] for header in headers.values())
    csp, values = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    if live_origin is None:  # way 2: the web app asks the API's GET /live
        assert directives["connect-src"] == ["${ApiOriginValue}"]
        assert values == {"ApiOriginValue": api_origin}
    else:  # the one stack: and GET /live's function URL (issue 26)
        assert directives["connect-src"] == ["${ApiOriginValue}", "${LiveOriginValue}"]
        assert values == {"ApiOriginValue": api_origin, "LiveOriginValue": live_origin}
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'none'"]


def test_web_app_is_served_over_https_from_a_private_bucket(packaged: Packaged) -> None:
    api_origin = {"Fn::If": [
        "HasApiDomain", {"Fn::Sub": "https://${ApiDomainName}"},
        {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}]}
    live_url = {"Fn::GetAtt": ["LiveUrl", "FunctionUrl"]}
    live_origin = {"Fn::Join": ["", ["https://", {"Fn::Select": [2, {"Fn::Split": ["/",
                                                                               live_url]}]}]]}
    web_checks(packaged.resources, api_origin, live_origin)
    assert packaged.template["Outputs"]["ApiOrigin"]["Value"] == api_origin


@pytest.mark.parametrize("stage", STAGES)
def test_way_2_web_template_serves_the_app_the_same_way(stage: str) -> None:
    template = json.loads((ROOT / "infra" / f"web-{stage}.json").read_text())
    web_checks(template["Resources"], {"Ref": "ApiOrigin"})
    assert set(template["Outputs"]) >= {"WebUrl", "WebOrigin", "WebBucketName",
                                        "WebDistributionId"}


def test_header_csp_is_the_pages_own_csp_plus_frame_ancestors() -> None:
    """A meta CSP and a header CSP both apply: they must agree except on the API origin."""
    page = (ROOT / "static" / "index.html").read_text()
    (meta,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    meta_directives = {d.split()[0]: d.split()[1:] for d in meta.split("; ")}
    header = render.content_security_policy("https://api.example")
    header_directives = {d.split()[0]: d.split()[1:] for d in header.split("; ")}
    assert header_directives.pop("frame-ancestors") == ["'none'"]  # not allowed in a meta CSP
    assert header_directives.pop("connect-src") == ["https://api.example"]
    meta_directives.pop("connect-src")
    assert header_directives == meta_directives


def test_outputs_name_the_url_a_person_opens(packaged: Packaged) -> None:
    outputs = packaged.template["Outputs"]
    url = outputs["WebUrl"]["Value"]["Fn::Join"][1]
    assert url[1] == "/"
    condition, custom, default = url[0]["Fn::If"]
    assert condition == "HasWebDomain"
    assert custom == {"Fn::Sub": "https://${WebDomainName}"}
    assert default == {"Fn::Sub": "https://${WebDistribution.DomainName}"}
    assert {"EndpointURL", "WebBucketName", "WebDistributionId", "WebOrigin"} <= set(outputs)
    rules = packaged.template["Rules"]
    assert rules["CustomDomainNeedsCertificate"]["Assertions"]
