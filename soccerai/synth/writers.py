"""Writers: a canonical (simulated) Match to real provider formats, atomically.

* ``metrica-csv``: Metrica's RawTrackingData pair (Home, Away): three header rows (team, jersey, column names),
  then ``Period,Frame,Time [s],<x,y per player>,<ball x,y>``; coordinates 0-1 from the top-left corner; absent
  players are ``NaN``. Read by ``kloppy.metrica.load_tracking_csv``.
* ``epts``: Metrica's FIFA EPTS pair: metadata XML (teams, players, channels, data format specification) and a text
  file of ``frame:x,y;x,y;...:ball_x,ball_y`` lines. Read by ``kloppy.metrica.load_tracking_epts``.
* ``parquet``: the canonical match (``soccerai.data.store.write_match``).
* every format also gets the event file beside it, in Metrica's CSV event format.
* provenance: every file written is listed (name and sha256) in ``soccerai_provenance.json`` in ``out_dir``
  (:mod:`soccerai.io.provenance`), so ``soccerai ingest out_dir`` stores the match as simulated whatever the format.

Provider files use the provider's real directions: the canonical static orientation (home attacks +x) is rotated
back by 180 degrees in periods where ``PeriodInfo.home_attacks_positive_x`` is False, so teams swap sides at half
time like real data. All files are first written to a hidden temporary folder inside ``out_dir`` and moved into
place only when every one of them is complete.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

from soccerai.data.store import write_match
from soccerai.errors import InvalidParameterError
from soccerai.io.provenance import write_manifest
from soccerai.match.schema import BALL_ID, Match
from soccerai.synth.timeline import METRICA_CSV_COLUMNS, player_sort_key

FORMATS = ("metrica-csv", "epts", "parquet")


def write_match_files(
    match: Match, out_dir: str | Path, formats: tuple[str, ...] = FORMATS
) -> dict[str, list[Path]]:
    """Write ``match`` in each of ``formats`` into ``out_dir``; returns ``{format: [paths]}`` (plus ``"events"``)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidParameterError(
            f"unknown output formats {unknown or '(none)'} (choose from {', '.join(FORMATS)})"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".synth-", dir=out_dir))
    try:
        staged: dict[str, list[Path]] = {}
        provider = _provider_frames(match)
        name = match.match_id
        if "metrica-csv" in formats:
            staged["metrica-csv"] = write_metrica_csv(provider, match, staging, name)
        if "epts" in formats:
            staged["epts"] = write_epts(provider, match, staging, name)
        if "parquet" in formats:
            staged["parquet"] = [write_match(match, staging / f"{name}.parquet")]
        if match.events is not None:
            staged["events"] = [write_metrica_events(match, staging / f"{name}_RawEventsData.csv")]
        final = {fmt: [out_dir / p.name for p in paths] for fmt, paths in staged.items()}
        # the provenance mark first: no file of this match is ever in out_dir without it
        write_manifest(out_dir, [p for paths in staged.values() for p in paths])
        for paths in staged.values():
            for p in paths:
                p.replace(out_dir / p.name)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _provider_frames(match: Match) -> pl.DataFrame:
    """Tracking rows in provider orientation and Metrica 0-1 coordinates (X right, Y down from the top left)."""
    flipped = [p.id for p in match.metadata.periods if p.home_attacks_positive_x is False]
    length, width = match.metadata.pitch_length, match.metadata.pitch_width
    sign = pl.when(pl.col("period").is_in(flipped)).then(-1.0).otherwise(1.0)
    return match.tracking.select(
        "period",
        "frame",
        "object_id",
        "team",
        (pl.col("x") * sign / length + 0.5).alias("X"),
        (0.5 - pl.col("y") * sign / width).alias("Y"),
    )


def _ordered_players(match: Match, team: str) -> list[tuple[str, int, bool]]:
    """(object_id, jersey, is_goalkeeper) with the goalkeeper first, then by jersey, like Metrica's files."""
    rows = match.players.filter(pl.col("team") == team).iter_rows(named=True)
    players = [(r["object_id"], int(r["jersey"] or 0), bool(r["is_goalkeeper"])) for r in rows]
    return sorted(players, key=lambda p: (not p[2], player_sort_key(p[0])))


def _wide(provider: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """One row per frame: period, frame, then X/Y per object in ``ids`` (NaN when absent)."""
    frames = provider.select("period", "frame").unique().sort("frame")
    wide = provider.filter(pl.col("object_id").is_in(ids)).pivot(
        on="object_id", index=["period", "frame"], values=["X", "Y"]
    )
    cols = []
    for i in ids:
        for axis in ("X", "Y"):
            col = f"{axis}_{i}"
            cols.append(
                (pl.col(col) if col in wide.columns else pl.lit(None))
                .cast(pl.Float64)
                .fill_null(float("nan"))
                .alias(f"{i}_{axis}")
            )
    return (
        frames.join(wide, on=["period", "frame"], how="left").sort("frame").select("period", "frame", *cols)
    )


def write_metrica_csv(provider: pl.DataFrame, match: Match, folder: Path, name: str) -> list[Path]:
    """The Home and Away RawTrackingData CSV files."""
    paths = []
    rate = match.metadata.frame_rate
    for team, label in (("home", "Home"), ("away", "Away")):
        players = _ordered_players(match, team)
        ids = [p[0] for p in players] + [BALL_ID]
        wide = _wide(provider, ids).with_columns((pl.col("frame") / rate).round(2).alias("time"))
        wide = wide.select("period", "frame", "time", *[c for c in wide.columns if c.endswith(("_X", "_Y"))])
        header_rows = [
            ["", "", ""] + [v for _ in players for v in (label, "")] + ["", ""],
            ["", "", ""] + [v for _, j, _ in players for v in (str(j), "")] + ["", ""],
            ["Period", "Frame", "Time [s]"] + [v for pid, _, _ in players for v in (pid, "")] + ["Ball", ""],
        ]
        header = [",".join(row) for row in header_rows]
        path = folder / f"{name}_RawTrackingData_{label}_Team.csv"
        with path.open("w") as fh:
            fh.write("\n".join(header) + "\n")
            wide.write_csv(fh, include_header=False, float_precision=5)
        paths.append(path)
    return paths


def write_epts(provider: pl.DataFrame, match: Match, folder: Path, name: str) -> list[Path]:
    """EPTS metadata XML and the tracking text file."""
    players = [(pid, j, k, "TEAM_A") for pid, j, k in _ordered_players(match, "home")] + [
        (pid, j, k, "TEAM_B") for pid, j, k in _ordered_players(match, "away")
    ]
    ids = [p[0] for p in players]
    wide = _wide(provider, [*ids, BALL_ID])
    fmt = lambda c: pl.col(c).round(5).cast(pl.String)  # noqa: E731
    player_parts = [pl.concat_str([fmt(f"{i}_X"), fmt(f"{i}_Y")], separator=",") for i in ids]
    line = pl.concat_str(
        [
            pl.col("frame").cast(pl.String),
            pl.lit(":"),
            pl.concat_str(player_parts, separator=";"),
            pl.lit(":"),
            pl.concat_str([fmt(f"{BALL_ID}_X"), fmt(f"{BALL_ID}_Y")], separator=","),
        ]
    )
    txt = folder / f"{name}_tracking.txt"
    txt.write_text("\n".join(wide.select(line.alias("l"))["l"].to_list()) + "\n")
    xml = folder / f"{name}_metadata.xml"
    xml.write_text(_epts_metadata(match, players, int(wide["frame"].min()), int(wide["frame"].max())))
    return [xml, txt]


def _param(name: str, value: object) -> str:
    return f"<ProviderParameter><Name>{name}</Name><Value>{escape(str(value))}</Value></ProviderParameter>"


def _epts_metadata(match: Match, players: list[tuple[str, int, bool, str]], first: int, last: int) -> str:
    periods = {p.id: p for p in match.metadata.periods}
    halves = {1: "first_half", 2: "second_half"}
    global_params = "".join(
        _param(f"{halves[i]}_{edge}", (getattr(periods[i], f"{edge}_frame") if i in periods else ""))
        for i in (1, 2)
        for edge in ("start", "end")
    )
    home_first = periods[1].home_attacks_positive_x if 1 in periods else True
    direction = {True: "left_to_right", False: "right_to_left", None: "left_to_right"}
    teams = "".join(
        f'<Team id="{tid}"><Name>{escape(name)}</Name><ProviderTeamsParameters>'
        f"{_param('attack_direction_first_half', direction[flag])}</ProviderTeamsParameters></Team>"
        for tid, name, flag in (
            ("TEAM_A", match.metadata.home_team, home_first),
            ("TEAM_B", match.metadata.away_team, None if home_first is None else not home_first),
        )
    )
    player_xml = "".join(
        f'<Player id="{escape(pid)}" teamId="{tid}"><Name>{escape(pid)}</Name><ShirtNumber>{jersey}</ShirtNumber>'
        f"<ProviderPlayerParameters>{_param('position_type', 'Goalkeeper' if keeper else 'Unknown')}"
        "</ProviderPlayerParameters></Player>"
        for pid, jersey, keeper, tid in players
    )
    channels = "".join(
        f'<PlayerChannel channelId="{axis}" id="p{k}_{axis}" playerId="{escape(pid)}"/>'
        for k, (pid, *_rest) in enumerate(players)
        for axis in ("x", "y")
    )
    spec_players = "".join(
        f'<SplitRegister separator=","><PlayerChannelRef playerChannelId="p{k}_x"/>'
        f'<PlayerChannelRef playerChannelId="p{k}_y"/></SplitRegister>'
        for k in range(len(players))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<main><Metadata>'
        f"<GlobalConfig><FileName>{escape(match.match_id)}</FileName><TrackingType>Simulated</TrackingType>"
        f"<ProviderName>Metrica Sports</ProviderName><FrameRate>{int(match.metadata.frame_rate)}</FrameRate>"
        f"<ProviderGlobalParameters>{global_params}{_param('tracking_source', 'soccerai-synth (SIMULATED)')}"
        "</ProviderGlobalParameters></GlobalConfig>"
        '<Sessions><Session id="session1"><SessionType>Match</SessionType><MatchParameters>'
        '<Score idLocalTeam="TEAM_A" idVisitingTeam="TEAM_B"><LocalTeamScore/><VisitingTeamScore/></Score>'
        f"</MatchParameters><FieldSize><Width>{int(match.metadata.pitch_length)}</Width>"
        f"<Height>{int(match.metadata.pitch_width)}</Height></FieldSize></Session></Sessions>"
        f"<Teams>{teams}</Teams><Players>{player_xml}</Players>"
        '<Devices><Device id="device1"><Name>Device 1</Name><Sensors><Sensor id="position"><Name>Position</Name>'
        '<Channels><Channel id="x"><Name>position_x</Name><Unit>normalized</Unit></Channel>'
        '<Channel id="y"><Name>position_y</Name><Unit>normalized</Unit></Channel></Channels></Sensor>'
        "</Sensors></Device></Devices>"
        f"<PlayerChannels>{channels}</PlayerChannels></Metadata>"
        f'<DataFormatSpecifications><DataFormatSpecification endFrame="{last}" separator=":" startFrame="{first}">'
        f'<StringRegister name="frameCount"/><SplitRegister separator=";">{spec_players}</SplitRegister>'
        '<SplitRegister separator=","><BallChannelRef channelId="x"/><BallChannelRef channelId="y"/></SplitRegister>'
        "</DataFormatSpecification></DataFormatSpecifications></main>\n"
    )


def write_metrica_events(match: Match, path: Path) -> Path:
    """The match's events in Metrica's CSV event format (provider orientation, 0-1 coordinates)."""
    assert match.events is not None
    flipped = [p.id for p in match.metadata.periods if p.home_attacks_positive_x is False]
    length, width = match.metadata.pitch_length, match.metadata.pitch_width
    sign = pl.when(pl.col("period").is_in(flipped)).then(-1.0).otherwise(1.0)
    rate = match.metadata.frame_rate

    def coord(col: str, scale: float, flip_y: bool) -> pl.Expr:
        value = pl.col(col) * sign / scale
        return (0.5 - value if flip_y else value + 0.5).round(4).fill_null(float("nan"))

    ev = match.events.select(
        pl.col("team").str.to_titlecase().alias("Team"),
        pl.col("type").str.replace_all("_", " ").alias("Type"),
        pl.col("subtype").alias("Subtype"),
        pl.col("period").cast(pl.Int64).alias("Period"),
        pl.col("frame").alias("Start Frame"),
        (pl.col("frame") / rate).round(2).alias("Start Time [s]"),
        pl.col("end_frame").alias("End Frame"),
        (pl.col("end_frame") / rate).round(2).alias("End Time [s]"),
        pl.col("player_id").str.replace(r"^(home|away)_", "Player").alias("From"),
        pl.col("receiver_id").str.replace(r"^(home|away)_", "Player").alias("To"),
        coord("start_x", length, False).alias("Start X"),
        coord("start_y", width, True).alias("Start Y"),
        coord("end_x", length, False).alias("End X"),
        coord("end_y", width, True).alias("End Y"),
    )
    assert tuple(ev.columns) == METRICA_CSV_COLUMNS
    ev.write_csv(path)
    return path
