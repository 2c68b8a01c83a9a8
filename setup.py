"""Packaging hook: the wheel ships the top-level ``models/`` and ``data/`` folders as package data.

The repository keeps ``models/`` and ``data/`` at the top level (the design's layout);
an installed cxtext finds them inside the package as ``cxtext/shipped/models`` and
``cxtext/shipped/data`` (see :mod:`cxtext.workspace`), so ``pip install`` followed by
``cxtext init`` + ``cxtext run`` needs no checkout. Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

SHIPPED = {"cxtext.shipped.models": "models", "cxtext.shipped.data": "data"}


def shipped_folders() -> list[str]:
    """Data-only sub-folders with importable names, listed so setuptools does not warn about each."""
    return [
        f"{package}.{'.'.join(sub.relative_to(folder).parts)}"
        for package, folder in SHIPPED.items()
        for sub in sorted(Path(folder).rglob("*"))
        if sub.is_dir() and all(part.isidentifier() for part in sub.relative_to(folder).parts)
    ]


setup(
    # namespace discovery: the report's fonts/ and templates/ hold no __init__.py but ship
    packages=find_namespace_packages(include=["cxtext*", "pipelines*"], exclude=["*.__pycache__"])
    + list(SHIPPED)
    + shipped_folders(),
    package_dir=SHIPPED,
    package_data={
        "cxtext": ["*.yaml", "**/*.yaml", "**/*.txt", "report/templates/*", "report/fonts/*"],
        "cxtext.shipped.models": [
            "registry.json",
            "*/model.skops",
            "*/card.json",
            "*/card.md",
            "*/heldout.parquet",
            "static/*",
        ],
        "cxtext.shipped.data": ["README.md", "taxonomy.yaml", "sample/*.csv", "sample/feedback/*"],
    },
)
