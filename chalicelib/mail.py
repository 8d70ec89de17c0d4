"""Outgoing mail: Amazon SES deployed, a local mailbox of .eml files otherwise.

One small interface (``Mailer.send``) with two implementations, chosen by stage,
built on first use (``Deps.mailer``). Callers send through ``send_safely``: a mail
is never worth failing or delaying the action that caused it, so every error is
caught, logged with its reason and counted (metric ``MailFailed``).
"""

from __future__ import annotations

import functools
import itertools
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib import telemetry
from chalicelib.config import Settings
from chalicelib.errors import ConfigurationError

if TYPE_CHECKING:
    from chalicelib.deps import Deps

log = logging.getLogger(__name__)

# Stages whose mail stays on this machine: written to <data dir>/mail/*.eml and logged.
LOCAL_MAIL_STAGES = frozenset({"local", "local-dynamodb", "test"})
LOCAL_SENDER = "Chalkboard <no-reply@chalkboard.localhost>"
MAILBOX_DIR = "mail"
# Short bounds, as for SSM: a slow SES costs the caller at most a few seconds once.
SES_TIMEOUTS = {"connect_timeout": 1, "read_timeout": 2,
                "retries": {"mode": "standard", "max_attempts": 2}}


@dataclass(frozen=True)
class Mail:
    """One plain-text message; ``link`` (if any) goes on a line of its own."""

    to: str
    subject: str
    text: str
    sent_at: float  # epoch seconds, from the Deps clock (the Date header and file name)
    link: str | None = None

    def body(self) -> str:
        parts = [self.text.rstrip()]
        if self.link:
            parts.append(self.link)
        parts.append("-- \nChalkboard")
        return "\n\n".join(parts) + "\n"


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver ``mail`` or raise; ``send_safely`` is what callers use."""


class LocalMailbox:
    """Each message one RFC 5322 file ``<dir>/<time-ordered name>.eml``, plus one log
    line with its link, so a developer follows a reset without any mail account."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        self._sequence = itertools.count()

    def send(self, mail: Mail) -> None:
        from datetime import datetime
        from email.message import EmailMessage  # only when mail is sent
        from email.utils import format_datetime, make_msgid

        message = EmailMessage()
        message["To"] = mail.to
        message["From"] = self.sender
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(datetime.fromtimestamp(mail.sent_at, UTC))
        message["Message-ID"] = make_msgid(domain="chalkboard.localhost")
        message.set_content(mail.body())
        self.directory.mkdir(parents=True, exist_ok=True)
        # Milliseconds first so names sort by time, then this process's sequence (mails
        # of one millisecond keep their order), then a random tail keeps processes apart.
        name = (f"{int(mail.sent_at * 1000):015d}-{next(self._sequence):08d}"
                f"-{secrets.token_hex(4)}.eml")
        (self.directory / name).write_bytes(bytes(message))
        log.info("mail to %s (%s) written to %s; link: %s",
                 mail.to, mail.subject, self.directory / name, mail.link or "none")


class SesMailer:
    """Amazon SES v2 ``SendEmail`` from the stage's sender identity (boto3 made on
    first send, with short timeouts)."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self._client: Any = None

    def _ses(self) -> Any:
        if self._client is None:
            import boto3  # only deployed stages that send mail pay for it
            from botocore.config import Config

            self._client = boto3.client("sesv2", config=Config(**SES_TIMEOUTS))
        return self._client

    def send(self, mail: Mail) -> None:
        self._ses().send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [mail.to]},
            Content={"Simple": {
                "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": mail.body(), "Charset": "UTF-8"}},
            }},
        )


def sender_address(mail_from: str) -> str:
    """The bare address of a sender setting (``Name <a@b>`` or ``a@b``)."""
    from email.utils import parseaddr

    return parseaddr(mail_from)[1]


@functools.cache
def get_mailer(settings: Settings) -> Mailer:
    """The stage's mailer, made once; a deployed stage without a sender is a
    ``ConfigurationError`` naming the setting (raised when mail is first needed)."""
    if settings.stage in LOCAL_MAIL_STAGES:
        return LocalMailbox(settings.data_dir / MAILBOX_DIR, settings.mail_from or LOCAL_SENDER)
    if settings.mail_from is None:
        raise ConfigurationError(
            f"CHALKBOARD_MAIL_FROM must name the SES sender identity in stage "
            f"{settings.stage!r} (e.g. no-reply@example.com); only the stages "
            f"{', '.join(sorted(LOCAL_MAIL_STAGES))} write mail to a local mailbox"
        )
    return SesMailer(settings.mail_from)


def send_safely(deps: Deps, mail: Mail) -> bool:
    """Send ``mail``; never raise: a failure is logged with its reason and counted."""
    try:
        deps.mailer.send(mail)
    except Exception as error:
        log.error("mail %r to %s not sent: %s: %s",
                  mail.subject, mail.to, type(error).__name__, error)
        telemetry.metric("MailFailed")
        return False
    telemetry.metric("MailSent")
    return True
