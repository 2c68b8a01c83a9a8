"""Own labels become themes: `taxonomy init` + `train` + `promote`, then `cxtext run` ranks them.

A small airline-style export in a temporary workspace: complaints labelled with the
organisation's own reasons ("Lost Luggage", "Refund Delay", ...), and customers whose
churn was planted so refund delays cost the most lifetime value. The ranked table must
show the organisation's themes, in the planted order at the top, and no sample theme.
The model trained by `cxtext train` carries its held-out confusion in its card, so the
run corrects for misclassification, and the planted CLV at risk lies inside most 90%
intervals (the same path on real airline tweets: docs/value.md §4).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxtext.cli import app
from cxtext.workspace import init_workspace

runner = CliRunner(env={"COLUMNS": "200", "CXTEXT_HOME": None})  # --project sets it: undo

PHRASES = {
    "Lost Luggage": ["my bag never arrived", "lost my luggage", "suitcase is missing",
                     "baggage claim lost my bags", "still no sign of my luggage"],
    "Late Flight": ["flight delayed three hours", "we sat on the tarmac forever",
                    "missed my connection because of the delay", "departure was late again",
                    "delayed flight and no explanation"],
    "Refund Delay": ["still waiting for my refund", "refund has not been paid back",
                     "you promised a refund weeks ago", "my money was never refunded",
                     "refund request ignored for a month"],
    "Rude Staff": ["the gate agent was rude", "crew were rude and dismissive",
                   "staff shouted at us", "unprofessional and rude attendant",
                   "rude service at the check-in desk"],
}  # fmt: skip
OPENERS = ["Terrible experience:", "Awful.", "Very disappointed,", "Worst airline ever,", ""]
CLOSERS = ["Never again.", "Unacceptable!", "So frustrating.", "I am furious.", ""]
# Planted effect of raising each theme on churn, and customers' CLV by theme.
CHURN = {"Refund Delay": 0.55, "Late Flight": 0.3, "Lost Luggage": 0.12, "Rude Staff": 0.0}


def _text(rng: random.Random, label: str) -> str:
    return " ".join(
        p for p in (rng.choice(OPENERS), rng.choice(PHRASES[label]), rng.choice(CLOSERS)) if p
    )


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """labelled.csv (an old, hand-labelled export), feedback.csv and customers.csv."""
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("export")
    labels = list(PHRASES)
    labelled = [(f"L{i}", _text(rng, lab), lab) for i, lab in enumerate(labels * 40)]
    pd.DataFrame(labelled, columns=["ticket_id", "comment", "reason"]).to_csv(
        folder / "labelled.csv", index=False
    )
    customers, feedback = [], []
    at_risk = dict.fromkeys(labels, 0.0)  # true CLV at risk: the uplift is CHURN[t] for everyone
    for c in range(400):
        cid = f"C{c:04d}"
        raised = rng.sample(labels, rng.choice([0, 1, 1, 2]))
        p_churn = 0.08 + sum(CHURN[t] for t in raised)
        customers.append((cid, "basic", round(rng.uniform(200, 400), 2), rng.random() < p_churn))
        for t in raised:
            at_risk[t] += customers[-1][2] * CHURN[t]
        for t in raised:
            day = rng.randrange(1, 27)
            feedback.append(
                (f"F{len(feedback)}", _text(rng, t), f"2026-10-{day:02d}T10:00:00Z", cid)
            )
    pd.DataFrame(customers, columns=["customer_id", "plan", "clv", "churned"]).to_csv(
        folder / "customers.csv", index=False
    )
    pd.DataFrame(feedback, columns=["id", "text", "created_at", "customer_id"]).to_csv(
        folder / "feedback.csv", index=False
    )
    pd.Series(at_risk, name="true_clv_at_risk").rename_axis("theme_en").to_csv(folder / "truth.csv")
    return folder


def test_own_labels_to_ranked_own_themes(export, tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, sample=False)

    def cx(*args: str):
        result = runner.invoke(app, ["--project", str(ws), *map(str, args)])
        assert result.exit_code == 0, result.output
        return result

    labelled = export / "labelled.csv"
    made = cx("taxonomy", "init", "--from-labels", labelled, "--label-column", "reason",
              "--text-column", "comment", "--force")  # fmt: skip
    assert "refund_delay" in made.output
    taxonomy = (ws / "taxonomy.yaml").read_text(encoding="utf-8")
    assert "keywords_mined: true" in taxonomy and "refund" in taxonomy
    trained = cx("train", "--task", "topic", "--data", labelled, "--label-column", "reason",
                 "--text-column", "comment", "--name", "own-topic")  # fmt: skip
    card = json.loads((ws / "models" / "own-topic" / "card.json").read_text(encoding="utf-8"))
    confusion = card["assignment_confusion"]  # measured on the held-out 20% by `cxtext train`
    assert set(confusion["per_theme"]) == {
        "lost_luggage",
        "late_flight",
        "refund_delay",
        "rude_staff",
    }
    assert confusion["n"] == card["rows_eval"] and confusion["threshold"] == 0.5
    # and per language, as the normalize stage detects it (the export is English)
    assert {lang: part["n"] for lang, part in confusion["by_language"].items()} == {
        "en": confusion["n"]
    }
    assert f"{confusion['n']:,} texts, en {confusion['n']:,})" in trained.output
    promoted = cx("models", "promote", "own-topic", "--as", "topic")
    assert "new taxonomy" in promoted.output  # said, not hidden: no comparison with topic-v1
    run = cx("run", "--feedback", export / "feedback.csv", "--customers", export / "customers.csv",
             "--as-of", "2026-10-28")  # fmt: skip
    assert "not corrected for misclassification" not in run.output

    import duckdb

    with duckdb.connect(str(ws / "out" / "cxtext.duckdb"), read_only=True) as con:
        pain = con.sql(
            "select theme_id, theme_en, rank, clv_at_risk, clv_at_risk_low, clv_at_risk_high, "
            "method from pain_points where segment = 'all' order by rank"
        ).df()
    assert set(pain["theme_id"]) == {"lost_luggage", "late_flight", "refund_delay", "rude_staff"}
    assert list(pain["theme_id"][:3]) == ["refund_delay", "late_flight", "lost_luggage"]
    assert pain["theme_en"].iloc[0] == "Refund Delay"
    assert pain["method"].str.contains("corrected for misclassification: own-topic card").all()
    truth = pd.read_csv(export / "truth.csv").set_index("theme_en")["true_clv_at_risk"]
    true = pain["theme_en"].map(truth)
    inside = (pain["clv_at_risk_low"] <= true) & (true <= pain["clv_at_risk_high"])
    assert inside.sum() >= 3, pain.assign(true=true)
