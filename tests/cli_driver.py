"""Run `cxtext ARGS` in this process, optionally freezing at one progress event.

Test helper for crash tests: ``python tests/cli_driver.py STAGE EVENT MARKER -- run ...``
runs the real command line; when the flow emits (STAGE, EVENT) it writes MARKER and
blocks that thread forever, so the test can SIGKILL the process at a known point.
``-`` as STAGE never freezes; ``store mid`` freezes inside the commit's transaction,
after the feedback rows are written and before the other tables are.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from pipelines import progress


def main() -> None:
    stage, event, marker = sys.argv[1:4]
    args = sys.argv[sys.argv.index("--") + 1 :]
    original = progress.emit

    def emit(s: str, e: str, total: int | None = None) -> None:
        original(s, e, total)
        if (s, e) == (stage, event):
            Path(marker).write_text("frozen", encoding="utf-8")
            threading.Event().wait()  # until killed

    progress.emit = emit
    if (stage, event) == ("store", "mid"):
        from cxtext.store.duckdb_store import DuckDBWarehouse

        def frozen_upsert(self, table, df) -> None:  # the first table after feedback
            Path(marker).write_text("frozen", encoding="utf-8")
            threading.Event().wait()

        DuckDBWarehouse._upsert_frame = frozen_upsert
    from cxtext.cli import app

    app(args, prog_name="cxtext")


if __name__ == "__main__":
    main()
