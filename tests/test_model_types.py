"""Every kind of model `cxtext train` produces loads everywhere, from one explicit allow-list.

Each kind is trained, then scored with `cxtext predict` and `cxtext evaluate` in a fresh
process, where nothing has imported the model's classes beforehand (a type trusted
only after some import would fail here), and the shipped champions load by role.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from typer.testing import CliRunner

from cxtext.classify.model_types import TRUSTED_TYPES
from cxtext.cli import app

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner(env={"COLUMNS": "200", "CXTEXT_HOME": None})  # --project sets it: undo

# name -> (task, label column, extra train options)
KINDS = {
    "sent-logreg": ("sentiment", "sentiment", []),
    "sent-nblr": ("sentiment", "sentiment", ["--param", "classifier=nblr"]),
    "topic-own": ("topic", "topic", []),
    "sent-late-e5": (
        "sentiment",
        "sentiment",
        ["--features", "tfidf+encoder", "--param", "fusion=late", "--param", "feature_weight=0.5"],
    ),
    "topic-late-e5": (
        "topic",
        "topic",
        ["--features", "tfidf+encoder", "--param", "fusion=late", "--param", "feature_weight=0.4"],
    ),
    "topic-late-e5-en": (  # the encoder member on English documents only
        "topic",
        "topic",
        [
            "--features",
            "tfidf+encoder",
            "--param",
            "fusion=late",
            "--param",
            "feature_weight=0.4",
            "--param",
            "encoder_languages=en",
        ],
    ),
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A workspace whose taxonomy is made from the topic fixture's labels, one model per kind."""
    from cxtext.workspace import init_workspace

    ws = tmp_path_factory.mktemp("ws")
    init_workspace(ws, sample=False)
    env = {"CXTEXT_HOME": str(ws)}
    result = runner.invoke(
        app,
        ["taxonomy", "init", "--from-labels", str(FIXTURES / "topics_small.csv"), "--force"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    for name, (task, label, extra) in KINDS.items():
        data = FIXTURES / ("topics_small.csv" if task == "topic" else "sentiment_small.csv")
        result = runner.invoke(
            app,
            ["train", "--task", task, "--data", str(data), "--label-column", label,
             "--name", name, *extra],
            env=env,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert (ws / "models" / name / "model.skops").exists()  # written in the workspace
    return ws


def test_every_saved_type_is_on_the_allow_list(workspace):
    shipped = [
        "topic-v1",
        "topic-static-v1",
        "topic-mapped-v1",
        "topic-mapped-v2",
        "topic-mapped-v3",
        "sentiment-fa-v1",
        "sentiment-fa-v2",
        "sentiment-en-v1",
    ]
    encoders = ["sentiment-en-encoder-v1", "sentiment-en-encoder-late-v1", "topic-encoder-v1"]
    for name in [*KINDS, *shipped, *encoders]:
        found = set(sio.get_untrusted_types(file=workspace / "models" / name / "model.skops"))
        assert found <= TRUSTED_TYPES, (name, found - TRUSTED_TYPES)


# One fresh process per task kind: its first command loads a model before anything in
# the process imported the model's classes; the second uses the other command.
FRESH = {
    "sentiment": [
        ["predict", "--model", "sent-logreg", "--input", "sentiment_small.csv", "--output", "{out}/a.csv"],
        ["evaluate", "--model", "sent-nblr", "--data", "sentiment_small.csv",
         "--label-column", "sentiment", "--output", "{out}/b.json"],
    ],
    "sentiment-late-fusion": [
        ["predict", "--model", "sent-late-e5", "--input", "sentiment_small.csv", "--output", "{out}/e.csv"],
        ["evaluate", "--model", "sent-late-e5", "--data", "sentiment_small.csv",
         "--label-column", "sentiment", "--output", "{out}/f.json"],
    ],
    "topic-late-fusion": [
        ["predict", "--model", "topic-late-e5", "--input", "topics_small.csv", "--output", "{out}/g.csv"],
        ["evaluate", "--model", "topic-late-e5", "--data", "topics_small.csv",
         "--label-column", "topic", "--output", "{out}/h.json"],
    ],
    "topic-late-fusion-english-only": [
        ["predict", "--model", "topic-late-e5-en", "--input", "topics_small.csv", "--output", "{out}/i.csv"],
        ["evaluate", "--model", "topic-late-e5-en", "--data", "topics_small.csv",
         "--label-column", "topic", "--output", "{out}/j.json"],
    ],
    "topic": [
        ["evaluate", "--model", "topic-own", "--data", "topics_small.csv",
         "--label-column", "topic", "--output", "{out}/c.json"],
        ["predict", "--model", "topic", "--input", "topics_small.csv", "--output", "{out}/d.csv"],
    ],
}  # fmt: skip
SCRIPT = """
import sys
from cxtext.cli import app
for args in {commands!r}:
    try:
        app(args, prog_name="cxtext")
    except SystemExit as exc:
        if exc.code:
            raise
"""


@pytest.mark.parametrize("kind", sorted(FRESH))
def test_predict_and_evaluate_in_a_fresh_process(workspace, tmp_path, kind):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CXTEXT_HOME": str(workspace), "COLUMNS": "200"}
    commands = [
        [str(FIXTURES / a) if a.endswith(".csv") and "/" not in a else a.format(out=tmp_path)
         for a in args]
        for args in FRESH[kind]
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(commands=commands)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "allow-list" not in output and "Traceback" not in output
    for path in tmp_path.iterdir():
        if path.suffix == ".csv":
            scored = pd.read_csv(path, keep_default_na=False)
            assert (scored["prediction_reason"] == "").all()
            assert (scored["prediction"] != "").mean() > 0.5, output
        else:
            assert '"macro_f1"' in path.read_text()
    assert len(list(tmp_path.iterdir())) == 2
    if kind == "topic":
        assert "topic-mapped-v3" in output  # the role "topic" is the shipped champion
