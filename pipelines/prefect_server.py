"""The Prefect API a command talks to, and no server process left behind.

Without ``PREFECT_API_URL`` Prefect starts a temporary server in a child process and
stops it at exit, which a killed parent never reaches. :func:`temporary_api` starts that
server up front and ties it to this process with a small watchdog that stops it when
this process dies, however it dies.

A temporary server runs no scheduler service, so a served deployment would never get
its scheduled runs from it: :func:`scheduling_api` gives `cxtext schedule` a real
`prefect server start` (API + scheduler) on loopback instead, tied the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prefect.settings import PREFECT_API_URL, PREFECT_HOME

from cxtext.errors import SettingsError

# Runs in its own interpreter: wait for the parent to die, then stop the server.
_WATCHDOG = """
import os, signal, sys, time
parent, server = int(sys.argv[1]), int(sys.argv[2])
def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
while alive(parent) and alive(server):
    time.sleep(0.5)
if alive(server):
    os.kill(server, signal.SIGTERM)
    for _ in range(50):
        if not alive(server):
            break
        time.sleep(0.1)
    else:
        os.kill(server, signal.SIGKILL)
"""


def _tie_to_this_process(pid: int) -> None:
    subprocess.Popen(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(pid)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C to the terminal must not kill it first
    )


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def server_command(port: int) -> list[str]:
    """``prefect server start`` on loopback at ``port``, with this interpreter's Prefect."""
    return [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def scheduling_api(port: int, start_timeout: float = 180) -> str:
    """``PREFECT_API_URL`` if set, else a Prefect server with its scheduler on 127.0.0.1:``port``.

    A server already answering on that port is reused; one started here logs to
    ``$PREFECT_HOME/server.log`` and stops when this process ends or dies.
    """
    if PREFECT_API_URL.value():
        api = str(PREFECT_API_URL.value()).rstrip("/")
        if not _healthy(api):
            raise SettingsError(
                f"PREFECT_API_URL={api} does not answer: start that server "
                "(`prefect server start`) or unset PREFECT_API_URL to let cxtext start one"
            )
        return api
    api = f"http://127.0.0.1:{port}/api"
    if _healthy(api):
        return api
    log = Path(PREFECT_HOME.value()) / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(  # noqa: S603
        server_command(port),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        start_new_session=True,
    )
    _tie_to_this_process(server.pid)
    deadline = time.monotonic() + start_timeout
    while not _healthy(api):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SettingsError(
                f"could not start a Prefect server on 127.0.0.1:{port} (see {log}); "
                "pass --port, or set PREFECT_API_URL to a running server"
            )
        time.sleep(1)
    return api


def temporary_api() -> str:
    """The API URL: ``PREFECT_API_URL``, else Prefect's temporary server started now.

    The temporary server is tied to this process (stopped if it dies) and its URL is
    exported in ``PREFECT_API_URL``, so Dask worker processes started later report to
    the same server instead of each starting a temporary server of their own.
    """
    if PREFECT_API_URL.value():
        return str(PREFECT_API_URL.value())
    from prefect.server.api.server import SubprocessASGIServer  # noqa: PLC0415

    server = SubprocessASGIServer()  # the instance Prefect's clients will reuse
    server.start()
    if server.server_process is not None:
        _tie_to_this_process(server.server_process.pid)
    os.environ["PREFECT_API_URL"] = server.api_url
    return server.api_url
