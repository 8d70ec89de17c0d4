"""docs/deploy.md's lists come from the code (`python -m ops deploy-doc`), not by hand."""

from __future__ import annotations

import pytest

from ops import deploy_doc
from ops.infra.common import STAGES
from ops.stage import TABLE_ENVIRONMENT, load_config, stage_environment


def test_the_guides_generated_blocks_are_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy_doc.main(["--check"]) == 0, capsys.readouterr().err


def test_every_block_in_the_guide_is_filled_and_every_table_is_in_its_loops() -> None:
    text = deploy_doc.DOC.read_text()
    names = {m["name"] for m in deploy_doc.BLOCK.finditer(text)}
    assert names == set(deploy_doc.blocks())
    blocks = deploy_doc.blocks()
    config = load_config()
    for stage, block in (("prod", blocks["pitr"]), ("dev", blocks["teardown-tables"])):
        env = stage_environment(config, stage)
        for variable in TABLE_ENVIRONMENT.values():
            assert env[variable] in block  # four tables, user-items included
    for stage in STAGES:
        env = stage_environment(config, stage)
        assert all(env[variable] in blocks["tables"] for variable in TABLE_ENVIRONMENT.values())


def test_prods_fixed_monthly_cost_is_computed_from_its_template() -> None:
    from ops.infra.common import load_app
    from ops.render_infra import merge_template

    items = dict((item.split(" (")[0], dollars) for item, _, dollars in
                 deploy_doc.cost_items(merge_template("prod", load_config(), load_app())))
    assert items["WAF web ACL"] == 5 and items["KMS key"] == 1
    assert items["CloudWatch dashboard"] == 3
    assert 8 <= sum(items.values()) <= 15
    dev = deploy_doc.cost_items(merge_template("dev", load_config(), load_app()))
    assert sum(dollars for _, _, dollars in dev) == 4  # the key and the dashboard: no WAF, alarms
