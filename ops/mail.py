"""``python -m ops mail``: the local mailbox (stages local, local-dynamodb, test).

Lists ``<CHALKBOARD_DATA_DIR>/mail/*.eml`` newest first; ``--show N`` (1 = newest)
or ``--last`` prints one message's headers and text, links on lines of their own.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any


def mailbox(data_dir: Path) -> list[Path]:
    """The mailbox's files, newest first (their names start with the time)."""
    return sorted((data_dir / "mail").glob("*.eml"), reverse=True)


def read(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return "" if part is None else str(part.get_content())  # type: ignore[attr-defined]


def sender_statement(identity_arn: Callable[[str], Any], mail_from: str) -> dict[str, Any]:
    """The API handler's one SES grant: ``ses:SendEmail`` on the sender's identity (the
    address, or its domain when the domain is what SES verified), from that address only."""
    from chalicelib.mail import sender_address

    address = sender_address(mail_from)
    return {
        "Sid": "MailSender", "Effect": "Allow", "Action": "ses:SendEmail",
        "Resource": [identity_arn(address), identity_arn(address.rsplit("@", 1)[1])],
        "Condition": {"StringEquals": {"ses:FromAddress": address}},
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops mail", description=__doc__)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("CHALKBOARD_DATA_DIR") or ".data"),
                        help="the stage's CHALKBOARD_DATA_DIR (default: $CHALKBOARD_DATA_DIR "
                             "or .data)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--show", type=int, metavar="N", help="print message N (1 = newest)")
    which.add_argument("--last", action="store_true", help="print the newest message")
    args = parser.parse_args(argv)
    files = mailbox(args.data_dir)
    if args.last or args.show is not None:
        number = 1 if args.last else args.show
        if not 1 <= number <= len(files):
            print(f"no message {number}: the mailbox at {args.data_dir / 'mail'} "
                  f"holds {len(files)}")
            return 1
        message = read(files[number - 1])
        for header in ("Date", "From", "To", "Subject"):
            print(f"{header}: {message[header]}")
        print()
        print(text(message), end="")
        return 0
    if not files:
        print(f"no mail in {args.data_dir / 'mail'}")
        return 0
    for number, path in enumerate(files, 1):
        message = read(path)
        print(f"{number:>3}  {message['Date']}  {message['To']}  {message['Subject']}")
    return 0
