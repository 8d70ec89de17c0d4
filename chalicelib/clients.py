"""Who is calling, as the gateway reports it: recorded with sessions and security events.

The address is what API Gateway saw (``requestContext.identity.sourceIp``; under
``chalice local`` always 127.0.0.1). The device label is parsed from the
User-Agent with ua-parser, imported only when a label is made: its rules cost
about 0.3 s to load, so labels are made at sign-in, never at cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

USER_AGENT_MAX = 256
UNKNOWN_DEVICE = "Unknown device"


@dataclass(frozen=True)
class Client:
    """The caller's address and User-Agent (trimmed to 256 characters)."""

    ip: str
    user_agent: str

    @classmethod
    def from_request(cls, source_ip: object, user_agent: object) -> Client:
        """Build from untrusted request values: anything odd becomes an empty string."""
        ip = source_ip if isinstance(source_ip, str) else ""
        agent = user_agent if isinstance(user_agent, str) else ""
        return cls(ip=ip[:64], user_agent=agent[:USER_AGENT_MAX])


NO_CLIENT = Client(ip="", user_agent="")


@lru_cache(maxsize=512)
def device_label(user_agent: str) -> str:
    """A short label a person recognises, e.g. ``Chrome 131 on Linux``."""
    if not user_agent.strip():
        return UNKNOWN_DEVICE
    from ua_parser import parse  # lazy: ~0.3 s of rules, paid at the first sign-in only

    result = parse(user_agent)
    agent, system = result.user_agent, result.os
    if agent is None or agent.family == "Other":
        return UNKNOWN_DEVICE if system is None or system.family == "Other" else system.family
    browser = f"{agent.family} {agent.major}" if agent.major else agent.family
    if system is None or system.family == "Other":
        return browser
    return f"{browser} on {system.family}"
