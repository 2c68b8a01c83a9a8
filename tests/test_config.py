"""Settings: one file of tunables, unknown keys rejected, every value knob reaching its stage."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import pandas as pd
import pytest
import yaml

import pipelines.insight as insight_module
import pipelines.nightly as nightly_module
from cxtext.config import DEFAULTS_FILE, load_settings
from cxtext.errors import SettingsError
from cxtext.schema import FEEDBACK, conform
from cxtext.themes.taxonomy import Taxonomy, Theme
from cxtext.value.simulate import simulate_transactions


def test_unknown_sections_and_keys_are_rejected_with_a_suggestion(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("value:\n  uplift_bootstrapp: 10\n", encoding="utf-8")
    with pytest.raises(
        SettingsError,
        match=r"bad.yaml: unknown key in \[value\]: 'uplift_bootstrapp'; did you mean 'uplift_bootstrap'\?",
    ):
        load_settings(bad)
    bad.write_text("valeu:\n  uplift_bootstrap: 10\n", encoding="utf-8")
    with pytest.raises(
        SettingsError, match="unknown settings section 'valeu'; did you mean 'value'"
    ):
        load_settings(bad)


@pytest.mark.parametrize(
    "text, message",
    [
        ("value: [1\n", "line 2 not valid YAML"),
        ("- a\n- b\n", "expected sections such as 'value:'"),
        ("value: 3\n", "section 'value' must hold 'key: value' lines"),
        (
            "ingest:\n  partition_rows: many\n",
            "ingest.partition_rows must be a whole number, got 'many'",
        ),
        ("ingest:\n  partition_rows: 0\n", "ingest.partition_rows must be >= 1, got 0"),
        ("value:\n  interval_level: 90\n", "value.interval_level must be between 0 and 1, got 90"),
        ("value:\n  uplift_prior_sd: 0\n", "value.uplift_prior_sd must be > 0"),
        (
            "value:\n  default_clv_by_segment: [1]\n",
            "value.default_clv_by_segment must be a mapping",
        ),
        (
            "painpoints:\n  example_chars: [300, 20]\n",
            "example_chars must be \\[shortest, longest\\]",
        ),
        (
            "painpoints:\n  example_chars: [20]\n",
            "painpoints.example_chars must be a list of 2 values",
        ),
        ("run:\n  lock_wait_seconds: -1\n", "run.lock_wait_seconds must be >= 0"),
    ],
)
def test_bad_values_fail_at_load_with_file_and_key_named(tmp_path, text, message):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=f"{path.name}.*{message}"):
        load_settings(path)


def test_missing_settings_file_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_sections_are_typed_frozen_and_every_default_has_a_field():
    settings = load_settings()
    assert settings.value.horizon_months == 12 and isinstance(settings.value.default_clv, float)
    assert settings.painpoints.example_chars == (20, 280)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.value.horizon_months = 3  # type: ignore[misc]
    defaults = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    for section, values in defaults.items():
        assert set(values) == {f.name for f in dataclasses.fields(getattr(settings, section))}


def test_an_overlay_keeps_the_other_defaults(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("value:\n  default_clv: 300\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.value.default_clv == 300.0 and settings.value.horizon_months == 12
    assert settings.source == path


def test_every_value_and_painpoints_setting_is_used_by_the_flow():
    """A knob in defaults.yaml that no stage reads would be a silent lie."""
    # The flow and the argument builders it shares with discovery (pipelines/insight.py).
    source = inspect.getsource(nightly_module) + inspect.getsource(insight_module)
    settings = load_settings()
    for section in ("value", "painpoints"):
        names = {"value": "cfg|value_cfg|value", "painpoints": "cfg|painpoints"}[section]
        read = re.compile(rf"\b(?:{names})\.(\w+)")
        used = set(read.findall(source))
        for f in dataclasses.fields(getattr(settings, section)):
            assert f.name in used, f"{section}.{f.name} is never passed to a stage"


def _history() -> tuple[pd.DataFrame, pd.DataFrame]:
    t0 = pd.Timestamp("2025-01-01", tz="UTC")
    rows = []
    for i in range(60):
        bad = i % 2 == 0
        rows.append(
            {
                "source": "s",
                "id": str(i),
                "customer_id": f"c{i}",
                "created_at": t0,
                "topics": json.dumps(["delivery"] if bad else ["price"]),
                "aspect_sentiment": json.dumps({}),
                "sentiment": "negative",
                "text_redacted": f"{i:02d}" + "x" * (8 if i < 30 else 48),
                "metadata": "{}",
            }
        )
    customers = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(60)], "churned": [i % 3 == 0 for i in range(60)]}
    )
    return conform(pd.DataFrame(rows), FEEDBACK), customers


def test_an_overlay_reaches_the_pure_functions(tmp_path):
    overlay = tmp_path / "mine.yaml"
    overlay.write_text(
        "value:\n  uplift_bootstrap: 7\n  uplift_prior_sd: 0.5\n  min_repeat_buyers: 100000\n"
        "painpoints:\n  example_chars: [40, 60]\n",
        encoding="utf-8",
    )
    settings = load_settings(overlay)
    taxonomy = Taxonomy((Theme("delivery", "Delivery", "ارسال"), Theme("price", "Price", "قیمت")))
    history, customers = _history()
    uplift = nightly_module.churn_uplift.fn(history, customers, taxonomy, settings.value)
    assert uplift["method"].str.contains(r"joint_logit\(l2 prior sd 0.5, bootstrap 7\)").all()

    sim = simulate_transactions(400, seed=2)
    values = nightly_module.value.fn(None, sim.transactions, history, sim.as_of, settings.value)
    assert set(values["method"]) == {"simple_rate"}  # too few repeat buyers for 100,000
    default = nightly_module.value.fn(
        None, sim.transactions, history, sim.as_of, load_settings().value
    )
    assert set(default["method"]) == {"bgnbd_gammagamma"}

    as_of = pd.Timestamp("2025-01-01", tz="UTC")
    pain = nightly_module.pain_points.fn(
        history,
        values,
        uplift,
        taxonomy,
        as_of + pd.Timedelta(days=1),
        settings.painpoints,
        settings.value,
    )
    quotes = json.loads(pain.iloc[0]["examples"])
    assert quotes and all(len(q) == 50 for q in quotes)  # only the 50-character texts fit [40, 60]
