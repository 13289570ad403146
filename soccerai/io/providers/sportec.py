"""Native reader for Sportec / DFL positional XML (match information XML + positions XML): kloppy's canonical result
without a Python object per frame.

The positions file (hundreds of MB for a match) is not parsed into a tree: it is one element per line, so polars
reads it as one string column of lines (lazily, streaming) and pulls the few attributes it needs out of every line
with vectorised (Rust) pattern extraction: ``GameSection``/``TeamId``/``PersonId`` of ``<FrameSet>`` lines and
``N``/``X``/``Y``/``Z``/``BallPossession``/``BallStatus`` of ``<Frame>`` lines; each frame line belongs to the
frame set above it. A file with several elements on a line goes to kloppy. The (small) match information goes
through kloppy's own Sportec metadata parser, so teams, players, officials, periods, frame rate and pitch are
exactly kloppy's. ``tests/test_fast_reader_json_xml.py`` checks the result equals the kloppy path's on both samples.

The mapping (as kloppy 3.19.1's ``SportecTrackingDataDeserializer``)
    * a frame set's period: ``GameSection`` firstHalf/secondHalf/firstHalfExtra/secondHalfExtra -> 1/2/3/4
      (others: its frames are skipped); its object: the ball when ``TeamId="BALL"``, else ``PersonId``; officials'
      and unknown persons' frames are dropped. An object given twice for one frame keeps its last frame.
    * frames: the frame numbers ``N`` of each metadata period that have a ball position, sorted;
      ``time_s = (N - start_s * fps) / fps`` with ``start_s`` the period's start in whole seconds (kloppy's
      ``timedelta.seconds``); ``BallPossession`` 1 -> home else away; ``BallStatus`` 1 -> alive else dead.
    * coordinates: DFL's are centred metres with +y up (kloppy's ``secondspectrum`` system): as given; a missing
      X/Y/Z is 0 (kloppy's default).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.io import compression
from soccerai.io.canonical import MatchFacts, finalize_match, object_key
from soccerai.io.compression import read_bytes
from soccerai.io.detect import assign_roles
from soccerai.io.providers.kloppy import kloppy_team_facts
from soccerai.io.providers.native import kloppy_players, micro_seconds, one_line
from soccerai.io.registry import READERS, register_reader
from soccerai.match.schema import BALL_ID, Match

PROVIDER = "sportec"
SECTIONS = {"firstHalf": 1, "secondHalf": 2, "firstHalfExtra": 3, "secondHalfExtra": 4}
FRAME_ATTRIBUTES = {"N": pl.Int64, "X": pl.Float64, "Y": pl.Float64, "Z": pl.Float64, "BallPossession": pl.Int64,
                    "BallStatus": pl.Int64}
"""The ``<Frame>`` attributes read, and their types."""
SET_ATTRIBUTES = ("GameSection", "TeamId", "PersonId")


KINDS = pl.Enum(["f", "s", "e"])
"""A line's kind: ``<Frame``, ``<FrameSet``, ``</FrameSet``; other lines are null."""
END = "</PutDataRequest>"


class SeveralElementsPerLine(Exception):
    """The positions file is not one element per line: kloppy reads it."""


def _metadata(meta: Path) -> dict[str, Any]:
    from datetime import datetime

    from kloppy.infra.serializers.event.sportec.deserializer import sportec_metadata_from_xml_elm
    from lxml import objectify

    try:
        root = objectify.fromstring(read_bytes(meta))
        sportec = sportec_metadata_from_xml_elm(root)
        general = root.MatchInformation.General.attrib
        date = datetime.fromisoformat(general["KickoffTime"])
        return {"sportec": sportec, "date": date, "game_id": general["MatchId"]}
    except InvalidInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - lxml/kloppy raise anything on foreign metadata
        raise InvalidInputError(f"cannot be read as Sportec metadata ({one_line(exc)})", meta) from exc


def _attribute(name: str) -> pl.Expr:
    return pl.col("line").str.extract(rf'\s{name}="([^"]*)"', 1)


def _lines(raw: Path) -> pl.DataFrame:
    """One row per element line: its kind and the attributes the reader needs (strings)."""
    source = compression.source(raw)
    options = {"has_header": False, "separator": "\x1f", "quote_char": None, "new_columns": ["line"],
               "schema_overrides": {"line": pl.String}}
    line = pl.col("line").str.strip_chars()
    kind = (pl.when(line.str.starts_with("<Frame ")).then(pl.lit("f"))
            .when(line.str.starts_with("<FrameSet ")).then(pl.lit("s"))
            .when(line.str.starts_with("</FrameSet")).then(pl.lit("e"))
            .otherwise(pl.lit(None, pl.String)))
    query = (pl.scan_csv(source, glob=False, **options) if isinstance(source, Path)
             else pl.read_csv(source, **options).lazy())
    query = query.with_columns(line.alias("line")).filter(pl.col("line").str.len_bytes() > 0).select(
        kind.alias("kind"),
        (pl.col("line").str.count_matches("<", literal=True) > 1).alias("several"),
        pl.col("line").str.ends_with("/>").alias("closed"),
        pl.when(kind == "f").then(pl.col("line")).otherwise(pl.lit(None, pl.String)).alias("frame_line"),
        pl.when(kind == "s").then(pl.col("line")).otherwise(pl.lit(None, pl.String)).alias("set_line"),
        pl.col("line").alias("text"),
    ).select(
        "kind", "several", "closed",
        *[pl.col("frame_line").str.extract(rf'\s{a}="([^"]*)"', 1).alias(a) for a in FRAME_ATTRIBUTES],
        *[pl.col("set_line").str.extract(rf'\s{a}="([^"]*)"', 1).alias(a) for a in SET_ATTRIBUTES],
        ((pl.int_range(pl.len()) >= pl.len() - 1) & (pl.col("text") == END)).alias("end"),
    ).select(  # numbers and categories while streaming: a match's attribute strings never exist all at once
        pl.col("kind").cast(KINDS), "several", "closed", *[pl.col(a).cast(pl.Categorical) for a in SET_ATTRIBUTES], "end",
        *[pl.col(a).cast(dtype, strict=False) for a, dtype in FRAME_ATTRIBUTES.items()],
        pl.any_horizontal(
            [pl.col(a).is_not_null() & pl.col(a).cast(dtype, strict=False).is_null() for a, dtype in FRAME_ATTRIBUTES.items()]
        ).alias("not_number"),
    )
    try:
        return query.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"cannot be read as Sportec positions ({one_line(exc)})", raw) from exc


def _check_lines(lines: pl.DataFrame, raw: Path) -> pl.DataFrame:
    """``lines`` when they are one well-formed, complete positions file."""
    if lines.select(pl.col("several").any()).item():
        raise SeveralElementsPerLine
    if not lines.select(pl.col("end").any()).item():
        raise InvalidInputError("does not end with </PutDataRequest> (truncated Sportec positions file?)", raw)
    kind = pl.col("kind")
    opened, closed, open_frames = lines.select(  # aggregates only: no copy of the line table
        (kind == "s").sum(), (kind == "e").sum().alias("e"), ((kind == "f") & ~pl.col("closed")).sum().alias("f")
    ).row(0)
    if opened != closed:
        raise InvalidInputError(f"{opened} <FrameSet> opened, {closed} closed (truncated file?)", raw)
    if open_frames:
        raise InvalidInputError("<Frame> elements that are not closed (truncated or malformed file?)", raw)
    return lines


def long_table(lines: pl.DataFrame, info: dict[str, Any], raw: Path) -> tuple[pl.DataFrame, int]:
    """The provider-oriented long table (frames sorted, each frame's objects canonical) and the number of frames.

    Everything per row stays numeric until the end: a frame's object is the number of its frame set's object among
    the kept objects, duplicates are found on (period, frame, object number), and the object ids and teams (strings)
    are written once, after the sort."""
    if lines.select(pl.col("not_number").any()).item():
        raise InvalidInputError("Frame attributes that are not numbers (N, X, Y, Z, BallPossession, BallStatus)", raw)
    sportec = info["sportec"]
    officials = [str(o.official_id) for o in (sportec.officials or [])]
    players = {str(p.player_id): str(t.ground.value) for t in sportec.teams for p in t.players}
    fps = float(sportec.fps)
    sets = lines.with_columns((pl.col("kind") == "s").cum_sum().alias("set"))
    context = sets.filter(pl.col("kind") == "s").select(
        "set", *[pl.col(a).cast(pl.String) for a in SET_ATTRIBUTES]
    ).select(
        "set",
        pl.col("GameSection").replace_strict(SECTIONS, default=None, return_dtype=pl.Int64).alias("period"),
        pl.when(pl.col("TeamId") == "BALL").then(pl.lit(BALL_ID)).otherwise(pl.col("PersonId")).alias("object_id"),
    ).filter(pl.col("period").is_not_null() & pl.col("object_id").is_not_null() & ~pl.col("object_id").is_in(officials))
    ids = context.get_column("object_id").unique(maintain_order=True)
    number = dict(zip(ids.to_list(), range(ids.len()), strict=True))
    context = context.with_columns(pl.col("object_id").replace_strict(number, return_dtype=pl.Int64).alias("object"))
    set_period = dict(zip(context["set"].to_list(), context["period"].to_list(), strict=True))
    set_object = dict(zip(context["set"].to_list(), context["object"].to_list(), strict=True))
    frames = sets.filter((pl.col("kind") == "f") & pl.col("N").is_not_null()).select(
        pl.col("set").replace_strict(set_period, default=None, return_dtype=pl.Int64).alias("period"),
        pl.col("N").alias("frame"),
        pl.col("set").replace_strict(set_object, default=None, return_dtype=pl.Int64).alias("object"),
        *[pl.col(a).fill_null(0.0).alias(a.lower()) for a in ("X", "Y", "Z")],
        (pl.col("BallPossession").fill_null(0) == 1).alias("home_ball"),
        (pl.col("BallStatus").fill_null(0) == 1).alias("alive"),
    ).filter(pl.col("object").is_not_null())
    del lines, sets  # the caller keeps no reference: the line table is freed here
    keys = ["period", "frame", "object"]
    distinct = frames.lazy().select(pl.struct(keys).n_unique()).collect(engine="streaming").item()
    if distinct < frames.height:
        frames = frames.unique(keys, keep="last", maintain_order=True)
    ball_number = number.get(BALL_ID, -1)
    player_numbers = [number[i] for i in players if i in number]
    starts = {p.id: float(p.start_timestamp.seconds) for p in sportec.periods}
    is_ball = pl.col("object") == ball_number
    ball = frames.filter(is_ball & pl.col("period").is_in(list(starts))).select(
        "period", "frame",
        micro_seconds((pl.col("frame") - pl.col("period").replace_strict(starts, return_dtype=pl.Float64) * fps) / fps)
        .alias("time_s"),
        pl.when(pl.col("alive")).then(pl.lit("alive")).otherwise(pl.lit("dead")).alias("ball_state"),
        pl.when(pl.col("home_ball")).then(pl.lit("home")).otherwise(pl.lit("away")).alias("ball_owning_team"),
    )
    persons, tracked = frames.select(
        (~is_ball & pl.col("period").is_in(list(starts))).any(), pl.col("object").is_in(player_numbers).any().alias("p")
    ).row(0)
    if persons and not tracked:
        raise InvalidInputError("no tracked person is a player of the metadata (metadata of another match?)", raw)
    objects = pl.DataFrame({"object_id": ids, "object": pl.int_range(ids.len(), eager=True)}).with_columns(
        pl.col("object_id").replace_strict({**players, BALL_ID: BALL_ID}, default=None).alias("team")
    )
    place = dict(zip(objects["object"].to_list(), objects.select(object_key(objects)).to_series().to_list(), strict=True))
    order = {p.id: i for i, p in enumerate(sportec.periods)}  # kloppy: metadata periods in order, frames sorted
    rows = frames.filter(is_ball | pl.col("object").is_in(player_numbers)).select(
        "period", "frame", "object", "x", "y", pl.when(is_ball).then(pl.col("z")).otherwise(None).alias("z")
    )
    del frames
    rows = rows.sort(  # sorted while still numeric, then the ball's frame facts joined in that order
        pl.col("period").replace_strict(order, return_dtype=pl.Int64), "frame",
        pl.col("object").replace_strict(place, return_dtype=pl.Int64), maintain_order=True,
    ).join(ball, on=["period", "frame"], how="inner", maintain_order="left")
    names = objects.select("object", "object_id", "team")
    tracking = rows.with_columns(
        pl.col("object").replace_strict(names["object"], names["object_id"]).alias("object_id"),
        pl.col("object").replace_strict(names["object"], names["team"]).alias("team"),
    ).drop("object")
    return tracking, ball.height


def read_sportec(meta: Path, raw: Path) -> Match:
    """Sportec match information + positions XML -> canonical :class:`Match` (see the module docstring)."""
    meta, raw = Path(meta), Path(raw)
    info = _metadata(meta)
    if not raw.is_file():
        raise InvalidInputError("no such file", raw)
    if raw.stat().st_size == 0:
        raise InvalidInputError("file is empty", raw)
    tracking, source_frames = long_table(_check_lines(_lines(raw), raw), info, raw)  # long_table frees the lines
    if not source_frames:
        raise InvalidInputError("no frame with a ball position in a period of the metadata", raw)
    sportec = info["sportec"]

    class _Meta:
        teams = sportec.teams
        date = info["date"]
        score = sportec.score

    named = kloppy_team_facts(_Meta)
    facts = MatchFacts(
        match_id=str(info["game_id"]),
        provider=PROVIDER,
        frame_rate=float(sportec.fps),
        pitch=(float(sportec.x_max), float(sportec.y_max)),
        source_files=(meta, raw),
        extra={"source_frames": source_frames, "kloppy_warnings": [], **named["extra"]},
        home_team=named["home_team"],
        away_team=named["away_team"],
    )
    return finalize_match(tracking, kloppy_players(sportec.teams), facts, blame=raw)


def _read_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, PROVIDER)
    try:
        return read_sportec(roles["meta"][0], roles["raw"][0])
    except SeveralElementsPerLine:
        return READERS[PROVIDER]["kloppy"](paths)


register_reader(PROVIDER, "fast", _read_files)
