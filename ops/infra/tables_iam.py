"""The DynamoDB tables and the functions' IAM permissions (both ways), and the keyring's KMS key."""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.store.dynamodb import TableNames
from ops.infra.common import (
    STAGE_OPTIONS,
    Deployment,
    authorizer_names,
    camel,
    ref,
    retained,
    sub,
)
from ops.infra.live import LIVE_FUNCTION, LIVE_TABLE_ACTIONS
from ops.mail import sender_statement
from ops.stage import TABLE_ENVIRONMENT, stage_environment
from ops.tables import table_definitions, tables_with_ttl

# The only DynamoDB actions the store makes, per table (tests/deploy records the calls
# the store tests make and compares). Nothing else touches DynamoDB at run time.
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("BatchGetItem", "DeleteItem", "GetItem", "PutItem", "UpdateItem"),
    "messages": ("BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query"),
    "auth": ("DeleteItem", "GetItem", "PutItem", "UpdateItem"),
    "user_items": (
        "BatchGetItem", "BatchWriteItem", "DeleteItem", "PutItem", "Query", "UpdateItem",
    ),
}


# The authorizer only reads: the user and the token's session, in one BatchGetItem
# (DynamoDBStore.access_state). (IAM's LeadingKeys condition restricts partition keys
# only, and user_items' partition key is the username, so no prefix narrows it.)
AUTHORIZER_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("BatchGetItem",),
    "user_items": ("BatchGetItem",),
}


AUTHORIZER_ITEM_PREFIXES: dict[str, tuple[str, ...]] = {}


# One table per field of TableNames (the store's own list): a new table flows in here.
TABLE_KEYS = tuple(field.name for field in dataclasses.fields(TableNames))


TABLE_RESOURCES = {key: f"{camel(key)}Table" for key in TABLE_KEYS}


_missing = (set(TABLE_KEYS) - set(TABLE_ACTIONS)) | (set(TABLE_KEYS) - set(TABLE_ENVIRONMENT))
if _missing:
    raise SystemExit(f"ops/infra/tables_iam.py: add the DynamoDB actions for {sorted(_missing)} "
                     "to TABLE_ACTIONS (and AUTHORIZER_TABLE_ACTIONS if the authorizer reads it), "
                     "and its variable to ops.stage.TABLE_ENVIRONMENT")


def table_resources(stage: str, names: TableNames) -> dict[str, Any]:
    options = STAGE_OPTIONS[stage]
    ttl = tables_with_ttl(names)
    by_name = {definition["TableName"]: definition for definition in table_definitions(names)}
    resources = {}
    for key, logical_id in TABLE_RESOURCES.items():
        definition = by_name[getattr(names, key)]
        properties: dict[str, Any] = {
            "BillingMode": definition["BillingMode"],
            "KeySchema": definition["KeySchema"],
            "AttributeDefinitions": definition["AttributeDefinitions"],
            "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
        }
        for optional in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if optional in definition:
                properties[optional] = definition[optional]
        if definition["TableName"] in ttl:
            properties["TimeToLiveSpecification"] = {
                "AttributeName": ttl[definition["TableName"]], "Enabled": True,
            }
        if options["point_in_time_recovery"]:
            properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        if options["retain_data"]:
            properties["DeletionProtectionEnabled"] = True
        resources[logical_id] = {
            "Type": "AWS::DynamoDB::Table",
            **retained(stage),
            "Properties": properties,
        }
    return resources


def dynamodb_statements(table_arn: Any, actions: dict[str, tuple[str, ...]],
                        prefixes: dict[str, tuple[str, ...]] | None = None
                        ) -> list[dict[str, Any]]:
    statements = []
    for key, table_actions in actions.items():
        statement: dict[str, Any] = {
            "Sid": f"{camel(key)}Table",
            "Effect": "Allow",
            "Action": [f"dynamodb:{action}" for action in table_actions],
            "Resource": table_arn(key),
        }
        if prefixes and key in prefixes:
            statement["Condition"] = {"ForAllValues:StringLike": {
                "dynamodb:LeadingKeys": [f"{prefix}*" for prefix in prefixes[key]],
            }}
        statements.append(statement)
    return statements


def function_statements(chalice_name: str, table_arn: Any, keyring_arn: Any,
                        key_statement: dict[str, Any] | None, log_groups: list[Any],
                        mail_statement: dict[str, Any] | None = None,
                        ) -> list[dict[str, Any]]:
    """One function's policy: the API handler's tables, or the authorizer's or live's reads only."""
    if chalice_name == "api_handler":
        statements = dynamodb_statements(table_arn, TABLE_ACTIONS)
    elif chalice_name == LIVE_FUNCTION:  # issue 26: ops/infra/live.py
        statements = dynamodb_statements(table_arn, LIVE_TABLE_ACTIONS)
    else:
        statements = dynamodb_statements(table_arn, AUTHORIZER_TABLE_ACTIONS,
                                         AUTHORIZER_ITEM_PREFIXES)
    statements += [
        {"Sid": "SigningKeyring", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": keyring_arn},
        {"Sid": "FunctionLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": log_groups},
    ]
    if key_statement is not None:
        statements.append(key_statement)
    if mail_statement is not None and chalice_name == "api_handler":  # SES: the sender only
        statements.append(mail_statement)
    return statements


def key_decrypt_statement(key_arn: Any, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Sid": "SigningKeyringKey", "Effect": "Allow", "Action": "kms:Decrypt",
            "Resource": key_arn, "Condition": condition}


def keyring_key_alias(config: dict[str, Any], stage: str) -> str:
    """The customer-managed key's alias: fixed per stage, so a static policy file can name it."""
    return f"alias/{config['app_name']}-{stage}-keyring"


def keyring_key(config: dict[str, Any], stage: str, deployment: Deployment) -> dict[str, Any]:
    """A KMS key (rotation on) for the keyring SecureString.

    Decrypt is allowed only to the function roles, through SSM; encrypt and
    decrypt to the principal that runs ``python -m ops keyring`` (KeyringAdminArn).
    The account may manage the key but holds no cryptographic permission, so an
    IAM policy elsewhere in the account cannot grant decryption.
    """
    account = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    via_ssm = {"StringEquals": {"kms:ViaService": sub("ssm.${AWS::Region}.amazonaws.com")}}
    return {
        "KeyringKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": f"chalkboard {stage}: encrypts the signing keyring in SSM",
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountManagesButCannotUseTheKey",
                            "Effect": "Allow",
                            "Principal": {"AWS": account},
                            "Action": [
                                "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*",
                                "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*",
                                "kms:Get*", "kms:Delete*", "kms:TagResource",
                                "kms:UntagResource", "kms:ScheduleKeyDeletion",
                                "kms:CancelKeyDeletion",
                            ],
                            "Resource": "*",
                        },
                        {
                            "Sid": "FunctionsDecryptTheKeyringThroughSsm",
                            "Effect": "Allow",
                            "Principal": {"AWS": list(deployment.roles.values())},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                            "Condition": via_ssm,
                        },
                        {
                            "Sid": "KeyringAdminWritesAndReadsTheKeyring",
                            "Effect": "Allow",
                            "Principal": {"AWS": ref("KeyringAdminArn")},
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": "*",
                            "Condition": via_ssm,
                        },
                    ],
                },
                "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
            },
        },
        "KeyringKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": keyring_key_alias(config, stage),
                "TargetKeyId": ref("KeyringKey"),
            },
        },
    }


def way_2_names(config: dict[str, Any], stage: str, app: Any) -> dict[str, str]:
    """chalice deploy's own names: function → Lambda function name (role names add nothing)."""
    prefix = f"{config['app_name']}-{stage}"
    return {"api_handler": prefix, **{name: f"{prefix}-{name}" for name in authorizer_names(app)},
            LIVE_FUNCTION: f"{prefix}-{LIVE_FUNCTION}"}


def policy_files(stage: str, config: dict[str, Any], app: Any) -> dict[str, dict[str, Any]]:
    """`chalice deploy`'s per-function policies: chalice copies them as is, so no account or region.

    Every resource is still exact by name: this stage's tables, keyring parameter
    and each function's own log group; the KMS key is named by its alias.
    (The one stack restates the roles with full ARNs.)
    """
    env = stage_environment(config, stage)
    key_condition = {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": keyring_key_alias(config, stage)},
        "StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"},
    }
    files = {}
    for chalice_name, function_name in way_2_names(config, stage, app).items():
        statements = function_statements(
            chalice_name,
            lambda key: f"arn:aws:dynamodb:*:*:table/{env[TABLE_ENVIRONMENT[key]]}",
            f"arn:aws:ssm:*:*:parameter{env['CHALKBOARD_SIGNING_KEYS_PARAMETER']}",
            # The key is made later, by the ops stack: named by its alias, not its id.
            key_decrypt_statement("arn:aws:kms:*:*:key/*", key_condition),
            [f"arn:aws:logs:*:*:log-group:/aws/lambda/{function_name}:log-stream:*"],
            sender_statement(lambda name: f"arn:aws:ses:*:*:identity/{name}",
                             env["CHALKBOARD_MAIL_FROM"]),
        )
        files[policy_file_name(stage, chalice_name)] = {
            "Version": "2012-10-17", "Statement": statements,
        }
    return files


def policy_file_name(stage: str, chalice_name: str) -> str:
    return f"policy-{stage}-{chalice_name.replace('_', '-')}.json"
