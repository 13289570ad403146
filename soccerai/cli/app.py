"""The ``soccerai`` command line.

Each topic module ``soccerai.cli.commands.<topic>`` defines ``register(app)`` adding its commands. Topics are imported
only when one of their commands runs (:class:`LazyTopicGroup`), so ``soccerai ingest`` does not pay for importing
torch and Lightning. Soccerai errors are printed as one line, never as a traceback.

Exit codes, every command (:func:`soccerai.errors.exit_code_for`): **0** all the requested work succeeded; **1** some
of it failed (a match that cannot be read, a step that failed; what succeeded is still written and listed); **2** a
usage error (an unknown command or option, a bad parameter value, a path that does not exist).
"""

from __future__ import annotations

import sys
from types import ModuleType

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from soccerai.errors import EXIT_FAILED, EXIT_OK, SoccerAIError, exit_code_for

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
    "shots": ("shots",),
}
"""Topic module -> the command names it registers, in the order ``--help`` lists them."""

err_console = Console(stderr=True)


def _topic_module(topic: str) -> ModuleType:
    """The topic's command module, imported here (lazily, so a light command does not import torch)."""
    if topic == "demo":
        from soccerai.cli.commands import demo as module
    elif topic == "ingest":
        from soccerai.cli.commands import ingest as module
    elif topic == "synthesize":
        from soccerai.cli.commands import synthesize as module
    elif topic == "forecast":
        from soccerai.cli.commands import forecast as module
    elif topic == "obso":
        from soccerai.cli.commands import obso as module
    elif topic == "benchmark":
        from soccerai.cli.commands import benchmark as module
    elif topic == "pipeline":
        from soccerai.cli.commands import pipeline as module
    elif topic == "dashboard":
        from soccerai.cli.commands import dashboard as module
    elif topic == "data":
        from soccerai.cli.commands import data as module
    elif topic == "shots":
        from soccerai.cli.commands import shots as module
    else:
        raise KeyError(topic)
    return module


def _topic_commands(topic: str) -> click.Group:
    """The commands of ``soccerai.cli.commands.<topic>`` as a click group."""
    holder = typer.Typer()
    _topic_module(topic).register(holder)
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
    """Entry point: run the app, printing soccerai errors as one line; exit with :func:`exit_code_for`'s codes.

    With ``standalone_mode=False`` click returns a command's ``typer.Exit(code)`` instead of exiting: that code is
    the process's exit status."""
    try:
        code = app(standalone_mode=False)
    except SoccerAIError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)  # one line, never wrapped
        sys.exit(exit_code_for(exc))
    except Exception as exc:  # typer's own (vendored) click: matched by name; usage errors show themselves
        if type(exc).__name__ == "Abort":
            sys.exit(EXIT_FAILED)
        if type(exc).__name__ == "Exit":
            sys.exit(getattr(exc, "exit_code", EXIT_OK))
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            if hasattr(exc, "format_message"):  # and the one line every failure prints
                err_console.print(f"error: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else EXIT_OK)

if __name__ == "__main__":
    main()
