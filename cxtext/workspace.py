"""The project folder every command reads and writes: a workspace made by ``cxtext init``.

A workspace is a folder holding ``cxtext.yaml`` (its settings), ``taxonomy.yaml``,
``models/`` (the shipped champions and the registry, then the user's own models),
``data/`` and ``out/``, as dbt and Kedro projects are. Commands find it as git finds
a repository: ``--project DIR`` (which sets ``$CXTEXT_HOME``), else the nearest
``cxtext.yaml`` in the current folder or its parents, else, in a source checkout, the
checkout itself (so ``make run`` works as it always has). An installed cxtext outside
any workspace refuses to guess instead of writing into its own package folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cxtext.errors import SettingsError

WORKSPACE_FILE = "cxtext.yaml"
HOME_VARIABLE = "CXTEXT_HOME"
_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent

SETTINGS_TEMPLATE = """\
# cxtext workspace settings. Keys left out keep cxtext's defaults (cxtext/defaults.yaml in
# the installed package); relative paths resolve against this folder.
paths:
  taxonomy: taxonomy.yaml       # your themes: edit it, or `cxtext taxonomy init --from-labels FILE`
  models: models                # trained models + registry.json (champions per role)
  warehouse: out/cxtext.duckdb  # or a postgresql:// URL
  out: out
  report: out/report.html

# retrain:                      # `cxtext retrain ROLE` (and its weekly schedule)
#   data:
#     topic: [data/labelled/topics.csv]
"""


def shipped_dir(kind: str) -> Path:
    """The shipped ``models`` or ``data`` folder: inside the installed package, else the checkout's."""
    if kind not in ("models", "data"):
        raise ValueError(f"kind must be 'models' or 'data', got {kind!r}")
    packaged = _PACKAGE / "shipped" / kind
    return packaged if packaged.is_dir() else _CHECKOUT / kind


def _is_checkout(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "models").is_dir()


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the current folder) with cxtext.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    return None


def project_root() -> Path:
    """The folder relative settings paths resolve against (see the module docstring)."""
    given = os.environ.get(HOME_VARIABLE)
    if given:
        return Path(given)
    found = find_workspace()
    if found is not None:
        return found
    if _is_checkout(_CHECKOUT):
        return _CHECKOUT
    raise SettingsError(
        f"no cxtext workspace in {Path.cwd()} or its parents (no {WORKSPACE_FILE}): "
        "create one with `cxtext init DIR` and run commands inside it, or pass --project DIR"
    )


def settings_file() -> Path | None:
    """The workspace's ``cxtext.yaml`` when there is one (a checkout has none)."""
    path = project_root() / WORKSPACE_FILE
    return path if path.is_file() else None


def use_project(folder: Path) -> Path:
    """Make ``folder`` the workspace of this process (``--project``); it must hold cxtext.yaml."""
    folder = folder.expanduser().resolve()
    if not (folder / WORKSPACE_FILE).is_file():
        raise SettingsError(
            f"--project {folder}: not a cxtext workspace (no {WORKSPACE_FILE}); "
            f"create it with `cxtext init {folder}`"
        )
    os.environ[HOME_VARIABLE] = str(folder)
    return folder


def init_workspace(target: Path, *, sample: bool = True) -> list[Path]:
    """Create a workspace in ``target`` from the shipped taxonomy, champions and sample data.

    Returns what was created. An existing workspace (``cxtext.yaml`` present) is left
    untouched and raises :class:`SettingsError`.
    """
    target = target.expanduser().resolve()
    if (target / WORKSPACE_FILE).exists():
        raise SettingsError(f"{target / WORKSPACE_FILE} exists: {target} is already a workspace")
    models, data = shipped_dir("models"), shipped_dir("data")
    target.mkdir(parents=True, exist_ok=True)
    created = []
    for name in ("data", "out"):
        (target / name).mkdir(exist_ok=True)
        created.append(target / name)
    shutil.copyfile(data / "taxonomy.yaml", target / "taxonomy.yaml")
    created.append(target / "taxonomy.yaml")
    if not (target / "models").exists():
        shutil.copytree(
            models,
            target / "models",
            ignore=shutil.ignore_patterns("eval-*.json", ".*", "__pycache__"),
        )
        created.append(target / "models")
    if sample and not (target / "data" / "sample").exists():
        shutil.copytree(data / "sample", target / "data" / "sample")
        created.append(target / "data" / "sample")
    (target / WORKSPACE_FILE).write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    created.append(target / WORKSPACE_FILE)
    return created
