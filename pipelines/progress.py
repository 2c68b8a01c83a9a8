"""Stage progress of an in-process flow run, for whoever wants to draw it.

The flow calls :func:`emit`; the command line installs a listener that draws rich
progress bars. Nothing listens by default (scheduled runs, tests), and Dask worker
processes have no listener, so there a stage jumps from started to done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, str, int | None], None]  # (stage, "start" | "advance" | "done", total)
_listener: Listener | None = None


def emit(stage: str, event: str, total: int | None = None) -> None:
    """Tell the listener, if any, that ``stage`` started (with ``total`` steps), advanced or ended."""
    if _listener is not None:
        _listener(stage, event, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send this process's progress events to ``listener`` while the block runs."""
    global _listener  # noqa: PLW0603 (one run at a time per process)
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
