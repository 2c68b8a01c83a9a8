"""Command line: `cxtext --help`. Each module below adds its commands to :data:`app`."""

from cxtext.cli.app import app

__all__ = ["app"]
from cxtext.cli import (
    explain,  # noqa: F401,E402  (registers explain)
    models,  # noqa: F401,E402
    run,  # noqa: F401,E402  (registers run, pain-points, quarantine, schedule)
)
