"""Prod's alarms, to one SNS topic: the failure modes of an auth service.

docs/deploy.md's runbook says what each means and what to do. Every alarm that
counts requests needs enough of them: one failure among a few requests never pages.
"""

from __future__ import annotations

from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib import telemetry
from ops.infra.common import API_STAGE, Deployment, camel, ref, sub
from ops.infra.live import LIVE_FUNCTION

PERIOD = 300  # seconds: CloudWatch's standard resolution for these metrics
# The 5xx alarm: at least this many 5xx AND at least this share of requests, in each of
# SERVER_ERROR_PERIODS consecutive periods (one failure in 20 requests must not page).
SERVER_ERROR_MIN_COUNT = 5
SERVER_ERROR_MIN_RATE = 0.05
SERVER_ERROR_PERIODS = 3
# Spikes per 5 minutes that a person should look at (see the runbook).
LOGIN_FAILURE_SPIKE = 50
LOGIN_THROTTLE_SPIKE = 10
WAF_BLOCK_SPIKE = 100
LATENCY_SHARE_OF_TIMEOUT = 0.8  # p99 latency this close to the Lambda timeout pages
# Lines the Lambda runtime writes when a function crashes or times out (never for the
# authorizer's deliberate "Unauthorized", which Lambda's Errors metric also counts).
CRASH_PATTERN = '?"Task timed out" ?"Runtime."'
CRASH_NAMESPACE = "chalkboard/runtime"


def actions() -> dict[str, Any]:
    return {"TreatMissingData": "notBreaching", "ComparisonOperator":
            "GreaterThanOrEqualToThreshold", "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")]}


def alarm(description: str, namespace: str, metric: str, dimensions: dict[str, Any],
          statistic: str, threshold: float, *, evaluation_periods: int = 1,
          datapoints: int | None = None, condition: str | None = None) -> dict[str, Any]:
    """One metric's alarm; a ``p..`` statistic is a percentile (ExtendedStatistic)."""
    kind = "ExtendedStatistic" if statistic.startswith("p") else "Statistic"
    return {
        "Type": "AWS::CloudWatch::Alarm",
        **({"Condition": condition} if condition else {}),
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            kind: statistic,
            "Period": PERIOD,
            "EvaluationPeriods": evaluation_periods,
            "DatapointsToAlarm": datapoints or evaluation_periods,
            "Threshold": threshold,
            **actions(),
        },
    }


def math_alarm(description: str, expression: str, metrics: dict[str, tuple[str, str, Any]],
               *, evaluation_periods: int = 1) -> dict[str, Any]:
    """An alarm on ``expression`` over ``metrics`` (id → namespace, name, dimensions), Sum each."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Metrics": [
                {"Id": "alarm", "Expression": expression, "ReturnData": True,
                 "Label": description.split(" (")[0]},
                *[{"Id": key, "ReturnData": False, "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name,
                               "Dimensions": [{"Name": k, "Value": v}
                                              for k, v in dimensions.items()]},
                    "Period": PERIOD, "Stat": "Sum"}}
                  for key, (namespace, name, dimensions) in metrics.items()],
            ],
            "EvaluationPeriods": evaluation_periods,
            "DatapointsToAlarm": evaluation_periods,
            "Threshold": 1,
            **actions(),
        },
    }


def authorizer_crashes(stage: str, name: str, log_group: Any) -> dict[str, Any]:
    """A metric filter on the authorizer's log: timeouts and runtime errors (import
    failures, out of memory), which neither the app's own metrics nor Lambda's Errors
    (every refusal is an "error") can tell apart."""
    label = to_cfn_resource_name(name)
    metric = f"{stage}-{name}-crashes"
    return {
        f"{label}CrashFilter": {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": log_group,
                "FilterPattern": CRASH_PATTERN,
                "MetricTransformations": [{"MetricNamespace": CRASH_NAMESPACE,
                                           "MetricName": metric, "MetricValue": "1"}],
            },
        },
        f"{label}CrashesAlarm": alarm(
            f"{name}: crashed or timed out (runbook: authorizer crashes)",
            CRASH_NAMESPACE, metric, {}, "Sum", 1),
    }


def alarms(stage: str, deployment: Deployment, timeout_seconds: int) -> dict[str, Any]:
    """Prod's alarms; AlarmEmail (required by a rule) is subscribed to their topic."""
    api = {"ApiName": deployment.api_name, "Stage": API_STAGE}
    business = {"Stage": stage}
    resources: dict[str, Any] = {
        "AlarmTopic": {"Type": "AWS::SNS::Topic",
                       "Properties": {"DisplayName": f"chalkboard {stage} alarms"}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": ref("AlarmTopic"), "Protocol": "email",
                           "Endpoint": ref("AlarmEmail")},
        },
        "ApiServerErrorsAlarm": math_alarm(
            f"API 5xx: at least {SERVER_ERROR_MIN_COUNT} and {SERVER_ERROR_MIN_RATE:.0%} of "
            f"requests in each of {SERVER_ERROR_PERIODS} periods of 5 minutes (runbook: API 5xx)",
            f"IF(errors >= {SERVER_ERROR_MIN_COUNT} AND errors / requests >= "
            f"{SERVER_ERROR_MIN_RATE}, 1, 0)",
            {"errors": ("AWS/ApiGateway", "5XXError", api),
             "requests": ("AWS/ApiGateway", "Count", api)},
            evaluation_periods=SERVER_ERROR_PERIODS),
        "ApiLatencyAlarm": alarm(
            f"API p99 latency >= {LATENCY_SHARE_OF_TIMEOUT:.0%} of the {timeout_seconds} s "
            "Lambda timeout, 2 of 3 periods (runbook: latency)",
            "AWS/ApiGateway", "Latency", api, "p99",
            LATENCY_SHARE_OF_TIMEOUT * timeout_seconds * 1000, evaluation_periods=3,
            datapoints=2),
        "AuthorizerErrorsAlarm": alarm(
            "The authorizer could not decide (store or SSM down) (runbook: authorizer errors)",
            telemetry.NAMESPACE, "AuthorizerErrors", business, "Sum", 5),
        "RefreshTokenReuseAlarm": alarm(
            "Spent refresh tokens presented again: stolen tokens? (runbook: refresh reuse)",
            telemetry.NAMESPACE, "RefreshTokenReuse", business, "Sum", 5),
        "LoginFailuresAlarm": alarm(
            f">= {LOGIN_FAILURE_SPIKE} failed sign-ins in 5 minutes: credential stuffing? "
            "(runbook: sign-in spikes)",
            telemetry.NAMESPACE, "LoginFailed", business, "Sum", LOGIN_FAILURE_SPIKE),
        "LoginThrottledAlarm": alarm(
            f">= {LOGIN_THROTTLE_SPIKE} throttled sign-ins in 5 minutes: an account under "
            "attack? (runbook: sign-in spikes)",
            telemetry.NAMESPACE, "LoginThrottled", business, "Sum", LOGIN_THROTTLE_SPIKE),
        "WafBlocksAlarm": alarm(
            f">= {WAF_BLOCK_SPIKE} requests blocked by WAF in 5 minutes (runbook: WAF blocks)",
            "AWS/WAFV2", "BlockedRequests",
            {"WebACL": sub("${AWS::StackName}-api"), "Region": sub("${AWS::Region}"),
             "Rule": "ALL"}, "Sum", WAF_BLOCK_SPIKE, condition="UseWaf"),
    }
    for chalice_name, function_name in deployment.functions.items():
        label = to_cfn_resource_name(chalice_name)
        dims = {"FunctionName": function_name}
        if chalice_name in ("api_handler", LIVE_FUNCTION):  # a refusal is an answer, not an error
            resources[f"{label}ErrorsAlarm"] = alarm(
                f"{chalice_name}: unhandled errors (runbook: Lambda errors)",
                "AWS/Lambda", "Errors", dims, "Sum", 1)
        else:  # the authorizer's every 401 is a Lambda "error": watch its log instead
            resources.update(authorizer_crashes(stage, chalice_name,
                                                deployment.log_groups[chalice_name]))
        resources[f"{label}ThrottlesAlarm"] = alarm(
            f"{chalice_name}: invocations throttled (runbook: Lambda throttles)",
            "AWS/Lambda", "Throttles", dims, "Sum", 1)
    for key, table in deployment.tables.items():
        resources[f"{camel(key)}TableThrottlesAlarm"] = math_alarm(
            f"{key} table: requests throttled (runbook: DynamoDB throttles)",
            "reads + writes",
            {kind: ("AWS/DynamoDB", metric, {"TableName": table})
             for kind, metric in (("reads", "ReadThrottleEvents"),
                                  ("writes", "WriteThrottleEvents"))})
    return resources
