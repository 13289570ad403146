"""Native reader for Second Spectrum tracking (XML or JSON metadata + JSON-lines frames): kloppy's canonical result
without a Python object per frame.

The frame lines are parsed by Arrow (:func:`~soccerai.io.providers.native.read_ndjson`, C++) with a fixed schema and exploded into one
row per object; the (small) metadata is read here the way kloppy's ``SecondSpectrumDeserializer`` reads it, into
kloppy ``Team``/``Player`` objects so that the players table is the kloppy path's. ``tests/test_fast_reader_json_xml.py``
checks the result equals the kloppy path's on every sample.

The mapping (as kloppy 3.19.1)
    * metadata: XML ``<match iFrameRateFps fPitchXSizeMeters fPitchYSizeMeters>`` with ``<period iId iStartFrame
      iEndFrame>`` or JSON with ``fps``, ``pitchLength``/``pitchWidth`` and ``periods`` (``startFrameIdx``/
      ``endFrameIdx``); periods with both frames 0 are not periods. A frame's period is the ``period``-th of them.
    * additional JSON metadata (or the JSON metadata itself): teams ``homeOptaId``/``awayOptaId``, names from
      ``description`` (``"HOME - AWAY : date"``), players ``optaId``/``name``/``number``/``position``, score, date,
      ``ssiId`` (the match id; else the metadata file's stem).
    * a frame line: ``frameIdx`` -> frame, ``gameClock`` -> time_s, ``live`` -> alive/dead, ``lastTouch`` "home" ->
      home else away; ``ball.xyz`` (when not empty) -> the ball with z; ``homePlayers``/``awayPlayers`` entries
      -> the team's player with that ``number`` (the first in the metadata), or a new player ``playerId`` of that
      team (kloppy appends it to the team's players, in order of first appearance).
    * coordinates: Second Spectrum's are kloppy's ``secondspectrum`` system (centred metres, +y up): as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.io.canonical import MatchFacts, finalize_match, stem_match_id
from soccerai.io.compression import read_bytes
from soccerai.io.detect import assign_roles
from soccerai.io.providers.kloppy import kloppy_team_facts
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

PROVIDER = "secondspectrum"
_PLAYER = pl.Struct({"playerId": pl.String, "number": pl.Int64, "xyz": pl.List(pl.Float64)})
FRAME_SCHEMA = {
    "period": pl.Int64,
    "frameIdx": pl.Int64,
    "gameClock": pl.Float64,
    "live": pl.Boolean,
    "lastTouch": pl.String,
    "ball": pl.Struct({"xyz": pl.List(pl.Float64)}),
    "homePlayers": pl.List(_PLAYER),
    "awayPlayers": pl.List(_PLAYER),
}


def _metadata(meta: Path) -> dict[str, Any]:
    """Frame rate, pitch, periods ``[(id, start, end)]`` and (JSON metadata) the JSON itself."""
    data = read_bytes(meta)
    try:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
            doc = orjson.loads(data)
            periods = [
                (int(p["number"]), int(p["startFrameIdx"]), int(p["endFrameIdx"])) for p in doc["periods"]
            ]
            return {"fps": int(doc["fps"]), "pitch": (float(doc["pitchLength"]), float(doc["pitchWidth"])),
                    "periods": [p for p in periods if p[1] != 0 or p[2] != 0], "json": doc}
        from lxml import etree

        root = etree.fromstring(data)
        match = root.find("match")
        periods = [
            (int(p.get("iId")), int(p.get("iStartFrame")), int(p.get("iEndFrame"))) for p in match.iterfind("period")
        ]
        return {"fps": int(match.get("iFrameRateFps")),
                "pitch": (float(match.get("fPitchXSizeMeters")), float(match.get("fPitchYSizeMeters"))),
                "periods": [p for p in periods if p[1] != 0 or p[2] != 0], "json": None}
    except Exception as exc:  # noqa: BLE001 - lxml/orjson/KeyError on foreign metadata
        raise InvalidInputError(f"cannot be read as {PROVIDER} metadata ({one_line(exc)})", meta) from exc


def _teams(doc: dict[str, Any] | None) -> list[Any]:
    """kloppy's home and away ``Team`` objects with the players of the JSON metadata ``doc`` (as kloppy fills them)."""
    from kloppy.domain import Ground, Player, PositionType, Team
    from kloppy.infra.serializers.tracking.secondspectrum import position_mapping

    teams = [Team(team_id="home", name="home", ground=Ground.HOME), Team(team_id="away", name="away", ground=Ground.AWAY)]
    if doc is None:
        return teams
    try:
        teams[0].team_id, teams[1].team_id = doc["homeOptaId"], doc["awayOptaId"]
        try:
            home_name = doc["description"].split("-")[0].strip()
            away_name = doc["description"].split("-")[1].split(":")[0].strip()
        except Exception:  # noqa: BLE001 - kloppy's fallback
            home_name, away_name = "home", "away"
        teams[0].name, teams[1].name = home_name, away_name
        for team, key in zip(teams, ["homePlayers", "awayPlayers"], strict=True):
            for p in doc[key]:
                team.players.append(Player(
                    player_id=p["optaId"], name=p["name"], starting=p["position"] != "SUB",
                    starting_position=position_mapping.get(p["position"], PositionType.Unknown),
                    team=team, jersey_no=int(p["number"]),
                ))
    except Exception:  # noqa: BLE001 - kloppy goes on without the malformed optional metadata ("Continuing without")
        pass
    return teams


def _roster(teams: Sequence[Any]) -> pl.DataFrame:
    """(team, jersey) -> object_id of the metadata's players, the first per jersey (kloppy's lookup)."""
    rows = [(str(t.ground.value), int(p.jersey_no), str(p.player_id)) for t in teams for p in t.players
            if p.jersey_no is not None]
    return pl.DataFrame(rows, schema={"team": pl.String, "jersey": pl.Int64, "object_id": pl.String},
                        orient="row").unique(["team", "jersey"], keep="first", maintain_order=True)




def long_table(frames: pl.DataFrame, periods: list[tuple[int, int, int]], teams: Sequence[Any],
               raw: Path) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """The provider-oriented long table, the players table (metadata players + those kloppy adds) and the number of
    frames (``frames`` is not kept: the caller should hold no other reference)."""
    bad = frames.filter(pl.col("period").is_null() | (pl.col("period") < 1) | (pl.col("period") > len(periods))
                        | pl.col("frameIdx").is_null() | pl.col("gameClock").is_null())
    if bad.height:
        raise InvalidInputError(
            f"{bad.height} frames without a frameIdx/gameClock or with a period the metadata lacks "
            f"(metadata of another match?)", raw)
    frames = frames.with_row_index("order").with_columns(
        pl.col("period").replace_strict({i + 1: p[0] for i, p in enumerate(periods)}, return_dtype=pl.Int64),
        micro_seconds(pl.col("gameClock")).alias("time_s"),
        pl.when(pl.col("live")).then(pl.lit("alive")).otherwise(pl.lit("dead")).alias("ball_state"),
        pl.when(pl.col("lastTouch") == "home").then(pl.lit("home")).otherwise(pl.lit("away")).alias("ball_owning_team"),
    )
    xyz = pl.col("ball").struct.field("xyz")
    ball = frames.filter(xyz.list.len() > 0).select(
        "order", pl.lit(-1, pl.Int64).alias("jersey"),
        pl.lit(BALL_ID).alias("object_id"), pl.lit(BALL_ID).alias("team"), xyz.list.get(0).alias("x"), xyz.list.get(1).alias("y"), xyz.list.get(2, null_on_oob=True).alias("z"),
    )
    fields = {"playerId": "player_id", "number": "jersey", "xyz": "xyz"}
    people = pl.concat([exploded_players(frames, "homePlayers", "home", fields),
                        exploded_players(frames, "awayPlayers", "away", fields)])
    if people.select((pl.col("jersey").is_null() | (pl.col("xyz").list.len() < 2)).any()).item():
        raise InvalidInputError("player entries without a number or xyz", raw)
    if people.select((pl.col("jersey").abs() >= JERSEY_LIMIT).any()).item():
        raise InvalidInputError(f"player numbers of {JERSEY_LIMIT} or more (not jersey numbers)", raw)
    roster = _roster(teams)
    key = team_jersey(pl.col("team"), pl.col("jersey"))  # lookups on one integer: no join copies of the entries
    known = roster.select(key.alias("key"), "object_id")
    people = people.with_columns(key.replace_strict(known["key"], known["object_id"], default=None).alias("object_id"))
    new = (people.filter(pl.col("object_id").is_null())  # each team's rows are in file order already
           .unique(["team", "jersey"], keep="first", maintain_order=True)
           .select("team", "jersey", pl.col("player_id").alias("new_id")))
    added = new.select(key.alias("key"), "new_id")
    people = people.select(
        "order", "jersey",
        pl.coalesce("object_id", key.replace_strict(added["key"], added["new_id"], default=None)).alias("object_id"),
        "team", pl.col("xyz").list.get(0).alias("x"), pl.col("xyz").list.get(1).alias("y"),
        pl.lit(None, pl.Float64).alias("z"),
    )
    ids = pl.concat([roster["object_id"], new["new_id"]])
    info = frames.select("period", pl.col("frameIdx").alias("frame"), "time_s", "ball_state", "ball_owning_team")
    source_frames = frames.height
    parts = [ball, people]
    del frames, ball, people  # the caller keeps no reference: assemble frees them as it goes
    tracking = assemble(parts, info, ids_by_jersey=ids.n_unique() == ids.len())
    players = kloppy_players(teams)
    if new.height:
        extra = new.select(
            pl.col("new_id").alias("object_id"), "team", pl.col("jersey").cast(pl.Int32),
            pl.lit("UNK").alias("position"), pl.lit(None, pl.String).alias("name"), pl.lit(False).alias("is_goalkeeper"),
        ).with_columns(pl.col("team").replace_strict({"home": 0, "away": 1}).alias("rank"))
        players = pl.concat([
            players.with_columns(pl.col("team").replace_strict({"home": 0, "away": 1}).alias("rank")),
            extra.select(*players.columns, "rank"),
        ]).sort("rank", maintain_order=True).drop("rank").unique("object_id", keep="first", maintain_order=True)
    return tracking, players, source_frames


def read_secondspectrum(meta: Path, raw: Path, additional_meta: Path | None = None) -> Match:
    """Second Spectrum metadata (+ optional JSON metadata) and JSON-lines frames -> canonical :class:`Match`."""
    meta, raw = Path(meta), Path(raw)
    info = _metadata(meta)
    doc = info["json"]
    if additional_meta is not None:
        try:
            doc = orjson.loads(read_bytes(additional_meta))
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(f"is not valid JSON ({one_line(exc)})", additional_meta) from exc
    teams = _teams(doc)
    tracking, players, source_frames = long_table(read_ndjson(raw, FRAME_SCHEMA, PROVIDER), info["periods"], teams, raw)
    facts_extra: dict[str, Any] = {"source_frames": source_frames, "kloppy_warnings": []}
    kloppy_meta = _KloppyFacts(teams, doc)
    named = kloppy_team_facts(kloppy_meta)
    game_id = doc.get("ssiId") if isinstance(doc, dict) else None
    sources = (meta, raw) + ((Path(additional_meta),) if additional_meta is not None else ())
    facts = MatchFacts(
        match_id=str(game_id) if game_id not in (None, "") else stem_match_id(meta),
        provider=PROVIDER,
        frame_rate=float(info["fps"]),
        pitch=info["pitch"],
        source_files=sources,
        extra={**facts_extra, **named["extra"]},
        home_team=named["home_team"],
        away_team=named["away_team"],
    )
    return finalize_match(tracking, players, facts, blame=raw)


class _KloppyFacts:
    """What :func:`kloppy_team_facts` reads of a kloppy ``Metadata``: teams, date, score (kloppy's rules)."""

    def __init__(self, teams: Sequence[Any], doc: dict[str, Any] | None) -> None:
        from kloppy.domain import Score

        self.teams = teams
        self.date = self.score = None
        if doc:
            self.score = Score(home=doc["homeScore"], away=doc["awayScore"])
            self.date = datetime(doc["year"], doc["month"], doc["day"], 0, 0, tzinfo=UTC)


def _read_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, PROVIDER)
    extra = roles.get("additional_meta")
    return read_secondspectrum(roles["meta"][0], roles["raw"][0], extra[0] if extra else None)


register_reader(PROVIDER, "fast", _read_files)
