"""A stage's settings as .chalice/config.json gives them: the one place operators read them.

Every command that needs a stage's environment, table names or keyring
parameter asks here, so the commands and the deploy templates cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # boto3 loads only for commands that use tables
    from chalicelib.store.dynamodb import TableNames

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"

# TableNames field -> the variable naming that table.
TABLE_ENVIRONMENT = {
    "users": "CHALKBOARD_USERS_TABLE",
    "messages": "CHALKBOARD_MESSAGES_TABLE",
    "auth": "CHALKBOARD_AUTH_TABLE",
    "user_items": "CHALKBOARD_USER_ITEMS_TABLE",
}


class StageError(Exception):
    """A stage or setting the operator must fix (commands print it without a traceback)."""


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(CONFIG.read_text())
    return config


def stage_environment(config: Mapping[str, Any], stage: str) -> dict[str, str]:
    """The stage's environment variables: the config's own, then the stage's on top."""
    if stage not in config.get("stages", {}):
        raise StageError(f"no stage {stage!r} in .chalice/config.json")
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def table_names(env: Mapping[str, str], *, stage: str = "") -> TableNames:
    """The DynamoDB table names an environment sets; a missing one is named."""
    for variable in TABLE_ENVIRONMENT.values():
        if not env.get(variable):
            raise StageError(f"{variable} is not set" + (f" for stage {stage!r}" if stage else ""))
    from chalicelib.store.dynamodb import TableNames

    return TableNames(**{key: env[variable] for key, variable in TABLE_ENVIRONMENT.items()})
