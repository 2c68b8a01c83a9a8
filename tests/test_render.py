"""The pain-point table reads well in an 80-column terminal and in a wide one."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from rich.console import Console

from cxtext.cli.render import print_file_accounts, print_pain_points
from cxtext.ingest.feedback import FileTally
from cxtext.schema import PAIN_POINTS, conform


def _pain() -> pd.DataFrame:
    rows = [
        {
            "segment": "all",
            "theme_id": tid,
            "theme_en": en,
            "theme_fa": fa,
            "rank": rank,
            "mentions": 224,
            "negative_rate": 0.77,
            "customers": 109,
            "mean_clv": 164.0,
            "churn_uplift": 0.15,
            "churn_uplift_low": 0.10,
            "churn_uplift_high": 0.20,
            "clv_at_risk": 4145.0,
            "clv_at_risk_low": 2603.0,
            "clv_at_risk_high": 5426.0,
            "nps_impact": -5.8,
            "trend": 1.06,
            "spike": spike,
            "method": "joint_logit",
            "window_start": pd.Timestamp("2026-10-23"),
            "window_end": pd.Timestamp("2026-11-20"),
        }
        for rank, (tid, en, fa, spike) in enumerate(
            [
                ("app_bugs", "App errors & crashes", "خطا و خرابی اپلیکیشن", np.True_),
                ("payments_refunds", "Payments & refunds", "پرداخت و بازگشت وجه", False),
                ("account_login", "Login, password & OTP", "ورود، رمز و کد یکبار مصرف", False),
            ],
            start=1,
        )
    ]
    return conform(pd.DataFrame(rows), PAIN_POINTS)


def _render(width: int) -> str:
    out = io.StringIO()
    print_pain_points(Console(file=out, width=width, color_system=None), _pain(), top=10)
    return out.getvalue()


def test_narrow_terminal_keeps_names_and_numbers_whole():
    text = _render(80)
    assert max(len(line) for line in text.splitlines()) <= 80
    for whole in (
        "App errors & crashes",
        "خطا و خرابی اپلیکیشن",
        "4,145",
        "2,603–5,426",
        "▲ spike",
    ):
        assert whole in text
    assert "churn uplift" not in text  # left to `cxtext explain` in narrow terminals
    assert text.count("▲ spike") == 1  # a NumPy true counts; a false does not


def test_wide_terminal_adds_uplift_and_mean_clv():
    text = _render(140)
    assert "churn uplift" in text and "10%–20%" in text and "mean CLV" in text


def test_the_method_line_names_the_row_it_belongs_to():
    # each theme records its own method (its CLV sources, its unlinked mentions)
    text = " ".join(_render(200).split())
    assert "method of the App errors & crashes row (each theme has its own" in text
    assert "): joint_logit" in text


def test_file_accounts_show_file_names_redacted_and_printable():
    out = io.StringIO()
    files = {"in/0912 731 5846.csv": FileTally(1, 1), "in/esc\x1b]0;x\x07.csv": FileTally(1, 1)}
    print_file_accounts(Console(file=out, width=80, force_terminal=True), files)
    shown = out.getvalue()
    assert "[PHONE].csv" in shown and "0912" not in shown and "\x07" not in shown


def test_file_accounts_of_thousands_of_files_fit_one_screen():
    """A per-ticket export folder: the files with problems, then one line for the rest."""
    out = io.StringIO()
    files = {f"in/t{i:04d}.csv": FileTally(1, 1) for i in range(3000)}
    files["in/t2999.csv"] = FileTally(2, 1, 1, reasons={"bad_created_at": 1})
    print_file_accounts(Console(file=out, width=80, force_terminal=False), files)
    shown = out.getvalue()
    assert "t2999.csv" in shown and "t0000.csv" in shown and "t2000.csv" not in shown
    assert "2,960 more files" in shown
    assert len(shown.splitlines()) < 50
