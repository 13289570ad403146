"""Where per-match tasks run: in-process, a local process pool, or a Ray cluster (one setting: ``executor``).

All three hand back :class:`concurrent.futures.Future` objects, so the runner has one code path. Ray is an optional
extra (``pip install ray``); it is imported only when ``executor = "ray"``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from soccerai.errors import InvalidParameterError

PARENT_POLL_S = 0.5


class TaskExecutor(Protocol):
    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future: ...

    def shutdown(self) -> None: ...


class InlineExecutor:
    """Runs each task at once in this process (debugging, tests of the planner)."""

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(arg))
        except Exception as exc:  # noqa: BLE001 - handed to the runner like a worker's exception
            future.set_exception(exc)
        return future

    def shutdown(self) -> None:
        return None


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the pipeline process is gone (e.g. SIGKILLed), not run on orphaned."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(70)

    threading.Thread(target=watch, daemon=True, name="soccerai-parent-watch").start()


class ProcessExecutor:
    """A ``spawn`` process pool: fresh interpreters (no inherited lock or database handles, no fork-after-threads)."""

    def __init__(self, workers: int) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        return self._pool.submit(fn, arg)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """The same tasks as Ray remote functions (``address`` None starts a local Ray instance)."""

    def __init__(self, address: str | None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise InvalidParameterError(
                "executor = 'ray' needs the optional dependency ray (pip install ray)"
            ) from exc
        self._ray = ray
        ray.init(address=address, ignore_reinit_error=True, include_dashboard=False)
        self._remote: dict[Callable, Any] = {}

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        remote = self._remote.setdefault(fn, self._ray.remote(fn))
        return remote.remote(arg).future()

    def shutdown(self) -> None:
        self._ray.shutdown()


def make_executor(kind: str, workers: int, ray_address: str | None = None) -> TaskExecutor:
    """The executor a config names."""
    if kind == "inline":
        return InlineExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    if kind == "ray":
        return RayExecutor(ray_address)
    raise InvalidParameterError(f"executor {kind!r} unknown; choose process, ray or inline")
