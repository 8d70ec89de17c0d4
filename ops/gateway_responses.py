"""Give a `chalice deploy`ed API CORS on API Gateway's own error responses,
and the stage's throttling and JSON access logs.

    python -m ops gateway-responses --stage dev [--access-log-arn ARN]
                                                     # after every `chalice deploy`

API Gateway answers some requests itself — the authorizer's 401, 403 for an
unknown route, 5xx — and without gateway responses those carry no
Access-Control-Allow-Origin, so the browser cannot read them. Chalice cannot
declare gateway responses and each `chalice deploy` replaces the API's
definition, dropping any set before; so this command puts them back (the same
ones ops/render_infra.py puts in the one-stack template) and redeploys the API stage.
The origin is the stage's CHALKBOARD_WEB_ORIGIN in .chalice/config.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ops.infra.api import ACCESS_LOG_FORMAT, gateway_responses, method_settings
from ops.infra.common import PLACEHOLDER_ORIGIN, STAGE_OPTIONS, load_app
from ops.stage import ROOT, StageError, load_config, stage_environment


class GatewayError(Exception):
    """A refusal the operator can act on (printed without a traceback)."""


def deployed_rest_api_id(record: Path) -> str:
    """The REST API id in a `chalice deploy` record (.chalice/deployed/<stage>.json)."""
    if not record.exists():
        raise GatewayError(f"no {record}: run `chalice deploy` for the stage first")
    for resource in json.loads(record.read_text()).get("resources", []):
        if resource.get("name") == "rest_api":
            return resource["rest_api_id"]
    raise GatewayError(f"{record} records no REST API")


def put_gateway_responses(apigateway: Any, rest_api_id: str, origin: str) -> list[str]:
    """Put each gateway response in API Gateway's own shape (SAM's, as render-infra has it)."""
    put = []
    for response_type, sam in gateway_responses(origin).items():
        arguments: dict[str, Any] = {
            "restApiId": rest_api_id,
            "responseType": response_type,
            "responseParameters": {
                f"gatewayresponse.header.{name}": value
                for name, value in sam["ResponseParameters"]["Headers"].items()
            },
        }
        if "StatusCode" in sam:
            arguments["statusCode"] = sam["StatusCode"]
        if "ResponseTemplates" in sam:
            arguments["responseTemplates"] = sam["ResponseTemplates"]
        apigateway.put_gateway_response(**arguments)
        put.append(response_type)
    return put


# A method setting of the template → its UpdateStage path under /<resource>/<method>/.
STAGE_SETTING_PATHS = {
    "MetricsEnabled": "metrics/enabled",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "ThrottlingRateLimit": "throttling/rateLimit",
    "ThrottlingBurstLimit": "throttling/burstLimit",
}


def stage_patch(stage: str, access_log_arn: str | None) -> list[dict[str, str]]:
    """UpdateStage operations for the method settings, tracing (and access logs) that
    the one stack's template sets."""
    operations = []
    for setting in method_settings(load_app(), stage):
        base = f"{setting['ResourcePath']}/{setting['HttpMethod']}"
        operations += [
            {"op": "replace", "path": f"{base}/{path}",
             "value": str(setting[key]).lower() if isinstance(setting[key], bool)
             else str(setting[key])}
            for key, path in STAGE_SETTING_PATHS.items() if key in setting
        ]
    operations.append({"op": "replace", "path": "/tracingEnabled",
                       "value": str(STAGE_OPTIONS[stage]["xray"]).lower()})
    if access_log_arn:
        operations += [
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": access_log_arn},
            {"op": "replace", "path": "/accessLogSettings/format", "value": ACCESS_LOG_FORMAT},
        ]
    return operations


def main(argv: list[str] | None = None, *, session: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops gateway-responses",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--rest-api-id", help="the API's id (default: from the stage's "
                        "`chalice deploy` record, .chalice/deployed/<stage>.json)")
    parser.add_argument("--access-log-arn", help="log group for the stage's JSON access logs: "
                        "the ops stack's ApiAccessLogGroupArn output (infra/ops-<stage>.json)")
    args = parser.parse_args(argv)
    try:
        config = load_config()
        env = stage_environment(config, args.stage)
        origin = env.get("CHALKBOARD_WEB_ORIGIN", "")
        if not origin or origin == PLACEHOLDER_ORIGIN:
            print(f"warning: stage {args.stage!r} has no web origin yet ({origin or 'unset'}); "
                  f"set CHALKBOARD_WEB_ORIGIN to the web stack's WebOrigin output",
                  file=sys.stderr)
        api_gateway_stage = config["stages"][args.stage].get(
            "api_gateway_stage", config.get("api_gateway_stage", "api"))
        rest_api_id = args.rest_api_id or deployed_rest_api_id(
            ROOT / ".chalice" / "deployed" / f"{args.stage}.json")
        if session is None:
            import boto3

            session = boto3.session.Session()
        apigateway = session.client("apigateway")
        for response_type in put_gateway_responses(apigateway, rest_api_id, origin):
            print(f"{rest_api_id}: {response_type} allows {origin}")
        apigateway.create_deployment(
            restApiId=rest_api_id, stageName=api_gateway_stage,
            description="chalkboard: gateway responses with CORS",
        )
        print(f"{rest_api_id}: stage {api_gateway_stage!r} redeployed")
        apigateway.update_stage(restApiId=rest_api_id, stageName=api_gateway_stage,
                                patchOperations=stage_patch(args.stage, args.access_log_arn))
        print(f"{rest_api_id}: stage {api_gateway_stage!r} throttled"
              + (", access logs on" if args.access_log_arn else
                 "; no --access-log-arn: access logs stay off"))
    except (GatewayError, StageError) as error:
        print(f"gateway-responses: {error}", file=sys.stderr)
        return 1
    return 0

