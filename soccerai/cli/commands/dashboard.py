"""``soccerai dashboard``: start the Streamlit app, headless, bound to 127.0.0.1.

The command replaces its own process with Streamlit (``os.execv``): the pid the user started IS the server, so
``kill <pid>`` or Ctrl+C stops the server and frees the port; no orphaned child can keep it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from soccerai.errors import InvalidInputError, InvalidParameterError

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
HOST = "127.0.0.1"


def streamlit_command(port: int, app: Path = APP) -> list[str]:
    """The ``streamlit run`` command line: local address only, headless, uploads capped, no telemetry."""
    from soccerai.replay import MAX_UPLOAD_BYTES  # heavy import (torch): only when the command runs

    if not 1024 <= port <= 65535:
        raise InvalidParameterError(f"--port must be in 1024..65535, got {port}")
    if not app.is_file():
        raise InvalidInputError("dashboard app not found (run from a source checkout of soccerai)", app)
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", HOST, "--server.port", str(port), "--server.headless", "true",
        "--server.maxUploadSize", str(MAX_UPLOAD_BYTES // 2**20), "--browser.gatherUsageStats", "false",
    ]


def dashboard(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8501) -> None:
    """Start the replay & what-if dashboard on http://127.0.0.1:PORT (works on demo data with no set-up)."""
    command = streamlit_command(port)
    typer.echo(f"soccerai dashboard on http://{HOST}:{port}  (pid {os.getpid()}; Ctrl+C or kill to stop)")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # never returns: this process becomes the server


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
