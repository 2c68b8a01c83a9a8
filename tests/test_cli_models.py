"""`cxtext train / predict / evaluate / models` end to end on small fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxtext.classify.registry import champion_name, read_card
from cxtext.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner(env={"COLUMNS": "250"})


def invoke(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def _table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of the rich tables in ``output``."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    invoke(
        "train",
        "--task",
        "sentiment",
        "--data",
        FIXTURES / "sentiment_small.csv",
        "--label-column",
        "sentiment",
        "--name",
        "cli-sent",
        "--models-dir",
        folder,
        "--param",
        "C=4",
        "--as",
        "sentiment-fa",
    )
    return folder


def test_train_saves_registers_and_prints_metrics(models_dir):
    card = read_card("cli-sent", models_dir)
    assert card["params"] == {"C": 4, "features": "tfidf"}
    assert card["rows_eval"] == 60 and card["metrics"]["accuracy"] > 0.8
    assert champion_name("sentiment-fa", models_dir) == "cli-sent"
    listed = invoke("models", "list", "--models-dir", models_dir)
    assert "cli-sent" in listed.output and "sentiment-fa" in listed.output


def test_train_with_eval_file_and_several_data_files(tmp_path, models_dir):
    frame = pd.read_csv(FIXTURES / "sentiment_small.csv")
    frame[frame.language == "fa"].to_csv(tmp_path / "fa.csv", index=False)
    frame[frame.language == "en"].to_json(tmp_path / "en.jsonl", orient="records", lines=True)
    frame.head(40).to_parquet(tmp_path / "eval.parquet")
    out = invoke(
        "train",
        "--task",
        "sentiment",
        "--data",
        tmp_path / "fa.csv",
        "--data",
        tmp_path / "en.jsonl",
        "--label-column",
        "sentiment",
        "--eval",
        tmp_path / "eval.parquet",
        "--name",
        "cli-two",
        "--models-dir",
        models_dir,
    )
    assert "Per class" in out.output
    card = read_card("cli-two", models_dir)
    assert card["rows_train"] == 300 and card["rows_eval"] == 40


def test_predict_keeps_row_count_and_order_on_hostile_input(tmp_path, models_dir):
    rows = [
        {"id": 1, "text": "the food was not good"},
        {"id": 2, "text": None},
        {"id": 3, "text": ""},
        {"id": 4, "text": "😡😡"},
        {"id": 5, "text": "غذا " * 25_000},
        {"id": 6, "text": "<div><p>پیک <b>دیر</b> رسید</p></div>"},
        {"id": 7, "text": 12},
        {"id": 8, "text": "great crew"},
    ]
    pd.DataFrame(rows).to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    invoke(
        "predict",
        "--model",
        "cli-sent",
        "--input",
        tmp_path / "in.jsonl",
        "--output",
        tmp_path / "out.jsonl",
        "--models-dir",
        models_dir,
    )
    out = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert list(out["id"]) == list(range(1, 9))
    assert out["prediction"][0] == "negative" and out["prediction"][7] == "positive"
    assert out["prediction_reason"][1] == "missing text"
    assert out["prediction_reason"][2] == "empty text"
    assert out["prediction_reason"][6].startswith("not text")
    assert out["prediction"][[0, 3, 4, 5, 7]].ne("").all()


def test_predict_in_chunks_gives_the_same_rows(tmp_path, models_dir, monkeypatch):
    import cxtext.cli.models as cli_models

    texts = ["the food was not good", "", "great crew", None, "پیک دیر رسید"]
    pd.DataFrame({"text": texts, "k": range(5)}).to_json(
        tmp_path / "in.jsonl", orient="records", lines=True
    )
    args = (
        "predict",
        "--model",
        "cli-sent",
        "--input",
        tmp_path / "in.jsonl",
        "--models-dir",
        models_dir,
    )
    invoke(*args, "--output", tmp_path / "whole.jsonl")
    monkeypatch.setattr(cli_models, "PREDICT_CHUNK", 2)
    invoke(*args, "--output", tmp_path / "chunked.jsonl")
    whole = pd.read_json(tmp_path / "whole.jsonl", lines=True)
    chunked = pd.read_json(tmp_path / "chunked.jsonl", lines=True)
    pd.testing.assert_frame_equal(whole, chunked)
    assert list(chunked["k"]) == list(range(5))


def test_predict_csv_by_role_and_parquet(tmp_path, models_dir):
    pd.DataFrame({"text": ["عالی بود", "", "بد بود"], "k": [1, 2, 3]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    invoke(
        "predict",
        "--model",
        "sentiment-fa",
        "--input",
        tmp_path / "in.csv",
        "--output",
        tmp_path / "out.parquet",
        "--models-dir",
        models_dir,
    )
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out["k"]) == ["1", "2", "3"] and out["prediction"][1] == ""
    assert {"proba_negative", "proba_neutral", "proba_positive"} <= set(out.columns)


def test_evaluate_prints_and_saves(tmp_path, models_dir):
    invoke(
        "evaluate",
        "--model",
        "cli-sent",
        "--data",
        FIXTURES / "sentiment_small.csv",
        "--label-column",
        "sentiment",
        "--models-dir",
        models_dir,
    )
    saved = json.loads((models_dir / "cli-sent" / "eval-sentiment_small.json").read_text())
    assert saved["n"] == 300 and "per_language" in saved
    invoke(
        "evaluate",
        "--model",
        "cli-sent",
        "--data",
        FIXTURES / "sentiment_small.csv",
        "--label-column",
        "sentiment",
        "--models-dir",
        models_dir,
        "--output",
        tmp_path / "m.json",
    )
    assert (tmp_path / "m.json").exists()


def test_topic_train_and_predict(tmp_path, models_dir, monkeypatch):
    # Labels that are not themes of the active taxonomy: refused, with the fix named.
    refused = runner.invoke(
        app,
        ["train", "--task", "topic", "--data", str(FIXTURES / "topics_small.csv"),
         "--name", "cli-topic", "--models-dir", str(models_dir)],
    )  # fmt: skip
    assert refused.exit_code == 4
    assert "not themes of the taxonomy" in refused.output and "'price'" in refused.output
    assert "cxtext taxonomy init --from-labels" in refused.output
    # A workspace whose taxonomy comes from the same labels.
    from cxtext.workspace import init_workspace

    init_workspace(tmp_path / "ws", sample=False)
    monkeypatch.setenv("CXTEXT_HOME", str(tmp_path / "ws"))
    invoke("taxonomy", "init", "--from-labels", FIXTURES / "topics_small.csv", "--force")
    trained = invoke(
        "train",
        "--task",
        "topic",
        "--data",
        FIXTURES / "topics_small.csv",
        "--name",
        "cli-topic",
        "--models-dir",
        models_dir,
    )
    card = read_card("cli-topic", models_dir)
    assert card["metrics"]["multilabel"] is True
    # the model alone, then what `cxtext run` assigns (model or keyword), each labelled
    assert "Held-out metrics, the model alone" in trained.output
    assert "Held-out, as `cxtext run` assigns" in trained.output
    after = trained.output.split("Held-out, as `cxtext run` assigns")[1]
    rows = {cells[0]: cells[1:] for cells in _table_rows(after)}
    for theme, m in card["assignment_confusion"]["per_theme"].items():
        assert rows[theme][2:] == [str(m["tp"]), str(m["fp"]), str(m["fn"])], theme
    pd.DataFrame({"id": [1, 2], "text": ["app crashes on login", None]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    invoke(
        "predict",
        "--model",
        "cli-topic",
        "--input",
        tmp_path / "t.csv",
        "--output",
        tmp_path / "t_out.csv",
        "--models-dir",
        models_dir,
    )
    out = pd.read_csv(tmp_path / "t_out.csv", keep_default_na=False)
    assert out["prediction"][0] == "app" and out["prediction_reason"][1] == "empty text"


def test_promote_and_errors(models_dir):
    invoke("models", "promote", "cli-sent", "--as", "sentiment-en", "--models-dir", models_dir)
    assert champion_name("sentiment-en", models_dir) == "cli-sent"
    bad = runner.invoke(
        app, ["models", "promote", "cli-sent", "--as", "nope", "--models-dir", str(models_dir)]
    )
    assert bad.exit_code == 2 and "unknown role" in bad.output
    missing = runner.invoke(
        app,
        [
            "predict",
            "--model",
            "ghost",
            "--input",
            str(FIXTURES / "topics_small.csv"),
            "--output",
            "/tmp/x.csv",
            "--models-dir",
            str(models_dir),
        ],
    )
    assert missing.exit_code == 4 and "no model 'ghost'" in missing.output


def test_a_broken_registry_is_one_line_naming_the_fix(tmp_path, models_dir):
    import shutil

    broken = tmp_path / "models"
    shutil.copytree(models_dir, broken)
    (broken / "registry.json").write_text('{"champions": {"topic": ', encoding="utf-8")
    result = runner.invoke(app, ["models", "list", "--models-dir", str(broken)])
    assert result.exit_code == 4, result.output
    assert "registry.json is not readable JSON" in result.output
    assert "git checkout" in result.output and "Traceback" not in result.output
