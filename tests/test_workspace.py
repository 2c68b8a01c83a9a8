"""Workspaces: `cxtext init`, commands found from inside one or with --project, writes only there.

And the wheel: built from this checkout, installed into a fresh virtual environment
with no checkout in sight, `cxtext init` + `cxtext run` work from the package data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxtext import workspace
from cxtext.cli import app
from cxtext.config import load_settings, resolve
from cxtext.errors import SettingsError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner(env={"COLUMNS": "200", "CXTEXT_HOME": None})  # --project sets it: undo


def test_init_makes_the_folder_and_refuses_to_overwrite(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    ws = tmp_path / "ws"
    for path in ("cxtext.yaml", "taxonomy.yaml", "models/registry.json", "data/sample", "out"):
        assert (ws / path).exists(), path
    assert {p.name for p in (ws / "models").iterdir()} >= {"topic-v1", "sentiment-fa-v1"}
    again = runner.invoke(app, ["init", str(ws)])
    assert again.exit_code == 2 and "already a workspace" in again.output


def test_commands_find_the_workspace_from_inside_or_by_project(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    workspace.init_workspace(ws, sample=False)
    (ws / "cxtext.yaml").write_text(
        (ws / "cxtext.yaml").read_text() + "report:\n  top: 3\n", encoding="utf-8"
    )
    (ws / "data" / "deep").mkdir()
    monkeypatch.delenv(workspace.HOME_VARIABLE, raising=False)
    monkeypatch.chdir(ws / "data" / "deep")
    assert workspace.project_root() == ws.resolve()
    assert load_settings().report.top == 3  # the workspace's cxtext.yaml is read
    assert resolve("models") == ws.resolve() / "models"
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "topic-v1" in listed.output
    monkeypatch.chdir(tmp_path)
    listed = runner.invoke(app, ["--project", str(ws), "models", "list"])
    assert listed.exit_code == 0 and str(ws.resolve() / "models") in listed.output.replace("\n", "")
    bad = runner.invoke(app, ["--project", str(tmp_path), "models", "list"])
    assert bad.exit_code == 2 and "cxtext init" in bad.output


def test_no_workspace_and_no_checkout_is_an_error_not_a_guess(tmp_path, monkeypatch):
    monkeypatch.delenv(workspace.HOME_VARIABLE, raising=False)
    monkeypatch.setattr(workspace, "_CHECKOUT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="cxtext init DIR"):
        workspace.project_root()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("cxtext ")


# --- the wheel ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel built from this checkout (deps from this one)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in ("cxtext", "pipelines", "models", "data"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", "--no-build-isolation", "--no-deps", "-w", str(tmp / "dist"), str(src)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (tmp / "build.log").write_text(built.stdout + built.stderr)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    # The dependencies come from this environment: a plain path, so its editable cxtext
    # (a .pth of its own) is not seen.
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = (tmp / "dist").glob("cxtext-*.whl")
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return venv


def _cxtext(venv: Path, cwd: Path, *args: str, timeout: int = 300):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", workspace.HOME_VARIABLE)}
    return subprocess.run(
        [str(venv / "bin" / "cxtext"), *args], cwd=cwd, env={**env, "COLUMNS": "120"},
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_wheel_builds_without_setuptools_warnings(installed):
    # a data-only folder left out of `packages` warns on every install, and a future
    # setuptools drops it from the wheel (the report's fonts and templates among them)
    log = (installed.parent / "build.log").read_text()
    assert "absent from the `packages` configuration" not in log, log[-2000:]
    (site,) = installed.glob("lib/python*/site-packages")
    assert any(site.glob("cxtext/report/fonts/*.woff2")) and any(
        site.glob("cxtext/report/templates/*.j2")
    )


def test_wheel_carries_models_and_taxonomy_and_init_works(installed, tmp_path):
    where = _cxtext(installed, tmp_path, "--version")
    assert where.returncode == 0 and where.stdout.startswith("cxtext ")
    outside = _cxtext(installed, tmp_path, "models", "list")
    assert outside.returncode == 2 and "cxtext init" in outside.stdout + outside.stderr
    assert _cxtext(installed, tmp_path, "init", "ws").returncode == 0
    ws = tmp_path / "ws"
    assert (ws / "models" / "topic-v1" / "model.skops").exists()
    scored = _cxtext(
        installed, ws, "predict", "--model", "topic",
        "--input", "data/sample/feedback/tickets_en.csv", "--output", "out/scored.csv",
    )  # fmt: skip
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "topic-mapped-v3" in scored.stdout and (ws / "out" / "scored.csv").exists()
    site = Path(sysconfig.get_paths()["purelib"])
    assert not any(site.glob("cxtext/shipped/models/ws*"))


@pytest.mark.slow
def test_installed_wheel_runs_the_nightly_flow_in_a_new_workspace(installed, tmp_path):
    assert _cxtext(installed, tmp_path, "init", "ws").returncode == 0
    run = _cxtext(installed, tmp_path / "ws", "run", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "ws" / "out" / "cxtext.duckdb").exists()
    assert "App errors" in run.stdout
