"""Deeds' settings come from its config, one ``DEEDS_<NAME>`` each, as deploy/nameko.yaml
names and defaults them."""

import dataclasses
import re
from pathlib import Path

from services.deeds import rules

NAMEKO_YAML = Path(__file__).resolve().parents[2] / "deploy" / "nameko.yaml"


def test_each_setting_is_read_from_its_config_name_and_defaults_as_deployed():
    deployed = dict(re.findall(r"^(DEEDS_[A-Z_]+): \$\{\1:(\d+)\}", NAMEKO_YAML.read_text(),
                               flags=re.M))
    fields = dataclasses.fields(rules.Settings)
    assert set(deployed) == {f"DEEDS_{f.name.upper()}" for f in fields}
    assert rules.Settings.from_config({}) == rules.Settings(
        **{f.name: int(deployed[f"DEEDS_{f.name.upper()}"]) for f in fields})
    given = rules.Settings.from_config({"DEEDS_REPORT_DUE_DAY": "20",
                                        "DEEDS_NOTICE_WORKING_DAYS": 7})
    assert (given.report_due_day, given.notice_working_days, given.supervision_working_days) == (
        20, 7, 5)
