"""What every reader ends with: one long tracking table and a players table in, a validated canonical
:class:`~soccerai.match.schema.Match` out.

The kloppy adapter (:mod:`soccerai.io.providers.kloppy`) and the native fast readers (:mod:`soccerai.io.providers`)
all hand their centred, provider-oriented tables to :func:`finalize_match`, the single place that sorts
(:func:`sort_tracking`), repairs duplicated / unsorted frames, checks the content, orients (home attacks ``+x``) and
validates; :class:`MatchFacts` carries what a reader knows besides the tables (id, provider, frame rate, pitch, ...).
The canonical table's contract is written out in :mod:`soccerai.io.providers.kloppy`'s docstring. Match ids from file
names: :func:`stem_match_id` (metadata files), :func:`metrica_csv_match_id` (a Metrica CSV pair).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from soccerai.errors import InvalidTrackingError
from soccerai.match.orientation import (
    FRAMES_FOR_DIRECTION,
    infer_home_attacks_positive_x,
    to_static_orientation,
)
from soccerai.match.schema import (
    BALL_ID,
    PLAYERS_SCHEMA,
    TRACKING_SCHEMA,
    Match,
    MatchMetadata,
    PeriodInfo,
    conform,
)

_TEAM_RANK = {BALL_ID: 0, "home": 1, "away": 2}


def sort_tracking(tracking: pl.DataFrame) -> pl.DataFrame:
    """Canonical row order: period, frame, ball, home players, away players (players by object_id).

    Sorted on integers (:func:`object_key`): the same order as sorting on the strings, about 3x faster."""
    return tracking.sort([pl.col("period"), pl.col("frame"), object_key(tracking)], maintain_order=True)


def object_key(tracking: pl.DataFrame) -> pl.Expr:
    """An object's place within a frame as one integer: ``team rank * 2**20 + id rank``, the id rank being the
    id's place among the table's (few) distinct ids in string order; the ball's team ranks first, then home, away.
    Readers sort each frame's rows by it so that :func:`finalize_match` finds the canonical order and sorts nothing."""
    ids = tracking.get_column("object_id").unique().sort()
    id_rank = pl.col("object_id").replace_strict(ids, pl.int_range(ids.len(), dtype=pl.Int64, eager=True))
    return pl.col("team").replace_strict(_TEAM_RANK, default=3, return_dtype=pl.Int64) * (1 << 20) + id_rank


def _strictly_canonical(tracking: pl.DataFrame) -> bool:
    """True when every row comes strictly after the one before in the canonical order (so the table is sorted and
    free of duplicated (period, frame, object) rows): one pass of integer comparisons, no copy of the table."""
    period, frame, key = pl.col("period"), pl.col("frame"), object_key(tracking)
    after = (period > period.shift(1)) | (period == period.shift(1)) & (
        (frame > frame.shift(1)) | (frame == frame.shift(1)) & (key > key.shift(1))
    )
    first = pl.int_range(pl.len()) == 0
    return bool(tracking.select((first | after.fill_null(False)).all()).item())


def _repair_frames(tracking: pl.DataFrame, source: Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """Sort into the canonical order, drop duplicated (period, frame, object) rows keeping the first in file
    order, count both repairs (unsorted rows: counted after dropping the duplicates), check the periods' order.

    Column-wise: a table already in canonical order (the usual case) is returned as is after one comparison pass;
    otherwise one stable sort (a single gather of the columns), after which a duplicate is a row equal to the one
    before it on (period, frame, object_id), dropped by a boolean mask."""
    repairs: dict[str, int] = {}
    _check_period_order(tracking, source)
    if _strictly_canonical(tracking):
        return tracking, repairs
    ordered = sort_tracking(tracking.with_row_index("_row"))
    repeated = pl.all_horizontal([pl.col(k) == pl.col(k).shift(1) for k in ("period", "frame", "object_id")])
    repeated = repeated.fill_null(False)
    dropped = ordered.filter(repeated).select("period", "frame", "_row")
    file_order = tracking.select("period", "frame")
    if dropped.height:
        repairs["duplicated_frames"] = dropped.select(pl.struct("period", "frame").n_unique()).item()
        ordered = ordered.filter(~repeated)
        file_order = file_order.filter(~pl.int_range(pl.len(), dtype=pl.UInt32).is_in(dropped["_row"].implode()))
    backwards = (pl.col("period") < pl.col("period").shift(1)) | (
        (pl.col("period") == pl.col("period").shift(1)) & (pl.col("frame") < pl.col("frame").shift(1))
    )
    unsorted = file_order.select(backwards.sum()).item()
    if unsorted:
        repairs["unsorted_frames"] = int(unsorted)
    return ordered.drop("_row"), repairs


def _check_period_order(tracking: pl.DataFrame, source: Path) -> None:
    """Raise when a period's frames start before the previous period's end (halves swapped or mislabelled)."""
    spans = tracking.group_by("period").agg(
        pl.col("frame").min().alias("lo"), pl.col("frame").max().alias("hi")
    )
    spans = spans.sort("period")
    rows = list(spans.iter_rows(named=True))
    for prev, nxt in zip(rows, rows[1:], strict=False):
        if nxt["lo"] <= prev["hi"]:
            raise InvalidTrackingError(
                f"period {nxt['period']} starts at frame {nxt['lo']} before period {prev['period']} ends at frame "
                f"{prev['hi']} (halves swapped or mislabelled)",
                source,
            )


def _check_content(tracking: pl.DataFrame, source: Path) -> None:
    """Something seen, the ball seen, a player seen, every coordinate finite: one pass of aggregates, no copy."""
    ball = pl.col("team") == BALL_ID
    rows, balls, players, bad = tracking.select(
        pl.len(), ball.sum().alias("balls"), (~ball).sum().alias("players"),
        (~pl.col("x").is_finite() | ~pl.col("y").is_finite()).sum().alias("bad"),
    ).row(0)
    if rows == 0:
        raise InvalidTrackingError("no positions in any frame", source)
    if not balls:
        raise InvalidTrackingError("the ball has no position in any frame", source)
    if not players:
        raise InvalidTrackingError("no player has a position in any frame", source)
    if bad:
        raise InvalidTrackingError(f"{bad} rows with NaN/inf coordinates", source)


def period_infos(tracking: pl.DataFrame, directions: dict[int, bool]) -> tuple[PeriodInfo, ...]:
    """One :class:`PeriodInfo` per period: first/last frame present and the inferred real home direction."""
    spans = tracking.group_by("period").agg(
        pl.col("frame").min().alias("lo"), pl.col("frame").max().alias("hi")
    )
    return tuple(
        PeriodInfo(
            id=int(p), start_frame=int(lo), end_frame=int(hi), home_attacks_positive_x=directions.get(int(p))
        )
        for p, lo, hi in spans.sort("period").iter_rows()
    )


@dataclass(frozen=True)
class MatchFacts:
    """What a reader knows of a match besides its tables: the fields of :class:`MatchMetadata` it fills in."""

    match_id: str
    provider: str
    frame_rate: float
    pitch: tuple[float, float]
    source_files: tuple[Path, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    home_team: str = "home"
    away_team: str = "away"
    """Team names where the provider's metadata gives them (with ``extra["date"]`` / ``["score"]``: the dashboard's
    match picker); ``"home"`` / ``"away"`` otherwise."""


def direction_rows(tracking: pl.DataFrame) -> pl.DataFrame:
    """The rows :func:`~soccerai.match.orientation.infer_home_attacks_positive_x` reads of a canonical-order table:
    the players' rows of each period's first ``FRAMES_FOR_DIRECTION`` frames with a player in them. It looks at
    nothing else, so it gives the same answer on a few thousand rows as on millions (and without a copy of the
    table's non-ball rows)."""
    player = pl.col("team") != BALL_ID
    frames = tracking.select(pl.col("period").filter(player), pl.col("frame").filter(player)).unique()
    first = frames.sort("period", "frame").group_by("period").head(FRAMES_FOR_DIRECTION)
    last = dict(first.group_by("period").agg(pl.col("frame").max()).iter_rows())
    bound = pl.col("period").replace_strict(last, default=None, return_dtype=pl.Int64)
    return tracking.filter(player & (pl.col("frame") <= bound))


def match_metadata(
    tracking: pl.DataFrame, directions: dict[int, bool], facts: MatchFacts, repairs: dict[str, int]
) -> MatchMetadata:
    """Metadata of a tracking table already in static orientation, with ``directions`` the inferred real ones."""
    return MatchMetadata(
        match_id=facts.match_id,
        provider=facts.provider,
        frame_rate=float(facts.frame_rate),
        pitch_length=float(facts.pitch[0]),
        pitch_width=float(facts.pitch[1]),
        periods=period_infos(tracking, directions),
        home_team=facts.home_team,
        away_team=facts.away_team,
        simulated=facts.simulated,
        source_files=tuple(str(p) for p in facts.source_files),
        extra={**facts.extra, "repairs": repairs},
    )


def finalize_match(
    tracking: pl.DataFrame, players: pl.DataFrame, facts: MatchFacts, *, blame: Path | None = None
) -> Match:
    """Turn a centred, provider-oriented long table into a validated canonical :class:`Match`.

    ``tracking`` holds at least period, frame, time_s, object_id, team, x, y (z, ball_state, ball_owning_team
    optional) in metres with origin at the centre spot and the provider's real directions. Steps: drop rows without
    a position, repair duplicated/unsorted frames (counted), check content (ball and players present), infer the
    home direction per period, rotate to the static orientation, conform to ``TRACKING_SCHEMA``, validate.
    Errors name ``blame`` (default: the first source file).
    """
    if blame is None:
        blame = facts.source_files[0] if facts.source_files else Path(facts.match_id)
    source = Path(blame)
    tracking = conform(tracking.with_columns(pl.lit(facts.match_id).alias("match_id")), TRACKING_SCHEMA)
    seen = pl.col("x").is_not_null() & pl.col("y").is_not_null()
    if not tracking.select(seen.all()).item():  # filter (a copy of every column) only when a row lacks a position
        tracking = tracking.filter(seen)
    _check_content(tracking, source)
    tracking, repairs = _repair_frames(tracking, source)
    players = conform(players, PLAYERS_SCHEMA)
    directions = infer_home_attacks_positive_x(direction_rows(tracking), players)
    tracking = to_static_orientation(tracking, directions)
    match = Match(tracking=tracking, players=players, metadata=match_metadata(tracking, directions, facts, repairs))
    try:
        return match.validate()
    except InvalidTrackingError as exc:
        raise InvalidTrackingError(exc.problem, source) from exc


def stem_match_id(meta: Path) -> str:
    """Match id from a metadata file name: its stem without a ``meta_data``/``metadata``/``meta`` token."""
    stem = Path(meta).stem
    cleaned = re.sub(r"[_\-. ]*(meta_?data|meta)[_\-. ]*", "_", stem, flags=re.IGNORECASE).strip("_-. ")
    return cleaned or stem


def metrica_csv_match_id(home: Path, away: Path) -> str:
    """Match id of a Metrica CSV pair: the stems' common prefix without separators/``RawTrackingData``."""
    prefix = os.path.commonprefix([Path(home).stem, Path(away).stem])
    cleaned = re.sub(r"(RawTrackingData)?[_\-. ]*$", "", prefix)
    cleaned = re.sub(r"[_\-. ]*(RawTrackingData)?[_\-. ]*$", "", cleaned)
    return cleaned or Path(home).stem


def identified_only(tracking: pl.DataFrame, players: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Rows of the ball and of the players in the metadata's rosters, and how many other rows were dropped.

    Referees are never players, and neither are tracks the provider could not identify (SkillCorner's anonymous
    ``home_anon_<track>`` tracks, which kloppy keeps as players of a team): such rows are dropped and counted in
    ``metadata.extra["unidentified_rows"]``."""
    known = pl.col("object_id").is_in(players.get_column("object_id").implode()) | (pl.col("team") == BALL_ID)
    kept = tracking.filter(known)
    return kept, tracking.height - kept.height
