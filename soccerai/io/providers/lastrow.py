"""Reader for Last Row clips (Friends of Tracking "Liverpool 2019 goals", one goal per file).

Format (one CSV row per object per frame, 20 Hz)
    ``player`` (object id, consistent within a play; the ball has ``team`` empty), ``frame``, ``x``, ``y`` (0-100 on
    each axis), ``z`` (ball height, filled for the ball only), ``dx``/``dy`` (change since the previous frame, not
    used: velocities are recomputed by :func:`soccerai.match.tracking.add_velocities`), ``team`` (``attack`` /
    ``defense`` / empty for the ball), ``player_num`` (jersey, sometimes), optional ``play`` (the scoreline, when
    several goals share a file), plus drawing columns that are ignored.

Coordinates
    ``x`` runs along the pitch length, ``y`` across it. The clip's ``coords`` column holds each player's position
    in the broadcast picture (pixels, picture ``y`` growing *downwards*); on ``LIV_[2]-1_CHE.csv`` picture ``y``
    correlates at -0.90 with data ``y`` and picture ``x`` at +0.84 with data ``x``, so data ``y`` grows towards the
    top of the TV picture, which is the canonical convention. Hence, on an ``L x W`` pitch (105 x 68 m, the clips
    carry no pitch size)::

        x_m = (x / 100 - 1/2) * L,      y_m = (y / 100 - 1/2) * W

Teams and orientation
    ``attack`` becomes ``"home"``, ``defense`` ``"away"``, the ball ``"ball"``. ``ball_owning_team`` stays null:
    the clip says which team scores, not who has the ball at each frame (on ``LIV_[2]-1_CHE`` a Chelsea player has
    the ball for the first second); :func:`soccerai.match.possession.possession_segments` infers it from proximity.
    The attack is played in the defending team's half, so the attacking team attacks the goal on the side of the
    defending team's mean ``x`` over the clip (``infer_home_attacks_positive_x``'s start-of-period rule does not
    apply to a clip that starts mid-attack). Periods where home attacks ``-x`` are rotated by 180 degrees
    (:func:`soccerai.match.orientation.to_static_orientation`), so home attacks ``+x``.

Players
    Only the players Last Row tracked (21 agents a frame on this clip, not 22); none is invented. The defender whose
    mean distance to the goal his team defends is smallest is marked goalkeeper when that distance is under
    16.5 m (the penalty-area depth); the attacking goalkeeper is usually not in a clip.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from soccerai.errors import InvalidInputError, InvalidTrackingError
from soccerai.io import compression
from soccerai.io.detect import assign_roles
from soccerai.io.registry import register_reader
from soccerai.match.orientation import to_static_orientation
from soccerai.match.schema import (
    BALL_ID,
    DEFAULT_PITCH,
    PLAYERS_SCHEMA,
    TRACKING_SCHEMA,
    Match,
    MatchMetadata,
    PeriodInfo,
    conform,
    validate_tracking,
)

FRAME_RATE = 20.0
REQUIRED_COLUMNS = ("player", "frame", "x", "y", "team")
TEAM_MAP = {"attack": "home", "defense": "away"}
PENALTY_AREA_DEPTH = 16.5


def load_lastrow(
    path: str | Path,
    play: str | None = None,
    match_id: str | None = None,
    pitch: tuple[float, float] = DEFAULT_PITCH,
) -> Match:
    """Read one Last Row clip into a canonical :class:`Match` (20 Hz, metres, home = attacking team towards +x).

    Args:
        path: the CSV (taken literally: brackets in the name are not globs).
        play: which play to keep when the file holds several (column ``play``); required then.
        match_id: defaults to the play name or the file stem.
        pitch: pitch length and width in metres.

    Raises:
        InvalidInputError: missing, empty or unreadable file, not a Last Row file, NaN positions, no ball.
    """
    path = Path(path)
    raw = _read_csv(path)
    raw, play_name = _select_play(raw, play, path)
    length, width = pitch
    tracking = _to_tracking(raw, match_id or play_name or Path(compression.plain_name(path)).stem, length, width, path)
    home_positive = _home_attacks_positive_x(tracking)
    tracking = to_static_orientation(tracking, {1: home_positive}).sort("period", "frame", "object_id")
    frames = tracking.get_column("frame")
    metadata = MatchMetadata(
        match_id=tracking.item(0, "match_id"),
        provider="lastrow",
        frame_rate=FRAME_RATE,
        pitch_length=length,
        pitch_width=width,
        periods=(PeriodInfo(1, int(frames.min()), int(frames.max()), home_attacks_positive_x=home_positive),),
        home_team="attack",
        away_team="defense",
        simulated=False,
        source_files=(str(path),),
        extra={"attacking_team": "home", "clip": True},
    )
    players = _players(raw, tracking, length)
    return Match(tracking=tracking, players=players, metadata=metadata).validate()


def _read_csv(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise InvalidInputError("no such Last Row file", path)
    try:
        raw = pl.read_csv(compression.source(path), glob=False, infer_schema_length=None)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise InvalidInputError(f"not a readable CSV ({str(exc).splitlines()[0]})", path) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise InvalidInputError(f"not a Last Row clip: columns {missing} missing", path)
    if raw.height == 0:
        raise InvalidInputError("Last Row file has no rows", path)
    try:
        return raw.with_columns(
            pl.col("player").cast(pl.String),
            pl.col("frame").cast(pl.Int64),
            pl.col("x").cast(pl.Float64),
            pl.col("y").cast(pl.Float64),
            (pl.col("z").cast(pl.Float64) if "z" in raw.columns else pl.lit(None, pl.Float64)).alias("z"),
            pl.col("team").cast(pl.String),
        )
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(
            f"Last Row columns have non-numeric values ({str(exc).splitlines()[0]})", path
        ) from exc


def _select_play(raw: pl.DataFrame, play: str | None, path: Path) -> tuple[pl.DataFrame, str | None]:
    if "play" not in raw.columns:
        if play is not None:
            raise InvalidInputError(f"file has no 'play' column, cannot select play {play!r}", path)
        return raw, None
    plays = raw.get_column("play").unique().sort().to_list()
    if play is None:
        if len(plays) != 1:
            raise InvalidInputError(f"file holds {len(plays)} plays; pass play= one of {plays[:5]}...", path)
        play = plays[0]
    if play not in plays:
        raise InvalidInputError(f"no play {play!r} in file", path)
    return raw.filter(pl.col("play") == play), str(play)


def _to_tracking(raw: pl.DataFrame, match_id: str, length: float, width: float, path: Path) -> pl.DataFrame:
    """Rows -> canonical tracking (centred metres, provider direction kept; orientation happens later)."""
    finite = pl.col("x").is_finite() & pl.col("y").is_finite()
    bad = raw.select((~finite).fill_null(True).sum()).item()
    if bad:
        raise InvalidInputError(f"{bad} rows have missing or NaN x/y", path)
    unknown = set(raw.get_column("team").drop_nulls().unique().to_list()) - set(TEAM_MAP)
    if unknown:
        raise InvalidInputError(f"not a Last Row clip: unknown team labels {sorted(unknown)}", path)
    is_ball = pl.col("team").is_null()
    ball_ids = raw.filter(is_ball).get_column("player").unique().to_list()
    if len(ball_ids) != 1:
        raise InvalidInputError(f"expected one ball (rows with empty team), found {len(ball_ids)}", path)
    tracking = raw.select(
        pl.lit(match_id).alias("match_id"),
        pl.lit(1).alias("period"),
        pl.col("frame"),
        (pl.col("frame") / FRAME_RATE).alias("time_s"),
        pl.when(is_ball).then(pl.lit(BALL_ID)).otherwise(pl.col("player")).alias("object_id"),
        pl.when(is_ball)
        .then(pl.lit("ball"))
        .otherwise(pl.col("team").replace_strict(TEAM_MAP))
        .alias("team"),
        ((pl.col("x") / 100.0 - 0.5) * length).alias("x"),
        ((pl.col("y") / 100.0 - 0.5) * width).alias("y"),
        pl.when(is_ball).then(pl.col("z")).otherwise(None).alias("z"),
    )
    tracking = conform(tracking, TRACKING_SCHEMA)
    ball_frames = tracking.filter(pl.col("team") == "ball").get_column("frame").n_unique()
    all_frames = tracking.get_column("frame").n_unique()
    if ball_frames < all_frames:
        raise InvalidInputError(f"ball missing in {all_frames - ball_frames} of {all_frames} frames", path)
    try:
        validate_tracking(tracking)
    except InvalidTrackingError as exc:
        raise InvalidInputError(exc.problem, path) from exc
    return tracking


def _home_attacks_positive_x(tracking: pl.DataFrame) -> bool:
    """The attack is played in the defenders' half: home attacks towards the defending team's mean x."""
    defenders_x = tracking.filter(pl.col("team") == "away").get_column("x").mean()
    if defenders_x is None:  # no defender tracked: the ball's mean position tells where the attack is
        defenders_x = tracking.filter(pl.col("team") == "ball").get_column("x").mean()
    return bool(defenders_x >= 0.0)


def _players(raw: pl.DataFrame, tracking: pl.DataFrame, length: float) -> pl.DataFrame:
    """One row per tracked player; the defending goalkeeper is guessed from depth (see module docstring)."""
    jersey = (
        pl.col("player_num").cast(pl.Float64, strict=False).cast(pl.Int32, strict=False)
        if "player_num" in raw.columns
        else pl.lit(None, pl.Int32)
    )
    roster = (
        raw.filter(pl.col("team").is_not_null())
        .group_by("player")
        .agg(pl.col("team").first(), jersey.drop_nulls().first().alias("jersey"))
        .select(
            pl.col("player").alias("object_id"),
            pl.col("team").replace_strict(TEAM_MAP),
            pl.col("jersey"),
        )
    )
    keeper = _defending_goalkeeper(tracking, length)
    roster = roster.with_columns(
        (pl.col("object_id") == (keeper or "")).alias("is_goalkeeper"),
        pl.lit(None, pl.String).alias("name"),
    ).with_columns(
        pl.when(pl.col("is_goalkeeper")).then(pl.lit("GK")).otherwise(pl.lit("UNK")).alias("position")
    )
    return conform(roster.sort("team", "object_id"), PLAYERS_SCHEMA)


def _defending_goalkeeper(tracking: pl.DataFrame, length: float) -> str | None:
    """Away defends +L/2 in static orientation; its deepest player within the penalty-area depth is the keeper."""
    depth = (
        tracking.filter(pl.col("team") == "away")
        .group_by("object_id")
        .agg((length / 2.0 - pl.col("x")).abs().mean().alias("distance"))
        .sort("distance", "object_id")
    )
    if depth.height == 0 or depth.item(0, "distance") > PENALTY_AREA_DEPTH:
        return None
    return str(depth.item(0, "object_id"))


def _read_files(paths: list[Path]) -> Match:
    """``load_match`` entry: one Last Row CSV (``soccerai ingest`` reads it like any provider file)."""
    return load_lastrow(assign_roles(paths, "lastrow")["raw"][0])


register_reader("lastrow", "fast", _read_files)
