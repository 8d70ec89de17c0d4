"""Write the lists docs/deploy.md takes from the code: tables, IAM, parameters, costs.

    python -m ops deploy-doc           # rewrite the generated blocks of docs/deploy.md
    python -m ops deploy-doc --check   # exit 1 if a block is stale (the tests do this)

A block sits between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``;
everything else in the guide is prose. The tables come from ``TableNames`` and the
stage config, the IAM lines from the policies the templates grant, the parameters
and the fixed monthly cost from the rendered prod templates themselves.
"""

from __future__ import annotations

import re
from typing import Any

from ops.generated import command_main
from ops.infra.common import STAGE_OPTIONS, STAGES, load_app
from ops.infra.tables_iam import (
    AUTHORIZER_TABLE_ACTIONS,
    TABLE_ACTIONS,
    TABLE_KEYS,
    way_2_names,
)
from ops.stage import ROOT, TABLE_ENVIRONMENT, load_config, stage_environment

DOC = ROOT / "docs" / "deploy.md"
BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)"
                   r"(<!-- end generated -->)", re.DOTALL)

# us-east-1 list prices, USD a month, of what a stack holds whether or not anyone uses it.
PRICES = {
    "waf_acl": 5.00,  # per web ACL
    "waf_rule": 1.00,  # per rule or rule group in it
    "kms_key": 1.00,  # per customer-managed key
    "alarm_metric": 0.10,  # per metric an alarm watches (standard resolution)
    "dashboard": 3.00,  # per dashboard beyond the account's first three
}


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def tables_block(config: dict[str, Any]) -> str:
    from ops.stage import table_names
    from ops.tables import table_definitions, tables_with_ttl

    names = {stage: table_names(stage_environment(config, stage)) for stage in STAGES}
    ttl = tables_with_ttl(names["prod"])
    definitions = {d["TableName"]: d for d in table_definitions(names["prod"])}
    rows = []
    for key in TABLE_KEYS:
        prod_name = getattr(names["prod"], key)
        keys = " + ".join(k["AttributeName"] for k in definitions[prod_name]["KeySchema"])
        rows.append([f"`{key}`", keys, f"`{ttl[prod_name]}`" if prod_name in ttl else "—",
                     f"`{TABLE_ENVIRONMENT[key]}`",
                     *[f"`{getattr(names[stage], key)}`" for stage in STAGES]])
    return table(["table", "key", "TTL", "variable", *[f"{s} name (`chalice deploy`)"
                                                         for s in STAGES]], rows)


def iam_block() -> str:
    rows = [[f"`{key}` table", ", ".join(f"`{a}`" for a in TABLE_ACTIONS[key]),
             ", ".join(f"`{a}`" for a in AUTHORIZER_TABLE_ACTIONS.get(key, ())) or "—"]
            for key in TABLE_KEYS]
    rows += [
        ["the stage's keyring parameter", "`ssm:GetParameter`", "`ssm:GetParameter`"],
        ["the keyring's KMS key", "`kms:Decrypt` via SSM", "`kms:Decrypt` via SSM"],
        ["its own log group", "`logs:CreateLogStream`, `logs:PutLogEvents`", "the same"],
    ]
    return table(["resource", "API handler", "authorizer"], rows)


def parameters_block(config: dict[str, Any]) -> str:
    from ops.infra.web_stack import web_template
    from ops.render_infra import merge_template, ops_template

    app = load_app()
    stack = merge_template("prod", config, app)["Parameters"]
    ops = ops_template("prod", config, app)["Parameters"]
    web = web_template("prod")["Parameters"]
    rows = []
    for name in dict.fromkeys([*stack, *ops, *web]):
        spec = stack.get(name) or ops.get(name) or web[name]
        ways = "stack" if name in stack else ""
        ways += (", " if ways and (name in ops or name in web) else "") + \
            " + ".join(w for w, t in (("ops", ops), ("web", web)) if name in t)
        default = spec.get("Default")
        shown = "required" if default is None else ("empty" if default == "" else f"`{default}`")
        rows.append([f"`{name}`", ways, shown, spec["Description"].replace("|", "/")])
    return table(["parameter", "in (prod)", "default", "what"], rows)


def holds(template: dict[str, Any], condition: Any) -> bool:
    """A template condition's value when every parameter keeps its default."""
    if isinstance(condition, str):
        return holds(template, template["Conditions"][condition])
    (function, arguments), = condition.items()
    if function == "Condition":
        return holds(template, arguments)
    if function == "Fn::Not":
        return not holds(template, arguments[0])
    if function in {"Fn::And", "Fn::Or"}:
        values = [holds(template, argument) for argument in arguments]
        return all(values) if function == "Fn::And" else any(values)
    if function == "Fn::Equals":
        left, right = (template["Parameters"][a["Ref"]].get("Default")
                       if isinstance(a, dict) else a for a in arguments)
        return bool(left == right)
    raise ValueError(f"unknown condition function {function}")


def cost_items(template: dict[str, Any]) -> list[tuple[str, int, float]]:
    """(item, count, USD a month) for the resources with a fixed monthly price that the
    stack makes with its parameters' defaults."""
    acls = keys = dashboards = alarms = metrics = 0
    rules = 0
    for resource in template["Resources"].values():
        if "Condition" in resource and not holds(template, resource["Condition"]):
            continue
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::WAFv2::WebACL":
            acls += 1
            rules += len(properties["Rules"])
        elif kind == "AWS::KMS::Key":
            keys += 1
        elif kind == "AWS::CloudWatch::Dashboard":
            dashboards += 1
        elif kind == "AWS::CloudWatch::Alarm":
            alarms += 1
            metrics += sum(1 for m in properties.get("Metrics", []) if "MetricStat" in m) or 1
    return [
        ("WAF web ACL", acls, acls * PRICES["waf_acl"]),
        ("WAF rules (rate rule, AWS common rule group)", rules, rules * PRICES["waf_rule"]),
        ("KMS key (the keyring's)", keys, keys * PRICES["kms_key"]),
        (f"CloudWatch alarms ({alarms}), per metric watched", metrics,
         metrics * PRICES["alarm_metric"]),
        ("CloudWatch dashboard", dashboards, dashboards * PRICES["dashboard"]),
    ]


def cost_block(config: dict[str, Any]) -> str:
    from ops.render_infra import merge_template

    items = cost_items(merge_template("prod", config, load_app()))
    rows = [[item, str(count), f"${dollars:.2f}"] for item, count, dollars in items]
    total = sum(dollars for _, _, dollars in items)
    rows.append(["**fixed total**", "", f"**${total:.2f}**"])
    return table(["prod at zero traffic", "count", "a month"], rows)


def table_loop(config: dict[str, Any], stage: str, command: str) -> str:
    names = " ".join(stage_environment(config, stage)[TABLE_ENVIRONMENT[key]]
                     for key in TABLE_KEYS)
    return f"```sh\nfor table in {names}; do\n  {command}\ndone\n```\n"


def reserved_block(config: dict[str, Any]) -> str:
    functions = way_2_names(config, "prod", load_app())
    lines = [f"aws lambda put-function-concurrency --function-name {functions[name]} "
             f"--reserved-concurrent-executions {count}"
             for name, count in STAGE_OPTIONS["prod"]["reserved_concurrency"].items()]
    return "```sh\n" + "\n".join(lines) + "\n```\n"


def blocks() -> dict[str, str]:
    config = load_config()
    return {
        "tables": tables_block(config),
        "iam": iam_block(),
        "parameters": parameters_block(config),
        "cost": cost_block(config),
        "pitr": table_loop(config, "prod", "aws dynamodb update-continuous-backups "
                           "--table-name $table \\\n      --point-in-time-recovery-specification "
                           "PointInTimeRecoveryEnabled=true"),
        "teardown-tables": table_loop(config, "dev", "aws dynamodb delete-table "
                                      "--table-name $table"),
        "reserved": reserved_block(config),
    }


def render(text: str, generated: dict[str, str]) -> str:
    unknown = [m["name"] for m in BLOCK.finditer(text) if m["name"] not in generated]
    if unknown:
        raise SystemExit(f"docs/deploy.md: no generated block named {unknown}")
    return BLOCK.sub(lambda m: m.group(1) + generated[m["name"]] + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    return command_main(
        argv, command="python -m ops deploy-doc", summary=__doc__.splitlines()[0],
        files=lambda: {DOC: render(DOC.read_text(encoding="utf-8"), blocks())},
    )
