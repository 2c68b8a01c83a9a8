"""Errors a user can act on, each with the exit code the command line ends with.

Stages raise these with a one- or two-line message naming the file, key or URL and the
fix; the CLI prints the message (no traceback unless ``--debug``) and exits with the
code below, so a nightly job shows red for the right reason.

| code | meaning |
|---|---|
| 0 | done (partial quarantine included, with the count shown) |
| 1 | input rejected: no input file, or every row of a source quarantined |
| 2 | settings: bad settings file or key, bad option value (``--as-of``, ``--columns``) |
| 3 | warehouse: cannot be opened for writing, unreachable, or held by another run |
| 4 | models: missing, untrusted or incompatible model files or taxonomy |
"""

from __future__ import annotations


class CxtextError(Exception):
    """Base class: ``str(error)`` is the whole message shown to the user."""

    exit_code = 1


class InputRejected(CxtextError):
    """Nothing usable came in: no file found, or every row of a source quarantined."""

    exit_code = 1


class SettingsError(CxtextError, ValueError):
    """A settings file, key or command-line value that cannot be used."""

    exit_code = 2


class WarehouseError(CxtextError):
    """The warehouse cannot be written (permissions, unreachable, locked by another run)."""

    exit_code = 3


class ModelError(CxtextError):
    """A model file or taxonomy that is missing, untrusted or incompatible."""

    exit_code = 4
