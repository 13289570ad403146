"""Native reader for Hawk-Eye 2D tracking: optional match metadata, one ball feed and one player-centroid feed per
minute, all the minutes of one match read into one :class:`~soccerai.match.schema.Match`.

Each feed is one JSON document (``details``, ``samples``, ``sequences``: ``{"segment": period,
"match-minute": m}``), parsed by Arrow's JSON reader straight into columns (only the fields in ``FEED_SCHEMA``;
:func:`~soccerai.io.providers.native.parse_json`), the detections exploded into one row each with polars, and
the canonical finishing is :func:`~soccerai.io.canonical.finalize_match`, as on the kloppy path. The result
equals kloppy 3.19.1's (``tests/test_fast_reader.py``).

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

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from soccerai.errors import InvalidInputError, InvalidTrackingError
from soccerai.io.canonical import MatchFacts, finalize_match, object_key
from soccerai.io.compression import plain_name, read_bytes
from soccerai.io.detect import assign_roles
from soccerai.io.providers.native import micro_seconds, parse_json
from soccerai.io.registry import register_reader
from soccerai.match.clock import PERIOD_START_MINUTE
from soccerai.match.schema import BALL_ID, DEFAULT_PITCH, PLAYERS_SCHEMA, Match

ID_PRIORITY = ("fifaId", "uefaId", "heId")
PLAYER_ROLES = ("Outfielder", "Goalkeeper")
RATE_STEPS = 25
FEED_THREADS = 2
"""Feeds decompressed and parsed at once (each is one large JSON document: a minute is ~75 MB of text)."""


_ID = pl.Struct({k: pl.String for k in ("heId", "fifaId", "uefaId")})
_SAMPLE = pl.Struct({"pos": pl.List(pl.Float64), "time": pl.Float64})
FEED_SCHEMA = {
    "details": pl.Struct({
        "players": pl.List(pl.Struct({"id": _ID, "teamId": _ID, "jerseyNumber": pl.String,
                                      "role": pl.Struct({"name": pl.String})})),
        "teams": pl.List(pl.Struct({"id": _ID, "home": pl.Boolean})),
        "match": pl.Struct({"id": _ID}),
    }),
    "sequences": pl.Struct({"segment": pl.Int64, "match-minute": pl.Int64}),
    "samples": pl.Struct({
        "ball": pl.List(_SAMPLE),
        "people": pl.List(pl.Struct({"centroid": pl.List(_SAMPLE), "personId": _ID,
                                     "role": pl.Struct({"name": pl.String})})),
    }),
}
"""What the reader takes of a feed document (Arrow parses nothing else into memory)."""


@dataclass(frozen=True)
class Feed:
    """One parsed minute feed: ``doc`` its ``details`` and ``sequences`` (Python), ``samples`` a one-row table."""

    path: Path
    doc: dict[str, Any]
    samples: pl.DataFrame
    period: int
    minute: int  # match minute, 1-based as in the file
    match_ref: str | None


def _load(path: Path) -> tuple[dict[str, Any], pl.DataFrame]:
    table = parse_json(read_bytes(path), FEED_SCHEMA, "Hawk-Eye JSON", path, document=True)
    doc = table.select("details", "sequences").row(0, named=True)
    if table.height != 1 or doc["sequences"] is None or table["samples"].null_count():
        raise InvalidInputError("not a Hawk-Eye sample feed (no samples/sequences)", path)
    return doc, table.select("samples")


def _feed(path: Path) -> Feed:
    doc, samples = _load(path)
    seq = doc["sequences"]
    try:
        period, minute = int(seq["segment"]), int(seq["match-minute"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError("Hawk-Eye feed without sequences.segment / match-minute", path) from exc
    ref = ((doc.get("details") or {}).get("match") or {}).get("id") or {}
    match_ref = next((str(ref[k]) for k in ("heId", *ID_PRIORITY) if ref.get(k)), None)
    return Feed(Path(path), doc, samples, period, minute, match_ref)


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


def _frame_rate(ball: Feed, path: Path) -> float:
    times = _samples(ball, "ball").head(RATE_STEPS + 1)["time"].to_list()
    if len(times) < 2:
        raise InvalidInputError("too few ball samples to tell the frame rate", path)
    total = sum(b - a for a, b in zip(times, times[1:], strict=False))
    if total <= 0:
        raise InvalidInputError("ball sample times do not increase", path)
    return float(int(1 / (total / RATE_STEPS)))


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
        for p in (feed.doc.get("details") or {}).get("players") or []:
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
        for team in (feed.doc.get("details") or {}).get("teams") or []:
            teams.setdefault(str(team["id"][key]), "home" if team.get("home") else "away")
    return teams


def _samples(feed: Feed, kind: str) -> pl.DataFrame:
    """One row per entry of the feed's ``samples.<kind>`` list (file order), its struct fields as columns."""
    entries = feed.samples.select(pl.col("samples").struct.field(kind).alias("entry")).explode("entry")
    return entries.filter(pl.col("entry").is_not_null()).unnest("entry")


def _columns(pairs: list[tuple[Feed, Feed]], rate: float, key: str, known: dict[str, str]) -> pl.DataFrame:
    """The ball's and the players' detections of every minute (file order: per minute the ball, then the people)."""
    parts = []
    for ball, people in pairs:
        minute = ball.minute - 1
        period_s = 60.0 * (minute - PERIOD_START_MINUTE.get(ball.period, 120))

        stamp = [pl.lit(ball.period, pl.Int64).alias("period"),  # kloppy: int((60 m + t) r), 60 p + t to the us
                 ((minute * 60 + pl.col("time")) * rate).cast(pl.Int64).alias("frame"),
                 micro_seconds(period_s + pl.col("time")).alias("time_s")]

        pos = pl.col("pos")
        z = pos.list.get(2, null_on_oob=True)
        balls = _samples(ball, "ball").filter(
            pos.list.get(0, null_on_oob=True).is_not_null() & pos.list.get(1, null_on_oob=True).is_not_null()
        )
        parts.append(balls.select(
            *stamp, pl.lit(BALL_ID).alias("object_id"), pl.lit(BALL_ID).alias("team"),
            pos.list.get(0).alias("x"), pos.list.get(1).alias("y"), pl.when(z.is_finite()).then(z).alias("z"),
        ))
        persons = _samples(people, "people").filter(pl.col("role").struct.field("name").is_in(PLAYER_ROLES))
        persons = persons.with_columns(pl.col("personId").struct.field(key).cast(pl.String).fill_null("None")
                                       .alias("object_id"))
        unknown = persons.filter(~pl.col("object_id").is_in(list(known)))["object_id"]
        if unknown.len():
            raise InvalidTrackingError(
                f"tracked player {unknown[0]} is in no player list of the feeds (metadata of another match?)",
                people.path,
            )
        centroids = persons.select("object_id", "centroid").explode("centroid").filter(
            pl.col("centroid").is_not_null()
        ).unnest("centroid")
        parts.append(centroids.select(
            *stamp, "object_id", pl.col("object_id").replace_strict(known).alias("team"),
            pos.list.get(0, null_on_oob=True).alias("x"), pos.list.get(1, null_on_oob=True).alias("y"),
            pl.lit(None, pl.Float64).alias("z"),
        ))
    return pl.concat(parts)


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
    with ThreadPoolExecutor(max_workers=FEED_THREADS) as pool:  # xz and Arrow release the GIL: feeds in parallel
        feeds = list(pool.map(_feed, [*ball_files, *centroid_files]))
    balls, people = feeds[: len(ball_files)], feeds[len(ball_files):]
    _check_one_match([*balls, *people])
    pairs = _pairs(balls, people)
    key = _id_key(people[0].doc)
    teams = _teams(balls, key)
    players = _players(people, teams, key)
    known = dict(zip(players["object_id"].to_list(), players["team"].to_list(), strict=True))
    rate = _frame_rate(pairs[0][0], pairs[0][0].path)
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
