"""Command line: `cxtext --help`. Each module below adds its commands to :data:`app`."""

from cxtext.cli.app import app

__all__ = ["app"]
from cxtext.cli import (  # noqa: E402, I001  (this order is the order of `cxtext --help`)
    workspace,  # noqa: F401  (registers init)
    taxonomy,  # noqa: F401  (registers taxonomy init)
    run,  # noqa: F401  (registers run, pain-points, quarantine, schedule)
    explain,  # noqa: F401  (registers explain)
    views,  # noqa: F401  (registers themes, follow-ups, export)
    models,  # noqa: F401  (registers train, predict, evaluate, retrain, models)
)
