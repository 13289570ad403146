"""The ``soccerai`` command line.

Each topic module ``soccerai.commands.<topic>`` defines ``register(app)`` adding its commands. Topics are imported
only when one of their commands runs (:class:`LazyTopicGroup`), so ``soccerai ingest`` does not pay for importing
torch and Lightning. Soccerai errors are printed as one line with exit code 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from soccerai.errors import SoccerAIError

TOPICS: dict[str, tuple[str, ...]] = {
    "demo": ("demo",),
    "ingest": ("ingest", "info"),
    "synthesize": ("synthesize",),
    "forecast": ("train", "evaluate", "predict"),
    "obso": ("obso", "cobso"),
    "benchmark": ("benchmark",),
    "pipeline": ("pipeline",),
    "dashboard": ("dashboard",),
    "data": ("data",),
}
"""Topic module -> the command names it registers, in the order ``--help`` lists them."""

err_console = Console(stderr=True)


def _topic_commands(topic: str) -> click.Group:
    """Import ``soccerai.commands.<topic>`` and return its commands as a click group."""
    module = importlib.import_module(f"soccerai.commands.{topic}")
    holder = typer.Typer()
    module.register(holder)
    holder.command("_placeholder", hidden=True)(lambda: None)  # a group even when the topic has one command
    return typer.main.get_command(holder)  # type: ignore[return-value]


class LazyTopicGroup(TyperGroup):
    """A click group whose commands are loaded from their topic module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for names in TOPICS.values() for name in names]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        topic = next((t for t, names in TOPICS.items() if cmd_name in names), None)
        if topic is None:
            return None
        return _topic_commands(topic).get_command(ctx, cmd_name)


app = typer.Typer(
    name="soccerai",
    cls=LazyTopicGroup,
    help="Soccer tracking data: ingest, synthesize, forecast trajectories, evaluate scoring opportunity.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Soccer tracking data: ingest, synthesize, forecast trajectories, evaluate scoring opportunity."""


def main() -> None:
    """Entry point: run the app, printing soccerai errors as one line."""
    try:
        code = app(standalone_mode=False)  # without standalone mode click returns typer.Exit's code instead
        if isinstance(code, int) and code:
            sys.exit(code)
    except SoccerAIError as exc:
        err_console.print("[bold red]error:[/] ", end="", soft_wrap=True)
        err_console.print(str(exc), markup=False, highlight=False, soft_wrap=True)  # one line, never wrapped
        sys.exit(2)
    except Exception as exc:  # typer's own click: usage errors know how to show themselves
        if type(exc).__name__ == "Abort":
            sys.exit(1)
        if type(exc).__name__ == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise

if __name__ == "__main__":
    main()
