"""Native, vectorised readers for Metrica tracking: the CSV pair and EPTS (FIFA) metadata + raw text.

They return exactly the canonical :class:`~soccerai.match.schema.Match` that the kloppy path
(:mod:`soccerai.io.providers.kloppy`, whose docstring is the contract) builds from the same files, without a Python
loop over frames: polars parses the text, numpy turns the wide ``frames x objects`` block into the long table
already in canonical row order, and :func:`finish_match` applies the rest of the kloppy path's
:func:`~soccerai.io.canonical.finalize_match` (content checks, static orientation, metadata), handing files
with duplicated or unsorted frames to ``finalize_match`` itself so that repairs stay in one place.

Coordinates
    Metrica positions are in ``[0, 1]`` on each axis, origin at the top-left corner, y growing downwards.
    With ``L x W`` the pitch (EPTS ``FieldSize``; 105 x 68 for the CSV, which has none), centred metres with
    +y up are ``x = (x_raw - 1/2) * L``,  ``y = (1/2 - y_raw) * W``; then the static orientation.

Clock (as kloppy)
    CSV: ``time_s = (frame - first_frame_of_period + 1) / 25``;
    EPTS: ``time_s = (frame - period_start_frame) / frame_rate``; lines after the data format's ``endFrame`` and
    frames outside every declared period are dropped.
"""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.errors import InvalidInputError, InvalidTrackingError
from soccerai.io import compression
from soccerai.io.canonical import (
    MatchFacts,
    finalize_match,
    match_metadata,
    metrica_csv_match_id,
    stem_match_id,
)
from soccerai.io.detect import assign_roles, declares_simulated
from soccerai.io.registry import register_reader
from soccerai.match.orientation import (
    FRAMES_FOR_DIRECTION,
    infer_home_attacks_positive_x,
    to_static_orientation,
)
from soccerai.match.schema import (
    BALL_ID,
    DEFAULT_PITCH,
    MAX_ABS_COORD_M,
    MAX_PLAYERS_PER_TEAM,
    PLAYERS_SCHEMA,
    TRACKING_SCHEMA,
    Match,
    conform,
    validate_players,
)

CSV_FRAME_RATE = 25
CSV_HEADER_ROWS = 3
MAX_HEADER_ROW_BYTES = 64 * 1024
EPTS_SEPARATORS = (b":", b";")
EPTS_PERIOD_NAMES = ("first_half", "second_half", "first_extra_half", "second_extra_half")


# ----------------------------------------------------------------------------------------------------------------
# Shared: a wide frames x objects block -> the canonical long table and Match
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectBlock:
    """Positions of every object in every frame, wide: ``x[f, o]``, ``y[f, o]`` in centred metres, provider
    directions (NaN = unseen). Column 0 is the ball; ``period``, ``frame``, ``time_s`` have one entry per frame."""

    period: np.ndarray
    frame: np.ndarray
    time_s: np.ndarray
    object_ids: list[str]
    teams: list[str]
    x: np.ndarray
    y: np.ndarray


def long_tracking(block: ObjectBlock) -> pl.DataFrame:
    """Melt the wide block into one row per seen object per frame (frame-major, objects in block order).

    ``np.nonzero`` on the row-major "seen" mask yields the (frame, object) index pairs in that order; unseen
    positions (NaN x or y) produce no row. Metrica has no ball height, so ``z`` is left to be null.
    """
    seen = ~(np.isnan(block.x) | np.isnan(block.y))
    frame_idx, object_idx = np.nonzero(seen)
    object_pos = pl.Series("o", object_idx, dtype=pl.UInt32)
    return pl.DataFrame(
        {
            "period": pl.Series(block.period[frame_idx], dtype=pl.Int8),
            "frame": pl.Series(block.frame[frame_idx], dtype=pl.Int64),
            "time_s": pl.Series(block.time_s[frame_idx], dtype=pl.Float64),
            "object_id": pl.Series(block.object_ids, dtype=pl.String).gather(object_pos),
            "team": pl.Series(block.teams, dtype=pl.String).gather(object_pos),
            "x": pl.Series(block.x[seen], dtype=pl.Float64),
            "y": pl.Series(block.y[seen], dtype=pl.Float64),
        }
    )


def _canonical_object_order(block: ObjectBlock) -> ObjectBlock:
    """Reorder the block's columns to the canonical row order: ball, home players, away players, each team's
    players by ``object_id`` in plain string order (:func:`soccerai.io.canonical.sort_tracking`)."""
    rank = {BALL_ID: 0, "home": 1, "away": 2}
    order = sorted(
        range(len(block.object_ids)), key=lambda i: (rank.get(block.teams[i], 3), block.object_ids[i])
    )
    return dataclasses.replace(
        block,
        object_ids=[block.object_ids[i] for i in order],
        teams=[block.teams[i] for i in order],
        x=block.x[:, order],
        y=block.y[:, order],
    )


def _frames_strictly_increasing(block: ObjectBlock) -> bool:
    """True when frames only grow (so periods neither overlap nor repeat): the melted table is then sorted and
    free of duplicates by construction."""
    return bool(np.all(np.diff(block.frame) > 0) and np.all(np.diff(block.period) >= 0))


def _check_block_content(block: ObjectBlock, source: Path) -> None:
    """The kloppy path's content checks, on the wide block: something seen, the ball seen, a player seen, finite."""
    seen = ~(np.isnan(block.x) | np.isnan(block.y))
    if not seen.any():
        raise InvalidTrackingError("no positions in any frame", source)
    if not seen[:, 0].any():
        raise InvalidTrackingError("the ball has no position in any frame", source)
    if not seen[:, 1:].any():
        raise InvalidTrackingError("no player has a position in any frame", source)
    infinite = int((np.isinf(block.x) | np.isinf(block.y)).sum())
    if infinite:
        raise InvalidTrackingError(f"{infinite} rows with NaN/inf coordinates", source)
    absurd = int(((np.abs(block.x) > MAX_ABS_COORD_M) | (np.abs(block.y) > MAX_ABS_COORD_M)).sum())
    if absurd:  # the schema's rule (validate_tracking), on the wide block of the fast lane
        raise InvalidTrackingError(f"{absurd} positions more than {MAX_ABS_COORD_M:.0f} m from the centre spot "
                                   "(absurd coordinates)", source)


def _direction_rows(tracking: pl.DataFrame, block: ObjectBlock) -> pl.DataFrame:
    """The rows :func:`~soccerai.match.orientation.infer_home_attacks_positive_x` reads: those of each period's first
    ``FRAMES_FOR_DIRECTION`` frames in which a player is seen (it looks at nothing else), so it gives the same
    answer on a few thousand rows instead of millions."""
    player_seen = ~(np.isnan(block.x[:, 1:]) | np.isnan(block.y[:, 1:])).all(axis=1)
    frames = pl.DataFrame({"period": block.period[player_seen], "frame": block.frame[player_seen]})
    first = frames.group_by("period").head(FRAMES_FOR_DIRECTION).get_column("frame")
    return tracking.filter(pl.col("frame").is_in(first.implode()))


def finish_match(block: ObjectBlock, players: pl.DataFrame, facts: MatchFacts) -> Match:
    """The canonical :class:`Match` of a block, equal to :func:`~soccerai.io.canonical.finalize_match`'s.

    Fast lane (frames strictly increasing, the normal case): columns are put in canonical order before melting, so
    the long table needs no sort, has no duplicated rows and no NaN positions by construction; what remains of
    ``finalize_match`` is applied here (content checks, static orientation, period bounds, metadata) and the
    players table is validated. Anything else (duplicated or unsorted frames) goes through ``finalize_match``
    itself, which repairs and counts, or refuses.
    """
    if not _frames_strictly_increasing(block):
        return finalize_match(long_tracking(block), players, facts)
    block = _canonical_object_order(block)
    _check_block_content(block, Path(facts.source_files[0]))
    tracking = long_tracking(block).with_columns(pl.lit(facts.match_id).alias("match_id"))
    tracking = conform(tracking, TRACKING_SCHEMA)
    players = conform(players, PLAYERS_SCHEMA)
    validate_players(players)
    directions = infer_home_attacks_positive_x(_direction_rows(tracking, block), players)
    tracking = to_static_orientation(tracking, directions)
    metadata = match_metadata(tracking, directions, facts, repairs={})
    return Match(tracking=tracking, players=players, metadata=metadata)


def _players_table(
    ids: Sequence[str],
    teams: Sequence[str],
    jerseys: Sequence[int | None],
    names: Sequence[str | None],
    goalkeeper: Sequence[bool],
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "object_id": list(ids),
            "team": list(teams),
            "jersey": list(jerseys),
            "position": ["GK" if gk else "UNK" for gk in goalkeeper],
            "name": list(names),
            "is_goalkeeper": list(goalkeeper),
        },
        schema=PLAYERS_SCHEMA,
    )


# ----------------------------------------------------------------------------------------------------------------
# Metrica CSV (RawTrackingData home + away)
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvHeader:
    """What the three header rows of one Metrica CSV tracking file say."""

    team_name: str
    jerseys: tuple[int, ...]


def _read_csv_header(path: Path) -> CsvHeader:
    """Parse the three header rows (team name row, jersey row, column names row)."""
    try:
        with compression.open_binary(path) as handle:
            raw = [handle.readline(MAX_HEADER_ROW_BYTES) for _ in range(CSV_HEADER_ROWS)]
        if any(len(r) == MAX_HEADER_ROW_BYTES and not r.endswith(b"\n") for r in raw):
            raise InvalidInputError(f"Metrica CSV header row longer than {MAX_HEADER_ROW_BYTES // 1024} KiB "
                                    f"(more than {MAX_PLAYERS_PER_TEAM} players?)", path)
        rows = [r.strip().decode("ascii") for r in raw]
    except (*compression.DECOMPRESS_ERRORS, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read Metrica CSV header ({exc.__class__.__name__})", path) from exc
    team_row, jersey_row, names_row = (row.split(",") for row in rows)
    if names_row[:3] != ["Period", "Frame", "Time [s]"] or len(names_row) < 5 or names_row[-2] != "Ball":
        raise InvalidInputError(
            "not a Metrica CSV tracking file (third row must be 'Period,Frame,Time [s],...,Ball,')", path
        )
    try:
        jerseys = tuple(int(j) for j in jersey_row[3:-2:2])
    except ValueError as exc:
        raise InvalidInputError(f"bad jersey row in Metrica CSV header ({exc})", path) from exc
    if len(team_row) < 4 or not jerseys:
        raise InvalidInputError("Metrica CSV header names no team or no players", path)
    if len(jerseys) > MAX_PLAYERS_PER_TEAM:
        raise InvalidInputError(f"Metrica CSV header names {len(jerseys)} players (limit {MAX_PLAYERS_PER_TEAM})", path)
    return CsvHeader(team_name=team_row[3], jerseys=jerseys)


def _read_csv_body(path: Path, header: CsvHeader) -> pl.DataFrame:
    """The data rows as ``period, frame, p0_x, p0_y, ..., ball_x, ball_y`` (Float64 positions, NaN = missing)."""
    names = ["period", "frame", "time"]
    names += [f"p{i}_{axis}" for i in range(len(header.jerseys)) for axis in ("x", "y")]
    names += ["ball_x", "ball_y"]
    schema = {name: pl.Float64 for name in names} | {"period": pl.Int64, "frame": pl.Int64}
    try:
        body = pl.read_csv(
            compression.source(path), has_header=False, skip_rows=CSV_HEADER_ROWS, schema=schema, glob=False, raise_if_empty=True
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidInputError(f"malformed Metrica CSV data rows ({_first_line(exc)})", path) from exc
    # Metrica writes "NaN" for an unseen position; an empty or absent field means a cut or damaged row.
    incomplete = body.select(pl.any_horizontal(pl.all().exclude("time").is_null()).arg_true()).to_series()
    if incomplete.len():
        row = int(incomplete[0]) + CSV_HEADER_ROWS + 1
        raise InvalidInputError(
            f"{incomplete.len()} incomplete data rows, first at line {row} (truncated file?)", path
        )
    return body


def _check_csv_pair(
    home_path: Path,
    away_path: Path,
    home: CsvHeader,
    away: CsvHeader,
    home_body: pl.DataFrame,
    away_body: pl.DataFrame,
) -> None:
    """The two files must be the two teams of one match: same frames, same ball, home first."""
    if home.team_name.lower() == "away" or away.team_name.lower() == "home":
        raise InvalidInputError(
            f"home and away files are swapped (home file names team {home.team_name!r})", home_path
        )
    if home_body.height != away_body.height:
        raise InvalidInputError(
            f"{home_body.height} frames but the away file {away_path.name} has {away_body.height}", home_path
        )
    if not home_body.get_column("frame").equals(away_body.get_column("frame")):
        raise InvalidInputError(f"frame ids differ from the away file {away_path.name}", home_path)
    ball = ("ball_x", "ball_y")
    same_ball = all(
        home_body.get_column(c).fill_nan(None).equals(away_body.get_column(c).fill_nan(None)) for c in ball
    )
    if not same_ball:
        raise InvalidInputError(
            f"ball positions differ from the away file {away_path.name}: not the same match?", home_path
        )


def _csv_players(header: CsvHeader, team: str) -> pl.DataFrame:
    """``<team>_<jersey>`` ids; the CSV says nothing of names or positions."""
    n = len(header.jerseys)
    ids = [f"{team}_{jersey}" for jersey in header.jerseys]
    return _players_table(ids, [team] * n, header.jerseys, [None] * n, [False] * n)


def _csv_time_s(body: pl.DataFrame) -> np.ndarray:
    """kloppy's CSV clock: seconds since ``(first frame of the period - 1) / 25``."""
    first = pl.col("frame").first().over(pl.col("period").rle_id())
    numerator = body.select((pl.col("frame") - first + 1).alias("n")).get_column("n").to_numpy()
    return numerator / CSV_FRAME_RATE


def _csv_axis(
    home_body: pl.DataFrame, away_body: pl.DataFrame, home: CsvHeader, away: CsvHeader, axis: str
) -> np.ndarray:
    """Raw ``axis`` coordinates as one ``frames x (1 + players)`` array: ball, home players, away players."""
    return np.hstack(
        [
            home_body.select(f"ball_{axis}").to_numpy(),
            home_body.select([f"p{i}_{axis}" for i in range(len(home.jerseys))]).to_numpy(),
            away_body.select([f"p{i}_{axis}" for i in range(len(away.jerseys))]).to_numpy(),
        ]
    )


def _centred(raw: np.ndarray, size: float, flip: bool) -> np.ndarray:
    """``(raw - 1/2) * size``, or ``(1/2 - raw) * size`` with ``flip`` (y grows downwards in Metrica), in place."""
    if flip:
        np.subtract(0.5, raw, out=raw)
    else:
        raw -= 0.5
    raw *= size
    return raw


def read_metrica_csv(home_path: str | Path, away_path: str | Path, match_id: str | None = None) -> Match:
    """Read a Metrica CSV tracking pair (home file, away file) into the canonical :class:`Match`.

    Raises :class:`InvalidInputError` for unreadable, truncated, mismatched or swapped files.
    """
    home_path, away_path = Path(home_path), Path(away_path)
    home, away = _read_csv_header(home_path), _read_csv_header(away_path)
    home_body, away_body = _read_csv_body(home_path, home), _read_csv_body(away_path, away)
    _check_csv_pair(home_path, away_path, home, away, home_body, away_body)

    players = pl.concat([_csv_players(home, "home"), _csv_players(away, "away")])
    length, width = DEFAULT_PITCH
    block = ObjectBlock(
        period=home_body.get_column("period").to_numpy(),
        frame=home_body.get_column("frame").to_numpy(),
        time_s=_csv_time_s(home_body),
        object_ids=[BALL_ID, *players.get_column("object_id").to_list()],
        teams=[BALL_ID, *players.get_column("team").to_list()],
        x=_centred(_csv_axis(home_body, away_body, home, away, "x"), length, flip=False),
        y=_centred(_csv_axis(home_body, away_body, home, away, "y"), width, flip=True),
    )
    source_frames = home_body.height
    del home_body, away_body  # the wide block holds everything now; free the parsed text before melting
    facts = MatchFacts(
        match_id=match_id or metrica_csv_match_id(home_path, away_path),
        provider="metrica-csv",
        frame_rate=float(CSV_FRAME_RATE),
        pitch=(length, width),
        source_files=(home_path, away_path),
        extra={"source_frames": source_frames},
    )
    return finish_match(block, players, facts)


# ----------------------------------------------------------------------------------------------------------------
# Metrica EPTS (FIFA data transfer format): metadata XML + raw text
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EptsPlayer:
    player_id: str
    team: str
    jersey: int
    name: str
    is_goalkeeper: bool


@dataclass(frozen=True)
class EptsMetadata:
    """The parts of an EPTS metadata file the tracking needs."""

    frame_rate: int
    pitch: tuple[float, float]
    periods: tuple[tuple[int, int, int], ...]  # (id, start_frame, end_frame)
    home_team: str
    away_team: str
    players: tuple[EptsPlayer, ...]
    fields: tuple[str, ...]  # flat field names of one raw line, in order
    frame_field: str
    end_frame: int


def _text(elem: ET.Element | None, tag: str, default: str = "") -> str:
    found = elem.find(tag) if elem is not None else None
    return (found.text or "").strip() if found is not None and found.text else default


def _provider_params(parent: ET.Element | None) -> dict[str, str]:
    """``<ProviderParameter><Name/><Value/></ProviderParameter>`` children as a dict, empty values left out."""
    if parent is None:
        return {}
    params = {_text(p, "Name"): _text(p, "Value") for p in parent.findall("ProviderParameter")}
    return {name: value for name, value in params.items() if value != ""}


def _flatten_register(
    register: ET.Element, channel_names: dict[str, str], ball_channels: set[str]
) -> list[str]:
    """Field names of a (nested) ``SplitRegister`` in order; fields soccerai does not use are named ``_skip``."""
    fields: list[str] = []
    for child in register:
        if child.tag == "StringRegister":
            fields.append(child.attrib["name"])
        elif child.tag == "PlayerChannelRef":
            fields.append(channel_names.get(child.attrib["playerChannelId"], "_skip"))
        elif child.tag == "BallChannelRef":
            channel = child.attrib["channelId"]
            fields.append(f"ball_{channel}" if channel in ball_channels else "_skip")
        elif child.tag == "SplitRegister":
            fields.extend(_flatten_register(child, channel_names, ball_channels))
        else:
            raise ValueError(f"unknown register tag {child.tag}")
    return fields


def _epts_players(meta: ET.Element, home_id: str, away_id: str) -> tuple[EptsPlayer, ...]:
    players = []
    for team_id, team in ((home_id, "home"), (away_id, "away")):
        for elem in meta.find("Players").findall("Player"):
            if elem.attrib.get("teamId") != team_id:
                continue
            params = _provider_params(elem.find("ProviderPlayerParameters"))
            players.append(
                EptsPlayer(
                    player_id=elem.attrib["id"],
                    team=team,
                    jersey=int(_text(elem, "ShirtNumber")),
                    name=_text(elem, "Name"),
                    is_goalkeeper=params.get("position_index") == "0",
                )
            )
    return tuple(players)


def _epts_periods(meta: ET.Element, frame_rate: int) -> tuple[tuple[int, int, int], ...]:
    params = _provider_params(meta.find("GlobalConfig/ProviderGlobalParameters"))
    periods = []
    for index, name in enumerate(EPTS_PERIOD_NAMES, start=1):
        if f"{name}_start" not in params:
            break
        periods.append((index, int(float(params[f"{name}_start"])), int(float(params[f"{name}_end"]))))
    return tuple(periods)


def _parse_epts_metadata(path: Path) -> EptsMetadata:
    try:
        root = ET.parse(compression.source(path)).getroot()
        return _epts_metadata_from_root(root)
    except (ET.ParseError, OSError) as exc:
        raise InvalidInputError(f"cannot parse EPTS metadata XML ({_first_line(exc)})", path) from exc
    except (AttributeError, KeyError, ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"EPTS metadata lacks a required element ({exc.__class__.__name__}: {exc})", path
        ) from exc


def _epts_metadata_from_root(root: ET.Element) -> EptsMetadata:
    meta = root.find("Metadata")
    frame_rate = int(float(_text(meta, "GlobalConfig/FrameRate")))
    teams = meta.find("Teams").findall("Team")
    team_names = {team.attrib["id"]: _text(team, "Name") for team in teams}
    score = meta.find("Sessions/Session/MatchParameters/Score")
    if score is not None:
        home_id, away_id = score.attrib["idLocalTeam"], score.attrib["idVisitingTeam"]
    else:
        home_id, away_id = list(team_names)[:2]
    field = meta.find("Sessions/Session/FieldSize")
    pitch = (
        (float(_text(field, "Width")), float(_text(field, "Height"))) if field is not None else DEFAULT_PITCH
    )

    players = _epts_players(meta, home_id, away_id)
    sensors = meta.find("Devices/Device/Sensors")
    position = next(s for s in sensors.findall("Sensor") if s.attrib["id"] == "position")
    position_channels = {c.attrib["id"] for c in position.find("Channels").findall("Channel")}
    channel_names = {
        pc.attrib["id"]: f"player_{pc.attrib['playerId']}_{pc.attrib['channelId']}"
        for pc in meta.find("PlayerChannels").findall("PlayerChannel")
        if pc.attrib["channelId"] in position_channels
    }
    specs = root.find("DataFormatSpecifications").findall("DataFormatSpecification")
    if len(specs) != 1:
        raise ValueError(f"{len(specs)} DataFormatSpecifications; the fast reader supports exactly one")
    fields = _flatten_register(specs[0], channel_names, position_channels)
    return EptsMetadata(
        frame_rate=frame_rate,
        pitch=pitch,
        periods=_epts_periods(meta, frame_rate),
        home_team=team_names[home_id],
        away_team=team_names[away_id],
        players=players,
        fields=tuple(fields),
        frame_field=fields[0],
        end_frame=int(specs[0].attrib["endFrame"]),
    )


def _read_epts_raw(path: Path, meta: EptsMetadata) -> pl.DataFrame:
    """Parse the raw text: every separator becomes a comma, then one ``pl.read_csv`` call."""
    try:
        raw = compression.read_bytes(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot read EPTS raw data ({exc.__class__.__name__})", path) from exc
    if not raw.strip():
        raise InvalidInputError("EPTS raw data file is empty", path)
    for separator in EPTS_SEPARATORS:
        raw = raw.replace(separator, b",")
    names = [name if name != "_skip" else f"_skip{i}" for i, name in enumerate(meta.fields)]
    schema = {name: pl.Float64 for name in names} | {names[0]: pl.Int64}
    try:
        body = pl.read_csv(io.BytesIO(raw), has_header=False, schema=schema, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(
            f"raw lines do not match the metadata's data format ({_first_line(exc)})", path
        ) from exc
    if body.get_column(names[0]).null_count():
        raise InvalidInputError("EPTS raw data has lines without a frame number (truncated file?)", path)
    body = body.rename({names[0]: "frame"}).select(pl.exclude("^_skip.*$"))
    return body.with_columns(pl.exclude("frame").fill_null(float("nan")))  # kloppy: empty field = NaN


def _epts_periods_of_frames(frames: np.ndarray, periods: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """Period id per frame (0 where no period holds it); the first matching period wins, as in kloppy."""
    period = np.zeros(frames.shape, dtype=np.int64)
    for period_id, start, end in reversed(periods):
        period[(frames >= start) & (frames <= end)] = period_id
    return period


def read_metrica_epts(
    metadata_path: str | Path,
    raw_path: str | Path,
    match_id: str | None = None,
    simulated: bool | None = None,
) -> Match:
    """Read Metrica EPTS (metadata XML + raw text) into the canonical :class:`Match`.

    ``simulated``: the metadata's flag; None takes the metadata's word (``<TrackingType>Simulated</TrackingType>``,
    :func:`soccerai.io.detect.declares_simulated`), as the kloppy path does.
    """
    metadata_path, raw_path = Path(metadata_path), Path(raw_path)
    meta = _parse_epts_metadata(metadata_path)
    body = _read_epts_raw(raw_path, meta)
    body = body.filter(pl.col("frame") <= meta.end_frame)
    frames = body.get_column("frame").to_numpy()
    period = _epts_periods_of_frames(frames, meta.periods)
    keep = period > 0
    starts = {pid: start for pid, start, _ in meta.periods}
    start_of_frame = np.array([starts.get(p, 0) for p in range(max(starts, default=0) + 1)])[period]

    players = _players_table(
        [p.player_id for p in meta.players],
        [p.team for p in meta.players],
        [p.jersey for p in meta.players],
        [p.name for p in meta.players],
        [p.is_goalkeeper for p in meta.players],
    )
    ids = [p.player_id for p in meta.players]

    def column(name: str) -> np.ndarray:
        return body.get_column(name).to_numpy() if name in body.columns else np.full(body.height, np.nan)

    length, width = meta.pitch
    raw_x = np.column_stack([column("ball_x")] + [column(f"player_{pid}_x") for pid in ids])[keep]
    raw_y = np.column_stack([column("ball_y")] + [column(f"player_{pid}_y") for pid in ids])[keep]
    block = ObjectBlock(
        period=period[keep],
        frame=frames[keep],
        time_s=(frames[keep] - start_of_frame[keep]) / meta.frame_rate,
        object_ids=[BALL_ID, *ids],
        teams=[BALL_ID, *players.get_column("team").to_list()],
        x=_centred(raw_x, length, flip=False),
        y=_centred(raw_y, width, flip=True),
    )
    facts = MatchFacts(
        match_id=match_id or stem_match_id(metadata_path),
        provider="metrica-epts",
        frame_rate=float(meta.frame_rate),
        pitch=meta.pitch,
        source_files=(metadata_path, raw_path),
        extra={"source_frames": body.height},
        simulated=declares_simulated(metadata_path) if simulated is None else simulated,
    )
    return finish_match(block, players, facts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


# ----------------------------------------------------------------------------------------------------------------
# Registration as the "fast" engine of soccerai.io.load_match
# ----------------------------------------------------------------------------------------------------------------


def _read_csv_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, "metrica-csv")
    return read_metrica_csv(roles["home"][0], roles["away"][0])


def _read_epts_files(paths: Sequence[Path]) -> Match:
    roles = assign_roles(paths, "metrica-epts")
    return read_metrica_epts(roles["meta"][0], roles["raw"][0])


register_reader("metrica-csv", "fast", _read_csv_files)
register_reader("metrica-epts", "fast", _read_epts_files)
