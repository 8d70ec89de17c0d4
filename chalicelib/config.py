"""Settings, read from environment variables on first use and validated once.

Nothing is read at import: ``chalice.test.Client`` sets a stage's variables only
while a request runs, and ``chalice package`` imports app.py with the stage's
environment, where a secret may legitimately be absent.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chalicelib.errors import ConfigurationError

DEFAULT_POST_RATE_LIMIT = 60  # posts per user in any window (CHALKBOARD_POST_RATE_WINDOW_SECONDS)

# OWASP's minimum argon2id parameters (Password Storage Cheat Sheet).
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1

# Seconds. The idle end (ops/keyring.py waits this long to prune), and the absolute one.
DEFAULT_REFRESH_TOKEN_TTL = 7 * 86_400
DEFAULT_SESSION_MAX_SECONDS = 30 * 86_400  # a session's absolute end after its sign-in

# Stages allowed to do what production must not: generate keys, hash cheaply.
KEY_GENERATING_STAGES = frozenset({"local", "test"})
CHEAP_HASHING_STAGES = frozenset({"test"})

# Patterns are used with fullmatch: "$" alone also matches before a trailing newline.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
# A bare address or "Name <address>"; no line breaks (it becomes a header).
_MAIL_FROM = re.compile(r"[^\r\n<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+")
_RANGE_API = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


@dataclass(frozen=True)
class Settings:
    stage: str
    store: str  # "sqlite" or "dynamodb"
    data_dir: Path
    users_table: str
    messages_table: str
    auth_table: str
    user_items_table: str  # per-user records (sessions, message index) for one-Query reads
    signing_keys: str | None  # the keyring's JSON inline (tests, scripts)
    signing_keys_parameter: str | None  # SSM SecureString holding the keyring JSON
    web_origin: str
    webauthn_rp_id: str  # passkeys' relying-party id: the web origin's host, or a parent domain
    access_token_ttl: int
    refresh_token_ttl: int  # the idle end: a session whose refresh token goes unused ends
    session_max_seconds: int  # the absolute end, counted from sign-in, whatever the refreshes
    issuer: str
    audience: str
    argon2_memory_kib: int
    argon2_time_cost: int
    argon2_parallelism: int
    login_max_failures: int
    login_window_seconds: int  # also how long a lock lasts
    post_rate_limit: int  # posts per user in any post_rate_window_seconds
    post_rate_window_seconds: int
    pwned_passwords_url: str | None = None  # a Pwned Passwords range API; None: not asked
    mail_from: str | None = None  # the sender address (SES identity deployed); see mail.py

    @property
    def generates_local_keys(self) -> bool:
        """True when no keyring is configured and the stage may make its own."""
        return (
            self.signing_keys is None
            and self.signing_keys_parameter is None
            and self.stage in KEY_GENERATING_STAGES
        )


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name, "").strip()
    return value or default


def _table(env: Mapping[str, str], name: str, required: bool) -> str:
    value = _text(env, name, "")
    if required and not value:
        raise ConfigurationError(f"{name} must be set when CHALKBOARD_STORE is dynamodb")
    if value and not _TABLE_NAME.fullmatch(value):
        raise ConfigurationError(
            f"{name} must be 3-255 characters of letters, digits, '_', '.' or '-'"
        )
    return value or ""


def _range_api(env: Mapping[str, str], name: str) -> str | None:
    """A Pwned Passwords range-API base URL (``<url>/range/<prefix>`` is asked), or None."""
    value = _text(env, name)
    if value is None:
        return None
    if not _RANGE_API.fullmatch(value):
        raise ConfigurationError(
            f"{name} must be an http(s) URL such as https://api.pwnedpasswords.com "
            f"(no query or fragment), or empty to turn the check off; not {value!r}"
        )
    return value.rstrip("/")


def _mail_from(env: Mapping[str, str], name: str) -> str | None:
    """The sender of every mail; required deployed only when mail is first sent
    (``chalicelib.mail``), so ``chalice package`` works without one."""
    value = _text(env, name)
    if value is not None and not _MAIL_FROM.fullmatch(value):
        raise ConfigurationError(
            f"{name} must be one address such as no-reply@example.com or "
            f"'Chalkboard <no-reply@example.com>', not {value!r}"
        )
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build and validate settings; every error names the variable to fix."""
    stage = _text(env, "CHALKBOARD_STAGE", "local") or "local"
    store = (_text(env, "CHALKBOARD_STORE", "sqlite") or "sqlite").lower()
    if store not in {"sqlite", "dynamodb"}:
        raise ConfigurationError(f"CHALKBOARD_STORE must be 'sqlite' or 'dynamodb', not {store!r}")
    dynamodb = store == "dynamodb"

    signing_keys = _text(env, "CHALKBOARD_SIGNING_KEYS")
    parameter = _text(env, "CHALKBOARD_SIGNING_KEYS_PARAMETER")
    if signing_keys is None and parameter is None and stage not in KEY_GENERATING_STAGES:
        raise ConfigurationError(
            f"CHALKBOARD_SIGNING_KEYS_PARAMETER must name the SSM parameter holding the "
            f"signing keyring in stage {stage!r} (or set CHALKBOARD_SIGNING_KEYS); only the "
            f"local and test stages generate their own keys"
        )

    web_origin = _text(env, "CHALKBOARD_WEB_ORIGIN")
    if web_origin is None:
        raise ConfigurationError(
            "CHALKBOARD_WEB_ORIGIN must be set to the web app's origin, "
            "e.g. http://localhost:8080"
        )
    if not _ORIGIN.fullmatch(web_origin):
        raise ConfigurationError(
            f"CHALKBOARD_WEB_ORIGIN must be one origin like https://example.com "
            f"(scheme, host, optional port; no path, no '*'), not {web_origin!r}"
        )
    web_host = web_origin.split("://", 1)[1].split(":", 1)[0].lower()
    rp_id = (_text(env, "CHALKBOARD_WEBAUTHN_RP_ID", web_host) or web_host).lower()
    if web_host != rp_id and not web_host.endswith("." + rp_id):
        raise ConfigurationError(
            f"CHALKBOARD_WEBAUTHN_RP_ID must be the web origin's host {web_host!r} or a "
            f"domain it belongs to, not {rp_id!r}"
        )

    access_ttl = _integer(env, "CHALKBOARD_ACCESS_TOKEN_TTL", 900, 1, 86_400)
    refresh_ttl = _integer(
        env, "CHALKBOARD_REFRESH_TOKEN_TTL", DEFAULT_REFRESH_TOKEN_TTL, 60, 365 * 86_400
    )
    if refresh_ttl <= access_ttl:
        raise ConfigurationError(
            "CHALKBOARD_REFRESH_TOKEN_TTL must be longer than CHALKBOARD_ACCESS_TOKEN_TTL"
        )
    session_max = _integer(
        env, "CHALKBOARD_SESSION_MAX_SECONDS", DEFAULT_SESSION_MAX_SECONDS, 60, 365 * 86_400
    )
    if session_max <= access_ttl:
        raise ConfigurationError(
            "CHALKBOARD_SESSION_MAX_SECONDS must be longer than CHALKBOARD_ACCESS_TOKEN_TTL"
        )

    cheap = stage in CHEAP_HASHING_STAGES
    memory = _integer(
        env, "CHALKBOARD_ARGON2_MEMORY_KIB", OWASP_MEMORY_KIB,
        8 if cheap else OWASP_MEMORY_KIB, 96 * 1024,
    )
    time_cost = _integer(
        env, "CHALKBOARD_ARGON2_TIME_COST", OWASP_TIME_COST, 1 if cheap else OWASP_TIME_COST, 10
    )
    parallelism = _integer(env, "CHALKBOARD_ARGON2_PARALLELISM", OWASP_PARALLELISM, 1, 4)

    return Settings(
        stage=stage,
        store=store,
        data_dir=Path(_text(env, "CHALKBOARD_DATA_DIR", ".data") or ".data"),
        users_table=_table(env, "CHALKBOARD_USERS_TABLE", dynamodb),
        messages_table=_table(env, "CHALKBOARD_MESSAGES_TABLE", dynamodb),
        auth_table=_table(env, "CHALKBOARD_AUTH_TABLE", dynamodb),
        user_items_table=_table(env, "CHALKBOARD_USER_ITEMS_TABLE", dynamodb),
        signing_keys=signing_keys,
        signing_keys_parameter=parameter,
        web_origin=web_origin,
        webauthn_rp_id=rp_id,
        access_token_ttl=access_ttl,
        refresh_token_ttl=refresh_ttl,
        session_max_seconds=session_max,
        issuer=_text(env, "CHALKBOARD_ISSUER", "chalkboard") or "chalkboard",
        audience=_text(env, "CHALKBOARD_AUDIENCE", "chalkboard-api") or "chalkboard-api",
        argon2_memory_kib=memory,
        argon2_time_cost=time_cost,
        argon2_parallelism=parallelism,
        login_max_failures=_integer(env, "CHALKBOARD_LOGIN_MAX_FAILURES", 5, 1, 100),
        login_window_seconds=_integer(env, "CHALKBOARD_LOGIN_WINDOW_SECONDS", 900, 1, 86_400),
        post_rate_limit=_integer(
            env, "CHALKBOARD_POST_RATE_LIMIT", DEFAULT_POST_RATE_LIMIT, 1, 10_000
        ),  # fits an item
        post_rate_window_seconds=_integer(
            env, "CHALKBOARD_POST_RATE_WINDOW_SECONDS", 60, 1, 86_400
        ),
        pwned_passwords_url=_range_api(env, "CHALKBOARD_PWNED_PASSWORDS_URL"),
        mail_from=_mail_from(env, "CHALKBOARD_MAIL_FROM"),
    )


@functools.cache
def get_settings() -> Settings:
    """The process's settings, validated on first use (tests reset with cache_clear)."""
    return load_settings(os.environ)
