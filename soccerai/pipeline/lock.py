"""One run at a time per state folder: an exclusive, non-blocking ``fcntl.flock`` on ``<state_dir>/pipeline.lock``.

The kernel drops the lock when the holding process dies (even by SIGKILL), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from soccerai.errors import SoccerAIError


class PipelineBusyError(SoccerAIError):
    """Another pipeline run holds the state folder's lock."""


@contextmanager
def state_lock(state_dir: str | Path) -> Iterator[Path]:
    """Hold the state folder's lock for the ``with`` block; raise :class:`PipelineBusyError` if another run has it."""
    path = Path(state_dir) / "pipeline.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Path(path).read_text().strip() or "unknown"
            raise PipelineBusyError(
                f"another pipeline run (pid {holder}) is using this state folder", path
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield path
    finally:
        os.close(fd)
