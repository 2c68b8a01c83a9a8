"""Settings: the shipped defaults, optionally overlaid by a user's YAML file, as typed sections.

Every tunable has its value (and the comment saying why) in ``cxtext/defaults.yaml`` and
nowhere else; each section below is a frozen dataclass with one annotated field per key
and no defaults of its own. :func:`load_settings` checks names, types and ranges once, so
a stage receives a section it can trust and never reads settings itself.

Adding a key: one line in ``defaults.yaml`` and one field in its section here, e.g.
``spike_alpha: Annotated[float, Between(0, 1)]``. Adding a section: a frozen dataclass
here and one field on :class:`Settings`.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import yaml

from cxtext import workspace
from cxtext.errors import SettingsError

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


def project_root() -> Path:
    """The workspace (or checkout) holding data/ and models/: see :mod:`cxtext.workspace`."""
    return workspace.project_root()


def resolve(path: str | Path) -> Path:
    """A settings path made absolute against the project root."""
    p = Path(path)
    return p if p.is_absolute() else project_root() / p


@dataclass(frozen=True)
class Between:
    """A range a number must fall in; ``None`` leaves that side open."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: ``low`` itself is not allowed

    def problem(self, value: float) -> str | None:
        too_low = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        too_high = self.high is not None and value > self.high
        if not (too_low or too_high):
            return None
        if self.low is not None and self.high is not None:
            return f"must be between {self.low:g} and {self.high:g}"
        return f"must be {'>' if self.low_open else '>='} {self.low:g}"


def AtLeast(low: float) -> Between:  # noqa: N802 (reads as a type annotation)
    return Between(low)


def Positive() -> Between:  # noqa: N802
    return Between(0, low_open=True)


Fraction = Annotated[float, Between(0, 1)]


@dataclass(frozen=True)
class PathsSettings:
    taxonomy: str
    models: str
    warehouse: str
    out: str
    report: str


@dataclass(frozen=True)
class RunSettings:
    lock_wait_seconds: Annotated[float, AtLeast(0)]
    workers: Annotated[int, AtLeast(0)]
    processes_from_mb: Annotated[float, AtLeast(0)]
    partitions_in_flight: Annotated[int, AtLeast(1)]
    refit_share: Fraction


@dataclass(frozen=True)
class IngestSettings:
    partition_rows: Annotated[int, AtLeast(1)]
    max_text_chars: Annotated[int, AtLeast(1)]
    min_text_chars: Annotated[int, AtLeast(0)]
    default_channel: str
    future_tolerance_days: Annotated[float, AtLeast(0)]
    earliest_year: Annotated[int, Between(1900, 2200)]
    small_file_rows: Annotated[int, AtLeast(1)]
    max_amount: Annotated[float, Positive()]
    max_id_chars: Annotated[int, AtLeast(1)]

    def __post_init__(self) -> None:
        if self.min_text_chars > self.max_text_chars:
            raise ValueError("min_text_chars must not exceed max_text_chars")


@dataclass(frozen=True)
class NormalizeSettings:
    mixed_min_share: Fraction


@dataclass(frozen=True)
class ClassifySettings:
    topic_threshold: Fraction
    neutral_band: Fraction


@dataclass(frozen=True)
class ValueSettings:
    horizon_months: Annotated[int, AtLeast(1)]
    annual_discount_rate: Annotated[float, AtLeast(0)]
    default_clv: Annotated[float, AtLeast(0)]
    default_clv_by_segment: dict[str, float]
    segment_column: str
    churn_uplift_prior: Fraction
    min_repeat_buyers: Annotated[int, AtLeast(0)]
    interval_level: Annotated[float, Between(0, 1, low_open=True)]
    uplift_prior_sd: Annotated[float, Positive()]
    uplift_bootstrap: Annotated[int, AtLeast(1)]
    uplift_seed: int
    tenure_hints: tuple[str, ...]
    currency: str  # of every money figure: shown in tables, the report and exports
    time_resolution: str  # auto | day | exact (checked by value.rfm)
    misclassification_correction: bool
    misclassification_sweeps: Annotated[int, AtLeast(1)]
    confusion_prior_texts: Annotated[float, AtLeast(0)]
    refit_time_share: Fraction  # keep values while the as-of moved under this share of mean T


@dataclass(frozen=True)
class PainpointsSettings:
    window_days: Annotated[int, AtLeast(1)]
    segments: tuple[str, ...]
    spike_ratio: Annotated[float, AtLeast(1)]
    spike_min_mentions: Annotated[int, AtLeast(0)]
    spike_alpha: Annotated[float, Between(0, 1, low_open=True)]
    examples: Annotated[int, AtLeast(0)]
    example_chars: tuple[int, int]
    follow_up_themes: Annotated[int, AtLeast(0)]  # top themes whose customers are followed up

    def __post_init__(self) -> None:
        low, high = self.example_chars
        if not 0 <= low <= high:
            raise ValueError(f"example_chars must be [shortest, longest], got {[low, high]}")


@dataclass(frozen=True)
class ReportSettings:
    top: Annotated[int, AtLeast(1)]  # themes in the ranked table and the bar chart
    trend_weeks: Annotated[int, AtLeast(1)]  # weeks of negative mentions in the trend chart
    trend_themes: Annotated[int, AtLeast(1)]  # lines in the trend chart


@dataclass(frozen=True)
class DiscoverySettings:
    min_documents: Annotated[int, AtLeast(1)]  # a smaller language group is not clustered
    min_cluster_size: Annotated[int, AtLeast(2)]  # HDBSCAN: smaller groups are noise
    max_documents: Annotated[int, AtLeast(2)]  # HDBSCAN sees a sample of this size at most
    svd_components: Annotated[int, AtLeast(2)]  # truncated SVD dimensions
    max_cluster_share: Fraction  # HDBSCAN keeps no cluster larger than this share
    merge_similarity: Fraction  # clusters with centroids this alike become one candidate
    join_margin: Fraction | None  # a noise document nearer a cluster than its noise by this joins
    link_margin: Fraction  # fa and en candidates this alike (CSLS on e5) are one theme
    keywords: Annotated[int, AtLeast(1)]  # distinctive keywords kept per candidate
    match_overlap: Fraction  # keyword Jaccard with a previous candidate that keeps its id


@dataclass(frozen=True)
class RetrainSettings:
    margin: Annotated[float, AtLeast(0)]  # a challenger must gain this much to be promoted
    metric: str  # the held-out metric both models are compared on
    test_size: Annotated[float, Between(0, 1, low_open=True)]
    seed: int
    cron: str  # the weekly retrain deployment's schedule
    roles: tuple[str, ...]  # roles the scheduled retrain trains
    data: dict[str, tuple[str, ...]]  # labelled files per role, relative to the workspace


@dataclass(frozen=True)
class Settings:
    """Every section of ``defaults.yaml``, typed; ``source`` is the overlay file, if any."""

    paths: PathsSettings
    run: RunSettings
    ingest: IngestSettings
    normalize: NormalizeSettings
    classify: ClassifySettings
    value: ValueSettings
    painpoints: PainpointsSettings
    report: ReportSettings
    discovery: DiscoverySettings
    retrain: RetrainSettings
    source: Path | None = None  # not a section: where the overlay came from
    # Not a section either: the overlay's list of feedback sources (path/glob, columns,
    # channel, date_format, timezone, sheet), checked by cxtext.ingest.sources.
    sources: tuple[Any, ...] = ()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"{path}: settings file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the settings file ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(
            f"{path}:{where} not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected sections such as 'value:' at the top level")
    return data


def _unknown(path: Path, what: str, name: str, known: list[str]) -> SettingsError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
    return SettingsError(f"{path}: unknown {what} {name!r}{hint}")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` as the annotated type, or a SettingsError-ready ValueError naming ``where``."""
    checks: tuple[Any, ...] = ()
    if typing.get_origin(hint) is Annotated:
        hint, *checks = typing.get_args(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return _coerce(value, hint, where)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    elif hint is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ValueError(f"{where} must be a whole number, got {value!r}")
    elif hint in (str, bool, float) and not isinstance(value, hint):
        raise ValueError(f"{where} must be {hint.__name__}, got {value!r}")
    elif origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where} must be a list, got {value!r}")
        items = args[:1] * len(value) if args[-1:] == (Ellipsis,) else args
        if len(items) != len(value):
            raise ValueError(f"{where} must be a list of {len(items)} values, got {value!r}")
        value = tuple(
            _coerce(v, h, f"{where}[{i}]")
            for i, (v, h) in enumerate(zip(value, items, strict=True))
        )
    elif origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be a mapping such as {{premium: 900}}, got {value!r}")
        value = {
            _coerce(k, args[0], where): _coerce(v, args[1], f"{where}.{k}")
            for k, v in value.items()
        }
    for check in checks:
        problem = check.problem(value)
        if problem:
            raise ValueError(f"{where} {problem}, got {value!r}")
    return value


def _section(cls: type, name: str, values: dict[str, Any], path: Path) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    extra = set(values) - set(hints)
    if extra:  # a key in defaults.yaml that no field reads would be a silent lie
        raise SettingsError(
            f"{DEFAULTS_FILE}: {name}.{sorted(extra)[0]} has no field in cxtext/config.py"
        )
    try:
        typed = {
            f.name: _coerce(values[f.name], hints[f.name], f"{name}.{f.name}") for f in fields(cls)
        }
        return cls(**typed)
    except KeyError as exc:  # a key of the class missing from defaults.yaml: a packaging bug
        raise SettingsError(f"{DEFAULTS_FILE}: {name}.{exc.args[0]} has no default") from exc
    except ValueError as exc:
        msg = str(exc) if str(exc).startswith(f"{name}.") else f"{name}: {exc}"
        raise SettingsError(f"{path}: {msg}") from exc


@functools.cache
def shipped_settings() -> Settings:
    """``defaults.yaml`` alone, no workspace file: a library call's default where a run passes
    the user's setting (``read_customers``' ``max_amount``)."""
    return load_settings(DEFAULTS_FILE)


def load_settings(path: Path | str | None = None) -> Settings:
    """Defaults overlaid with ``path`` (default: the workspace's cxtext.yaml, if any).

    Unknown, mistyped or out-of-range keys raise SettingsError.
    """
    merged = _read_yaml(DEFAULTS_FILE)
    sources: list[Any] = []
    path = path if path is not None else workspace.settings_file()
    overlay_path = Path(path) if path is not None else None
    origin = {name: DEFAULTS_FILE for name in merged}
    if overlay_path is not None:
        overlay = _read_yaml(overlay_path)
        if "sources" in overlay:
            sources = overlay.pop("sources") or []
            if not isinstance(sources, list):
                raise SettingsError(f"{overlay_path}: 'sources' must be a list of sources")
        for name, values in overlay.items():
            if name not in merged:
                raise _unknown(overlay_path, "settings section", str(name), list(merged))
            if not isinstance(values, dict):
                raise SettingsError(
                    f"{overlay_path}: section {name!r} must hold 'key: value' lines"
                )
            for key in values:
                if key not in merged[name]:
                    known = list(merged[name])
                    raise _unknown(overlay_path, f"key in [{name}]:", str(key), known)
            merged[name] = merged[name] | values
            origin[name] = overlay_path
    sections = [f.name for f in fields(Settings) if f.name not in ("source", "sources")]
    if set(merged) - set(sections):
        extra = sorted(set(merged) - set(sections))[0]
        raise SettingsError(f"{DEFAULTS_FILE}: section {extra!r} has no class in cxtext/config.py")
    hints = typing.get_type_hints(Settings)
    typed = {}
    for name in sections:
        if name not in merged:
            raise SettingsError(f"{DEFAULTS_FILE}: section {name!r} is missing")
        typed[name] = _section(hints[name], name, merged[name], origin[name])
    return Settings(**typed, source=overlay_path, sources=tuple(sources))
