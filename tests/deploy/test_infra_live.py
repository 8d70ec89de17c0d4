"""GET /live's function URL in the packaged template (ops/infra/live.py, issue 26)."""

from __future__ import annotations

from typing import Any

import pytest

from ops.infra import common
from tests.deploy.conftest import Packaged

pytestmark = pytest.mark.deploy


def test_live_is_a_public_function_url_for_the_web_origin_only(packaged: Packaged) -> None:
    (url,) = packaged.of_type("AWS::Lambda::Url").values()
    props = url["Properties"]
    assert props["TargetFunctionArn"] == {"Fn::GetAtt": ["Live", "Arn"]}
    assert props["AuthType"] == "NONE"  # the live ticket is the credential (chalicelib/live.py)
    assert props["Cors"]["AllowMethods"] == ["GET"]
    (origin,) = props["Cors"]["AllowOrigins"]
    assert "WebOrigin" in str(origin) and "*" not in str(origin)
    permissions = [p["Properties"] for p in packaged.of_type("AWS::Lambda::Permission").values()
                   if p["Properties"].get("Action") == "lambda:InvokeFunctionUrl"]
    assert permissions == [{"FunctionName": {"Ref": "Live"}, "Action": "lambda:InvokeFunctionUrl",
                            "Principal": "*", "FunctionUrlAuthType": "NONE"}]
    assert packaged.template["Outputs"]["LiveUrl"]["Value"] == \
        {"Fn::GetAtt": ["LiveUrl", "FunctionUrl"]}


def test_the_live_function_runs_the_apps_live_handler_with_a_concurrency_cap(
        packaged: Packaged) -> None:
    function: dict[str, Any] = packaged.resources["Live"]["Properties"]
    assert function["Handler"] == "app.live_url"
    reserved = common.STAGE_OPTIONS[packaged.stage]["reserved_concurrency"]
    if reserved:  # the stack's ReservedConcurrency parameter decides, as for the others
        assert function["ReservedConcurrentExecutions"] == {
            "Fn::If": ["UseReservedConcurrency", reserved["live"], {"Ref": "AWS::NoValue"}]}
        assert "live 50" in packaged.template["Parameters"]["ReservedConcurrency"]["Description"]
    else:
        assert "ReservedConcurrentExecutions" not in function
    assert function["Environment"]["Variables"]["CHALKBOARD_STORE"] == "dynamodb"


def test_the_web_apps_csp_lets_the_page_connect_to_the_live_url(packaged: Packaged) -> None:
    policy = packaged.resources["WebHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    text, values = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"][
        "ContentSecurityPolicy"]["Fn::Sub"]
    (connect,) = [d.split()[1:] for d in text.split("; ") if d.startswith("connect-src ")]
    assert connect == ["${ApiOriginValue}", "${LiveOriginValue}"]
    # FunctionUrl is https://<id>.lambda-url.<region>.on.aws/: its origin has no slash
    url = {"Fn::GetAtt": ["LiveUrl", "FunctionUrl"]}
    assert values["LiveOriginValue"] == {"Fn::Join": ["", [
        "https://", {"Fn::Select": [2, {"Fn::Split": ["/", url]}]}]]}
