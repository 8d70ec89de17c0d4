"""Who is calling, as the gateway reports it: recorded with sessions and security events.

The address is what API Gateway saw (``requestContext.identity.sourceIp``; under
``chalice local`` always 127.0.0.1). The device label is parsed from the
User-Agent with ua-parser, imported only when a label is made: its rules cost
about 0.3 s to load, so labels are made at sign-in, never at cold start. The same
parse says what kind of device it is (a phone, a tablet, a desktop or laptop), for
the web app's icon.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

USER_AGENT_MAX = 256
UNKNOWN_DEVICE = "Unknown device"

DeviceKind = Literal["desktop", "phone", "tablet", "unknown"]
# Systems that run on desktops and laptops (ua-parser's names); phones and tablets are
# told apart by the device it names, or on Android by "Mobile" in the User-Agent (what
# Android browsers send on phones and leave out on tablets).
_DESKTOP_SYSTEMS = frozenset({
    "Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD",
    "OpenBSD", "NetBSD", "Linux Mint", "Mint", "Arch Linux", "openSUSE", "Red Hat", "CentOS",
    "Gentoo", "Kubuntu", "Solaris",
})
_PHONE_SYSTEMS = frozenset({"iOS", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS"})


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
def _parsed(user_agent: str) -> Any:
    from ua_parser import parse  # lazy: ~0.3 s of rules, paid at the first sign-in only

    return parse(user_agent)


def device_label(user_agent: str) -> str:
    """A short label a person recognises, e.g. ``Chrome 131 on Linux``."""
    if not user_agent.strip():
        return UNKNOWN_DEVICE
    result = _parsed(user_agent)
    agent, system = result.user_agent, result.os
    if agent is None or agent.family == "Other":
        return UNKNOWN_DEVICE if system is None or system.family == "Other" else system.family
    browser = f"{agent.family} {agent.major}" if agent.major else agent.family
    if system is None or system.family == "Other":
        return browser
    return f"{browser} on {system.family}"


# ua-parser's names people know by a shorter one; the web app's lib/devices.js keeps the
# same tables for the labels the API returns.
_BROWSERS = {
    "Mobile Safari": "Safari", "Mobile Safari UI/WKWebView": "Safari", "HeadlessChrome": "Chrome",
    "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome", "Chrome Mobile WebView": "Chrome",
    "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox", "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
}
_SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
_BY_DEVICE = {("iOS", "phone"): "iPhone", ("iOS", "tablet"): "iPad",
              ("Android", "phone"): "an Android phone", ("Android", "tablet"): "an Android tablet"}


def device_name(user_agent: str) -> str:
    """What a person calls the device, e.g. ``Safari on iPhone``: no version (nobody
    knows their browser's), as the web app names sessions. For mail, where the
    web app's names cannot be applied."""
    if not user_agent.strip():
        return UNKNOWN_DEVICE
    result = _parsed(user_agent)
    agent, os = result.user_agent, result.os
    system: str = os.family if os is not None and os.family != "Other" else ""
    if agent is None or agent.family == "Other":
        return _SYSTEMS.get(system, system) or UNKNOWN_DEVICE
    family: str = agent.family
    browser = _BROWSERS.get(family, family)
    if not system:
        return browser
    where = _BY_DEVICE.get((system, device_kind(user_agent)), _SYSTEMS.get(system, system))
    return f"{browser} on {where}"


def device_kind(user_agent: str) -> DeviceKind:
    """``phone``, ``tablet``, ``desktop`` (laptops too) or ``unknown`` (scripts, bots,
    an empty or unparsable User-Agent). An iPad asking for desktop sites (Safari's
    default since iPadOS 13) says it is a Mac, so it counts as a desktop."""
    if not user_agent.strip():
        return "unknown"
    result = _parsed(user_agent)
    device = result.device.family if result.device else ""
    brand = (result.device.brand or "") if result.device else ""
    system = result.os.family if result.os else ""
    if device == "Spider":  # a crawler, whatever system it claims
        return "unknown"
    if device in ("iPad", "Kindle") or "Tablet" in brand:
        return "tablet"
    if system == "Android":
        return "phone" if "Mobile" in user_agent else "tablet"
    if device in ("iPhone", "iPod") or system in _PHONE_SYSTEMS:
        return "phone"
    if system in _DESKTOP_SYSTEMS or system.startswith("Windows"):
        return "desktop"
    return "unknown"
