"""The shipped notebooks run top to bottom with the project's own kernel."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def kernel_name() -> str:
    """The ``python3`` kernel of this venv (registered in the venv only when missing)."""
    from ipykernel.kernelspec import install  # noqa: PLC0415
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: PLC0415

    specs = KernelSpecManager()
    try:
        argv = specs.get_kernel_spec("python3").argv
    except Exception:  # no such kernel yet
        argv = []
    if not argv or Path(argv[0]).resolve() != Path(sys.executable).resolve():
        install(kernel_name="python3", prefix=sys.prefix, display_name="Python 3 (cxtext venv)")
    return "python3"


def test_retrain_notebook_runs_under_a_minute(kernel_name):
    path = NOTEBOOKS / "retrain_classifier.ipynb"
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    assert elapsed < 60, f"notebook took {elapsed:.0f} s"
    outputs = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    assert "champion now:" in outputs
    assert not (Path.cwd() / "models" / "notebook-challenger").exists()
