"""What every deploy template shares: the stages' choices and CloudFormation helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STAGES = ("dev", "prod")


PLACEHOLDER_ORIGIN = "https://web-origin-not-set.invalid"


API_STAGE = "api"


# Per-stage choices that are not app settings.
STAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "dev": {
        "retain_data": False, "point_in_time_recovery": False, "waf": False, "alarms": False,
        # requests per second, burst: the whole stage, and each sign-in route
        "throttle": (50, 100), "sign_in_throttle": (5, 10),
        "waf_sign_in_limit": 100,  # per client IP per 5 minutes (WAF's window)
        "xray": False,  # API Gateway tracing of the stage
        # Lambda reserved concurrency per function, applied when the stack's
        # ReservedConcurrency parameter is "true" (a new account's quota is too small).
        "reserved_concurrency": {},
        "require_web_domain": False,  # CloudFront's default certificate allows TLS 1.0
    },
    "prod": {
        "retain_data": True, "point_in_time_recovery": True, "waf": True, "alarms": True,
        "throttle": (500, 1000), "sign_in_throttle": (20, 40),
        "waf_sign_in_limit": 300,
        "xray": True,
        # live (issue 26): bounds what a flood of asks can cost or take from the
        # account; 100,000 viewers asking every 3 s need about 35 at 1 ms each.
        "reserved_concurrency": {"api_handler": 100, "jwt_auth": 50, "live": 50},
        "require_web_domain": True,  # viewers get TLS >= 1.2 only with a certificate of ours
    },
}


SUB = "Fn::Sub"


def sub(text: str) -> dict[str, str]:
    return {SUB: text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def is_set(parameter: str) -> dict[str, Any]:
    """A condition: the (optional, default empty) parameter was given."""
    return {"Fn::Not": [{"Fn::Equals": [ref(parameter), ""]}]}


def rule(when_set: str, needs: str, description: str) -> dict[str, Any]:
    """A template rule: giving ``when_set`` requires giving ``needs`` too."""
    return {
        "RuleCondition": is_set(when_set),
        "Assertions": [{"Assert": is_set(needs), "AssertDescription": description}],
    }


def arn(service: str, resource: str) -> dict[str, str]:
    """An exact ARN in this stack's partition, region and account."""
    return sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def camel(key: str) -> str:
    """A TableNames field as a CloudFormation name part: user_items -> UserItems."""
    return "".join(part.capitalize() for part in key.split("_"))


DOMAIN_PATTERN = r"^$|^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"


def optional_parameter(pattern: str, description: str) -> dict[str, Any]:
    """A string parameter that may be left empty, else must match ``pattern``."""
    return {"Type": "String", "Default": "", "AllowedPattern": pattern,
            "Description": description}


def retained(stage: str) -> dict[str, str]:
    policy = "Retain" if STAGE_OPTIONS[stage]["retain_data"] else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


@dataclass(frozen=True)
class Deployment:
    """What one way in names its resources: values are strings or CloudFormation intrinsics."""

    functions: dict[str, Any]  # chalice function name → Lambda function name
    roles: dict[str, Any]  # chalice function name → role ARN
    tables: dict[str, Any]  # table key → table name
    log_groups: dict[str, Any]  # chalice function name → its log group's name
    api_name: Any  # the REST API's name (API Gateway's metric dimension)
    api_id: Any  # the REST API's id
    stage_ref: Any  # the API stage's name, as a value that orders after its creation


def load_app() -> Any:
    from app import app  # imports chalicelib; does no work at import

    return app


def authorizer_names(app: Any) -> list[str]:
    return [handler.name for handler in app.builtin_auth_handlers]
