"""The canonical match: one place that says what a valid match is.

A match is a :class:`Match`: a long (tidy) **tracking** table, a **players** table, an optional **events** table and
:class:`MatchMetadata`. Every provider reader returns one; every later step (tracking processing, graphs, models,
OBSO) consumes one.

Coordinates (all tables)
    metres and seconds; origin at the centre spot; ``x`` along the pitch length, ``y`` across it (positive towards
    the top of the usual TV picture); pitch size from the provider's metadata (105 x 68 when unknown).
    **Static orientation**: the home team attacks towards ``+x`` in every period (the provider's real directions
    are kept in :attr:`PeriodInfo.home_attacks_positive_x`). ``soccerai.windows.layout.orient_attack`` flips to
    "attacking team towards +x" for modelling.

Tracking table: one row per object per frame (``TRACKING_SCHEMA``); ``object_id == "ball"`` and
``team == "ball"`` for the ball. ``vx``/``vy`` are null straight after ingestion and filled by
``soccerai.match.tracking.add_velocities``. Rows with unknown positions are absent, not NaN.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from soccerai.errors import InvalidTrackingError

BALL_ID = "ball"
TEAMS = ("home", "away")
DEFAULT_PITCH = (105.0, 68.0)
"""Pitch length and width in metres when the provider gives none."""
SHOT = "SHOT"
"""The events table's ``type`` of a shot (kloppy's upper-case event type)."""
MAX_PLAYER_SPEED = 12.0
MAX_ABS_COORD_M = 1000.0
"""No tracked object is a kilometre from the centre spot: larger coordinates are corrupt data (e.g. 1e30 m)."""
MAX_PLAYERS_PER_TEAM = 60
"""A squad with every substitute is under 30; more players than this is a hostile or broken file."""
"""Player speeds above this (m/s) are measurement errors, not data."""

TRACKING_SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String(),
    "period": pl.Int8(),
    "frame": pl.Int64(),
    "time_s": pl.Float64(),  # seconds since the start of the period
    "object_id": pl.String(),
    "team": pl.String(),  # "home" | "away" | "ball"
    "x": pl.Float64(),
    "y": pl.Float64(),
    "z": pl.Float64(),  # ball height in metres; null for players and when unknown
    "vx": pl.Float64(),
    "vy": pl.Float64(),
    "ball_state": pl.String(),  # "alive" | "dead" | null
    "ball_owning_team": pl.String(),  # "home" | "away" | null
}

PLAYERS_SCHEMA: dict[str, pl.DataType] = {
    "object_id": pl.String(),
    "team": pl.String(),
    "jersey": pl.Int32(),
    "position": pl.String(),  # kloppy position code ("GK", "CB", ...) or "UNK"
    "name": pl.String(),
    "is_goalkeeper": pl.Boolean(),
}

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String(),
    "event_id": pl.String(),
    "period": pl.Int8(),
    "frame": pl.Int64(),  # frame at the event's start, on the tracking clock where known
    "end_frame": pl.Int64(),
    "time_s": pl.Float64(),
    "team": pl.String(),
    "type": pl.String(),  # upper-case kloppy event type: PASS, SHOT, CARRY, ...
    "subtype": pl.String(),
    "result": pl.String(),
    "player_id": pl.String(),
    "receiver_id": pl.String(),
    "start_x": pl.Float64(),
    "start_y": pl.Float64(),
    "end_x": pl.Float64(),
    "end_y": pl.Float64(),
}


@dataclass(frozen=True)
class PeriodInfo:
    """One period of play and the real direction of the home team in it."""

    id: int
    start_frame: int
    end_frame: int
    home_attacks_positive_x: bool | None = None


@dataclass(frozen=True)
class MatchMetadata:
    """What is known about a match besides its frames."""

    match_id: str
    provider: str
    frame_rate: float
    """The clock frame numbers count on (Hz). Resampling keeps frame numbers on this clock."""
    pitch_length: float = DEFAULT_PITCH[0]
    pitch_width: float = DEFAULT_PITCH[1]
    periods: tuple[PeriodInfo, ...] = ()
    home_team: str = "home"
    away_team: str = "away"
    simulated: bool = False
    """True when the tracking was written by soccerai's match synthesizer, not measured."""
    source_files: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    sample_rate: float | None = None
    """Rows per second when they differ from ``frame_rate`` (10 after :func:`soccerai.windows.layout.to_model_rate`);
    None: one row per clock frame. Read it with :func:`soccerai.windows.layout.sample_rate`."""

    @property
    def tracking_label(self) -> str:
        """``"simulated"`` or ``"real"``: how tables and reports label this match's tracking."""
        return "simulated" if self.simulated else "real"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> MatchMetadata:
        raw = json.loads(text)
        raw["periods"] = tuple(PeriodInfo(**p) for p in raw.get("periods", ()))
        raw["source_files"] = tuple(raw.get("source_files", ()))
        return cls(**raw)


@dataclass
class Match:
    """A canonical match: tracking, players, optional events, metadata."""

    tracking: pl.DataFrame
    players: pl.DataFrame
    metadata: MatchMetadata
    events: pl.DataFrame | None = None

    @property
    def match_id(self) -> str:
        return self.metadata.match_id

    def validate(self) -> Match:
        """Check the tables against the schema; raise :class:`InvalidTrackingError` naming the problem."""
        validate_tracking(self.tracking)
        validate_players(self.players)
        if self.events is not None:
            _check_columns(self.events, EVENTS_SCHEMA, "events")
        return self


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select the schema's columns in order, cast to its dtypes, add missing nullable columns as null."""
    exprs = [
        (pl.col(name) if name in df.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return df.select(exprs)


def _check_columns(df: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> None:
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise InvalidTrackingError(f"{what} table lacks columns {missing}")
    wrong = [f"{c}: {df.schema[c]} (want {t})" for c, t in schema.items() if df.schema[c] != t]
    if wrong:
        raise InvalidTrackingError(f"{what} table has wrong dtypes: {', '.join(wrong)}")


def validate_tracking(df: pl.DataFrame) -> None:
    """Raise :class:`InvalidTrackingError` unless ``df`` is a valid canonical tracking table.

    Checks: columns and dtypes; not empty; no NaN/inf positions (missing positions are absent rows);
    team values; one row per (period, frame, object_id).
    """
    _check_columns(df, TRACKING_SCHEMA, "tracking")
    if df.height == 0:
        raise InvalidTrackingError("tracking table is empty")
    bad_pos = df.select(
        (pl.col("x").is_null() | pl.col("y").is_null() | ~pl.col("x").is_finite() | ~pl.col("y").is_finite()).sum()
    ).item()
    if bad_pos:
        raise InvalidTrackingError(f"tracking table has {bad_pos} rows with null/NaN/inf x or y")
    absurd = df.select(((pl.col("x").abs() > MAX_ABS_COORD_M) | (pl.col("y").abs() > MAX_ABS_COORD_M)).sum()).item()
    if absurd:
        raise InvalidTrackingError(f"tracking table has {absurd} rows more than {MAX_ABS_COORD_M:.0f} m from the "
                                   "centre spot (absurd coordinates)")
    teams = set(df.get_column("team").unique().to_list())
    if not teams <= {"home", "away", "ball"}:
        raise InvalidTrackingError(f"tracking table has unknown team values {sorted(teams - {'home', 'away', 'ball'})}")
    dupes = df.height - _distinct_rows(df)
    if dupes:
        raise InvalidTrackingError(f"tracking table has {dupes} duplicated (period, frame, object_id) rows")


def _distinct_rows(df: pl.DataFrame) -> int:
    """How many distinct (period, frame, object_id) the table holds.

    When (period, frame) never goes back (every reader's table) a row is ``frame number k * ids + id number``, ``k``
    counting the frame changes and ``id number`` the id's index among the table's few distinct ids: one integer
    per row, counted distinct in a fraction of the time and memory of the (period, frame, string) struct, which
    stays the rule for any other table."""
    period, frame = pl.col("period"), pl.col("frame")
    forward = (period > period.shift(1)) | (period == period.shift(1)) & (frame >= frame.shift(1))
    grouped, nulls = df.select(forward.fill_null(True).all(), pl.col("object_id").null_count()).row(0)
    if not grouped or nulls:
        return df.select(pl.struct("period", "frame", "object_id").n_unique()).item()
    ids = df.get_column("object_id").unique()
    number = pl.col("object_id").replace_strict(ids, pl.int_range(ids.len(), dtype=pl.Int64, eager=True))
    changed = ((period != period.shift(1)) | (frame != frame.shift(1))).fill_null(True)
    return df.select((changed.cast(pl.Int64).cum_sum() * ids.len() + number).n_unique()).item()


def validate_players(df: pl.DataFrame) -> None:
    _check_columns(df, PLAYERS_SCHEMA, "players")
    if df.get_column("object_id").is_duplicated().any():
        raise InvalidTrackingError("players table has duplicated object_id values")
    largest = df.group_by("team").len().get_column("len").max() if df.height else 0
    if largest and largest > MAX_PLAYERS_PER_TEAM:
        raise InvalidTrackingError(f"players table has {largest} players in one team (limit {MAX_PLAYERS_PER_TEAM})")
