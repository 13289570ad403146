"""Native reader for PFF FC tracking (metadata JSON + rosters JSON + JSON-lines frames, ~30 fps): kloppy's
canonical result without a Python object per frame.

The frame lines are parsed by Arrow (:func:`~soccerai.io.providers.native.read_ndjson`, C++) with a fixed schema (only the smoothed
positions, the period, clock and game event of each line) and exploded into one row per object; the metadata and
rosters (small) are read into kloppy ``Team``/``Player`` objects as kloppy's ``PFF_TrackingDeserializer`` does, so
that the players table is the kloppy path's. ``tests/test_fast_reader_json_xml.py`` checks the result equals the
kloppy path's on both samples (game 10517 has extra time).

The mapping (as kloppy 3.19.1)
    * frames: lines with a ``period``; ``frameNum`` -> frame, ``periodElapsedTime`` -> time_s.
    * ball state: "dead" until a game event says otherwise; ``OUT``/``END`` -> dead, kick-offs and ``OTB`` -> alive,
      other events keep it (carried over every line, lines without a period included); ball owner: the last
      ``game_event.home_ball`` seen (home when true), null before the first.
    * the ball: ``ballsSmoothed`` when it has x and y (z may be null); players: ``homePlayersSmoothed`` /
      ``awayPlayersSmoothed`` entries with x and y whose ``jerseyNum`` is a roster player's of that team (the
      first such); other entries are dropped, as kloppy drops them.
    * extra time (periods 3, 4): when the home team's side in the first frame of period 3 differs from the first
      frame of period 1 (mean x of home players < away's), kloppy negates x and y of every extra-time frame: so
      does this reader.
    * coordinates: PFF's are centred metres with +y up (kloppy's ``secondspectrum`` system): as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.io.canonical import MatchFacts, finalize_match
from soccerai.io.compression import read_bytes
from soccerai.io.detect import assign_roles
from soccerai.io.providers.native import (
    JERSEY_LIMIT,
    assemble,
    exploded_players,
    kloppy_players,
    micro_seconds,
    one_line,
    read_ndjson,
    team_jersey,
)
from soccerai.io.registry import register_reader
from soccerai.match.schema import BALL_ID, Match

PROVIDER = "pff"
_PLAYER = pl.Struct({"jerseyNum": pl.String, "x": pl.Float64, "y": pl.Float64})
FRAME_SCHEMA = {
    "frameNum": pl.Int64,
    "period": pl.Int64,
    "periodElapsedTime": pl.Float64,
    "game_event": pl.Struct({"game_event_type": pl.String, "home_ball": pl.Boolean}),
    "ballsSmoothed": pl.Struct({"x": pl.Float64, "y": pl.Float64, "z": pl.Float64}),
    "homePlayersSmoothed": pl.List(_PLAYER),
    "awayPlayersSmoothed": pl.List(_PLAYER),
}
DEAD_EVENTS = ("OUT", "END")
ALIVE_EVENTS = ("FIRSTKICKOFF", "SECONDKICKOFF", "THIRDKICKOFF", "FOURTHKICKOFF", "OTB")


def _json(path: Path) -> Any:
    try:
        return orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"is not valid JSON ({one_line(exc)})", path) from exc


def _metadata(meta: Path, rosters: Path) -> dict[str, Any]:
    """Teams (kloppy objects with the rosters' players), fps, pitch, game id, date, team names."""
    from dateutil.parser import parse
    from kloppy.domain import Ground, Player, PositionType, Team
    from kloppy.infra.serializers.tracking.pff import position_types_mapping

    try:
        doc = _json(meta)[0]
        home, away = doc["homeTeam"], doc["awayTeam"]
        pitch = doc["stadium"]["pitches"][0]
        info = {"game_id": str(int(doc["id"])), "fps": float(doc["fps"]),
                "pitch": (float(pitch["length"]), float(pitch["width"])), "home": str(home["name"]),
                "away": str(away["name"]), "date": doc.get("date")}
        teams = {"HOME": Team(team_id=home["id"], name=home["name"], ground=Ground.HOME),
                 "AWAY": Team(team_id=away["id"], name=away["name"], ground=Ground.AWAY)}
    except InvalidInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - KeyError/IndexError/TypeError on foreign metadata
        raise InvalidInputError(f"cannot be read as PFF metadata ({one_line(exc)})", meta) from exc
    if info["date"]:
        try:
            info["date"] = parse(info["date"]).date().isoformat()
        except (ValueError, OverflowError) as exc:
            raise InvalidInputError(f"cannot be read as PFF metadata (date {info['date']!r})", meta) from exc
    players: dict[str, dict[Any, Any]] = {"HOME": {}, "AWAY": {}}
    try:
        for entry in _json(rosters):
            team_id = entry["team"]["id"]
            side = "HOME" if team_id == home["id"] else "AWAY" if team_id == away["id"] else None
            if side is None:
                raise InvalidInputError(f"roster team id {team_id!r} is neither team of the metadata (rosters of "
                                        f"another match?)", rosters)
            who = entry["player"]
            players[side][who["id"]] = Player(
                player_id=who["id"], team=teams[side], jersey_no=int(entry["shirtNumber"]), name=who["nickname"],
                starting_position=position_types_mapping.get(entry["positionGroupType"], PositionType.Unknown),
                starting=None,
            )
    except InvalidInputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InvalidInputError(f"cannot be read as PFF rosters ({one_line(exc)})", rosters) from exc
    for side, team in teams.items():
        team.players = list(players[side].values())
    info["teams"] = [teams["HOME"], teams["AWAY"]]
    return info


def _roster(teams: Sequence[Any]) -> pl.DataFrame:
    rows = [(str(t.ground.value), int(p.jersey_no), str(p.player_id)) for t in teams for p in t.players]
    return pl.DataFrame(rows, schema={"team": pl.String, "jersey": pl.Int64, "object_id": pl.String},
                        orient="row").unique(["team", "jersey"], keep="first", maintain_order=True)


def _home_left(people: pl.DataFrame, frames: pl.DataFrame, period: int, raw: Path) -> bool:
    """kloppy's ``attacking_direction_from_frame`` on the first frame (file order) of ``period``: home's mean x
    below away's."""
    first = frames.filter(pl.col("period") == period)["order"]
    if not first.len():
        raise InvalidInputError(f"no frame of period {period} (kloppy needs one to orient the match)", raw)
    rows = people.filter(pl.col("order") == first[0])
    means = {t: rows.filter(pl.col("team") == t)["x"].mean() for t in ("home", "away")}
    if means["home"] is None or means["away"] is None:
        raise InvalidInputError(f"no player of a team in the first frame of period {period}", raw)
    return means["home"] < means["away"]


def long_table(frames: pl.DataFrame, teams: Sequence[Any], raw: Path) -> tuple[pl.DataFrame, int]:
    """The provider-oriented long table and the number of frames with a period (``frames`` is not kept)."""
    event = pl.col("game_event").struct.field("game_event_type")
    home_ball = pl.col("game_event").struct.field("home_ball")
    frames = frames.with_row_index("order").with_columns(
        pl.when(event.is_in(DEAD_EVENTS)).then(pl.lit("dead"))
        .when(event.is_in(ALIVE_EVENTS)).then(pl.lit("alive"))
        .otherwise(pl.lit(None, pl.String)).forward_fill().fill_null("dead").alias("ball_state"),
        pl.when(home_ball).then(pl.lit("home")).when(home_ball.not_()).then(pl.lit("away"))
        .otherwise(pl.lit(None, pl.String)).forward_fill().alias("ball_owning_team"),
    ).filter(pl.col("period").is_not_null()).drop("order").with_row_index("order")
    if not frames.height:
        raise InvalidInputError("no frame with a period", raw)
    if frames.filter(pl.col("frameNum").is_null() | pl.col("periodElapsedTime").is_null()).height:
        raise InvalidInputError("frames without a frameNum or periodElapsedTime", raw)
    ball_xy = pl.col("ballsSmoothed").struct
    ball = frames.filter(ball_xy.field("x").is_not_null() & ball_xy.field("y").is_not_null()).select(
        "order", pl.lit(-1, pl.Int64).alias("jersey"),
        pl.lit(BALL_ID).alias("object_id"), pl.lit(BALL_ID).alias("team"), ball_xy.field("x").alias("x"), ball_xy.field("y").alias("y"), ball_xy.field("z").alias("z"),
    )
    fields = {"jerseyNum": "jersey", "x": "x", "y": "y"}
    entries = pl.concat([exploded_players(frames.lazy(), "homePlayersSmoothed", "home", fields),
                         exploded_players(frames.lazy(), "awayPlayersSmoothed", "away", fields)])
    entries = entries.with_columns(pl.col("jersey").str.strip_chars().cast(pl.Int64)).filter(
        pl.col("x").is_not_null() & pl.col("y").is_not_null()
    )
    try:  # one streamed pass: the exploded entries of a match never exist whole
        key = team_jersey(pl.col("team"), pl.col("jersey"))  # a lookup on one integer instead of a join
        roster = _roster(teams).filter(pl.col("jersey").abs() < JERSEY_LIMIT).select(key.alias("key"), "object_id")
        object_id = pl.when(pl.col("jersey").abs() < JERSEY_LIMIT).then(
            key.replace_strict(roster["key"], roster["object_id"], default=None)
        )
        people = entries.select(
            "order", "jersey", object_id.alias("object_id"), "team", "x", "y", pl.lit(None, pl.Float64).alias("z")
        ).filter(pl.col("object_id").is_not_null()).collect(engine="streaming")
        if not people.height and entries.select(pl.len()).collect(engine="streaming").item():
            raise InvalidInputError("no tracked jersey is a roster player's (rosters of another match?)", raw)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"player entries with a jerseyNum that is not a number ({one_line(exc)})", raw) from exc
    periods = set(frames["period"].unique().to_list())
    if periods & {3, 4}:
        if _home_left(people, frames, 1, raw) != _home_left(people, frames, 3, raw):
            extra_time = frames.filter(pl.col("period").is_in([3, 4]))["order"].implode()
            flip = pl.when(pl.col("order").is_in(extra_time)).then(-1.0).otherwise(1.0)
            ball = ball.with_columns(pl.col("x") * flip, pl.col("y") * flip)
            people = people.with_columns(pl.col("x") * flip, pl.col("y") * flip)
    info = frames.select("period", pl.col("frameNum").alias("frame"),
                         micro_seconds(pl.col("periodElapsedTime")).alias("time_s"), "ball_state", "ball_owning_team")
    source_frames = frames.height
    parts = [ball, people]
    del frames, entries, ball, people  # the caller keeps no reference: assemble frees them as it goes
    return assemble(parts, info, ids_by_jersey=True), source_frames


def read_pff(meta: Path, rosters: Path, raw: Path) -> Match:
    """PFF FC metadata + rosters + JSON-lines frames -> canonical :class:`Match` (see the module docstring)."""
    meta, rosters, raw = Path(meta), Path(rosters), Path(raw)
    info = _metadata(meta, rosters)
    tracking, source_frames = long_table(read_ndjson(raw, FRAME_SCHEMA, PROVIDER), info["teams"], raw)
    facts = MatchFacts(
        match_id=info["game_id"],
        provider=PROVIDER,
        frame_rate=info["fps"],
        pitch=info["pitch"],
        source_files=(meta, rosters, raw),
        extra={"source_frames": source_frames, "kloppy_warnings": [],
               **({"date": info["date"]} if info["date"] else {})},
        home_team=info["home"],
        away_team=info["away"],
    )
    return finalize_match(tracking, kloppy_players(info["teams"]), facts, blame=raw)


def _read_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, PROVIDER)
    return read_pff(roles["meta"][0], roles["rosters"][0], roles["raw"][0])


register_reader(PROVIDER, "fast", _read_files)
