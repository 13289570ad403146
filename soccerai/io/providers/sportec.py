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
FRAME_ATTRIBUTES = ("N", "X", "Y", "Z", "BallPossession", "BallStatus")
SET_ATTRIBUTES = ("GameSection", "TeamId", "PersonId")


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
        pl.when(pl.int_range(pl.len()) >= pl.len() - 1).then(pl.col("text")).alias("last"),
    )
    try:
        return query.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"cannot be read as Sportec positions ({one_line(exc)})", raw) from exc


def _check_lines(lines: pl.DataFrame, raw: Path) -> None:
    if lines.select(pl.col("several").any()).item():
        raise SeveralElementsPerLine
    last = lines["last"].drop_nulls()
    if not last.len() or last[0] != "</PutDataRequest>":
        raise InvalidInputError("does not end with </PutDataRequest> (truncated Sportec positions file?)", raw)
    counts = lines.group_by("kind").len()
    n = dict(zip(counts["kind"].to_list(), counts["len"].to_list(), strict=True))
    if n.get("s", 0) != n.get("e", 0):
        raise InvalidInputError(f"{n.get('s', 0)} <FrameSet> opened, {n.get('e', 0)} closed (truncated file?)", raw)
    if lines.filter((pl.col("kind") == "f") & ~pl.col("closed")).height:
        raise InvalidInputError("<Frame> elements that are not closed (truncated or malformed file?)", raw)


def long_table(lines: pl.DataFrame, info: dict[str, Any], raw: Path) -> tuple[pl.DataFrame, int]:
    sportec = info["sportec"]
    officials = [str(o.official_id) for o in (sportec.officials or [])]
    players = {str(p.player_id): str(t.ground.value) for t in sportec.teams for p in t.players}
    fps = float(sportec.fps)
    sets = lines.with_columns((pl.col("kind") == "s").cum_sum().alias("set"))
    context = sets.filter(pl.col("kind") == "s").select(
        "set",
        pl.col("GameSection").replace_strict(SECTIONS, default=None, return_dtype=pl.Int64).alias("period"),
        pl.when(pl.col("TeamId") == "BALL").then(pl.lit(BALL_ID)).otherwise(pl.col("PersonId")).alias("object_id"),
    )
    try:
        frames = (
            sets.filter((pl.col("kind") == "f") & pl.col("N").is_not_null())
            .select("set", pl.col("N").cast(pl.Int64).alias("frame"),
                    *[pl.col(a).cast(pl.Float64).fill_null(0.0).alias(a.lower()) for a in ("X", "Y", "Z")],
                    (pl.col("BallPossession").cast(pl.Int64).fill_null(0) == 1).alias("home_ball"),
                    (pl.col("BallStatus").cast(pl.Int64).fill_null(0) == 1).alias("alive"))
            .join(context, on="set", how="inner", maintain_order="left")
            .filter(pl.col("period").is_not_null() & pl.col("object_id").is_not_null()
                    & ~pl.col("object_id").is_in(officials))
            .unique(["period", "frame", "object_id"], keep="last", maintain_order=True)
        )
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"Frame attributes that are not numbers ({one_line(exc)})", raw) from exc
    starts = {p.id: float(p.start_timestamp.seconds) for p in sportec.periods}
    ball = frames.filter((pl.col("object_id") == BALL_ID) & pl.col("period").is_in(list(starts))).select(
        "period", "frame",
        micro_seconds((pl.col("frame") - pl.col("period").replace_strict(starts, return_dtype=pl.Float64) * fps) / fps)
        .alias("time_s"),
        pl.when(pl.col("alive")).then(pl.lit("alive")).otherwise(pl.lit("dead")).alias("ball_state"),
        pl.when(pl.col("home_ball")).then(pl.lit("home")).otherwise(pl.lit("away")).alias("ball_owning_team"),
    )
    rows = frames.filter((pl.col("object_id") == BALL_ID) | pl.col("object_id").is_in(list(players))).select(
        "period", "frame", "object_id",
        pl.col("object_id").replace_strict({**players, BALL_ID: BALL_ID}, default=None).alias("team"),
        "x", "y", pl.when(pl.col("object_id") == BALL_ID).then(pl.col("z")).otherwise(None).alias("z"),
    )
    persons = frames.filter((pl.col("object_id") != BALL_ID) & pl.col("period").is_in(list(starts)))
    if persons.height and not rows.filter(pl.col("object_id") != BALL_ID).height:
        raise InvalidInputError("no tracked person is a player of the metadata (metadata of another match?)", raw)
    order = {p.id: i for i, p in enumerate(sportec.periods)}  # kloppy: metadata periods in order, frames sorted
    tracking = rows.join(ball, on=["period", "frame"], how="inner", maintain_order="left").sort(
        pl.col("period").replace_strict(order, return_dtype=pl.Int64), "frame", object_key(rows), maintain_order=True
    )
    return tracking, ball.height


def read_sportec(meta: Path, raw: Path) -> Match:
    """Sportec match information + positions XML -> canonical :class:`Match` (see the module docstring)."""
    meta, raw = Path(meta), Path(raw)
    info = _metadata(meta)
    if not raw.is_file():
        raise InvalidInputError("no such file", raw)
    if raw.stat().st_size == 0:
        raise InvalidInputError("file is empty", raw)
    lines = _lines(raw)
    _check_lines(lines, raw)
    tracking, source_frames = long_table(lines, info, raw)
    del lines  # free the per-line table before finalize_match's copies
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
