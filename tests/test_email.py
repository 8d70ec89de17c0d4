"""Email on the account, password reset and security notices, over HTTP (chalice.test.Client),
on both stores, reading the local mailbox the test stage writes (.eml files)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pyotp
import pytest

from chalicelib import deps, mail, notices
from chalicelib.clients import Client
from chalicelib.store.protocol import Store
from tests.helpers import Api, body_of
from tests.test_clients import SAFARI_IPHONE

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "purple monkey dishwasher tree"


@pytest.fixture
def now(app_env: dict[str, str]) -> Iterator[list[float]]:
    """A movable clock at the start of a TOTP step (so codes are predictable)."""
    start = time.time()
    current = [start - start % 30 - 50]
    deps.use_clock(lambda: current[0])
    yield current
    deps.use_clock(time.time)


def mailbox(app_env: dict[str, str]) -> list[EmailMessage]:
    """Every message in the local mailbox, oldest first."""
    files = sorted((Path(app_env["CHALKBOARD_DATA_DIR"]) / "mail").glob("*.eml"))
    parsed = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_token(message: EmailMessage, route: str) -> str:
    """The token of the link on a line of its own: <web origin>/#/<route>?token=..."""
    lines = [line for line in text_of(message).splitlines()
             if re.fullmatch(rf"https?://\S+/#/{route}\?token=[A-Za-z0-9_-]+", line)]
    assert len(lines) == 1, text_of(message)
    return lines[0].rsplit("=", 1)[1]


def signup_verified(api: Api, app_env: dict[str, str], name: str, email: str) -> str:
    response = api.call("POST", "/signup", {"username": name, "password": PASSWORD,
                                            "email": email})
    assert response.status_code == 201, response.body
    local, domain = email.split("@")
    assert body_of(response) == {"username": name, "display_name": name,
                                 "email": f"{local}@{domain.lower()}", "email_verified": False}
    token = link_token(mailbox(app_env)[-1], "verify-email")
    assert api.call("POST", "/email/verify", {"token": token}).status_code == 204
    return token


def forgot(api: Api, **fields: str) -> Any:
    return api.call("POST", "/password/forgot", fields)


@pytest.mark.parametrize("fields", [{}, {"username": "alice", "email": "alice@example.com"}],
                         ids=["neither", "both"])
def test_forgot_names_exactly_one_of_username_or_email(api: Api, fields: dict[str, str]
                                                       ) -> None:
    answer = forgot(api, **fields)
    assert answer.status_code == 400
    assert body_of(answer) == {"Code": "BadRequestError",
                               "Message": "send exactly one of username or email"}


def test_full_flow_signup_verify_forgot_reset(api: Api, app_env: dict[str, str]) -> None:
    old = api.session("bob")  # another account, untouched
    signup_verified(api, app_env, "alice", "Alice@Example.COM")
    me = api.login("alice")
    pair = body_of(me)
    profile = body_of(api.call("GET", "/me", token=pair["access_token"]))
    assert profile["email"] == "Alice@example.com" and profile["email_verified"] is True
    sent = len(mailbox(app_env))
    assert forgot(api, username="ALICE").status_code == 202
    messages = mailbox(app_env)
    assert len(messages) == sent + 1
    reset_mail = messages[-1]
    assert reset_mail["To"] == "Alice@example.com"
    for header in ("From", "Subject", "Date", "Message-ID"):
        assert reset_mail[header]
    token = link_token(reset_mail, "reset")
    done = api.call("POST", "/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204, done.body
    # every old token is refused, the new password signs in, the old one not
    assert api.call("GET", "/me", token=pair["access_token"]).status_code == 401
    refreshed = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401
    assert api.login("alice").status_code == 401
    assert api.login("alice", NEW_PASSWORD).status_code == 200
    # the link worked once
    again = api.call("POST", "/password/reset", {"token": token, "new_password": PASSWORD})
    assert again.status_code == 400
    # a notice of the reset went to the verified address, once
    notices_sent = [m for m in mailbox(app_env) if m["Subject"] == "Your password was reset"]
    assert len(notices_sent) == 1
    assert api.call("GET", "/me", token=old["access_token"]).status_code == 200


def test_reset_with_two_factor_needs_the_code(
    api: Api, app_env: dict[str, str], now: list[float]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    token = body_of(api.login("alice"))["access_token"]
    secret = body_of(api.call("POST", "/me/totp", {"password": PASSWORD}, token=token))["secret"]
    assert api.call("POST", "/me/totp/confirm", {"code": pyotp.TOTP(secret).at(now[0])},
                    token=token).status_code == 200
    assert forgot(api, email="alice@EXAMPLE.com").status_code == 202
    link = link_token(mailbox(app_env)[-1], "reset")
    missing = api.call("POST", "/password/reset", {"token": link, "new_password": NEW_PASSWORD})
    assert missing.status_code == 400 and "code" in body_of(missing)["Message"]
    wrong = api.call("POST", "/password/reset",
                     {"token": link, "new_password": NEW_PASSWORD, "code": "000000"})
    assert wrong.status_code == 401
    weak = api.call("POST", "/password/reset",
                    {"token": link, "new_password": "password1234", "code": "000000"})
    assert weak.status_code == 400
    now[0] += 30
    good = api.call("POST", "/password/reset", {
        "token": link, "new_password": NEW_PASSWORD, "code": pyotp.TOTP(secret).at(now[0])})
    assert good.status_code == 204, good.body  # the refused attempts left the link usable
    assert body_of(api.login("alice", NEW_PASSWORD))["mfa_required"] is True


def test_forgot_answers_identically_known_unknown_unverified(
    api: Api, app_env: dict[str, str]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    api.call("POST", "/signup", {"username": "carol", "password": PASSWORD,
                                 "email": "carol@example.com"})  # never verified
    sent = len(mailbox(app_env))
    answers = [forgot(api, username=name) for name in ("alice", "nobody-here", "carol")]
    answers += [forgot(api, email=a) for a in
                ("alice@example.com", "nobody@example.com", "carol@example.com")]
    first = answers[0]
    for answer in answers:
        assert answer.status_code == 202
        assert answer.body == first.body
        assert dict(answer.headers) == dict(first.headers)
    assert len(mailbox(app_env)) == sent + 2  # alice by name and by address only


def test_at_most_three_reset_mails_an_hour(
    api: Api, app_env: dict[str, str], now: list[float]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    sent = len(mailbox(app_env))
    for _ in range(5):
        assert forgot(api, username="alice").status_code == 202
    assert len(mailbox(app_env)) == sent + 3
    now[0] += 3601
    assert forgot(api, username="alice").status_code == 202
    assert len(mailbox(app_env)) == sent + 4


def test_reset_token_expires_after_30_minutes(
    api: Api, app_env: dict[str, str], now: list[float]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    forgot(api, username="alice")
    link = link_token(mailbox(app_env)[-1], "reset")
    now[0] += 30 * 60 + 2
    late = api.call("POST", "/password/reset", {"token": link, "new_password": NEW_PASSWORD})
    assert late.status_code == 400


def test_change_email_verifies_new_and_notifies_old(api: Api, app_env: dict[str, str]) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    token = body_of(api.login("alice"))["access_token"]
    wrong = api.call("POST", "/me/email", {"email": "new@example.com", "password": "nope nope"},
                     token=token)
    assert wrong.status_code == 403
    sent = len(mailbox(app_env))
    changed = api.call("POST", "/me/email", {"email": "new@example.com", "password": PASSWORD},
                       token=token)
    assert changed.status_code == 202
    messages = mailbox(app_env)[sent:]
    assert sorted(m["To"] for m in messages) == ["alice@example.com", "new@example.com"]
    me = body_of(api.call("GET", "/me", token=token))
    assert (me["email"], me["email_verified"]) == ("alice@example.com", True)
    verify = next(m for m in messages if m["To"] == "new@example.com")
    assert api.call("POST", "/email/verify",
                    {"token": link_token(verify, "verify-email")}).status_code == 204
    me = body_of(api.call("GET", "/me", token=token))
    assert (me["email"], me["email_verified"]) == ("new@example.com", True)
    # the old address is free again: another account may verify it
    signup_verified(api, app_env, "bob", "alice@example.com")


def test_verify_link_single_use_and_24_hours(
    api: Api, app_env: dict[str, str], now: list[float]
) -> None:
    token = signup_verified(api, app_env, "alice", "alice@example.com")
    assert api.call("POST", "/email/verify", {"token": token}).status_code == 400
    api.call("POST", "/signup", {"username": "bob", "password": PASSWORD,
                                 "email": "bob@example.com"})
    late = link_token(mailbox(app_env)[-1], "verify-email")
    now[0] += 24 * 3600 + 2
    assert api.call("POST", "/email/verify", {"token": late}).status_code == 400


@pytest.mark.parametrize("email", ["no-at-sign", "a@b@example.com", "a b@example.com",
                                   "x" * 250 + "@example.com", "@example.com", "a@"])
def test_bad_addresses_are_400(api: Api, email: str) -> None:
    response = api.call("POST", "/signup", {"username": "alice", "password": PASSWORD,
                                            "email": email})
    assert response.status_code == 400 and "email" in body_of(response)["Message"]


def test_a_failing_mailer_loses_no_action(
    api: Api, app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def send(self, message: mail.Mail) -> None:
            raise ConnectionError("SES is down")

    metrics: list[str] = []
    monkeypatch.setattr(mail, "get_mailer", lambda settings: Broken())
    monkeypatch.setattr(mail.telemetry, "metric", lambda name, *a, **k: metrics.append(name))
    response = api.call("POST", "/signup", {"username": "alice", "password": PASSWORD,
                                            "email": "alice@example.com"})
    assert response.status_code == 201
    assert forgot(api, username="alice").status_code == 202
    assert metrics == ["MailFailed"]  # the verification; forgot sent nothing (unverified)


def test_each_notice_sent_once_per_event(
    api: Api, app_env: dict[str, str], now: list[float]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    token = body_of(api.login("alice"))["access_token"]
    sent = len(mailbox(app_env))
    secret = body_of(api.call("POST", "/me/totp", {"password": PASSWORD}, token=token))["secret"]
    codes = body_of(api.call("POST", "/me/totp/confirm",
                             {"code": pyotp.TOTP(secret).at(now[0])}, token=token))
    assert api.call("DELETE", "/me/totp", {"password": PASSWORD,
                                           "code": codes["recovery_codes"][0]},
                    token=token).status_code == 204
    assert api.call("POST", "/me/password", {"current_password": PASSWORD,
                                             "new_password": NEW_PASSWORD},
                    token=token).status_code == 204
    subjects = [m["Subject"] for m in mailbox(app_env)[sent:]]
    assert subjects == ["Two-factor authentication is on", "A recovery code was used",
                        "Two-factor authentication is off", "Your password was changed"]
    assert "9 recovery codes left" in text_of(mailbox(app_env)[sent + 1])


def test_notice_types_cover_the_contract(app_env: dict[str, str]) -> None:
    d = deps.current_deps()
    for event in ("password_changed", "password_reset", "email_changed", "totp_enabled",
                  "totp_disabled", "recovery_code_used", "passkey_added", "passkey_removed",
                  "sign_in", "locked"):
        assert event in notices._NOTICES
    assert notices.on_security_event(d, "nobody", "password_changed", {}) is False


def _race(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_resets_with_one_token_one_wins(api: Api, app_env: dict[str, str]) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    forgot(api, username="alice")
    link = link_token(mailbox(app_env)[-1], "reset")
    from chalicelib import resets

    def attempt(password: str) -> Any:
        try:
            resets.reset(deps.current_deps(), link, password)
        except Exception as error:
            return type(error).__name__
        return "ok"

    results = _race([lambda: attempt(NEW_PASSWORD), lambda: attempt(NEW_PASSWORD + " two")])
    assert sorted(results) == ["InvalidInput", "ok"]


def test_two_accounts_verifying_one_address_at_once(
    api: Api, app_env: dict[str, str], direct_store: Store
) -> None:
    links = []
    for name in ("alice", "bob"):
        api.call("POST", "/signup", {"username": name, "password": PASSWORD,
                                     "email": "shared@example.com"})
        links.append(link_token(mailbox(app_env)[-1], "verify-email"))
    from chalicelib import emails

    def attempt(link: str) -> str:
        try:
            emails.verify(deps.current_deps(), link)
        except Exception as error:
            return type(error).__name__
        return "ok"

    results = _race([lambda: attempt(links[0]), lambda: attempt(links[1])])
    assert sorted(results) == ["StateConflict", "ok"]
    assert direct_store.email_owner(email="shared@example.com") in {"alice", "bob"}


def test_deleting_the_account_frees_the_address(api: Api, app_env: dict[str, str]) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    token = body_of(api.login("alice"))["access_token"]
    assert api.call("DELETE", "/me", {"password": PASSWORD}, token=token).status_code == 204
    signup_verified(api, app_env, "bob", "alice@example.com")


def test_ops_mail_lists_and_shows(app_env: dict[str, str], api: Api,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from ops import mail as ops_mail

    signup_verified(api, app_env, "alice", "alice@example.com")
    data_dir = app_env["CHALKBOARD_DATA_DIR"]
    assert ops_mail.main(["--data-dir", data_dir]) == 0
    listed = capsys.readouterr().out
    assert "alice@example.com" in listed and "Confirm your email address" in listed
    assert ops_mail.main(["--data-dir", data_dir, "--last"]) == 0
    assert "/#/verify-email?token=" in capsys.readouterr().out
    assert ops_mail.main(["--data-dir", data_dir, "--show", "9"]) == 1
    json.dumps(listed)


@pytest.mark.parametrize("value", [
    "a@example.com", "Alice.B+tag@Sub.Example.COM", "a@b.c", "no-at-sign", "a@b@example.com",
    "a b@example.com", "@example.com", "a@", "a@localhost", "a@.com", "a<b>@example.com",
    "x" * 243 + "@example.com", "a(b)@example.com", "a:b@example.com", "a@[1.2.3.4]",
    "=?utf-8?q?a?=@example.com", "a..b@example.com", "a.@example.com", "a@b..com",
    "a\\b@example.com", "jos\u00e9@b\u00fccher.example", "o'brien=x?y@example.ie",
])
def test_openapi_email_pattern_mirrors_the_validator(value: str) -> None:
    """docs/openapi.yaml's EmailInput pattern accepts exactly what check_email accepts."""
    from chalicelib.errors import InvalidInput
    from chalicelib.validation import EMAIL_MAX, check_email
    from tests.test_openapi import SCHEMAS

    schema = SCHEMAS["EmailInput"]
    documented = (re.fullmatch(schema["pattern"], value) is not None
                  and len(value) <= schema["maxLength"] == EMAIL_MAX)
    try:
        check_email(value)
        accepted = True
    except InvalidInput:
        accepted = False
    assert documented == accepted, value


def test_only_the_address_last_asked_for_verifies(api: Api, app_env: dict[str, str]) -> None:
    api.call("POST", "/signup", {"username": "alice", "password": PASSWORD,
                                 "email": "first@example.com"})
    first = link_token(mailbox(app_env)[-1], "verify-email")
    token = body_of(api.login("alice"))["access_token"]
    assert api.call("POST", "/me/email", {"email": "second@example.com", "password": PASSWORD},
                    token=token).status_code == 202
    second = link_token(mailbox(app_env)[-1], "verify-email")
    assert api.call("POST", "/email/verify", {"token": first}).status_code == 400
    assert api.call("POST", "/email/verify", {"token": second}).status_code == 204
    me = body_of(api.call("GET", "/me", token=token))
    assert (me["email"], me["email_verified"]) == ("second@example.com", True)


def test_every_notice_type_mails_the_verified_address_once(
    api: Api, app_env: dict[str, str]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    api.call("POST", "/signup", {"username": "carol", "password": PASSWORD,
                                 "email": "carol@example.com"})  # unverified: no notices
    d = deps.current_deps()
    sent = len(mailbox(app_env))
    events = {"password_changed": {}, "password_reset": {}, "email_changed": {},
              "totp_enabled": {}, "totp_disabled": {}, "recovery_code_used": {"left": 3},
              "passkey_added": {}, "passkey_removed": {}, "locked": {"retry_after": 900},
              "sign_in": {"new_device": True, "device": "Firefox {0} on Linux"}}
    for event, details in events.items():
        assert notices.on_security_event(d, "alice", event, details) is True, event
        assert notices.on_security_event(d, "carol", event, details) is False, event
    assert notices.on_security_event(d, "alice", "sign_in", {"new_device": False}) is False
    assert notices.on_security_event(d, "alice", "session_ended", {}) is False
    new = mailbox(app_env)[sent:]
    assert len(new) == len(events) and {m["To"] for m in new} == {"alice@example.com"}
    assert "3 recovery codes left" in text_of(new[5])
    assert "Firefox {0} on Linux" in text_of(new[-1])


def test_new_sign_in_mail_names_the_device_as_the_web_app_does(
    api: Api, app_env: dict[str, str]
) -> None:
    signup_verified(api, app_env, "alice", "alice@example.com")
    iphone = Client(ip="198.51.100.7", user_agent=SAFARI_IPHONE)
    sent = len(mailbox(app_env))
    assert notices.on_security_event(deps.current_deps(), "alice", "sign_in",
                                     {"new_device": True}, client=iphone) is True
    text = text_of(mailbox(app_env)[sent])
    assert "(Safari on iPhone)" in text and "17" not in text
