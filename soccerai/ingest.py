"""Ingest provider files into the parquet store, skipping matches whose source files have not changed.

A *match group* is the list of provider files that together make one match (a Metrica CSV home + away pair, an
EPTS metadata XML + raw text, a Tracab meta + raw, ...). :func:`group_match_files` finds the groups in folders and
loose paths; :func:`ingest_paths` loads each group, validates it and writes ``<store>/<match_id>.parquet``
atomically, tagged with the content hash of its sources (:func:`source_hash`). A later run with the same bytes
finds the same hash in the stored file and skips the match ("unchanged"). One failing match never stops the others:
its :class:`IngestResult` says why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from soccerai.errors import InvalidInputError, SoccerAIError
from soccerai.schema import Match
from soccerai.store import read_source_hash, write_match

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
# Content hash and match ids
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


def group_match_id(group: Sequence[Path]) -> str:
    """The match id (and store file name) of a group, known before loading so that the cache can be checked.

    The first file is the group's anchor (see :func:`group_match_files`). A Metrica CSV pair gets the kloppy
    path's id (:func:`soccerai.io.kloppy_loader.metrica_csv_match_id`), any other group its anchor's stem. Made
    file-system safe: lower case, runs of characters outside ``[a-z0-9-]`` become ``_``.
    """
    from soccerai.io.compression import plain_name
    from soccerai.io.kloppy_loader import metrica_csv_match_id

    paths = [Path(p) for p in group if not is_metrica_event_csv(Path(p))] or [Path(p) for p in group]
    is_csv_pair = len(paths) == 2 and all(p.suffix.lower() == ".csv" for p in paths)
    stem = metrica_csv_match_id(paths[0], paths[1]) if is_csv_pair else Path(plain_name(paths[0])).stem
    if _generic_name(paths[0]):
        stem = paths[0].resolve().parent.name or stem
    return re.sub(r"[^a-z0-9-]+", "_", stem.lower()).strip("_") or "match"


GENERIC_STEMS = ("structured_data",)
"""Anchor names every match of a provider shares (SkillCorner open data: ``<match>/structured_data.json``)."""


def _generic_name(anchor: Path) -> bool:
    """True when the anchor's name does not tell its match apart: SkillCorner's ``structured_data.json`` and
    Hawk-Eye's per-minute feeds (``*.samples.ball``); such a match is named after its folder."""
    from soccerai.io.compression import plain_name

    name = plain_name(anchor).lower()
    return Path(name).stem in GENERIC_STEMS or ".samples." in name


def unique_match_ids(groups: Sequence[Sequence[Path]]) -> list[str]:
    """:func:`group_match_id` of each group, with the anchor's extension appended where two ids collide."""
    ids = [group_match_id(g) for g in groups]
    counts = {i: ids.count(i) for i in ids}
    return [
        f"{i}_{Path(g[0]).suffix.lstrip('.').lower()}" if counts[i] > 1 and Path(g[0]).suffix else i
        for i, g in zip(ids, groups, strict=True)
    ]


def store_path(store: Path, match_id: str) -> Path:
    return Path(store) / f"{match_id}.parquet"


# ----------------------------------------------------------------------------------------------------------------
# Grouping files into matches
# ----------------------------------------------------------------------------------------------------------------


def _expand(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths (folders recursively, hidden files skipped), sorted, without repeats."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInputError("no such file or folder", path)
    return list(dict.fromkeys(files))


ANCHOR_ROLE = {"metrica-csv": "home", "statsperform": "ma25", "hawkeye": "ball"}
"""The role each match has exactly one file of, around which the other roles are gathered (default ``raw``)."""


def _classified(files: list[Path]) -> tuple[dict[Path, tuple[str, str]], list[Path], list[Path]]:
    """``(provider, role)`` of each recognised file, the files no provider recognises, and the compressed files
    whose content cannot even be decompressed (cut or corrupt: each is reported as a failed match of its own)."""
    from soccerai.io.compression import compression_of
    from soccerai.io.detect import classify_file

    known: dict[Path, tuple[str, str]] = {}
    unknown: list[Path] = []
    broken: list[Path] = []
    for path in files:
        try:
            known[path] = classify_file(path)
        except SoccerAIError:
            (broken if compression_of(path) is not None else unknown).append(path)
    return known, unknown, broken


def _name_tokens(path: Path) -> set[str]:
    return set(re.split(r"[_\-. ]+", path.name.lower())) - {""}


def _closest(anchor: Path, candidates: list[Path]) -> Path:
    """The candidate whose name is most like the anchor's: most shared name tokens (``pff_10517.jsonl`` ->
    ``pff_metadata_10517.json``), then longest shared prefix, then the shorter name, then name order."""

    def key(path: Path) -> tuple[int, int, int, str]:
        shared = len(_name_tokens(anchor) & _name_tokens(path))
        prefix = len(os.path.commonprefix([anchor.name.lower(), path.name.lower()]))
        return (-shared, -prefix, len(path.name), path.name)

    return min(candidates, key=key)


def _groups_of_provider(provider: str, by_role: dict[str, list[Path]]) -> list[list[Path]]:
    """One group per anchor file, each other role filled with its closest-named file; Signality (per-period raw
    feeds) and Hawk-Eye (per-minute ball and centroid feeds, the JSON metadata preferred) make one group of all
    their feeds in the folder (the reader refuses feeds of two matches in one group, naming the odd file)."""
    from soccerai.io.detect import REQUIRED_ROLES, preferred_hawkeye_meta

    anchor_role = ANCHOR_ROLE.get(provider, "raw")
    if provider == "hawkeye":
        feeds = sorted(by_role.get("ball", [])) + sorted(by_role.get("centroids", []))
        meta = [preferred_hawkeye_meta(by_role["meta"])] if by_role.get("meta") else []
        return [feeds + meta] if feeds else []
    if provider == "signality" and by_role.get("raw"):
        anchors: list[list[Path]] = [sorted(by_role["raw"])]
    else:
        anchors = [[a] for a in sorted(by_role.get(anchor_role, []))]
    other_roles = [
        r for r in (*REQUIRED_ROLES[provider], "additional_meta") if r != anchor_role and r in by_role
    ]
    return [[*anchor, *(_closest(anchor[0], by_role[role]) for role in other_roles)] for anchor in anchors]


def group_match_files(paths: Iterable[str | Path]) -> list[list[Path]]:
    """Group folders and loose files into matches, from each file's content (:func:`soccerai.io.detect.classify_file`).

    Within one folder and provider, every *anchor* file (the raw tracking; the home CSV for Metrica CSV; MA25 for
    Stats Perform) starts a match, and each other role the provider needs is filled with the file whose name shares
    the longest prefix with the anchor's (``metrica_home.csv`` -> ``metrica_away.csv``,
    ``epts_metrica_tracking.txt`` -> ``epts_metrica_metadata.xml``). Files left over (metadata variants) are not
    matches. Loose files no provider recognises become a group of their own (loading it says what is wrong); such
    files found by scanning a folder are ignored.
    """
    from soccerai.io.provenance import is_manifest

    paths = [Path(p) for p in paths]
    files = [p for p in _expand(paths) if not is_manifest(p)]  # the synthesizer's mark travels, is not a match
    loose = {p for p in paths if p.is_file()}
    known, unknown, broken = _classified(files)
    buckets: dict[tuple[Path, str], dict[str, list[Path]]] = {}
    for path, (provider, role) in known.items():
        buckets.setdefault((path.parent, provider), {}).setdefault(role, []).append(path)
    groups = [
        group
        for (_, provider), by_role in buckets.items()
        for group in _groups_of_provider(provider, by_role)
    ]
    event_files = [p for p in unknown if is_metrica_event_csv(p)]
    groups = [[*group, *_events_beside(group, event_files)] for group in groups]
    unknown = [p for p in unknown if p not in event_files]
    return groups + [[p] for p in unknown if p in loose] + [[p] for p in broken]


EVENTS_SUFFIX = "_RawEventsData.csv"
"""Metrica's event file name ends so; ``<prefix>_RawEventsData.csv`` belongs to tracking files named ``<prefix>...``."""


def is_metrica_event_csv(path: Path) -> bool:
    """True for a Metrica event CSV (its header starts with Metrica's event columns)."""
    from soccerai.io.compression import DECOMPRESS_ERRORS, read_head

    try:
        head = read_head(path, 64).decode("utf-8", errors="replace").lstrip("\ufeff")
    except (SoccerAIError, *DECOMPRESS_ERRORS):
        return False
    return head.startswith("Team,Type,Subtype,Period,Start Frame")


def _events_beside(group: list[Path], event_files: list[Path]) -> list[Path]:
    """The event file of a tracking group: same folder, named ``<prefix>_RawEventsData.csv`` with the tracking
    anchor's name starting with ``<prefix>`` (how Metrica and soccerai's synthesizer name them)."""
    from soccerai.io.compression import plain_name

    anchor = group[0]
    return [
        e for e in event_files
        if e.parent == anchor.parent and plain_name(e).endswith(EVENTS_SUFFIX)
        and anchor.name.startswith(plain_name(e)[: -len(EVENTS_SUFFIX)])
    ][:1]


# ----------------------------------------------------------------------------------------------------------------
# Ingesting
# ----------------------------------------------------------------------------------------------------------------


def load_group(group: Sequence[Path], provider: str | None = None) -> Match:
    """Load the tracking files of a group, with the events of a Metrica event CSV in it when there is one."""
    from soccerai.io import load_match
    from soccerai.io.events import load_events

    events = [p for p in group if is_metrica_event_csv(p)]
    match = load_match([p for p in group if p not in events], provider=provider)
    if events:
        match.events = load_events(events[0], "metrica-csv", match=match).with_columns(
            pl.lit(match.match_id, dtype=pl.String).alias("match_id")
        )
    return match


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
    import pyarrow.parquet as pq

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
