"""Command line: `cxtext --help`. Each module below adds its commands to :data:`app`."""

from cxtext.cli.app import app

__all__ = ["app"]
