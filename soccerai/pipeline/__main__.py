"""``python -m soccerai.pipeline run|status ...``: the same commands as ``soccerai pipeline``, without loading the
other topics' commands (a fast start for cron jobs and for the kill-and-resume test)."""

from __future__ import annotations

import sys

import typer

from soccerai.cli.commands.pipeline import register
from soccerai.errors import SoccerAIError


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    try:
        app(args=["pipeline", *sys.argv[1:]], standalone_mode=False)
    except SoccerAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
