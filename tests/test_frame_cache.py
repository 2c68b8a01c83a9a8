"""Reusing what a run read from unchanged side files: keyed by everything it depends on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxtext.config import load_settings
from cxtext.ingest.watermark import fingerprint
from cxtext.store.frame_cache import cache_key, load_frames, save_frames
from pipelines import nightly

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_frames_round_trip_and_a_changed_key_misses(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": pd.array(["a", None], dtype="string"),
            "flag": pd.array([True, None], dtype="boolean"),
            "at": pd.to_datetime(["2025-01-01", None], utc=True),
        }
    )
    key = cache_key("x", {"file": 1})
    save_frames(tmp_path, "x", key, {"f": frame}, {"notes": ["n"]})
    frames, meta = load_frames(tmp_path, "x", key)
    pd.testing.assert_frame_equal(frames["f"], frame)
    assert meta == {"notes": ["n"]}
    assert load_frames(tmp_path, "x", cache_key("x", {"file": 2})) is None
    save_frames(tmp_path, "x", cache_key("x", {"file": 2}), {"f": frame})
    assert load_frames(tmp_path, "x", key) is None  # one entry per name: the older one went
    assert len(list(tmp_path.glob("x-*"))) == 1


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    key = cache_key("x")
    entry = save_frames(tmp_path, "x", key, {"f": pd.DataFrame({"a": [1]})})
    (entry / "f.parquet").write_bytes(b"not parquet")
    assert load_frames(tmp_path, "x", key) is None


def _sample_side_files(tmp_path: Path) -> Path:
    """A folder holding copies of the sample's customers and transactions files."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("customers.csv", "transactions.csv"):
        shutil.copy(SAMPLE / name, folder / name)
    return folder


def _load(folder: Path, cache: Path) -> nightly.SideFiles:
    files = [str(folder / "customers.csv"), str(folder / "transactions.csv")]
    return nightly.load_customers.fn(
        *files,
        folder / "key",
        {f: fingerprint(f) for f in files},
        cache,
        load_settings().ingest.max_amount,
    )


def test_side_files_reused_only_while_their_bytes_are_the_same(tmp_path: Path) -> None:
    folder = _sample_side_files(tmp_path)
    cache = tmp_path / "cache"
    first = _load(folder, cache)
    again = _load(folder, cache)
    assert not first.reused and again.reused
    pd.testing.assert_frame_equal(again.customers, first.customers)
    pd.testing.assert_frame_equal(again.transactions, first.transactions)
    pd.testing.assert_frame_equal(again.quarantine, first.quarantine)

    lines = (folder / "customers.csv").read_text(encoding="utf-8").splitlines()
    (folder / "customers.csv").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    changed = _load(folder, cache)
    assert not changed.reused  # one customer fewer: read again
    assert len(changed.customers) == len(first.customers) - 1
    assert _load(folder, cache).reused

    (folder / "key").unlink()  # a new key is made: other pseudonyms for the same ids
    assert not _load(folder, cache).reused  # the ids' pseudonyms depend on the key


def test_lifetime_values_reused_only_for_the_same_inputs(tmp_path: Path) -> None:
    folder = _sample_side_files(tmp_path)
    sides = _load(folder, tmp_path / "cache")
    cfg = load_settings(None).value
    as_of = pd.Timestamp("2025-06-01", tz="UTC")

    def value(when: pd.Timestamp, settings=cfg) -> pd.DataFrame:
        return nightly.value.fn(
            sides.customers,
            sides.transactions,
            pd.DataFrame(),
            when,
            settings,
            cache=(tmp_path / "cache", sides.key),
        )

    fresh = value(as_of)
    reused = value(as_of)
    assert not any("reused" in n for n in fresh.attrs.get("notes", []))
    assert any("reused the lifetime values" in n for n in reused.attrs["notes"])
    pd.testing.assert_frame_equal(reused, fresh)
    later = value(as_of + pd.Timedelta(days=1))  # another as-of date: refitted
    assert not any("reused" in n for n in later.attrs.get("notes", []))
    other = value(as_of, cfg.__class__(**{**cfg.__dict__, "horizon_months": 6}))
    assert not any("reused" in n for n in other.attrs.get("notes", []))
    assert other["clv"].sum() != pytest.approx(fresh["clv"].sum())


def test_lifetime_values_from_feedback_alone_are_never_reused(tmp_path: Path) -> None:
    # no side files: the values follow the history, which the cache key does not name
    cfg = load_settings(None).value
    as_of = pd.Timestamp("2025-06-01", tz="UTC")

    def value(ids: list[str]) -> pd.DataFrame:
        history = pd.DataFrame(
            {
                "customer_id": pd.Series(ids, dtype="string"),
                "created_at": pd.Timestamp("2025-05-01", tz="UTC"),
                "metadata": pd.Series(["{}"] * len(ids), dtype="string"),
            }
        )
        return nightly.value.fn(None, None, history, as_of, cfg, cache=(tmp_path, "no-files"))

    assert set(value(["a"])["customer_id"]) == {"a"}
    again = value(["a", "b"])
    assert set(again["customer_id"]) == {"a", "b"}
    assert not any("reused" in n for n in again.attrs.get("notes", []))


def test_lifetime_values_kept_while_the_as_of_date_moved_a_small_share(tmp_path: Path) -> None:
    folder = _sample_side_files(tmp_path)
    sides = _load(folder, tmp_path / "cache")
    cfg = load_settings(None).value
    after_last = pd.Timestamp("2026-12-01", tz="UTC")  # the sample's transactions end 2026-11-19

    def value(when: pd.Timestamp, **kwargs) -> pd.DataFrame:
        return nightly.value.fn(
            sides.customers,
            sides.transactions,
            pd.DataFrame(),
            when,
            cfg,
            cache=(tmp_path / "cache", sides.key),
            **kwargs,
        )

    def kept(values: pd.DataFrame) -> bool:
        return any("kept the lifetime values" in n for n in values.attrs["notes"])

    fresh = value(after_last)
    observed = fresh.attrs["observed_days"]
    assert fresh.attrs["after_as_of"] == 0 and not kept(fresh)
    next_day = value(after_last + pd.Timedelta(days=1))  # 1 day of ~observed: under 1%
    assert 1 / observed < cfg.refit_time_share and kept(next_day)
    pd.testing.assert_frame_equal(next_day, fresh)
    assert not kept(value(after_last + pd.Timedelta(days=1), reestimate=True))
    # the re-estimate replaced the entry; from it, a move past the share re-estimates
    far = after_last + pd.Timedelta(days=1 + int(observed * cfg.refit_time_share) + 1)
    moved = value(far)
    assert not kept(moved) and moved["clv"].sum() < fresh["clv"].sum()
    # an estimate that left later transactions out does not stand at a later date
    early = pd.Timestamp("2026-11-10", tz="UTC")
    before = value(early)
    assert before.attrs["after_as_of"] > 0
    assert not kept(value(early + pd.Timedelta(days=1)))
