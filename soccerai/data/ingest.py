"""Ingest provider files into the parquet store, skipping matches whose source files have not changed.

A *match group* is the list of provider files that together make one match; :func:`soccerai.io.grouping.group_match_files`
finds the groups in folders and loose paths. :func:`ingest_paths` loads each group
(:func:`soccerai.io.grouping.load_group`), validates it and writes ``<store>/<match_id>.parquet``
atomically, tagged with the content hash of its sources (:func:`source_hash`). A later run with the same bytes
finds the same hash in the stored file and skips the match ("unchanged"). One failing match never stops the others:
its :class:`IngestResult` says why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow.parquet as pq

from soccerai.data.store import read_source_hash, write_match
from soccerai.errors import InvalidInputError, SoccerAIError
from soccerai.io.grouping import group_match_id, load_group, unique_match_ids
from soccerai.match.schema import Match

INGEST_FORMAT_VERSION = "soccerai-ingest-3"
"""Mixed into every source hash: bump it when readers change so that stored matches are rebuilt."""

HASH_CHUNK_BYTES = 1 << 20
Status = Literal["ingested", "unchanged", "failed"]


@dataclass(frozen=True)
class IngestResult:
    """What happened to one match group."""

    match_id: str
    status: Status
    sources: tuple[Path, ...]
    path: Path | None = None
    rows: int | None = None
    seconds: float = 0.0
    error: str | None = None
    error_path: Path | None = None
    """The file the failure names (the error's own file, else the group's first source)."""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def error_line(self) -> str | None:
        """``"error: <full path>: <problem>"`` for a failed match (None when it did not fail)."""
        if self.ok:
            return None
        path = self.error_path or (self.sources[0] if self.sources else Path(self.match_id))
        problem = self.error or "failed"
        prefix = f"{path}: "
        return f"error: {problem}" if problem.startswith(prefix) else f"error: {prefix}{problem}"


# ----------------------------------------------------------------------------------------------------------------
# Content hash and store paths
# ----------------------------------------------------------------------------------------------------------------


def source_hash(paths: Sequence[Path]) -> str:
    """sha256 over the files' bytes, streamed in 1 MiB chunks.

    Each file contributes ``len(bytes)`` (8 bytes, big endian) then its bytes, so moving bytes between files changes
    the hash; :data:`INGEST_FORMAT_VERSION` is hashed first. File names do not count: renaming keeps the hash.
    """
    digest = hashlib.sha256(INGEST_FORMAT_VERSION.encode())
    for path in paths:
        try:
            digest.update(path.stat().st_size.to_bytes(8, "big"))
            with path.open("rb") as handle:
                while chunk := handle.read(HASH_CHUNK_BYTES):
                    digest.update(chunk)
        except OSError as exc:
            raise InvalidInputError(f"cannot read source file ({exc.strerror or exc})", path) from exc
    return digest.hexdigest()


def store_path(store: Path, match_id: str) -> Path:
    return Path(store) / f"{match_id}.parquet"


# ----------------------------------------------------------------------------------------------------------------
# Ingesting
# ----------------------------------------------------------------------------------------------------------------


def _with_match_id(match: Match, match_id: str) -> Match:
    """The same match under ``match_id`` (the store's file name), in the tables and the metadata."""
    if match.match_id == match_id:
        return match
    tracking = match.tracking.with_columns(pl.lit(match_id, dtype=pl.String).alias("match_id"))
    events = None
    if match.events is not None:
        events = match.events.with_columns(pl.lit(match_id, dtype=pl.String).alias("match_id"))
    metadata = dataclasses.replace(match.metadata, match_id=match_id)
    return Match(tracking=tracking, players=match.players, metadata=metadata, events=events)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if isinstance(exc, SoccerAIError) else f"{exc.__class__.__name__}: {text}"


def ingest_group(
    group: Sequence[Path],
    store: Path,
    provider: str | None = None,
    force: bool = False,
    match_id: str | None = None,
    simulated: bool | None = None,
) -> IngestResult:
    """Ingest one match group: hash; skip when the store holds that hash; else load, validate, write atomically."""
    started = time.perf_counter()
    sources = tuple(Path(p) for p in group)
    match_id = match_id or group_match_id(sources)
    target = store_path(store, match_id)

    def result(status: Status, **extra: object) -> IngestResult:
        return IngestResult(
            match_id=match_id, status=status, sources=sources, seconds=time.perf_counter() - started, **extra
        )  # type: ignore[arg-type]

    try:
        digest = source_hash(sources)
        if not force and read_source_hash(target) == digest:
            return result("unchanged", path=target, rows=_stored_rows(target))
        match = _with_match_id(load_group(sources, provider), match_id)  # write_match validates
        if simulated:  # a caller may mark tracking simulated, never unmark what the files declare simulated
            match.metadata = dataclasses.replace(match.metadata, simulated=True)
        write_match(match, target, source_hash=digest)
        return result("ingested", path=target, rows=match.tracking.height)
    except Exception as exc:  # noqa: BLE001 - one bad match must not stop the others; the result carries why
        path = exc.path if isinstance(exc, SoccerAIError) and exc.path is not None else sources[0]
        return result("failed", error=_one_line(exc), error_path=path)


def _stored_rows(path: Path) -> int | None:
    try:
        return pq.read_metadata(path).num_rows
    except OSError:
        return None


def ingest_paths(
    groups: list[list[Path]],
    store: Path,
    provider: str | None = None,
    force: bool = False,
    on_result: Callable[[IngestResult], None] | None = None,
    simulated: bool | None = None,
) -> list[IngestResult]:
    """Ingest every match group into ``store``; ``on_result`` is called after each (progress bars).

    ``simulated=True`` marks the matches' tracking as simulated; None or False keep what the files say: EPTS
    ``<TrackingType>Simulated``, or the provenance manifest soccerai's synthesizer writes beside every file
    (:mod:`soccerai.io.provenance`), so simulated files are never stored as real."""
    store = Path(store)
    results = []
    for group, match_id in zip(groups, unique_match_ids(groups), strict=True):
        outcome = ingest_group(group, store, provider=provider, force=force, match_id=match_id, simulated=simulated)
        results.append(outcome)
        if on_result is not None:
            on_result(outcome)
    return results
