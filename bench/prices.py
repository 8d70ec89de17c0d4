"""Figure 7's prices and workload: AWS's published us-east-1 prices in one table,
``PRICES`` (sources and date in bench/README.md), the modelled ``Workload``, and the
dollars a number of Lambda calls and DynamoDB request units cost.

Shared by the cost model (cost_model.py) and the live-reading candidates it prices
(live_costs.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# us-east-1, on-demand / pay-per-request, no free tier. Sources: bench/README.md.
PRICES = {
    "api_gateway_rest_per_million_requests": 3.50,  # REST API, first 333 million a month
    "lambda_per_million_requests": 0.20,
    "lambda_per_gb_second": 0.0000166667,  # x86
    "dynamodb_per_million_read_request_units": 0.125,  # on-demand
    "dynamodb_per_million_write_request_units": 0.625,  # on-demand
    "dynamodb_per_gb_month": 0.25,  # standard table class storage
    "cloudfront_per_10k_https_requests": 0.0100,  # North America
    "cloudfront_per_gb_out": 0.085,  # first 10 TB a month
    "s3_per_1000_get_requests": 0.0004,  # CloudFront's origin fetches
    "cloudfront_functions_per_million_invocations": 0.10,  # the live ticket check
    "api_gateway_websocket_per_million_messages": 1.00,  # 32 KB units, first billion
    "api_gateway_websocket_per_million_connection_minutes": 0.25,
}
LAMBDA_MEMORY_GB = 256 / 1024  # .chalice/config.json lambda_memory_size
DAYS = 30


@dataclass(frozen=True)
class Workload:
    daily_users: int = 1000
    page_views: int = 50  # GET /messages (newest page) per user per day
    posts: int = 5
    session_minutes: float = 30  # the tab is open this long a day
    poll_s: float = 5  # live updates (5-10 s; 5 is the dearer end)
    access_token_s: int = 900  # a refresh per access token lifetime while the tab is open
    # Live reading (issue 26), only used by the candidate rows: of the open minutes, how many
    # the person is *active* (an input within ACTIVE_S); the rest the tab is visible but idle.
    # 50 page views and 5 posts come in bursts; each keeps the tab active for a minute.
    active_minutes: float = 10

    @property
    def polls(self) -> float:
        return self.session_minutes * 60 / self.poll_s

    @property
    def refreshes(self) -> float:
        return self.session_minutes * 60 / self.access_token_s

    def authorizer_calls(self, ttl: int) -> float:
        """Per user per day: every guarded request without a cache, else one per TTL window
        of the session per token (a refreshed token is a new cache key)."""
        guarded = self.polls + self.page_views + self.posts
        if ttl == 0:
            return guarded
        return min(guarded, math.ceil(self.session_minutes * 60 / ttl) + self.refreshes)


def lambda_dollars(invocations: float, ms: float) -> float:
    billed_s = max(1, math.ceil(ms)) / 1000
    return (invocations * PRICES["lambda_per_million_requests"] / 1e6
            + invocations * billed_s * LAMBDA_MEMORY_GB * PRICES["lambda_per_gb_second"])


def read_dollars(units: float) -> float:
    return units * PRICES["dynamodb_per_million_read_request_units"] / 1e6


def write_dollars(units: float) -> float:
    return units * PRICES["dynamodb_per_million_write_request_units"] / 1e6
