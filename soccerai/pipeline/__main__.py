"""``python -m soccerai.pipeline run|status ...``: the same commands as ``soccerai pipeline``, without loading the
other topics' commands (a fast start for cron jobs and for the kill-and-resume test). Same exit codes as ``soccerai``
(:func:`soccerai.errors.exit_code_for`): 0 done, 1 some work failed, 2 a usage error."""

from __future__ import annotations

import sys

import typer

from soccerai.cli.commands.pipeline import register
from soccerai.errors import SoccerAIError, exit_code_for


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    try:
        app(args=["pipeline", *sys.argv[1:]], standalone_mode=False)
    except SoccerAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exit_code_for(exc))
    except Exception as exc:  # typer's own (vendored) click: a usage error shows itself, exit status 2
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
