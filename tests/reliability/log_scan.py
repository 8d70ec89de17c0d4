"""Finding passwords and tokens in logs.

Three nets: any JWT-shaped string at all (an access token in a log is a leak
whoever made it), every refresh or access token the suite was handed or
crafted, and every password the suite sent. Excerpts are masked, so the report
of a leak does not leak it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.-]{20,}")


@dataclass(frozen=True)
class Leak:
    source: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.source}: {self.kind} {self.excerpt}"


def mask(secret: str) -> str:
    return f"{secret[:6]}…({len(secret)} chars)"


def find_leaks(text: str, source: str, *, passwords: Iterable[str], tokens: set[str]
               ) -> list[Leak]:
    leaks = [Leak(source, "JWT-shaped string", mask(m.group())) for m in JWT_SHAPE.finditer(text)]
    lengths = sorted({len(token) for token in tokens})
    for word in set(TOKEN_CHARS.findall(text)):
        for length in lengths:
            if length > len(word):
                break
            for start in range(len(word) - length + 1):
                if word[start:start + length] in tokens:
                    leaks.append(Leak(source, "token", mask(word[start:start + length])))
    leaks += [Leak(source, "password", mask(p)) for p in passwords if p in text]
    return leaks
