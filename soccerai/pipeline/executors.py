"""Where per-match tasks run: in-process, a local process pool, or a Ray cluster (one setting: ``executor``).

All three hand back :class:`concurrent.futures.Future` objects, so the runner has one code path. Ray is an optional
extra (``pip install 'soccerai[scale]'``); it is imported only when ``executor = "ray"``.
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


RAY_TASK_RETRIES = 3
"""How often Ray reruns a task whose worker process died (SIGKILL, out of memory, a lost node)."""


class RayExecutor:
    """The same per-match tasks as Ray tasks: Ray schedules, places and retries them; soccerai only submits.

    ``address`` None starts a local Ray instance with ``workers`` CPUs (unless this process is already connected to
    one, e.g. by an earlier ``ray.init``); ``"auto"`` or ``"HOST:6379"`` joins an existing cluster (``ray start
    --head`` on one machine, ``ray start --address HOST:6379`` on the others). Each task asks for ``task_cpus``
    CPUs (one by default: a per-match step is single-threaded numpy / polars / torch work), so a cluster runs as
    many matches at once as it has CPUs. A task whose worker dies is rerun up to :data:`RAY_TASK_RETRIES` times
    (steps write their outputs atomically, so a killed attempt leaves nothing half-written); an exception raised
    by the step itself is not retried and reaches the runner like any other executor's (failed, or quarantined
    when ingest finds bad input). Only an instance this executor started is shut down with it.
    """

    def __init__(self, address: str | None, workers: int = 2, task_cpus: float = 1.0) -> None:
        try:
            import ray
        except ImportError as exc:
            raise InvalidParameterError(
                "executor = 'ray' needs the optional dependency ray (pip install 'soccerai[scale]')"
            ) from exc
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            local = {"num_cpus": workers} if address is None else {}
            ray.init(address=address, include_dashboard=False, **local)
        self._options = {"num_cpus": task_cpus, "max_retries": RAY_TASK_RETRIES, "retry_exceptions": False}
        self._remote: dict[Callable, Any] = {}

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(**self._options)(fn)
        return self._remote[fn].remote(arg).future()

    def shutdown(self) -> None:
        if self._owns:
            self._ray.shutdown()


def make_executor(kind: str, workers: int, ray_address: str | None = None) -> TaskExecutor:
    """The executor a config names."""
    if kind == "inline":
        return InlineExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    if kind == "ray":
        return RayExecutor(ray_address, workers)
    raise InvalidParameterError(f"executor {kind!r} unknown; choose process, ray or inline")
