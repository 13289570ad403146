"""The run ledger: an SQLite file (stdlib ``sqlite3``) recording every run, every step per match, and every model.

Only the pipeline's parent process writes to it, one short transaction per fact, so a SIGKILL at any instant leaves
it consistent: a step is marked ``done`` only after its outputs were renamed into place, and a run or step still
``running`` when its process died is marked ``interrupted`` by the next run (which holds the lock, so nothing can
still be running).

Tables: ``runs``, ``steps`` (one row per attempt of a step on a match, or on ``*`` for global steps), ``models``
(versioned checkpoints: id, parent, metrics, the matches they saw), ``file_hashes`` (a stat -> sha256 cache),
``holdout`` (each match's side, training or held out, recorded on first sight and never updated).

Opening checks the file is a healthy SQLite database (``PRAGMA quick_check``); a corrupt ledger is refused with
one line telling how to start afresh, never silently replaced (it holds the holdout and the model lineage).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soccerai.errors import InvalidInputError

GLOBAL_KEY = "*"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL,
    pid INTEGER, config TEXT, n_done INTEGER DEFAULT 0, n_failed INTEGER DEFAULT 0, n_quarantined INTEGER DEFAULT 0,
    report TEXT, model_id TEXT);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL, match_key TEXT NOT NULL, step TEXT NOT NULL,
    input_key TEXT NOT NULL, source_hash TEXT, status TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL,
    seconds REAL, outputs TEXT, info TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS steps_lookup ON steps (match_key, step, status);
CREATE TABLE IF NOT EXISTS models (
    model_id TEXT PRIMARY KEY, run_id INTEGER NOT NULL, created_at REAL NOT NULL, mode TEXT NOT NULL, parent_id TEXT,
    model_name TEXT NOT NULL, checkpoint TEXT NOT NULL, data_key TEXT NOT NULL, train_matches TEXT NOT NULL,
    metrics TEXT, simulated INTEGER);
CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT);
CREATE TABLE IF NOT EXISTS holdout (
    match_key TEXT PRIMARY KEY, unit_hash REAL NOT NULL, holdout INTEGER NOT NULL, run_id INTEGER,
    assigned_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class StepRecord:
    """One attempt of one step on one match (``match_key == "*"`` for global steps)."""

    id: int
    run_id: int
    match_key: str
    step: str
    input_key: str
    status: str
    seconds: float | None
    outputs: dict[str, str]
    info: dict[str, Any]
    error: str | None


def _step(row: sqlite3.Row) -> StepRecord:
    return StepRecord(
        id=row["id"],
        run_id=row["run_id"],
        match_key=row["match_key"],
        step=row["step"],
        input_key=row["input_key"],
        status=row["status"],
        seconds=row["seconds"],
        outputs=json.loads(row["outputs"] or "{}"),
        info=json.loads(row["info"] or "{}"),
        error=row["error"],
    )


class Ledger:
    """Typed access to the ledger database at ``path`` (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA wal_autocheckpoint=16")  # the write-ahead log stays small (~64 KiB)
            check = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {check}")
            self._db.executescript(_SCHEMA)
        except sqlite3.OperationalError:  # I/O: read-only, full, cannot open; the database itself may be fine
            raise
        except sqlite3.DatabaseError as exc:  # corruption: not a database, malformed pages
            raise InvalidInputError(
                f"pipeline ledger is not a healthy SQLite database ({str(exc).splitlines()[0][:100]}); move it "
                "aside to start a fresh ledger (its holdout assignments and model lineage are then lost)",
                self.path,
            ) from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- runs -------------------------------------------------------------------------------------------------
    def start_run(self, config: str) -> int:
        cur = self._db.execute(
            "INSERT INTO runs (started_at, status, pid, config) VALUES (?, 'running', ?, ?)",
            (time.time(), os.getpid(), config),
        )
        return int(cur.lastrowid)

    def finish_run(
        self, run_id: int, status: str, report: str | None = None, model_id: str | None = None
    ) -> None:
        counts = {
            s: n
            for s, n in self._db.execute(
                "SELECT status, COUNT(*) FROM steps WHERE run_id = ? GROUP BY status", (run_id,)
            )
        }
        self._db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, n_done = ?, n_failed = ?, n_quarantined = ?, report = ?, "
            "model_id = ? WHERE run_id = ?",
            (
                time.time(),
                status,
                counts.get("done", 0),
                counts.get("failed", 0),
                counts.get("quarantined", 0),
                report,
                model_id,
                run_id,
            ),
        )

    def mark_interrupted(self) -> int:
        """Mark runs and steps left ``running`` by a dead process as ``interrupted``. Call only under the lock."""
        with self._db:
            self._db.execute("BEGIN")
            n = self._db.execute("UPDATE steps SET status = 'interrupted' WHERE status = 'running'").rowcount
            self._db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        return n

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def previous_finished_run(self, before: int) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT * FROM runs WHERE run_id < ? AND finished_at IS NOT NULL AND model_id IS NOT NULL "
            "ORDER BY run_id DESC LIMIT 1",
            (before,),
        ).fetchone()
        return dict(row) if row else None

    # ---- steps ------------------------------------------------------------------------------------------------
    def step_started(
        self, run_id: int, match_key: str, step: str, input_key: str, source_hash: str | None
    ) -> int:
        cur = self._db.execute(
            "INSERT INTO steps (run_id, match_key, step, input_key, source_hash, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, 'running', ?)",
            (run_id, match_key, step, input_key, source_hash, time.time()),
        )
        return int(cur.lastrowid)

    def step_finished(
        self,
        step_id: int,
        status: str,
        seconds: float,
        outputs: dict[str, str] | None = None,
        info: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE steps SET status = ?, finished_at = ?, seconds = ?, outputs = ?, info = ?, error = ? WHERE id = ?",
            (
                status,
                time.time(),
                seconds,
                json.dumps(outputs or {}),
                json.dumps(info or {}, default=str),
                error,
                step_id,
            ),
        )

    def last_done(self, match_key: str, step: str) -> StepRecord | None:
        """The most recent successful attempt of ``step`` on ``match_key``."""
        row = self._db.execute(
            "SELECT * FROM steps WHERE match_key = ? AND step = ? AND status = 'done' ORDER BY id DESC LIMIT 1",
            (match_key, step),
        ).fetchone()
        return _step(row) if row else None

    def quarantined(self, match_key: str, input_key: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM steps WHERE match_key = ? AND input_key = ? AND status = 'quarantined' LIMIT 1",
            (match_key, input_key),
        ).fetchone()
        return row is not None

    def steps(self, run_id: int | None = None, status: str | None = None) -> list[StepRecord]:
        sql, args = "SELECT * FROM steps WHERE 1=1", []
        if run_id is not None:
            sql, args = sql + " AND run_id = ?", [*args, run_id]
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        return [_step(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    # ---- models -----------------------------------------------------------------------------------------------
    def add_model(self, record: dict[str, Any]) -> None:
        row = {
            **record,
            "train_matches": json.dumps(record["train_matches"]),
            "metrics": json.dumps(record.get("metrics")),
        }
        cols = ", ".join(row)
        self._db.execute(
            f"INSERT OR REPLACE INTO models ({cols}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )

    def set_model_metrics(self, model_id: str, metrics: dict[str, Any]) -> None:
        self._db.execute("UPDATE models SET metrics = ? WHERE model_id = ?", (json.dumps(metrics), model_id))

    def models(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM models ORDER BY created_at")
        return [
            {
                **dict(r),
                "train_matches": json.loads(r["train_matches"]),
                "metrics": json.loads(r["metrics"] or "null"),
            }
            for r in rows
        ]

    def lineage(self, model_id: str) -> list[dict[str, Any]]:
        """The model and its ancestors (by ``parent_id``), newest first."""
        by_id = {m["model_id"]: m for m in self.models()}
        chain, current = [], by_id.get(model_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = by_id.get(current["parent_id"]) if current["parent_id"] else None
        return chain

    def lineage_matches(self, model_id: str) -> frozenset[str]:
        """Every match the model or any ancestor was trained on."""
        return frozenset(k for m in self.lineage(model_id) for k in m["train_matches"])

    def trained_matches(self) -> frozenset[str]:
        """Every match any recorded model was trained on."""
        return frozenset(k for m in self.models() for k in m["train_matches"])

    # ---- holdout ----------------------------------------------------------------------------------------------
    def holdout_sides(self) -> dict[str, bool]:
        """``{match key: held out}`` for every match seen so far."""
        return {r["match_key"]: bool(r["holdout"]) for r in self._db.execute("SELECT * FROM holdout")}

    def record_holdout(self, sides: dict[str, bool], unit_hashes: dict[str, float], run_id: int) -> None:
        """Record the side of matches seen for the first time; a recorded match is never changed (INSERT OR IGNORE)."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO holdout (match_key, unit_hash, holdout, run_id, assigned_at) VALUES (?, ?, ?, ?, ?)",
                [(k, unit_hashes[k], int(v), run_id, time.time()) for k, v in sides.items()],
            )

    def latest_model(self) -> dict[str, Any] | None:
        models = self.models()
        return models[-1] if models else None

    # ---- file hash cache --------------------------------------------------------------------------------------
    def cached_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        row = self._db.execute(
            "SELECT size, mtime_ns, sha256 FROM file_hashes WHERE path = ?", (path,)
        ).fetchone()
        return row["sha256"] if row and row["size"] == size and row["mtime_ns"] == mtime_ns else None

    def cache_hash(self, path: str, size: int, mtime_ns: int, sha256: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)", (path, size, mtime_ns, sha256)
        )
