"""Settings: one file of tunables, unknown keys rejected, every value knob reaching its stage."""

from __future__ import annotations

import inspect
import json

import pandas as pd
import pytest

import pipelines.nightly as nightly_module
from cxtext.config import load_settings
from cxtext.schema import FEEDBACK, conform
from cxtext.themes.taxonomy import Taxonomy, Theme
from cxtext.value.simulate import simulate_transactions


def test_unknown_sections_and_keys_are_rejected(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("value:\n  n_bootstrapp: 10\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown keys in \\[value\\]: \\['n_bootstrapp'\\]"):
        load_settings(bad)
    bad.write_text("valeu:\n  uplift_bootstrap: 10\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown settings section 'valeu'"):
        load_settings(bad)


def test_every_value_and_painpoints_setting_is_used_by_the_flow():
    """A knob in defaults.yaml that no stage reads would be a silent lie."""
    source = inspect.getsource(nightly_module)
    settings = load_settings()
    for section in ("value", "painpoints"):
        for key in settings[section]:
            assert f'cfg["{key}"]' in source, f"{section}.{key} is never passed to a stage"


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
    uplift = nightly_module.churn_uplift.fn(history, customers, taxonomy, settings)
    assert uplift["method"].str.contains(r"joint_logit\(l2 prior sd 0.5, bootstrap 7\)").all()

    sim = simulate_transactions(400, seed=2)
    values = nightly_module.value.fn(None, sim.transactions, history, sim.as_of, settings)
    assert set(values["method"]) == {"simple_rate"}  # too few repeat buyers for 100,000
    default = nightly_module.value.fn(None, sim.transactions, history, sim.as_of, load_settings())
    assert set(default["method"]) == {"bgnbd_gammagamma"}

    as_of = pd.Timestamp("2025-01-01", tz="UTC")
    pain = nightly_module.pain_points.fn(
        history, values, uplift, taxonomy, as_of + pd.Timedelta(days=1), settings
    )
    quotes = json.loads(pain.iloc[0]["examples"])
    assert quotes and all(len(q) == 50 for q in quotes)  # only the 50-character texts fit [40, 60]


@pytest.mark.parametrize(
    "overlay, message",
    [
        ("value:\n  interval_level: 90\n", "interval_level must be between 0 and 1, got 90"),
        ("value:\n  uplift_bootstrap: 0\n", "uplift_bootstrap must be >= 1"),
        ("value:\n  uplift_prior_sd: 0\n", "uplift_prior_sd > 0"),
    ],
)
def test_nonsense_settings_fail_with_the_key_named(tmp_path, overlay, message):
    path = tmp_path / "bad.yaml"
    path.write_text(overlay, encoding="utf-8")
    settings = load_settings(path)
    taxonomy = Taxonomy((Theme("delivery", "Delivery", "ارسال"),))
    history, customers = _history()
    with pytest.raises(ValueError, match=message):
        nightly_module.churn_uplift.fn(history, customers, taxonomy, settings)
