"""`cxtext models promote` refuses what would be silently wrong at night, and says why.

An English model as sentiment-fa, labels the flow cannot read, topic themes outside the
taxonomy (at promote time and at run start), and a challenger that scores below the
champion on the champion's own held-out rows (unless --force).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxtext.classify.registry import champion_name, promote, save_model
from cxtext.classify.stage import load_classifiers
from cxtext.classify.training import train_and_evaluate
from cxtext.cli import app
from cxtext.errors import ModelError
from cxtext.themes.taxonomy import load_taxonomy
from cxtext.workspace import init_workspace

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner(env={"COLUMNS": "200", "CXTEXT_HOME": None})  # --project sets it: undo


def _train(frame: pd.DataFrame, name: str, models: Path, *, lang: str, labels=None) -> None:
    labels = frame["sentiment"].tolist() if labels is None else labels
    result = train_and_evaluate(
        frame["text"].tolist(), labels, task="sentiment", lang=lang, params={"min_df": 1}
    )
    save_model(
        result.model, name, result.card, models, heldout=(result.test.texts, result.test.labels)
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ws")
    init_workspace(folder, sample=False)
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    models = folder / "models"
    fa = frame[frame["language"] != "en"]
    en = frame[frame["language"] == "en"]
    _train(fa, "fa-good", models, lang="fa")
    shuffled = fa["sentiment"].tolist()
    random.Random(0).shuffle(shuffled)
    _train(fa, "fa-noise", models, lang="fa", labels=shuffled)
    _train(en, "en-model", models, lang="en")
    _train(
        fa,
        "fa-stars",
        models,
        lang="fa",
        labels=["1" if s == "positive" else "0" for s in fa["sentiment"]],
    )
    promote("fa-good", "sentiment-fa", models)
    return folder


def _promote(ws: Path, *args: str):
    return runner.invoke(app, ["--project", str(ws), "models", "promote", *args])


def test_wrong_language_and_unreadable_labels_are_refused(ws):
    result = _promote(ws, "en-model", "--as", "sentiment-fa")
    assert result.exit_code == 4
    assert "model language is 'en', role sentiment-fa needs fa" in result.output
    result = _promote(ws, "fa-stars", "--as", "sentiment-fa", "--force")  # --force does not help
    assert result.exit_code == 4 and "negative / neutral / positive" in result.output
    result = _promote(ws, "fa-good", "--as", "topic")
    assert result.exit_code == 4 and "needs a topic model" in result.output
    assert champion_name("sentiment-fa", ws / "models") == "fa-good"


def test_a_worse_challenger_needs_force_and_the_history_says_so(ws):
    result = _promote(ws, "fa-noise", "--as", "sentiment-fa")
    assert result.exit_code == 4, result.output
    assert "below champion fa-good" in result.output and "fa-good's held-out rows" in result.output
    assert champion_name("sentiment-fa", ws / "models") == "fa-good"
    result = _promote(ws, "fa-noise", "--as", "sentiment-fa", "--force")
    assert result.exit_code == 0, result.output
    assert champion_name("sentiment-fa", ws / "models") == "fa-noise"
    last = json.loads((ws / "models" / "registry.json").read_text())["history"][-1]
    assert last["forced"] is True and last["comparison"]["champion_name"] == "fa-good"
    assert last["comparison"]["challenger"] < last["comparison"]["champion"]
    # (fa-noise's own held-out rows carry shuffled labels, so only --force brings fa-good back)
    assert _promote(ws, "fa-good", "--as", "sentiment-fa", "--force").exit_code == 0


def test_champion_without_held_out_rows_needs_an_eval_file(ws):
    # The shipped sentiment-en-encoder-v1 ships no held-out rows (its data's licence).
    result = _promote(ws, "en-model", "--as", "sentiment-en")
    assert result.exit_code == 4 and "--eval" in result.output
    en = pd.read_csv(FIXTURES / "sentiment_small.csv").query("language == 'en'")
    eval_file = ws / "data" / "en_eval.csv"
    en.to_csv(eval_file, index=False)
    result = _promote(ws, "en-model", "--as", "sentiment-en", "--eval", str(eval_file), "--force")
    assert result.exit_code == 0, result.output
    assert "en_eval.csv" in result.output and "sentiment-en-encoder-v1" in result.output


def test_topic_themes_outside_the_taxonomy_fail_at_promote_and_at_run_start(ws):
    models = ws / "models"
    labels = pd.read_csv(FIXTURES / "topics_small.csv")
    result = train_and_evaluate(labels["text"], labels["topic"], task="topic", params={"min_df": 1})
    save_model(result.model, "topic-foreign", result.card, models)
    refused = _promote(ws, "topic-foreign", "--as", "topic", "--force")
    assert refused.exit_code == 4
    assert "themes not in the taxonomy: 'app'" in refused.output
    assert "taxonomy init --from-labels" in refused.output
    # A registry edited by hand (or an old one) is caught when the run starts.
    promote("topic-foreign", "topic", models)
    with pytest.raises(ModelError, match="not in the taxonomy: 'app'"):
        load_classifiers(models, load_taxonomy(ws / "taxonomy.yaml"))
    feedback = ws / "data" / "fb.csv"
    feedback.write_text("id,text,created_at\n1,app crashes,2026-10-01\n", encoding="utf-8")
    run = runner.invoke(app, ["--project", str(ws), "run", "--feedback", str(feedback)])
    assert run.exit_code == 4, run.output  # at run start (preflight), before Prefect
    assert "topic champion topic-foreign does not fit the taxonomy" in run.output
    promote("topic-v1", "topic", models)
    assert load_classifiers(models, load_taxonomy(ws / "taxonomy.yaml")).topic_model == "topic-v1"
