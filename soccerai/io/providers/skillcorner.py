"""Native reader for SkillCorner open data (``match_data.json`` + ``structured_data.json``), kloppy's result in seconds.

kloppy 3.19.1 builds a Python object per frame and per player (67 s for the real Bayern v Dortmund match here);
this reader parses the frame array with polars (:func:`polars.read_json`, Rust), explodes it into one row per
detection and hands the long table to :func:`~soccerai.io.canonical.finalize_match`, the same canonical
finishing the kloppy path uses. The result equals the kloppy path's :class:`~soccerai.match.schema.Match`
(``tests/test_fast_reader.py`` compares them on real slices); SkillCorner v3 JSON lines go to kloppy.

The mapping (as kloppy's ``SkillCornerDeserializer`` with ``data_version="V2"``)
    * frames: those with a ``period`` and at least one detection (``include_empty_frames=False``);
      ``frame`` = the file's ``frame``; ``time_s`` = ``time`` (``"m:ss.cc"`` or ``"h:mm:ss.cc"``) in seconds minus
      the period's start on the match clock (0, 45, 90, 105, 120 min), rounded to the microsecond as
      ``datetime.timedelta`` does.
    * the ball: the detection whose ``trackable_object`` is ``match_data.ball.trackable_object`` (or whose
      ``group_name`` is ``"balls"``), ``z`` when given; players: detections whose ``trackable_object`` is a
      player of ``match_data.players``, ``object_id`` = that player's ``id``. Referees, anonymous tracks
      (``group_name`` only) and unknown objects are not players: dropped; the anonymous tracks' rows are counted
      in ``extra["unidentified_rows"]``. An object detected twice in one frame keeps its last detection.
    * ``ball_owning_team``: ``possession.group`` (``"home team"`` -> home, ``"away team"`` -> away);
      ``ball_state``: "alive" when a team is in possession, else "dead" (kloppy's rule).
    * coordinates: SkillCorner's are already centred metres with +y up (kloppy's ``secondspectrum`` system).
    * players: ``match_data.players`` (home team first, file order), jersey ``number``, name
      ``"<first_name> <last_name>"``, position from ``player_role.id`` (kloppy's table, :data:`POSITION_CODES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from soccerai.errors import InvalidInputError, InvalidTrackingError
from soccerai.io.canonical import MatchFacts, finalize_match, object_key
from soccerai.io.compression import read_bytes, read_head
from soccerai.io.detect import assign_roles
from soccerai.io.registry import READERS, register_reader
from soccerai.match.clock import PERIOD_START_MINUTE
from soccerai.match.schema import BALL_ID, DEFAULT_PITCH, PLAYERS_SCHEMA, Match

FRAME_RATE = 10.0
PERIOD_START_S = {period: 60.0 * minute for period, minute in PERIOD_START_MINUTE.items()}
"""Seconds of the match clock at which each period starts (kloppy's ``_calc_frame_time``)."""
POSITION_CODES = {
    0: "GK", 1: "UNK", 2: "CB", 3: "LCB", 4: "RCB", 5: "LB", 6: "RB", 7: "DM", 8: "CM", 9: "LM", 10: "RM",
    11: "AM", 12: "LW", 13: "RW", 14: "LF", 15: "ST", 16: "RF", 17: "UNK", 18: "UNK", 19: "LB", 20: "RB",
    21: "LDM", 22: "RDM",
}
"""SkillCorner ``player_role.id`` -> kloppy position code (kloppy's ``position_types_mapping``)."""
GROUPS = {"home team": "home", "away team": "away"}

FRAME_SCHEMA = {
    "frame": pl.Int64,
    "period": pl.Int64,
    "time": pl.String,
    "possession": pl.Struct({"trackable_object": pl.Int64, "group": pl.String}),
    "data": pl.List(
        pl.Struct(
            {
                "trackable_object": pl.Int64,
                "track_id": pl.Int64,
                "group_name": pl.String,
                "x": pl.Float64,
                "y": pl.Float64,
                "z": pl.Float64,
            }
        )
    ),
}


def is_open_data(raw: Path) -> bool:
    """True for the open-data frame array (``[{"possession": ...``), False for v3 JSON lines."""
    return read_head(raw, 64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def _json(path: Path) -> Any:
    try:
        return orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"is not valid JSON ({exc})", path) from exc


def _metadata(path: Path) -> dict[str, Any]:
    meta = _json(path)
    needed = ("home_team", "away_team", "players", "ball")
    missing = [k for k in needed if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise InvalidInputError(f"SkillCorner match data lacks {', '.join(missing)}", path)
    return meta


def players_table(meta: dict[str, Any]) -> pl.DataFrame:
    """One row per player of ``match_data.json``, home team first, as kloppy's metadata lists them."""
    grounds = {meta["home_team"]["id"]: "home", meta["away_team"]["id"]: "away"}
    rows = [
        {
            "object_id": str(p["id"]),
            "team": grounds.get(p["team_id"]),
            "jersey": p.get("number"),
            "position": POSITION_CODES.get((p.get("player_role") or {}).get("id"), "UNK"),
            "name": f"{p.get('first_name')} {p.get('last_name')}",
            "is_goalkeeper": POSITION_CODES.get((p.get("player_role") or {}).get("id")) == "GK",
        }
        for ground in ("home", "away")
        for p in meta["players"]
        if grounds.get(p["team_id"]) == ground
    ]
    return pl.DataFrame(rows, schema=PLAYERS_SCHEMA).unique("object_id", keep="first", maintain_order=True)


def _frames(raw: Path) -> pl.DataFrame:
    data = read_bytes(raw)
    try:
        frames = pl.read_json(data, schema=FRAME_SCHEMA)
    except Exception as exc:  # noqa: BLE001 - polars raises ComputeError/SchemaError on malformed JSON
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"cannot be read as SkillCorner open data ({first[:160]})", raw) from exc
    return frames.filter(pl.col("period").is_not_null() & (pl.col("data").list.len() > 0))


def _seconds(time: pl.Expr) -> pl.Expr:
    """``"m:ss.cc"`` / ``"h:mm:ss.cc"`` -> seconds (float)."""
    parts = time.str.split(":")
    n = parts.list.len()
    last = parts.list.get(-1).cast(pl.Float64)
    minutes = parts.list.get(-2).cast(pl.Float64)
    hours = pl.when(n == 3).then(parts.list.get(0).cast(pl.Float64)).otherwise(0.0)
    return hours * 3600.0 + minutes * 60.0 + last


def long_table(frames: pl.DataFrame, meta: dict[str, Any]) -> tuple[pl.DataFrame, int]:
    """One row per ball/player detection (provider orientation), and the number of unidentified player rows."""
    ball_id = meta["ball"]["trackable_object"]
    referees = [r["trackable_object"] for r in meta.get("referees", []) if r.get("trackable_object") is not None]
    grounds = {meta["home_team"]["id"]: "home", meta["away_team"]["id"]: "away"}
    roster = pl.DataFrame(
        {
            "trackable_object": [p["trackable_object"] for p in meta["players"]],
            "object_id": [str(p["id"]) for p in meta["players"]],
            "team": [grounds.get(p["team_id"]) for p in meta["players"]],
        },
        schema={"trackable_object": pl.Int64, "object_id": pl.String, "team": pl.String},
    ).unique("trackable_object", keep="first")
    offset = pl.col("period").replace_strict(PERIOD_START_S, default=None, return_dtype=pl.Float64)
    owning = pl.col("possession").struct.field("group").replace_strict(GROUPS, default=None)
    rows = (
        frames.with_row_index("order")
        .select(
            "order",
            "frame",
            "period",
            (((_seconds(pl.col("time")) * 1e6).round() - offset * 1e6) / 1e6).alias("time_s"),
            owning.alias("ball_owning_team"),
            "data",
        )
        .explode("data")
        .unnest("data")
        .with_row_index("row")
    )
    is_ball = (pl.col("trackable_object") == ball_id) | (pl.col("group_name") == "balls")
    is_referee = pl.col("trackable_object").is_in(referees) | (pl.col("group_name") == "referee")
    rows = rows.with_columns(is_ball.fill_null(False).alias("is_ball"), is_referee.fill_null(False).alias("is_ref"))
    ball = rows.filter(pl.col("is_ball")).with_columns(
        pl.lit(BALL_ID).alias("object_id"), pl.lit(BALL_ID).alias("team")
    )
    people = rows.filter(~pl.col("is_ball") & ~pl.col("is_ref"))
    players = people.join(roster, on="trackable_object", how="inner").with_columns(pl.lit(None, pl.Float64).alias("z"))
    anonymous = pl.col("trackable_object").is_null() & pl.col("group_name").is_in(list(GROUPS))
    unidentified = people.filter(anonymous).height  # counted as on the kloppy path (its anonymous players)
    columns = ["row", "order", "frame", "period", "time_s", "object_id", "team", "x", "y", "z", "ball_owning_team"]
    table = pl.concat([ball.select(columns), players.select(columns)])
    table = (  # frames in file order, each frame's objects in canonical order (equal objects in file order)
        table.sort("order", object_key(table), "row")
        .unique(["order", "object_id"], keep="last", maintain_order=True)  # within a frame the last detection
        .drop("row", "order")
        .with_columns(
            pl.when(pl.col("ball_owning_team").is_not_null()).then(pl.lit("alive")).otherwise(pl.lit("dead"))
            .alias("ball_state")
        )
    )
    return table, unidentified


def read_skillcorner_open_data(meta_path: Path, raw_path: Path, match_id: str | None = None) -> Match:
    """SkillCorner open data -> canonical :class:`Match` (the kloppy path's, see the module docstring)."""
    meta_path, raw_path = Path(meta_path), Path(raw_path)
    meta = _metadata(meta_path)
    frames = _frames(raw_path)
    if frames.height == 0:
        raise InvalidInputError("no frame with a period and any detection (not SkillCorner tracking?)", raw_path)
    tracking, unidentified = long_table(frames, meta)
    players = players_table(meta)
    if not tracking.filter(pl.col("team") != BALL_ID).height:
        raise InvalidTrackingError(
            f"none of the {len(meta['players'])} players of {meta_path.name} is tracked in it "
            "(match data of another match?)",
            raw_path,
        )
    length, width = meta.get("pitch_length"), meta.get("pitch_width")
    game_id = meta.get("id")
    facts = MatchFacts(
        match_id=match_id or (str(game_id) if game_id not in (None, "") else raw_path.parent.name),
        provider="skillcorner",
        frame_rate=FRAME_RATE,
        pitch=(float(length), float(width)) if length and width else DEFAULT_PITCH,
        source_files=(meta_path, raw_path),
        extra={"source_frames": frames.height, "kloppy_warnings": [], "reader": "native-skillcorner-open-data",
               **({"unidentified_rows": unidentified} if unidentified else {}), **_date_and_score(meta)},
        home_team=str(meta["home_team"].get("name") or "home"),
        away_team=str(meta["away_team"].get("name") or "away"),
    )
    return finalize_match(tracking, players, facts, blame=raw_path)


def _date_and_score(meta: dict[str, Any]) -> dict[str, str]:
    """``date`` (``YYYY-MM-DD`` of ``date_time``) and ``score`` (``"home-away"``) as kloppy's metadata gives them."""
    out: dict[str, str] = {}
    when = meta.get("date_time")
    if isinstance(when, str) and len(when) >= 10:
        out["date"] = when[:10]
    home, away = meta.get("home_team_score"), meta.get("away_team_score")
    if home is not None and away is not None:
        out["score"] = f"{home}-{away}"
    return out


def _read_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, "skillcorner")
    if not is_open_data(roles["raw"][0]):
        return READERS["skillcorner"]["kloppy"](paths)  # v3 JSON lines: small files, kloppy reads them
    return read_skillcorner_open_data(roles["meta"][0], roles["raw"][0])


register_reader("skillcorner", "fast", _read_files)
