"""Native reader for Hawk-Eye 2D tracking: optional match metadata, one ball feed and one player-centroid feed per
minute, all the minutes of one match read into one :class:`~soccerai.match.schema.Match`.

Each feed is one JSON document (``details``, ``samples``, ``sequences``: ``{"segment": period,
"match-minute": m}``), parsed with orjson; the samples become columns with one Python pass over the detections
(about 75,000 a minute) and the canonical finishing is :func:`~soccerai.io.canonical.finalize_match`, as on
the kloppy path. The result equals kloppy 3.19.1's (``tests/test_fast_reader.py``), which needs ~10x longer.

The mapping (as kloppy's ``HawkEyeDeserializer``)
    * ids: the first identifier present among ``fifaId``, ``uefaId``, ``heId`` of the first feed's first player;
      players from the centroid feeds' ``details.players`` (first feed first), team from ``teamId``, home from the
      ball feed's ``details.teams[].home``; position "GK" for role ``Goalkeeper``, else "UNK".
    * frame rate ``r``: ``int(1 / mean(dt))`` over the first 25 steps of the first ball feed's sample times;
      ``frame = int((60 (m - 1) + t) r)`` with ``t`` a sample's ``time`` (seconds into the minute) and ``m`` the
      match minute; ``time_s = 60 p + t`` rounded to the microsecond, ``p`` the minute of the period
      (``m - 1`` less 0, 45, 90, 105, 120 minutes for periods 1-5).
    * rows: the ball's ``pos`` ``[x, y, z]`` (metres, centred, +y up as kloppy's ``secondspectrum`` system) and
      every ``Outfielder``/``Goalkeeper`` centroid ``pos`` ``[x, y]``; referees and other people are not players.
      Within the match the last detection of an object in a frame wins (kloppy's dictionary).
    * ball_state / ball_owning_team: null (kloppy reads neither).

Checks (one-line errors naming the file): every feed of one match (``details.match.id``); each minute once per
feed kind (a minute given twice is refused, not merged); a ball feed and a centroid feed for every minute; at least
one ball feed; every tracked person with a player role is in the feeds' player lists.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from soccerai.errors import InvalidInputError, InvalidTrackingError
from soccerai.io.canonical import MatchFacts, finalize_match, object_key
from soccerai.io.compression import plain_name, read_bytes
from soccerai.io.detect import assign_roles
from soccerai.io.registry import register_reader
from soccerai.match.schema import BALL_ID, DEFAULT_PITCH, PLAYERS_SCHEMA, Match

ID_PRIORITY = ("fifaId", "uefaId", "heId")
PLAYER_ROLES = ("Outfielder", "Goalkeeper")
PERIOD_START_MIN = {1: 0, 2: 45, 3: 90, 4: 105, 5: 120}
RATE_STEPS = 25


@dataclass(frozen=True)
class Feed:
    """One parsed minute feed."""

    path: Path
    doc: dict[str, Any]
    period: int
    minute: int  # match minute, 1-based as in the file
    match_ref: str | None


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"is not valid JSON ({exc})", path) from exc
    if not isinstance(doc, dict) or "samples" not in doc or "sequences" not in doc:
        raise InvalidInputError("not a Hawk-Eye sample feed (no samples/sequences)", path)
    return doc


def _feed(path: Path) -> Feed:
    doc = _load(path)
    seq = doc["sequences"]
    try:
        period, minute = int(seq["segment"]), int(seq["match-minute"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError("Hawk-Eye feed without sequences.segment / match-minute", path) from exc
    ref = ((doc.get("details") or {}).get("match") or {}).get("id") or {}
    match_ref = next((str(ref[k]) for k in ("heId", *ID_PRIORITY) if ref.get(k)), None)
    return Feed(Path(path), doc, period, minute, match_ref)


def _by_minute(feeds: list[Feed], kind: str) -> dict[tuple[int, int], Feed]:
    out: dict[tuple[int, int], Feed] = {}
    for feed in feeds:
        key = (feed.period, feed.minute)
        if key in out:
            raise InvalidInputError(
                f"period {feed.period} minute {feed.minute} {kind} feed already given by {out[key].path.name} "
                "(frames duplicated across minute files)",
                feed.path,
            )
        out[key] = feed
    return out


def _check_one_match(feeds: list[Feed]) -> None:
    refs = {f.match_ref for f in feeds if f.match_ref}
    if len(refs) > 1:
        first = feeds[0]
        other = next(f for f in feeds if f.match_ref and f.match_ref != first.match_ref)
        raise InvalidInputError(
            f"feed of match {other.match_ref}, but {first.path.name} is of match {first.match_ref} "
            "(feeds of two matches in one match)",
            other.path,
        )


def _pairs(ball: list[Feed], centroids: list[Feed]) -> list[tuple[Feed, Feed]]:
    balls, people = _by_minute(ball, "ball"), _by_minute(centroids, "centroid")
    for key, feed in people.items():
        if key not in balls:
            raise InvalidInputError(f"no ball feed for period {key[0]} minute {key[1]}", feed.path)
    for key, feed in balls.items():
        if key not in people:
            raise InvalidInputError(f"no player-centroid feed for period {key[0]} minute {key[1]}", feed.path)
    return [(balls[k], people[k]) for k in sorted(balls)]


def _id_key(centroid_doc: dict[str, Any]) -> str:
    players = (centroid_doc.get("details") or {}).get("players") or []
    first = players[0]["id"] if players else {}
    return next((k for k in ID_PRIORITY if first.get(k)), "heId")


def _frame_rate(ball_doc: dict[str, Any], path: Path) -> float:
    times = [s["time"] for s in ball_doc["samples"]["ball"][: RATE_STEPS + 1]]
    if len(times) < 2:
        raise InvalidInputError("too few ball samples to tell the frame rate", path)
    total = sum(b - a for a, b in zip(times, times[1:], strict=False))
    if total <= 0:
        raise InvalidInputError("ball sample times do not increase", path)
    return float(int(1 / (total / RATE_STEPS)))


def _micro(seconds: float) -> float:
    return timedelta(seconds=seconds).total_seconds()


def _meta(path: Path | None) -> tuple[str | None, tuple[float, float] | None]:
    """(match id, pitch) from the JSON or XML metadata, if any."""
    if path is None:
        return None, None
    if plain_name(path).lower().endswith(".xml"):
        try:
            root = ET.fromstring(read_bytes(path))
        except ET.ParseError as exc:
            raise InvalidInputError(f"is not valid XML ({exc})", path) from exc
        length, width = root.findtext("stadium/pitch/length"), root.findtext("stadium/pitch/width")
        game = root.findtext("id")
    else:
        try:
            doc = orjson.loads(read_bytes(path))
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(f"is not valid JSON ({exc})", path) from exc
        stadium = doc.get("Stadium") or {}
        length, width, game = stadium.get("PitchLength"), stadium.get("PitchWidth"), doc.get("MatchId")
    pitch = (float(length), float(width)) if length and width else None
    return (str(game).strip() if game else None), pitch


def _players(centroid_feeds: list[Feed], teams: dict[str, str], key: str) -> pl.DataFrame:
    rows: dict[str, dict[str, Any]] = {}
    for feed in centroid_feeds:
        for p in feed.doc.get("details", {}).get("players", []):
            pid = str(p["id"][key])
            if pid in rows:
                continue
            role = (p.get("role") or {}).get("name")
            jersey = str(p.get("jerseyNumber", ""))
            rows[pid] = {
                "object_id": pid,
                "team": teams.get(str((p.get("teamId") or {}).get(key))),
                "jersey": int(jersey) if jersey.lstrip("-").isdigit() else None,
                "position": "GK" if str(role).lower() == "goalkeeper" else "UNK",
                "name": None,
                "is_goalkeeper": str(role).lower() == "goalkeeper",
            }
    return pl.DataFrame(list(rows.values()), schema=PLAYERS_SCHEMA)


def _teams(ball_feeds: list[Feed], key: str) -> dict[str, str]:
    teams: dict[str, str] = {}
    for feed in ball_feeds:
        for team in (feed.doc.get("details") or {}).get("teams", []):
            teams.setdefault(str(team["id"][key]), "home" if team.get("home") else "away")
    return teams


def _columns(pairs: list[tuple[Feed, Feed]], rate: float, key: str, known: dict[str, str]) -> pl.DataFrame:
    cols: dict[str, list[Any]] = {k: [] for k in ("period", "frame", "time_s", "object_id", "team", "x", "y", "z")}

    def add(period: int, frame: int, time_s: float, oid: str, team: str, x: float, y: float, z: float | None) -> None:
        cols["period"].append(period)
        cols["frame"].append(frame)
        cols["time_s"].append(time_s)
        cols["object_id"].append(oid)
        cols["team"].append(team)
        cols["x"].append(x)
        cols["y"].append(y)
        cols["z"].append(z)

    for ball, people in pairs:
        period, minute = ball.period, ball.minute - 1
        period_s = 60.0 * (minute - PERIOD_START_MIN.get(period, 120))
        for s in ball.doc["samples"].get("ball", []):
            pos = s.get("pos") or []
            if len(pos) >= 2 and pos[0] is not None and pos[1] is not None:
                z = pos[2] if len(pos) > 2 and pos[2] is not None and math.isfinite(pos[2]) else None
                add(period, int((minute * 60 + float(s["time"])) * rate), _micro(period_s + s["time"]),
                    BALL_ID, BALL_ID, pos[0], pos[1], z)
        for person in people.doc["samples"].get("people", []):
            if (person.get("role") or {}).get("name") not in PLAYER_ROLES:
                continue
            pid = str((person.get("personId") or {}).get(key))
            team = known.get(pid)
            if team is None:
                raise InvalidTrackingError(
                    f"tracked player {pid} is in no player list of the feeds (metadata of another match?)",
                    people.path,
                )
            for c in person.get("centroid", []):
                pos = c["pos"]
                add(period, int((minute * 60 + c["time"]) * rate), _micro(period_s + c["time"]), pid, team,
                    pos[0], pos[1], None)
    return pl.DataFrame(
        cols,
        schema={"period": pl.Int64, "frame": pl.Int64, "time_s": pl.Float64, "object_id": pl.String,
                "team": pl.String, "x": pl.Float64, "y": pl.Float64, "z": pl.Float64},
    )


def _kloppy_frames(table: pl.DataFrame) -> pl.DataFrame:
    """kloppy's frames: each object's last detection in a frame; the frame stamped with the time of its last ball
    sample (a later ball sample replaces the frame), else of its first player centroid. Sorted by frame."""
    table = table.with_row_index("row")
    ball = pl.col("team") == BALL_ID
    stamp = table.group_by("period", "frame").agg(
        pl.col("time_s").filter(ball).sort_by(pl.col("row").filter(ball)).last().alias("ball_t"),
        pl.col("time_s").filter(~ball).sort_by(pl.col("row").filter(~ball)).first().alias("player_t"),
    )
    last = table.unique(["period", "frame", "object_id"], keep="last", maintain_order=True)
    return (
        last.join(stamp, on=["period", "frame"])
        .with_columns(pl.coalesce("ball_t", "player_t").alias("time_s"))
        .sort("period", "frame", object_key(last))
        .drop("ball_t", "player_t", "row")
    )


def read_hawkeye(ball_files: Sequence[Path], centroid_files: Sequence[Path], meta: Path | None = None) -> Match:
    """Hawk-Eye minute feeds (+ optional metadata) -> one canonical :class:`Match` (see the module docstring)."""
    if not ball_files:
        raise InvalidInputError("Hawk-Eye tracking without a ball feed (*.samples.ball)", centroid_files[0])
    if not centroid_files:
        raise InvalidInputError("Hawk-Eye tracking without a player-centroid feed (*.samples.centroids)", ball_files[0])
    balls = [_feed(p) for p in ball_files]
    people = [_feed(p) for p in centroid_files]
    _check_one_match([*balls, *people])
    pairs = _pairs(balls, people)
    key = _id_key(people[0].doc)
    teams = _teams(balls, key)
    players = _players(people, teams, key)
    known = dict(zip(players["object_id"].to_list(), players["team"].to_list(), strict=True))
    rate = _frame_rate(pairs[0][0].doc, pairs[0][0].path)
    table = _kloppy_frames(_columns(pairs, rate, key, known))
    game, pitch = _meta(meta)
    sources = (*[b.path for b, _ in pairs], *[c.path for _, c in pairs], *([meta] if meta else []))
    facts = MatchFacts(
        match_id=game or _match_id(balls[0], key) or stem_of(ball_files[0]),
        provider="hawkeye",
        frame_rate=rate,
        pitch=pitch or DEFAULT_PITCH,
        source_files=tuple(Path(p) for p in sources),
        extra={"source_frames": table.select(pl.struct("period", "frame").n_unique()).item(),
               "kloppy_warnings": [], "reader": "native-hawkeye",
               "minutes": [f"{b.period}:{b.minute}" for b, _ in pairs]},
    )
    return finalize_match(table, players, facts, blame=pairs[0][1].path)


def _match_id(feed: Feed, key: str) -> str | None:
    """kloppy's fallback game id: the ball feed's ``details.match.id`` under the players' identifier."""
    value = (((feed.doc.get("details") or {}).get("match") or {}).get("id") or {}).get(key)
    return str(value) if value else None


def stem_of(path: Path) -> str:
    return re.sub(r"\.football\.samples\.(ball|centroids)$", "", plain_name(path))


def _read_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, "hawkeye")
    return read_hawkeye(roles.get("ball", []), roles.get("centroids", []), (roles.get("meta") or [None])[0])


register_reader("hawkeye", "fast", _read_files)
