"""Errors soccerai raises on bad input.

Every error a user can trigger with bad data or bad parameters derives from :class:`SoccerAIError`, carries a
one-line message naming the file (when there is one) and the problem, and is printed by the CLI without a traceback.
Its process exit status, the same for every face (``soccerai``, ``python -m soccerai.pipeline``): :func:`exit_code_for`.
"""

from __future__ import annotations

from pathlib import Path


class SoccerAIError(Exception):
    """Base class of every user-facing soccerai error."""

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class InvalidInputError(SoccerAIError):
    """A file is missing, empty, truncated, corrupt, or not of the provider it was read as."""


class InvalidTrackingError(SoccerAIError):
    """A tracking table violates the canonical schema (missing columns, NaN ball, too few players, ...)."""


class InvalidParameterError(SoccerAIError, ValueError):
    """A parameter is out of range (negative speed, empty grid, horizon of zero, ...)."""


class CheckpointError(SoccerAIError):
    """A model checkpoint is missing, tampered with, or does not match its configuration."""


EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
"""Exit codes: all the requested work succeeded; some of it failed (what succeeded is still written); usage error."""


def exit_code_for(exc: SoccerAIError) -> int:
    """2 for a usage error (a bad parameter, a bad checkpoint, a named path that does not exist), else 1 (the work failed)."""
    if isinstance(exc, InvalidParameterError | CheckpointError):
        return EXIT_USAGE
    if exc.path is not None and not exc.path.exists():
        return EXIT_USAGE
    return EXIT_FAILED
