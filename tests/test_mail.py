"""The mailer: settings, the local mailbox's files, SES's call shape (moto), the IAM grant."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib import mail
from chalicelib.config import load_settings
from chalicelib.errors import ConfigurationError
from ops.stage import ROOT

BASE = {"CHALKBOARD_WEB_ORIGIN": "https://app.example.com"}
DEPLOYED = {**BASE, "CHALKBOARD_STAGE": "dev", "CHALKBOARD_SIGNING_KEYS_PARAMETER": "/k"}


def test_local_stages_write_to_the_mailbox(tmp_path: Path) -> None:
    for stage in ("local", "local-dynamodb", "test"):
        settings = load_settings({**BASE, "CHALKBOARD_STAGE": stage,
                                  "CHALKBOARD_SIGNING_KEYS_PARAMETER": "/k",
                                  "CHALKBOARD_DATA_DIR": str(tmp_path)})
        mailer = mail.get_mailer(settings)
        assert isinstance(mailer, mail.LocalMailbox)
        assert mailer.directory == tmp_path / "mail"


def test_deployed_stage_without_sender_fails_only_when_mail_is_needed() -> None:
    settings = load_settings(DEPLOYED)  # chalice package imports the app: no error here
    with pytest.raises(ConfigurationError, match="CHALKBOARD_MAIL_FROM"):
        mail.get_mailer(settings)


@pytest.mark.parametrize("value", ["not an address", "a@b\r\nBcc: x@y.z", "<@>", "a@b, c@d"])
def test_bad_sender_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigurationError, match="CHALKBOARD_MAIL_FROM"):
        load_settings({**DEPLOYED, "CHALKBOARD_MAIL_FROM": value})


def test_mailbox_file_is_rfc_5322_with_the_link_on_its_own_line(tmp_path: Path) -> None:
    box = mail.LocalMailbox(tmp_path, "Chalkboard <no-reply@example.com>")
    box.send(mail.Mail(to="a@example.com", subject="Reset your password", text="Hello.",
                       sent_at=1_800_000_000.25, link="https://app.example.com/#/reset?token=t"))
    (path,) = tmp_path.glob("*.eml")
    assert path.name.startswith("001800000000250-")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message["To"] == "a@example.com"
    assert message["From"] == "Chalkboard <no-reply@example.com>"
    assert message["Subject"] == "Reset your password"
    assert message["Date"] == "Fri, 15 Jan 2027 08:00:00 +0000"
    assert message["Message-ID"]
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert "https://app.example.com/#/reset?token=t" in body.splitlines()


def test_ses_mailer_sends_from_the_sender_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ses = boto3.client("sesv2")
        ses.create_email_identity(EmailIdentity="no-reply@example.com")
        settings = load_settings({**DEPLOYED, "CHALKBOARD_MAIL_FROM":
                                  "Chalkboard <no-reply@example.com>"})
        mailer = mail.get_mailer(settings)
        assert isinstance(mailer, mail.SesMailer)
        mailer.send(mail.Mail(to="a@example.com", subject="Hi", text="Hello.", sent_at=0.0,
                              link="https://app.example.com/#/verify-email?token=t"))
        from moto.backends import get_backend

        sent = get_backend("ses")["123456789012"]["eu-west-1"].sent_messages
        assert len(sent) == 1
        assert sent[0].destinations["ToAddresses"] == ["a@example.com"]
        assert sent[0].source == "Chalkboard <no-reply@example.com>"
        assert "https://app.example.com/#/verify-email?token=t\n" in sent[0].body


def test_ses_failure_is_logged_counted_and_swallowed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from chalicelib.deps import Deps

    class Broken:
        def send(self, message: mail.Mail) -> None:
            raise TimeoutError("read timeout")

    metrics: list[str] = []
    monkeypatch.setattr(mail, "get_mailer", lambda settings: Broken())
    monkeypatch.setattr(mail.telemetry, "metric", lambda name, *a, **k: metrics.append(name))
    deps = Deps(store=None, settings=load_settings(BASE))  # type: ignore[arg-type]
    sent = mail.send_safely(deps, mail.Mail(to="a@example.com", subject="S", text="T",
                                            sent_at=0.0))
    assert sent is False and metrics == ["MailFailed"]
    assert "TimeoutError: read timeout" in caplog.text


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_policy_grants_send_email_on_the_sender_identity_only(stage: str) -> None:
    document = json.loads((ROOT / ".chalice" / f"policy-{stage}-api-handler.json").read_text())
    (statement,) = [s for s in document["Statement"] if "ses:SendEmail" in str(s["Action"])]
    assert statement["Action"] == "ses:SendEmail"
    address = "chalkboard@web-origin-not-set.invalid"
    assert statement["Resource"] == [f"arn:aws:ses:*:*:identity/{address}",
                                     "arn:aws:ses:*:*:identity/web-origin-not-set.invalid"]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": address}}
    authorizer = (ROOT / ".chalice" / f"policy-{stage}-jwt-auth.json").read_text()
    assert "ses:" not in authorizer
    template = json.loads((ROOT / "infra" / f"{stage}.json").read_text())
    assert "ses:SendEmail" in json.dumps(template["Resources"]["ApiHandlerRole"])
    assert "ses:" not in json.dumps(template["Resources"]["JwtAuthRole"])
