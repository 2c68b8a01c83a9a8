"""The secret key of a warehouse's pseudonyms (ids that are personal data).

An id that is a phone number or an email is stored as placeholder + keyed hash
(:func:`cxtext.normalize.pii.pseudonymize`). Without a secret, anyone could hash every
Iranian mobile number (10^9 of them) and reverse the ids; with one, the tables alone
reveal nothing. The key is made once, the first time a warehouse is written, in a file of
its own beside the warehouse (never in it: a copy of the tables must not carry the key),
and read on every later run so the same customer keeps the same pseudonym across runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from pathlib import Path

from cxtext.errors import SettingsError

_HEX = re.compile(r"[0-9a-f]{64}")


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte key in ``path``, created (mode 0600) when the file does not exist.

    Creation is atomic (a temporary file linked into place), so two runs starting at once
    end up with the same key. A key file that others can read, or that is damaged, is a
    :class:`~cxtext.errors.SettingsError`: a new key would silently re-pseudonymize every
    id and break the links to earlier runs.
    """
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(
            f"{path}: the pseudonym key is readable by others (mode {mode:04o}); "
            f"run `chmod 600 {path}`"
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if not _HEX.fullmatch(text):
        raise SettingsError(
            f"{path}: not a cxtext pseudonym key (64 hex digits); restore it from a backup "
            "(a new key would change every pseudonymized id in the warehouse)"
        )
    return bytes.fromhex(text)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another run made it first: use theirs
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def key_file_for(warehouse: str, out_dir: Path, postgres: bool) -> Path:
    """Where a warehouse's key lives: ``<file>.key`` beside a DuckDB file, else ``out/``.

    A Postgres warehouse has no folder of its own, so its key is ``cxtext-postgres.key``
    in the project's out folder (``paths.out``); every machine that writes the same
    Postgres warehouse needs a copy of that file.
    """
    if postgres:
        return out_dir / "cxtext-postgres.key"
    return Path(f"{warehouse}.key")
