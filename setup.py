"""Packaging hook: the wheel ships the top-level ``models/`` and ``data/`` folders as package data.

The repository keeps ``models/`` and ``data/`` at the top level (the design's layout);
an installed cxtext finds them inside the package as ``cxtext/shipped/models`` and
``cxtext/shipped/data`` (see :mod:`cxtext.workspace`), so ``pip install`` followed by
``cxtext init`` + ``cxtext run`` needs no checkout. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

SHIPPED = {"cxtext.shipped.models": "models", "cxtext.shipped.data": "data"}

setup(
    packages=find_packages(include=["cxtext*", "pipelines*"]) + list(SHIPPED),
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
