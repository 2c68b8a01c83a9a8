"""Daily exports of a few hundred to a few thousand rows are validated together.

Validation has a fixed cost per call (~25 ms), so a quarter of ~1,100-row daily files
paid it 90 times; grouped up to ``partition_rows`` it is paid once per partition, with
every file's rows, quarantine and accounting as when each file is validated alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cxtext.ingest.feedback as feedback
from cxtext.config import load_settings
from cxtext.ingest.feedback import FileTally, iter_feedback

SMALL_FILE_ROWS = load_settings().ingest.small_file_rows  # the shipped setting the run passes


def _daily_files(folder: Path, days: int = 6, rows: int = 300) -> None:
    folder.mkdir()
    for d in range(days):
        lines = ["id,text,created_at,channel"]
        for r in range(rows):
            i = d * rows + r
            created = f"2024-05-{1 + d:02d}" if r % 97 else "not a date"  # some quarantined
            repeat = i - 5 if r % 113 == 7 else i  # the row five before again: a duplicate
            lines.append(f"D{repeat},the app {repeat % 17} is slow on day {d},{created},app")
        (folder / f"feedback-2024-05-{1 + d:02d}.csv").write_text("\n".join(lines) + "\n")


def _read(
    folder: Path, small_file_rows: int = SMALL_FILE_ROWS
) -> tuple[dict[str, FileTally], pd.DataFrame, pd.DataFrame]:
    batches = list(
        iter_feedback(
            [folder],
            small_file_rows=small_file_rows,
            partition_rows=1_000,
            max_text_chars=2_000,
            min_text_chars=1,
            default_channel="survey",
            pseudonym_key=b"k" * 32,
        )
    )
    tallies: dict[str, FileTally] = {}
    for b in batches:
        tallies.setdefault(b.source_file, FileTally()).add(b)
    records = pd.concat([b.records for b in batches], ignore_index=True)
    quarantine = pd.concat([b.quarantine for b in batches], ignore_index=True)
    return tallies, records, quarantine


def test_daily_files_are_validated_in_groups_with_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "daily"
    _daily_files(folder)
    calls: list[int] = []
    validate = feedback.validate_rows

    def counted(rows: pd.DataFrame, **kwargs):
        calls.append(len(rows))
        return validate(rows, **kwargs)

    monkeypatch.setattr(feedback, "validate_rows", counted)
    grouped = _read(folder)
    grouped_calls = list(calls)
    calls.clear()
    alone = _read(folder, small_file_rows=0)  # every file on its own
    assert calls == [300] * 6
    assert grouped_calls == [900, 900]  # three 300-row files fit in a 1,000-row partition
    assert grouped[0] == alone[0]
    assert all(t.balanced for t in grouped[0].values())
    assert len(grouped[0]) == 6
    pd.testing.assert_frame_equal(grouped[1], alone[1])
    pd.testing.assert_frame_equal(grouped[2], alone[2])
    assert len(grouped[2]) and sum(t.duplicates for t in grouped[0].values())
