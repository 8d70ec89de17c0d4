"""Live reading's deploy resources (issue 26): GET /live on a Lambda function URL.

Every open tab asks "anything new?" every few seconds (chalicelib/live.py). Through
the REST API each ask is an API Gateway request ($3.50 a million) plus the
authorizer Lambda; on a function URL it is one Lambda invocation ($0.20 a million)
that checks the live ticket and reads the session itself (bench figure 7).

``ops/render_infra.py`` and the other ``ops/infra`` modules use what is here:

- ``LIVE_FUNCTION`` joins the functions both ways wire (environment, log group, role,
  alarms, dashboard, keyring key): its role reads only what ``live.newer`` reads —
  ``access_state`` (users, user_items: BatchGetItem) and the board (messages: Query);
  its reserved concurrency is in ``STAGE_OPTIONS`` (the ``ReservedConcurrency`` parameter);
- ``live_resources(web_origin)``: the function URL (no IAM auth: the ticket is the
  credential; CORS for the stack's one web origin, GET only), the permission that
  lets anyone invoke it through the URL, and the ``LiveUrl`` output the web app's
  config.js takes as ``liveUrl`` (without it the web app asks the API's GET /live).

Way 2 (``chalice deploy``) deploys the function from its policy file
(.chalice/policy-<stage>-live.json); its URL is one command, in docs/scaling.md.
"""

from __future__ import annotations

from typing import Any

LIVE_FUNCTION = "live"  # app.py's @app.lambda_function(name=...)
LIVE_LOGICAL_ID = "Live"  # chalice package's resource name for it
# What live.newer reads: the ticket's session (access_state) and the newest page.
LIVE_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("BatchGetItem",),
    "user_items": ("BatchGetItem",),
    "messages": ("Query",),
}
PREFLIGHT_MAX_AGE_S = 7200  # Chromium's cap; a simple GET needs no preflight anyway


def live_resources(web_origin: Any) -> dict[str, Any]:
    """The function URL, its public-invoke permission (the ticket is the credential)."""
    return {
        "LiveUrl": {
            "Type": "AWS::Lambda::Url",
            "Properties": {
                "TargetFunctionArn": {"Fn::GetAtt": [LIVE_LOGICAL_ID, "Arn"]},
                "AuthType": "NONE",
                "Cors": {
                    "AllowOrigins": [web_origin],
                    "AllowMethods": ["GET"],
                    "MaxAge": PREFLIGHT_MAX_AGE_S,
                },
            },
        },
        "LiveUrlPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": LIVE_LOGICAL_ID},
                "Action": "lambda:InvokeFunctionUrl",
                "Principal": "*",
                "FunctionUrlAuthType": "NONE",
            },
        },
    }


def live_origin() -> dict[str, Any]:
    """https://<host> of the function URL (FunctionUrl ends in "/"): the CSP's connect-src."""
    url = {"Fn::GetAtt": ["LiveUrl", "FunctionUrl"]}
    return {"Fn::Join": ["", ["https://", {"Fn::Select": [2, {"Fn::Split": ["/", url]}]}]]}


def live_outputs() -> dict[str, Any]:
    return {"LiveUrl": {"Description": "config.js liveUrl: GET /live on a Lambda function URL",
                        "Value": {"Fn::GetAtt": ["LiveUrl", "FunctionUrl"]}}}
