"""Campaign schema: defaults, units, unknown keys and bad values become one-line InputErrors."""

from __future__ import annotations

import tomllib

import pytest

from elbench.config import CampaignConfig, load_campaign, parse_campaign
from elbench.errors import InputError
from elbench.templates_campaign import campaign_toml, paper_config, quickstart_config, write_campaign


def test_defaults_follow_the_study():
    c = CampaignConfig()
    assert c.system.metal == "Au" and c.system.cation == "Na"
    assert c.system.charge_states == [0, 1, 2, 3, 4]
    assert c.md.timestep_fs == 0.5
    assert c.md.production_steps == 10000  # 5 ps / 0.5 fs


@pytest.mark.parametrize("template", ["quickstart", "paper"])
def test_templates_round_trip(tmp_path, template):
    path = write_campaign(tmp_path, template)
    loaded = load_campaign(path).config
    expected = quickstart_config() if template == "quickstart" else paper_config()
    assert loaded == expected
    # every key of the written file is documented by the schema, so parsing it again is identical
    assert parse_campaign(tomllib.loads(campaign_toml(loaded, template))) == loaded


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"bogus": 1}, "bogus", "unknown key"),
        ({"system": {"metl": "Au"}}, "system.metl", "unknown key"),
        ({"md": {"temperature_K": -5}}, "md.temperature_K", "greater than 0"),
        ({"md": {"timestep_fs": 0}}, "md.timestep_fs", "greater than 0"),
        ({"md": {"timestep_fs": "fast"}}, "md.timestep_fs", "number"),
        ({"system": {"metal": "Xx"}}, "system.metal", "unknown metal"),
        ({"system": {"cation": "Mg"}}, "system.cation", "unknown cation"),
        ({"system": {"repeats": [3, 3]}}, "system.repeats", "even"),
        ({"system": {"charge_states": [0, 0]}}, "system.charge_states", "repeat"),
        ({"system": {"layers": 3, "fixed_layers": 3}}, "system", "fixed_layers"),
        ({"models": ["ref; shell rm -rf /"]}, "models", "safe name"),
        ({"slurm": {"setup_lines": ["module load x\nshell rm"]}}, "slurm.setup_lines", "single printable line"),
        ({"slurm": {"partition": "gpu$(id)"}}, "slurm.partition", "safe name"),
        ({"lammps": {"binary": "lmp; rm -rf ~"}}, "lammps.binary", "shell characters"),
        ({"md": {"seeds": []}}, "md.seeds", "at least one seed"),
        ({"analysis": {"first_layer_A": [4.5, 2.0]}}, "analysis.first_layer_A", "not below MAX"),
        ({"analysis": {"first_layer_A": [3.0, 3.0]}}, "analysis.first_layer_A", "0 <= MIN < MAX"),
        ({"analysis": {"first_layer_A": [-1.0, 2.0]}}, "analysis.first_layer_A", "negative"),
        ({"analysis": {"first_layer_A": [1.0]}}, "analysis.first_layer_A", "not 2"),
        ({"analysis": {"first_layer_A": [0.0, 4.5], "first_layer_max_A": 4.0}}, "analysis", "not both"),
    ],
)
def test_bad_values_name_file_and_key(data, key, fragment):
    with pytest.raises(InputError) as info:
        parse_campaign(data, "camp.toml")
    message = str(info.value)
    assert message.startswith("camp.toml: key '" + key + "'")
    assert fragment in message
    assert "\n" not in message


def test_malformed_toml(tmp_path):
    path = tmp_path / "elbench.toml"
    path.write_text("[system\nmetal = 'Au'\n")
    with pytest.raises(InputError, match="malformed TOML"):
        load_campaign(path)


def test_missing_campaign_says_how_to_create(tmp_path):
    with pytest.raises(InputError, match="elbench init"):
        load_campaign(tmp_path / "nope.toml")


def test_first_layer_window_key():
    """[analysis] first_layer_A = [MIN, MAX] (Å): unset by default (automatic bound), documented in the template."""
    assert CampaignConfig().analysis.first_layer_A is None
    cfg = parse_campaign({"analysis": {"first_layer_A": [0, 4.5]}}, "camp.toml")
    assert cfg.analysis.first_layer_A == [0.0, 4.5]
    text = campaign_toml(CampaignConfig(), "quickstart")
    assert "# first_layer_A (optional, unset):" in text and "MIN <= d < MAX" in text
    written = campaign_toml(cfg, "quickstart")
    assert "first_layer_A = [0.0, 4.5]" in written
    assert parse_campaign(tomllib.loads(written)) == cfg
