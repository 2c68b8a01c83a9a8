"""The retrain flow: a challenger is judged against the champion on the same held-out rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from cxtext.classify.registry import champion_name, promote, read_card, save_model
from cxtext.classify.training import train_model

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def prefect_harness():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_retrain_promotes_only_a_better_challenger(tmp_path, prefect_harness):
    from pipelines.retrain import retrain

    data = [str(FIXTURES / "sentiment_small.csv")]
    # a weak champion: trained on a handful of rows
    weak = train_model(
        ["good", "bad", "ok", "great", "awful", "fine"],
        ["positive", "negative", "neutral", "positive", "negative", "neutral"],
        task="sentiment",
    )
    save_model(weak, "weak", {"task": "sentiment"}, tmp_path)
    promote("weak", "sentiment-fa", tmp_path)

    first = retrain(role="sentiment-fa", data=data, name="chal-1", models_dir=str(tmp_path))
    assert first["promoted"] is True and first["champion"] == "weak"
    assert champion_name("sentiment-fa", tmp_path) == "chal-1"
    card = read_card("chal-1", tmp_path)
    assert card["retrain_comparison"]["decision"]["promote"] is True
    assert "**promoted**" in card["retrain_comparison"]["report"]

    # the same recipe again cannot beat itself by the margin: no promotion
    second = retrain(role="sentiment-fa", data=data, name="chal-2", models_dir=str(tmp_path))
    assert second["promoted"] is False
    assert second["decision"]["delta"] == 0
    assert champion_name("sentiment-fa", tmp_path) == "chal-1"
    assert read_card("chal-2", tmp_path)["retrain_comparison"]["champion"] == "chal-1"
