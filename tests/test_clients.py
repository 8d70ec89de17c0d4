"""Device labels and client facts recorded with sessions and security events."""

from __future__ import annotations

import pytest

from chalicelib.clients import (
    UNKNOWN_DEVICE,
    USER_AGENT_MAX,
    Client,
    device_kind,
    device_label,
    device_name,
)

CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
SAFARI_IPAD = ("Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
CHROME_ANDROID_PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
CHROME_ANDROID_TABLET = ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
FIREFOX_ANDROID_PHONE = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"
KINDLE = ("Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Silk/131.1.1 like Chrome/131.0.6778.135 Safari/537.36")
FIREFOX_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
                   "Firefox/133.0")
CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
CHROME_OS = ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


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


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        (CHROME_MAC, "Chrome on macOS"),
        (CHROME_OS, "Chrome on ChromeOS"),
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (SAFARI_IPAD, "Safari on iPad"),
        (CHROME_ANDROID_PHONE, "Chrome on an Android phone"),
        (CHROME_ANDROID_TABLET, "Chrome on an Android tablet"),
        ("curl/8.5.0", "curl"),
        ("", UNKNOWN_DEVICE),
        ("\x00\x01 gibberish", UNKNOWN_DEVICE),
    ],
)
def test_device_name_is_what_people_call_the_device(user_agent: str, name: str) -> None:
    assert device_name(user_agent) == name


@pytest.mark.parametrize(
    ("user_agent", "kind"),
    [
        (CHROME_LINUX, "desktop"),
        (FIREFOX_WINDOWS, "desktop"),
        (CHROME_MAC, "desktop"),  # and an iPad asking for desktop sites, which says the same
        (CHROME_OS, "desktop"),
        (SAFARI_IPHONE, "phone"),
        (CHROME_ANDROID_PHONE, "phone"),
        (FIREFOX_ANDROID_PHONE, "phone"),
        (SAFARI_IPAD, "tablet"),
        (CHROME_ANDROID_TABLET, "tablet"),  # Android without "Mobile"
        (KINDLE, "tablet"),
        (GOOGLEBOT, "unknown"),
        ("curl/8.5.0", "unknown"),
        ("", "unknown"),
        ("\x00\x01 gibberish", "unknown"),
    ],
)
def test_device_kind_tells_phones_tablets_and_desktops_apart(user_agent: str, kind: str) -> None:
    assert device_kind(user_agent) == kind


def test_client_from_request_trims_and_refuses_odd_values() -> None:
    client = Client.from_request("203.0.113.9", "x" * 1000)
    assert client.ip == "203.0.113.9"
    assert len(client.user_agent) == USER_AGENT_MAX
    assert Client.from_request(None, ["not", "a", "string"]) == Client(ip="", user_agent="")
