"""The ``soccerai`` command line.

Each topic module defines a ``register(app)`` function adding its commands; this module only assembles them and
turns :class:`soccerai.errors.SoccerAIError` into a one-line message and exit code 2 (no traceback).
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from soccerai.errors import SoccerAIError

app = typer.Typer(
    name="soccerai",
    help="Soccer tracking data: ingest, synthesize, forecast trajectories, evaluate scoring opportunity.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def _register_commands() -> None:
    """Each line below adds one topic's commands (``soccerai.commands.<topic>.register``)."""
    # commands: ingest
    # commands: demo
    # commands: synthesize
    # commands: forecast
    # commands: obso


_register_commands()


def main() -> None:
    """Entry point: run the app, printing soccerai errors as one line."""
    try:
        app(standalone_mode=False)
    except SoccerAIError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
