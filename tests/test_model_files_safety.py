"""Crafted model files are refused on their type names alone: nothing they name is imported.

Each file below names something dangerous in its skops schema: an unknown module, a
module whose import has a side effect (it writes a marker file), f2py's ``__main__``
(importing it runs f2py with the caller's arguments), ``builtins.eval`` and
``posix.system``. Loading must refuse with a clear ModelError (exit code 4 on the command
line) and leave no trace: the marker file is never written, the module never imported.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from cxtext.classify.registry import UntrustedModelError, load_model, load_skops
from cxtext.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
SIDE_EFFECT_MODULE = "cxtext_test_side_effect"


def _base_schema() -> dict:
    """The schema of a real saved Pipeline: FunctionTransformer(len) inside a Pipeline."""
    data = sio.dumps(Pipeline([("x", FunctionTransformer(len))]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("schema.json"))


def _crafted(where: str, module: str, name: str) -> dict:
    """The base schema with the outer object (``where="object"``) or the function renamed."""
    schema = _base_schema()
    if where == "object":
        node = schema
    else:
        steps = schema["content"]["content"]["steps"]["content"]
        node = steps[0]["content"][1]["content"]["content"]["func"]
    node["__module__"], node["__class__"] = module, name
    return schema


CRAFTED = {
    "unknown-module": _crafted("object", "no_such_module_anywhere", "Model"),
    "side-effect": _crafted("object", SIDE_EFFECT_MODULE, "Model"),
    "side-effect-function": _crafted("function", SIDE_EFFECT_MODULE, "run"),
    "f2py-main": _crafted("object", "numpy.f2py.__main__", "main"),
    "f2py-main-as-class": _crafted("object", "numpy.f2py", "__main__"),
    "builtins-eval": _crafted("function", "builtins", "eval"),
    "posix-system": _crafted("function", "posix", "system"),
    "cxtext-lookalike": _crafted("object", "cxtext.classify.features_evil", "TextPreparer"),
}


def _write_skops(path: Path, schema: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("schema.json", json.dumps(schema))
    return path


@pytest.fixture()
def side_effect_module(tmp_path, monkeypatch):
    """A module on sys.path that writes ``marker`` when imported; returns the marker path."""
    marker = tmp_path / "imported.marker"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / f"{SIDE_EFFECT_MODULE}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nclass Model:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(lib))
    return marker


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_file_is_refused_without_importing(tmp_path, side_effect_module, case):
    path = _write_skops(tmp_path / "models" / case / "model.skops", CRAFTED[case])
    before = set(sys.modules)
    with pytest.raises(UntrustedModelError, match="refusing to load types outside the allow-list"):
        load_skops(path)
    with pytest.raises(ModelError):
        load_model(case, tmp_path / "models")
    imported = set(sys.modules) - before
    assert not side_effect_module.exists()
    assert not {m for m in imported if m.startswith(("numpy.f2py", SIDE_EFFECT_MODULE))}
    assert "no_such_module_anywhere" not in sys.modules


def test_refusal_names_the_types(tmp_path):
    path = _write_skops(tmp_path / "m.skops", CRAFTED["posix-system"])
    with pytest.raises(UntrustedModelError, match=r"posix\.system"):
        load_skops(path)
    path = _write_skops(tmp_path / "e.skops", CRAFTED["f2py-main"])
    with pytest.raises(UntrustedModelError, match=r"numpy\.f2py\.__main__\.main"):
        load_skops(path)


def test_malformed_schema_is_a_model_error(tmp_path):
    path = tmp_path / "bad.skops"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("schema.json", json.dumps({"protocol": 2, "__loader__": "NoSuchNode"}))
    with pytest.raises(UntrustedModelError, match="not a readable skops file"):
        load_skops(path)


def test_cli_predict_refuses_with_exit_4_and_no_side_effect(tmp_path):
    """The whole command line, in a fresh process, on the side-effect and f2py files."""
    marker = tmp_path / "imported.marker"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / f"{SIDE_EFFECT_MODULE}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nclass Model:\n    pass\n"
    )
    models = tmp_path / "models"
    _write_skops(models / "side-effect" / "model.skops", CRAFTED["side-effect"])
    _write_skops(models / "f2py" / "model.skops", CRAFTED["f2py-main"])
    data = tmp_path / "in.csv"
    data.write_text("text\nhello\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(lib)])}
    for name in ("side-effect", "f2py"):
        proc = subprocess.run(
            [sys.executable, "-m", "cxtext", "predict", "--model", name, "--input", str(data),
             "--output", str(tmp_path / "out.csv"), "--models-dir", str(models)],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 4, proc.stdout + proc.stderr
        assert "refusing to load types outside the allow-list" in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert not (tmp_path / "out.csv").exists()
    assert not marker.exists()
