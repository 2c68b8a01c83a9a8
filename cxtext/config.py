"""Settings: the shipped defaults, optionally overlaid by a user's YAML file.

Stages receive plain values from here as arguments; none of them reads settings itself.
"""

from __future__ import annotations

import os
from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


def project_root() -> Path:
    """The folder holding data/ and models/: $CXTEXT_HOME, else the repository checkout."""
    env = os.environ.get("CXTEXT_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[1]


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    out = deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(path: Path | None = None) -> dict[str, Any]:
    """Defaults overlaid with ``path``; an unknown section or key is an error, not ignored."""
    settings = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    if path is None:
        return settings
    overlay = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for section, values in overlay.items():
        if section not in settings:
            raise ValueError(f"{path}: unknown settings section {section!r}")
        if isinstance(values, dict):
            unknown = set(values) - set(settings[section])
            if unknown:
                raise ValueError(f"{path}: unknown keys in [{section}]: {sorted(unknown)}")
    return _merge(settings, overlay)


def resolve(path: str | Path) -> Path:
    """A settings path made absolute against the project root."""
    p = Path(path)
    return p if p.is_absolute() else project_root() / p
