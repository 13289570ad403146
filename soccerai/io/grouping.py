"""Which provider files form one match, and loading such a group.

A *match group* is the list of provider files that together make one match (a Metrica CSV home + away pair, an
EPTS metadata XML + raw text, a Tracab meta + raw, Hawk-Eye's per-minute feeds, ...). :func:`group_match_files` finds
the groups in folders and loose paths from each file's content (:func:`soccerai.io.detect.classify_file`);
:func:`group_match_id` names a group before it is loaded (the store's file name, so that a cache can be checked);
:func:`load_group` reads one group with :func:`soccerai.io.load_match`, with the events of a Metrica event CSV in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from soccerai.errors import InvalidInputError, SoccerAIError
from soccerai.io import load_match
from soccerai.io.canonical import metrica_csv_match_id
from soccerai.io.compression import DECOMPRESS_ERRORS, compression_of, plain_name, read_head
from soccerai.io.detect import REQUIRED_ROLES, classify_file, preferred_hawkeye_meta
from soccerai.io.events import load_events
from soccerai.io.provenance import is_manifest
from soccerai.match.schema import Match

# ----------------------------------------------------------------------------------------------------------------
# Match ids
# ----------------------------------------------------------------------------------------------------------------


def group_match_id(group: Sequence[Path]) -> str:
    """The match id (and store file name) of a group, known before loading so that the cache can be checked.

    The first file is the group's anchor (see :func:`group_match_files`). A Metrica CSV pair gets the kloppy
    path's id (:func:`soccerai.io.canonical.metrica_csv_match_id`), any other group its anchor's stem. Made
    file-system safe: lower case, runs of characters outside ``[a-z0-9-]`` become ``_``.
    """
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
    try:
        head = read_head(path, 64).decode("utf-8", errors="replace").lstrip("\ufeff")
    except (SoccerAIError, *DECOMPRESS_ERRORS):
        return False
    return head.startswith("Team,Type,Subtype,Period,Start Frame")


def _events_beside(group: list[Path], event_files: list[Path]) -> list[Path]:
    """The event file of a tracking group: same folder, named ``<prefix>_RawEventsData.csv`` with the tracking
    anchor's name starting with ``<prefix>`` (how Metrica and soccerai's synthesizer name them)."""
    anchor = group[0]
    return [
        e for e in event_files
        if e.parent == anchor.parent and plain_name(e).endswith(EVENTS_SUFFIX)
        and anchor.name.startswith(plain_name(e)[: -len(EVENTS_SUFFIX)])
    ][:1]


# ----------------------------------------------------------------------------------------------------------------
# Loading a group
# ----------------------------------------------------------------------------------------------------------------


def load_group(group: Sequence[Path], provider: str | None = None) -> Match:
    """Load the tracking files of a group, with the events of a Metrica event CSV in it when there is one."""
    events = [p for p in group if is_metrica_event_csv(p)]
    match = load_match([p for p in group if p not in events], provider=provider)
    if events:
        match.events = load_events(events[0], "metrica-csv", match=match).with_columns(
            pl.lit(match.match_id, dtype=pl.String).alias("match_id")
        )
    return match
