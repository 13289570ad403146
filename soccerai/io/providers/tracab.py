"""Native reader for Tracab ``.dat`` tracking: kloppy's canonical result without a Python object per frame.

The metadata (XML hierarchical or flat, or JSON: small) goes through kloppy's own Tracab metadata parsers, so the
teams, players, periods, frame rate and pitch are exactly kloppy's; the raw lines are split with polars string
operations (Rust) into one row per object and finished by :func:`~soccerai.io.canonical.finalize_match`, as
on the kloppy path. ``tests/test_fast_reader.py`` checks the result equals the kloppy path's on every real
metadata variant. Tracab JSON raw data goes to kloppy.

The mapping (as kloppy's ``TracabDatParser``)
    * a line ``frame:objects:ball:``; ``objects`` are ``team,target,jersey,x,y,speed;`` with team 1 = home,
      0 = away, and -1, 3, 4 (referees, unknown) skipped; ``ball`` is ``x,y,z,speed,owner,state`` with owner
      ``H``/``A`` and state ``Alive``/``Dead``.
    * a frame belongs to the first period with ``start <= frame / fps <= end`` (seconds); frames of no period are
      dropped; ``time_s = frame / fps - start``.
    * players: the metadata's, looked up by (team, jersey); a jersey the metadata lacks becomes a player
      ``"<home|away>_<jersey>"`` of that team (kloppy adds it the same way).
    * coordinates: centimetres -> metres (/100), centred, +y up (kloppy's ``secondspectrum`` system).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.io import compression
from soccerai.io.canonical import MatchFacts, finalize_match, object_key
from soccerai.io.compression import open_binary, read_head
from soccerai.io.detect import assign_roles
from soccerai.io.providers.kloppy import dataset_to_players
from soccerai.io.registry import READERS, register_reader
from soccerai.match.schema import BALL_ID, DEFAULT_PITCH, Match

TEAMS = {"1": "home", "0": "away"}
_MICRO = timedelta(microseconds=1)
SKIPPED_TEAMS = ("-1", "3", "4")
SLICE_LINES = 20_000


def is_dat(raw: Path) -> bool:
    """True for ``.dat`` lines (``frame:...``), False for Tracab JSON."""
    return not read_head(raw, 64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _metadata(meta: Path) -> dict[str, Any]:
    from kloppy.infra.serializers.tracking.tracab.parsers import get_metadata_parser

    try:
        with open_binary(meta) as feed:
            parser = get_metadata_parser(feed)
            teams = parser.extract_lineups()
            periods = parser.extract_periods()
            return {
                "teams": teams,
                "periods": periods,
                "fps": parser.extract_frame_rate(),
                "pitch": parser.extract_pitch_dimensions(),
                "game_id": parser.extract_game_id(),
            }
    except Exception as exc:  # noqa: BLE001 - kloppy/lxml raise anything on foreign metadata
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"cannot be read as Tracab metadata ({type(exc).__name__}: {first})", meta) from exc


def _lines(raw: Path) -> pl.DataFrame:
    try:  # one string column of whole lines (no Python object per line); \x1f never occurs in Tracab text
        lines = pl.read_csv(
            compression.source(raw), has_header=False, separator="\x1f", quote_char=None, glob=False,
            new_columns=["line"], schema_overrides={"line": pl.String},
        )["line"].str.strip_chars()
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"cannot be read as Tracab .dat ({str(exc).splitlines()[0][:120]})", raw) from exc
    lines = lines.filter(lines.str.len_chars() > 0)
    parts = lines.str.split_exact(":", 3)
    table = pl.DataFrame(
        {
            "frame": parts.struct.field("field_0").str.strip_chars().cast(pl.Int64, strict=False),
            "objects": parts.struct.field("field_1"),
            "ball": parts.struct.field("field_2"),
        }
    )
    bad = table.filter(pl.col("frame").is_null() | pl.col("ball").is_null())
    if bad.height:
        raise InvalidInputError(f"{bad.height} lines are not Tracab frame:objects:ball lines", raw)
    return table.with_row_index("order")


def _periods(frames: pl.DataFrame, periods: list[Any], fps: float) -> pl.DataFrame:
    """period id and time_s per line (first period whose [start, end] holds frame / fps), others dropped."""
    micros = (pl.col("frame") / fps * 1e6).round()  # kloppy's timedelta(seconds=frame / fps): whole microseconds
    period = pl.lit(None, pl.Int64)
    start = pl.lit(None, pl.Float64)
    for p in reversed(periods):
        lo, hi = p.start_timestamp / _MICRO, p.end_timestamp / _MICRO
        inside = (micros >= lo) & (micros <= hi)
        period = pl.when(inside).then(pl.lit(p.id)).otherwise(period)
        start = pl.when(inside).then(pl.lit(float(lo))).otherwise(start)
    return frames.with_columns(period.alias("period"), ((micros - start) / 1e6).alias("time_s")).filter(
        pl.col("period").is_not_null()
    )


def _rows(frames: pl.DataFrame, roster: pl.DataFrame) -> pl.DataFrame:
    ball = frames.select(
        "order", "frame", "period", "time_s",
        pl.col("ball").str.strip_chars_end(";").str.split(",").alias("b"),
    )
    ball = ball.select(
        "order", "frame", "period", "time_s",
        pl.lit(BALL_ID).alias("object_id"), pl.lit(BALL_ID).alias("team"),
        (pl.col("b").list.get(0).cast(pl.Float64) / 100).alias("x"),
        (pl.col("b").list.get(1).cast(pl.Float64) / 100).alias("y"),
        (pl.col("b").list.get(2).cast(pl.Float64) / 100).alias("z"),
        pl.col("b").list.get(4).replace_strict({"H": "home", "A": "away"}, default=None).alias("ball_owning_team"),
        pl.col("b").list.get(5).replace_strict({"Alive": "alive", "Dead": "dead"}, default=None).alias("ball_state"),
    )
    objects = (
        frames.select("order", pl.col("objects").str.split(";").alias("o"))
        .explode("o")
        .filter(pl.col("o").str.len_chars() > 0)
        .with_row_index("row")  # file order of the objects (a new player's first appearance)
        .with_columns(pl.col("o").str.split_exact(",", 5))
        .select(
            "order", "row",
            pl.col("o").struct.field("field_0").str.strip_chars().alias("code"),
            pl.col("o").struct.field("field_2").cast(pl.Int32).alias("jersey"),
            (pl.col("o").struct.field("field_3").cast(pl.Float64) / 100).alias("x"),
            (pl.col("o").struct.field("field_4").cast(pl.Float64) / 100).alias("y"),
        )
        .join(frames.select("order", "frame", "period", "time_s"), on="order", how="left", maintain_order="left")
    )
    unknown = objects.filter(~pl.col("code").is_in([*TEAMS, *SKIPPED_TEAMS]))
    if unknown.height:
        raise InvalidInputError(f"unknown Tracab team code {unknown['code'][0]!r}", None)
    players = (
        objects.filter(pl.col("code").is_in(list(TEAMS)))
        .with_columns(pl.col("code").replace_strict(TEAMS).alias("team"))
        .join(roster, on=["team", "jersey"], how="left")
        .with_columns(
            pl.coalesce("object_id", pl.col("team") + pl.lit("_") + pl.col("jersey").cast(pl.String)).alias("object_id")
        )
    )
    columns = ["order", "row", "frame", "period", "time_s", "object_id", "team", "x", "y"]
    table = pl.concat([ball, players.select(columns)], how="diagonal")
    owner = ball.select("order", "ball_owning_team", "ball_state")
    table = (
        table.drop("ball_owning_team", "ball_state")
        .join(owner, on="order", how="left")
        .unique(["order", "object_id"], keep="last", maintain_order=True)  # kloppy's dict: last wins
    )
    return table.sort("order", object_key(table))  # file order, each frame's objects in canonical order


def _players(teams: Sequence[Any], tracking: pl.DataFrame) -> pl.DataFrame:
    """kloppy's players table, plus the ``<ground>_<jersey>`` players it adds for jerseys the metadata lacks."""

    class _Dataset:
        class metadata:  # noqa: N801 - the attribute kloppy's datasets have
            pass

    _Dataset.metadata.teams = teams
    players = dataset_to_players(_Dataset)
    extra = (
        tracking.filter((pl.col("team") != BALL_ID) & ~pl.col("object_id").is_in(players["object_id"].implode()))
        .select("object_id", "team", "order", "row")
        .sort("order", "row")  # first appearance in the file
        .unique(["object_id", "team"], maintain_order=True)
        .select("object_id", "team")
        .sort(pl.col("team") != "home", maintain_order=True)  # kloppy appends to the home team, then the away
        .with_columns(pl.col("object_id").str.split("_").list.last().cast(pl.Int32).alias("jersey"),
                      pl.lit("UNK").alias("position"), pl.lit(None, pl.String).alias("name"),
                      pl.lit(False).alias("is_goalkeeper"))
    )
    return pl.concat([players, extra.select(players.columns)]) if extra.height else players


def read_tracab_dat(meta: Path, raw: Path) -> Match:
    """Tracab metadata + ``.dat`` raw data -> canonical :class:`Match` (see the module docstring)."""
    meta, raw = Path(meta), Path(raw)
    info = _metadata(meta)
    roster = pl.DataFrame(
        [
            {"team": str(team.ground.value), "jersey": int(p.jersey_no), "object_id": str(p.player_id)}
            for team in info["teams"] for p in team.players if p.jersey_no is not None
        ],
        schema={"team": pl.String, "jersey": pl.Int32, "object_id": pl.String},
    ).unique(["team", "jersey"], keep="first", maintain_order=True)
    lines = _lines(raw)
    frames = _periods(lines, info["periods"], float(info["fps"]))
    if frames.height == 0:
        raise InvalidInputError("no frame falls in a period of the metadata (metadata of another match?)", raw)
    try:  # in slices of lines: the exploded object strings of a whole match would need ~1.5 GB at once
        tracking = pl.concat([_rows(part, roster) for part in frames.iter_slices(SLICE_LINES)])
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"malformed Tracab objects ({str(exc).splitlines()[0][:160]})", raw) from exc
    except InvalidInputError as exc:
        raise InvalidInputError(exc.problem, raw) from exc
    source_frames = frames.height
    del lines, frames  # the line strings are no longer needed: free them before finalize_match
    length, width = info["pitch"]
    game_id = info["game_id"]
    facts = MatchFacts(
        match_id=str(game_id) if game_id not in (None, "") else raw.stem,
        provider="tracab",
        frame_rate=float(info["fps"]),
        pitch=(float(length), float(width)) if length and width else DEFAULT_PITCH,
        source_files=(meta, raw),
        extra={"source_frames": source_frames, "kloppy_warnings": [], "reader": "native-tracab-dat"},
    )
    players = _players(info["teams"], tracking)
    return finalize_match(tracking.drop("order", "row"), players, facts, blame=raw)


def _read_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, "tracab")
    if not is_dat(roles["raw"][0]):
        return READERS["tracab"]["kloppy"](paths)  # Tracab JSON raw data: kloppy reads it
    return read_tracab_dat(roles["meta"][0], roles["raw"][0])


register_reader("tracab", "fast", _read_files)
