"""The model registry: skops files with model cards, and which model is champion per role.

Layout under ``models_dir``::

    models/<name>/model.skops   # the whole Pipeline, text preparation included
    models/<name>/card.json     # the model card (see cxtext.classify.model_card)
    models/<name>/card.md       # the same card for people
    models/<name>/heldout.parquet  # its held-out rows (redacted, normalized text + label)
    models/registry.json        # {"champions": {role: name}, "history": [...]}

Loading trusts only the explicit allow-list of :mod:`cxtext.classify.model_types`,
checked on the type names written in the file, as strings, before anything named there
is imported. A file holding anything else (a function, an unknown class or module) is
refused with :class:`UntrustedModelError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io as sio

from cxtext.classify.model_card import library_versions, render_card_markdown
from cxtext.classify.model_types import TRUSTED_TYPES, is_trusted_type
from cxtext.errors import ModelError

ROLES = ("sentiment-fa", "sentiment-en", "topic")
MODEL_FILE = "model.skops"
CARD_JSON = "card.json"
CARD_MD = "card.md"
REGISTRY_FILE = "registry.json"
HELDOUT_FILE = "heldout.parquet"
HELDOUT_MAX_ROWS = 5_000  # enough for a comparison within about a point; keeps the folder small

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class UntrustedModelError(ModelError, ValueError):
    """A skops file holds types outside the allow-list; it is not loaded."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """No model of that name (or no champion for that role) in the models folder."""


def check_name(name: str) -> str:
    """A model name usable as a folder name: letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"invalid model name {name!r}: use letters, digits, '.', '_' or '-' "
            "(at most 100 characters, starting with a letter or digit)"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role


def model_dir(name: str, models_dir: str | Path) -> Path:
    return Path(models_dir) / check_name(name)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; models are shared read-only files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default) + "\n"


def save_model(
    estimator: Any,
    name: str,
    card: dict,
    models_dir: str | Path,
    heldout: tuple[list[str], list[Any]] | None = None,
) -> Path:
    """Write ``models_dir/name/`` (model.skops, card.json, card.md); return that folder.

    An existing model of the same name is replaced. The card gets ``name``,
    ``saved_at``, ``file_bytes``, ``sha256`` and (if missing) ``library_versions``.
    ``heldout`` (texts, labels) is kept beside it (:func:`write_heldout`) so a later
    challenger can be judged on the data this model was judged on.
    """
    folder = model_dir(name, models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".model.", suffix=".skops")
    os.close(fd)
    try:
        sio.dump(estimator, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / MODEL_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    data = (folder / MODEL_FILE).read_bytes()
    card = dict(card)
    card["name"] = name
    card["saved_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    card["file_bytes"] = len(data)
    card["sha256"] = hashlib.sha256(data).hexdigest()
    card.setdefault("library_versions", library_versions())
    if heldout is not None:
        card["heldout_rows"] = write_heldout(folder, *heldout)
    write_card(name, card, models_dir)
    return folder


def write_heldout(folder: Path, texts: list[str], labels: list[Any]) -> int:
    """Store held-out rows as the nightly flow stores text: PII redacted, normalized.

    Topic labels (lists) are stored ``|``-joined. At most :data:`HELDOUT_MAX_ROWS`
    rows (a fixed-seed sample). Returns the number of rows written.
    """
    from cxtext.normalize.documents import normalize_text  # noqa: PLC0415

    frame = pd.DataFrame(
        {
            "text": [str(t) for t in texts],
            "label": ["|".join(v) if isinstance(v, list | tuple) else str(v) for v in labels],
        }
    )
    if len(frame) > HELDOUT_MAX_ROWS:
        frame = frame.sample(HELDOUT_MAX_ROWS, random_state=42).sort_index()
    frame["text"] = [normalize_text(t)[1] for t in frame["text"]]  # raw text never stored
    frame.to_parquet(folder / HELDOUT_FILE, index=False)
    return len(frame)


def read_heldout(name: str, models_dir: str | Path) -> pd.DataFrame | None:
    """The held-out rows stored with a model (text, label), or None when it has none."""
    path = model_dir(name, models_dir) / HELDOUT_FILE
    return pd.read_parquet(path) if path.exists() else None


def write_card(name: str, card: dict, models_dir: str | Path) -> None:
    """(Re)write ``card.json`` and ``card.md`` of an existing model folder."""
    folder = model_dir(name, models_dir)
    _atomic_write_text(folder / CARD_JSON, _dumps(card))
    _atomic_write_text(folder / CARD_MD, render_card_markdown(name, card))


def read_card(name: str, models_dir: str | Path) -> dict:
    path = model_dir(name, models_dir) / CARD_JSON
    if not path.exists():
        raise ModelNotFoundError(f"no model card {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def update_card(name: str, updates: dict, models_dir: str | Path) -> dict:
    """Merge ``updates`` into a model's card (top-level keys) and rewrite it; return the card."""
    card = read_card(name, models_dir)
    card.update(updates)
    write_card(name, card, models_dir)
    return card


def _reported_types(path: Path) -> list[str]:
    """Type names skops does not trust by itself, read from the file's schema (no import)."""
    try:
        return sio.get_untrusted_types(file=path)
    except Exception as exc:  # a crafted schema can fail in any way
        raise UntrustedModelError(
            f"{path}: not a readable skops file ({type(exc).__name__}: {exc}); "
            "save models with `cxtext train` or cxtext.classify.registry.save_model"
        ) from exc


def untrusted_types_in(path: str | Path) -> list[str]:
    """Types in a skops file that are not on the allow-list (empty when it is safe to load)."""
    return sorted(t for t in _reported_types(Path(path)) if not is_trusted_type(t))


def load_skops(path: str | Path) -> Any:
    """Load a skops file whose every type name is on the allow-list; refuse anything else.

    The names are compared as strings before ``skops.io.load`` imports anything, so a
    file naming a module with import side effects is refused without running it.
    """
    path = Path(path)
    if not path.exists():
        raise ModelNotFoundError(f"no model file {path}")
    try:
        # skops.io.load audits every type name in the schema against ``trusted`` before it
        # imports or builds anything: one reading of the schema where a separate check read
        # it twice (~0.1 CPU-s for a night's three models, benchmarks/README.md)
        return sio.load(path, trusted=_TRUSTED)
    except Exception:
        refused = untrusted_types_in(path)  # a schema that cannot be read: UntrustedModelError
        if not refused:
            raise  # the types are trusted: the failure is the model's own
    raise UntrustedModelError(
        f"{path}: refusing to load types outside the allow-list: {', '.join(refused)}. "
        f"Only {len(TRUSTED_TYPES)} cxtext types (cxtext/classify/model_types.py) and "
        "skops' own safe scikit-learn/NumPy/SciPy types are trusted."
    )


_TRUSTED = sorted(TRUSTED_TYPES)


def load_model(name: str, models_dir: str | Path) -> tuple[Any, dict]:
    """(estimator, card) of a saved model; raises ModelNotFoundError or UntrustedModelError."""
    folder = model_dir(name, models_dir)
    if not (folder / MODEL_FILE).exists():
        available = ", ".join(list_model_names(models_dir)) or "none"
        raise ModelNotFoundError(
            f"no model {name!r} in {Path(models_dir)} (available: {available})"
        )
    estimator = load_skops(folder / MODEL_FILE)
    card = read_card(name, models_dir) if (folder / CARD_JSON).exists() else {"name": name}
    return estimator, card


def _read_registry(models_dir: str | Path) -> dict:
    path = Path(models_dir) / REGISTRY_FILE
    if not path.exists():
        return {"champions": {}, "history": []}
    try:
        reg = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(
            f"{path} is not readable JSON ({err}): restore it from git "
            f"(`git checkout -- {path}`) or promote the champions again"
        ) from err
    reg.setdefault("champions", {})
    reg.setdefault("history", [])
    return reg


def champion_name(role: str, models_dir: str | Path) -> str | None:
    """Name of the champion for ``role``, or None when there is none yet."""
    return _read_registry(models_dir)["champions"].get(check_role(role))


def champions(models_dir: str | Path) -> dict[str, str]:
    """{role: champion name} for every role that has one."""
    return dict(_read_registry(models_dir)["champions"])


def load_champion(role: str, models_dir: str | Path) -> tuple[Any, dict]:
    """(estimator, card) of the champion for ``role``."""
    name = champion_name(role, models_dir)
    if name is None:
        raise ModelNotFoundError(
            f"no champion for role {role!r} in {Path(models_dir) / REGISTRY_FILE}; "
            f"train one and run `cxtext models promote NAME --as {role}`"
        )
    return load_model(name, models_dir)


def promote(
    name: str, role: str, models_dir: str | Path, details: dict[str, Any] | None = None
) -> str | None:
    """Make ``name`` the champion for ``role``; return the previous champion's name.

    This only writes the registry: the checks (role, language, taxonomy, score against
    the champion) are :func:`cxtext.classify.promotion.check_promotion`'s. ``details``
    (the comparison, ``forced``) is recorded in the registry's history.
    """
    check_role(role)
    if not (model_dir(name, models_dir) / MODEL_FILE).exists():
        raise ModelNotFoundError(f"cannot promote {name!r}: no model in {Path(models_dir)}")
    reg = _read_registry(models_dir)
    previous = reg["champions"].get(role)
    reg["champions"][role] = name
    reg["history"].append(
        {
            "role": role,
            "name": name,
            "previous": previous,
            "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **(details or {}),
        }
    )
    _atomic_write_text(Path(models_dir) / REGISTRY_FILE, _dumps(reg))
    return previous


def list_model_names(models_dir: str | Path) -> list[str]:
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{MODEL_FILE}"))


def list_models(models_dir: str | Path) -> pd.DataFrame:
    """One row per saved model: name, task, lang, created, rows, held-out scores, champion roles."""
    champs = champions(models_dir)
    rows = []
    for name in list_model_names(models_dir):
        try:
            card = read_card(name, models_dir)
        except (ModelNotFoundError, json.JSONDecodeError):
            card = {}
        metrics = card.get("metrics") or {}
        rows.append(
            {
                "name": name,
                "task": card.get("task"),
                "lang": card.get("lang"),
                "created_at": card.get("created_at"),
                "rows_train": card.get("rows_train"),
                "accuracy": metrics.get("accuracy", metrics.get("subset_accuracy")),
                "macro_f1": metrics.get("macro_f1"),
                "champion_of": ",".join(sorted(r for r, n in champs.items() if n == name)),
                "size_mb": round(
                    (model_dir(name, models_dir) / MODEL_FILE).stat().st_size / 1e6, 2
                ),
            }
        )
    columns = [
        "name",
        "task",
        "lang",
        "created_at",
        "rows_train",
        "accuracy",
        "macro_f1",
        "champion_of",
        "size_mb",
    ]
    return pd.DataFrame(rows, columns=columns)
