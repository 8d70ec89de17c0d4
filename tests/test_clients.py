"""Device labels and client facts recorded with sessions and security events."""

from __future__ import annotations

import pytest

from chalicelib.clients import UNKNOWN_DEVICE, USER_AGENT_MAX, Client, device_label

CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_LINUX, "Chrome 131 on Linux"),
        (SAFARI_IPHONE, "Mobile Safari 17 on iOS"),
        ("", UNKNOWN_DEVICE),
        ("   ", UNKNOWN_DEVICE),
        ("curl/8.5.0", "curl 8"),
        ("\x00\x01 gibberish", UNKNOWN_DEVICE),
    ],
)
def test_device_label_names_browser_and_system(user_agent: str, label: str) -> None:
    assert device_label(user_agent) == label


def test_client_from_request_trims_and_refuses_odd_values() -> None:
    client = Client.from_request("203.0.113.9", "x" * 1000)
    assert client.ip == "203.0.113.9"
    assert len(client.user_agent) == USER_AGENT_MAX
    assert Client.from_request(None, ["not", "a", "string"]) == Client(ip="", user_agent="")
