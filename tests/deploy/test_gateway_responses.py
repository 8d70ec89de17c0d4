"""`python -m ops gateway-responses` (way 2) against moto's API Gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import StoreUnavailable
from ops import gateway_responses as gateway_script
from ops.render_infra import ACCESS_LOG_FORMAT
from ops.stage import ROOT, stage_environment

CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


def test_way_2_error_responses_carry_the_stage_origin_and_the_stage_is_redeployed(
    aws: Any,
) -> None:
    apigateway = aws.client("apigateway")
    api = apigateway.create_rest_api(name="chalkboard")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET",
                          authorizationType="NONE")
    apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")

    log_arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/ops-dev-access"
    assert gateway_script.main(["--stage", "dev", "--rest-api-id", api,
                                "--access-log-arn", log_arn], session=aws) == 0

    origin = stage_environment(CONFIG, "dev")["CHALKBOARD_WEB_ORIGIN"]
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX", "AUTHORIZER_FAILURE",
                          "AUTHORIZER_CONFIGURATION_ERROR"):
        response = apigateway.get_gateway_response(restApiId=api, responseType=response_type)
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{origin}'"
        assert headers["gatewayresponse.header.Access-Control-Expose-Headers"] == "'Retry-After'"
    for response_type in ("AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"):
        failure = apigateway.get_gateway_response(restApiId=api, responseType=response_type)
        assert failure["statusCode"] == "503"
        assert json.loads(failure["responseTemplates"]["application/json"])["Message"] == \
            str(StoreUnavailable())
    deployments = apigateway.get_deployments(restApiId=api)["items"]
    assert len(deployments) == 1
    stage = apigateway.get_stage(restApiId=api, stageName="api")
    assert stage["deploymentId"] == deployments[0]["id"]
    assert stage["accessLogSettings"] == {"destinationArn": log_arn,
                                          "format": ACCESS_LOG_FORMAT}
    default, login = stage["methodSettings"]["*/*"], stage["methodSettings"]["~1login/POST"]
    assert login["throttlingRateLimit"] < default["throttlingRateLimit"]
    assert login["throttlingBurstLimit"] < default["throttlingBurstLimit"]


def test_the_rest_api_id_comes_from_chalices_deploy_record(tmp_path: Path) -> None:
    record = tmp_path / "dev.json"
    record.write_text(json.dumps({"schema_version": "2.0", "backend": "api", "resources": [
        {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123defg",
         "rest_api_url": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/api/"},
    ]}))
    assert gateway_script.deployed_rest_api_id(record) == "abc123defg"
    with pytest.raises(gateway_script.GatewayError, match="chalice deploy"):
        gateway_script.deployed_rest_api_id(tmp_path / "missing.json")


def test_way_1_and_way_2_put_the_same_gateway_responses(aws: Any) -> None:
    apigateway = aws.client("apigateway")
    api = apigateway.create_rest_api(name="chalkboard")["id"]
    origin = "https://d111111abcdef8.cloudfront.net"
    put = gateway_script.put_gateway_responses(apigateway, api, origin)
    template = json.loads((ROOT / "infra" / "dev.json").read_text())
    assert set(put) == set(template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"])
