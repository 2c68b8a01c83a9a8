"""`python -m cxtext` is the `cxtext` command line."""

from cxtext.cli import app

app(prog_name="cxtext")
