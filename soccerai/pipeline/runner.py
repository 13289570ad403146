"""Run a pipeline job: discover matches, work out what is pending, run it, record it, report it.

**Idempotency.** Every (match, step) has an *input key*: a hash chain over the match's source hash, the step's
name, version and settings, and the previous step's key (plus the model id for C-OBSO). A step is pending unless
the ledger holds a ``done`` attempt with the same key whose outputs all exist. Keys depend only on inputs, never on
timing, so an unchanged match is never processed twice and a rerun after success does nothing.

**Crash safety.** The runner holds the state folder's lock; only this (parent) process writes the ledger; each
step writes its outputs atomically and the step is marked ``done`` after they are in place. A SIGKILL at any point
therefore leaves either a ``running`` row (marked ``interrupted`` and redone next run) or a truthful ``done`` row.

**Stages.** Consecutive per-match steps form a stage run in parallel over matches (each match's steps in order);
``train`` and ``evaluate`` are global barriers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from soccerai.errors import InvalidInputError, InvalidTrackingError, SoccerAIError
from soccerai.files import sha256_file
from soccerai.pipeline.config import GLOBAL_STEPS, PipelineConfig
from soccerai.pipeline.discover import MatchSource, discover, source_hash
from soccerai.pipeline.executors import TaskExecutor, make_executor
from soccerai.pipeline.ledger import GLOBAL_KEY, Ledger
from soccerai.pipeline.lock import state_lock
from soccerai.pipeline.steps import STEP_VERSIONS, StepOutcome, StepTask, run_step
from soccerai.pipeline.training import EvaluateTask, TrainTask, assign_holdout, evaluate, train, unit_hash

LEDGER_FILE = "ledger.sqlite"
QUARANTINE_ERRORS = (InvalidInputError, InvalidTrackingError)


def input_key(*parts: Any) -> str:
    """sha256 of the JSON of ``parts``: the identity of a step's inputs."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def stages(steps: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Split the step list into stages: runs of per-match steps, and each global step alone."""
    out: list[list[str]] = []
    for step in steps:
        if step in GLOBAL_STEPS or not out or out[-1][0] in GLOBAL_STEPS:
            out.append([step])
        else:
            out[-1].append(step)
    return [tuple(s) for s in out]


class SourceChangedError(SoccerAIError):
    """A match's source files changed while it was being ingested."""


@dataclass
class RunResult:
    """What a run did; ``exit_code`` is 0 when nothing failed, 1 otherwise."""

    run_id: int
    status: str
    done: int = 0
    failed: int = 0
    quarantined: int = 0
    report: Path | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.failed == 0 and self.quarantined == 0 else 1


def remove_stale_temporaries(state_dir: Path) -> int:
    """Delete temporary files/folders (hidden names) left by a killed run. Call only under the lock."""
    removed = 0
    for folder in [
        *state_dir.glob("matches/*"),
        state_dir / "models",
        state_dir / "reports",
        state_dir / "quarantine",
    ]:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name.startswith("."):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
                removed += 1
    return removed


class Runner:
    """One run of a pipeline job (use :func:`run_pipeline`)."""

    def __init__(self, cfg: PipelineConfig, ledger: Ledger, show_progress: bool = False) -> None:
        self.cfg, self.ledger, self.state = cfg, ledger, cfg.state_dir
        self.show_progress = show_progress
        self._executor: TaskExecutor | None = None
        self.blocked: set[str] = set()
        self.result = RunResult(run_id=0, status="running")

    # ---- helpers ----------------------------------------------------------------------------------------------
    @property
    def executor(self) -> TaskExecutor:
        if self._executor is None:
            self._executor = make_executor(self.cfg.executor, self.cfg.workers, self.cfg.ray_address)
        return self._executor

    def reset_executor(self) -> None:
        """Drop a broken pool; the next task starts a new one."""
        if self._executor is not None:
            self._executor.shutdown()
        self._executor = None

    def file_hash(self, path: Path) -> str:
        st = path.stat()
        cached = self.ledger.cached_hash(str(path), st.st_size, st.st_mtime_ns)
        if cached is None:
            cached = sha256_file(path)
            self.ledger.cache_hash(str(path), st.st_size, st.st_mtime_ns, cached)
        return cached

    def is_done(self, match_key: str, step: str, key: str) -> bool:
        rec = self.ledger.last_done(match_key, step)
        return (
            rec is not None
            and rec.input_key == key
            and all((self.state / p).exists() for p in rec.outputs.values())
        )

    def match_keys(self, source: MatchSource) -> dict[str, str]:
        """The input key of every per-match step of ``source`` (C-OBSO's includes the current model id)."""
        keys, prev = {}, source.source_hash
        model = self.ledger.latest_model()
        for step in self.cfg.match_steps:
            extra = (model or {}).get("model_id") if step == "cobso" else None
            prev = keys[step] = input_key(prev, step, STEP_VERSIONS[step], self.cfg.step_params(step), extra)
        return keys

    @contextmanager
    def progress(self, label: str, total: int) -> Iterator[Any]:
        if not self.show_progress or total == 0:
            yield lambda n=1: None
            return
        with Progress() as bar:
            task = bar.add_task(label, total=total)
            yield lambda n=1: bar.advance(task, n)

    def record_failure(self, step_id: int, seconds: float, exc: BaseException, label: str) -> None:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        info = (
            {}
            if isinstance(exc, SoccerAIError)
            else {"traceback": "".join(traceback.format_exception(exc))[-4000:]}
        )
        self.ledger.step_finished(
            step_id, "failed", seconds, info=info, error=f"{type(exc).__name__}: {line}"
        )
        self.result.failed += 1
        self.result.errors.append(f"{label}: {type(exc).__name__}: {line}")

    # ---- per-match stages -------------------------------------------------------------------------------------
    def run_match_stage(self, steps: tuple[str, ...], sources: list[MatchSource]) -> None:
        model = self.ledger.latest_model()
        checkpoint = self.state / model["checkpoint"] if model else None
        pending: dict[str, tuple[MatchSource, dict[str, str], list[str]]] = {}
        for src in sources:
            keys = self.match_keys(src)
            if src.key in self.blocked or self.ledger.quarantined(src.key, keys["ingest"]):
                continue
            todo = [s for s in steps if not self.is_done(src.key, s, keys[s])]
            if todo:
                pending[src.key] = (src, keys, todo)
        futures: dict[Future, tuple[MatchSource, dict[str, str], list[str], int]] = {}

        def submit(src: MatchSource, keys: dict[str, str], todo: list[str]) -> None:
            step = todo[0]
            task = StepTask(
                step, src.key, src.files, src.source_hash, self.state, self.cfg.step_params(step), checkpoint
            )
            try:
                future = self.executor.submit(run_step, task)
            except BrokenExecutor:  # a worker died since the last check: a fresh pool for the rest of the run
                self.reset_executor()
                future = self.executor.submit(run_step, task)
            step_id = self.ledger.step_started(self.result.run_id, src.key, step, keys[step], src.source_hash)
            futures[future] = (src, keys, todo, step_id)

        with self.progress(
            f"{'+'.join(steps)} over {len(pending)} matches", sum(len(t) for *_, t in pending.values())
        ) as advance:
            for src, keys, todo in pending.values():
                submit(src, keys, todo)
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in finished:
                    src, keys, todo, step_id = futures.pop(fut)
                    if self.settle(fut, src, todo[0], step_id) and len(todo) > 1:
                        submit(src, keys, todo[1:])
                        advance()
                    else:
                        advance(len(todo))

    def settle(self, fut: Future, src: MatchSource, step: str, step_id: int) -> bool:
        """Record a finished (match, step) future; True when it succeeded."""
        try:
            outcome: StepOutcome = fut.result()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, the other matches go on
            self.blocked.add(src.key)
            if isinstance(exc, BrokenExecutor):  # a worker was killed (OOM killer, SIGKILL): replace the pool
                self.reset_executor()
            if step == "ingest" and isinstance(exc, QUARANTINE_ERRORS):
                self.quarantine(src, step_id, exc)
            else:
                self.record_failure(step_id, 0.0, exc, f"{src.key}/{step}")
            return False
        if step == "ingest" and self.source_changed(src):
            for rel in outcome.outputs.values():  # read from files that were changing: not trusted
                (self.state / rel).unlink(missing_ok=True)
            self.blocked.add(src.key)
            exc = SourceChangedError(f"source files changed while {src.key} was ingested; it is redone next run")
            self.record_failure(step_id, outcome.seconds, exc, f"{src.key}/{step}")
            return False
        self.ledger.step_finished(step_id, "done", outcome.seconds, outcome.outputs, outcome.info)
        self.result.done += 1
        return True

    def source_changed(self, src: MatchSource) -> bool:
        """True when a match's files no longer hash to the source hash taken before its ingest (or are gone)."""
        try:
            return source_hash(self.cfg.drop_dir, src.files, self.file_hash) != src.source_hash
        except OSError:
            return True

    def quarantine(self, src: MatchSource, step_id: int, exc: Exception) -> None:
        """Copy a bad match's files to ``quarantine/<key>-<hash>/`` with the reason; record it; carry on."""
        target = self.state / "quarantine" / f"{src.key}-{src.source_hash[:8]}"
        if not target.exists():
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for path in src.files:
                shutil.copy2(path, tmp / path.name)
            (tmp / "REASON.txt").write_text(f"{exc}\n")
            tmp.rename(target)
        line = str(exc).splitlines()[0]
        self.ledger.step_finished(
            step_id, "quarantined", 0.0, {"quarantine": target.relative_to(self.state).as_posix()}, error=line
        )
        self.result.quarantined += 1
        self.result.errors.append(f"{src.key}: quarantined: {line}")

    # ---- global stages ----------------------------------------------------------------------------------------
    def windows_of(self, sources: list[MatchSource]) -> dict[str, tuple[str, Path]]:
        """match key -> (windows input key, windows file) for every match whose current windows are done."""
        out = {}
        for src in sources:
            key = self.match_keys(src).get("windows")
            rec = self.ledger.last_done(src.key, "windows")
            if key and rec and rec.input_key == key and (self.state / rec.outputs["windows"]).exists():
                out[src.key] = (key, self.state / rec.outputs["windows"])
        return out

    def holdout_split(self, keys: list[str]) -> tuple[list[str], list[str]]:
        """(train, holdout) of ``keys``: sides recorded in the ledger on first sight, never moved."""
        recorded = self.ledger.holdout_sides()
        sides = assign_holdout(keys, self.cfg.train.holdout_fraction, recorded, self.ledger.trained_matches())
        new = {k: v for k, v in sides.items() if k not in recorded}
        if new:
            self.ledger.record_holdout(new, {k: unit_hash(k) for k in new}, self.result.run_id)
        keys = sorted(keys)
        return [k for k in keys if not sides[k]], [k for k in keys if sides[k]]

    def run_global(self, step: str, sources: list[MatchSource]) -> None:
        windows = self.windows_of(sources)
        train_keys, holdout_keys = self.holdout_split(list(windows))
        if step == "train":
            self.run_train(windows, train_keys)
        else:
            self.run_evaluate(windows, holdout_keys)

    def run_global_task(self, step: str, key: str, fn: Any, task: Any) -> StepOutcome | None:
        step_id = self.ledger.step_started(self.result.run_id, GLOBAL_KEY, step, key, None)
        with self.progress(step, 1) as advance:
            try:
                outcome = self.executor.submit(fn, task).result()
            except Exception as exc:  # noqa: BLE001
                self.record_failure(step_id, 0.0, exc, step)
                return None
            finally:
                advance()
        self.ledger.step_finished(step_id, "done", outcome.seconds, outcome.outputs, outcome.info)
        self.result.done += 1
        return outcome

    def run_train(self, windows: dict[str, tuple[str, Path]], train_keys: list[str]) -> None:
        settings = {**vars(self.cfg.train), **vars(self.cfg.windows)}
        data_key = input_key(
            "train",
            STEP_VERSIONS["train"],
            self.cfg.step_params("train"),
            sorted((k, windows[k][0]) for k in train_keys),
        )
        latest = self.ledger.latest_model()
        if not train_keys or (
            latest and latest["data_key"] == data_key and (self.state / latest["checkpoint"]).exists()
        ):
            return
        retrain = latest is None or len(self.ledger.models()) % self.cfg.train.retrain_every_runs == 0
        parent = None if retrain else latest["model_id"]
        model_id = f"{self.cfg.train.model}-{input_key(data_key, parent)[:12]}"
        init = self.state / latest["checkpoint"] if parent else self.cfg.train.base_model or None
        task = TrainTask(model_id, self.state, tuple(windows[k][1] for k in train_keys), settings, init)
        outcome = self.run_global_task("train", data_key, train, task)
        if outcome is not None:
            self.ledger.add_model(
                {
                    "model_id": model_id,
                    "run_id": self.result.run_id,
                    "created_at": time.time(),
                    "mode": "retrain" if retrain else "finetune",
                    "parent_id": parent,
                    "model_name": self.cfg.train.model,
                    "checkpoint": outcome.outputs["checkpoint"],
                    "data_key": data_key,
                    "train_matches": train_keys,
                    "metrics": None,
                    "simulated": int(bool(outcome.info.get("simulated", True))),
                }
            )

    def run_evaluate(self, windows: dict[str, tuple[str, Path]], holdout_keys: list[str]) -> None:
        model = self.ledger.latest_model()
        if model is None:
            return
        seen = self.ledger.lineage_matches(model["model_id"])
        holdout_keys = [k for k in holdout_keys if k not in seen]  # only a pre-holdout-table ledger has any
        if not holdout_keys:
            return
        key = input_key(
            "evaluate",
            STEP_VERSIONS["evaluate"],
            model["model_id"],
            sorted((k, windows[k][0]) for k in holdout_keys),
        )
        if self.is_done(GLOBAL_KEY, "evaluate", key):
            return
        task = EvaluateTask(model["model_id"], self.state, tuple(windows[k][1] for k in holdout_keys), seen)
        outcome = self.run_global_task("evaluate", key, evaluate, task)
        if outcome is not None:
            self.ledger.set_model_metrics(model["model_id"], outcome.info["metrics"])

    # ---- the run ----------------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        sources = discover(self.cfg.drop_dir, self.file_hash)
        self.result.run_id = self.ledger.start_run(str(self.cfg.source))
        try:
            for stage in stages(self.cfg.steps):
                if stage[0] in GLOBAL_STEPS:
                    self.run_global(stage[0], sources)
                else:
                    self.run_match_stage(stage, sources)
        finally:
            if self._executor is not None:
                self._executor.shutdown()
        return self.result


class StateFolderError(SoccerAIError):
    """The state folder (or drop folder) cannot be written or read: read-only, disk full, over a file-size limit."""


def run_pipeline(cfg: PipelineConfig, show_progress: bool = False) -> RunResult:
    """Run a job under the state folder's lock; write the HTML report when anything was done.

    A failure to write the state folder itself (ledger, lock, report) is one :class:`StateFolderError` line; what
    was written before it is complete (atomic renames, one ledger transaction per fact), so a rerun carries on.
    """
    try:
        return _run_locked(cfg, show_progress)
    except (OSError, sqlite3.Error) as exc:
        line = (str(exc.strerror if isinstance(exc, OSError) and exc.strerror else exc).splitlines() or [""])[0]
        where = getattr(exc, "filename", None) or cfg.state_dir / LEDGER_FILE
        raise StateFolderError(f"pipeline I/O failed ({type(exc).__name__}: {line[:160]}); nothing half-written "
                               "was kept, rerun when the folder is writable", where) from exc


def _run_locked(cfg: PipelineConfig, show_progress: bool) -> RunResult:
    with state_lock(cfg.state_dir), Ledger(cfg.state_dir / LEDGER_FILE) as ledger:
        ledger.mark_interrupted()
        remove_stale_temporaries(cfg.state_dir)
        runner = Runner(cfg, ledger, show_progress)
        try:
            result = runner.run()
        except BaseException:
            if runner.result.run_id:
                with suppress(sqlite3.Error):  # the ledger may be what failed; the next run marks it interrupted
                    ledger.finish_run(runner.result.run_id, "interrupted")
            raise
        worked = result.done + result.failed + result.quarantined > 0
        result.status = "nothing-to-do" if not worked else ("failed" if result.exit_code else "ok")
        model = ledger.latest_model()
        if worked:
            from soccerai.pipeline.report import write_report  # matplotlib/mplsoccer: only when there is news

            result.report = write_report(cfg, ledger, result.run_id, result.status)
        ledger.finish_run(
            result.run_id,
            result.status,
            str(result.report) if result.report else None,
            model["model_id"] if model else None,
        )
        return result
