"""Event timelines that drive the synthesizer: reading real Metrica events and checking them.

A :class:`Timeline` is a table of on-ball events on the provider's clock (25 Hz frames shared with the tracking) in
**provider orientation** (teams swap sides at half time) and centred metres::

    x = (X - 0.5) * length,   y = (0.5 - Y) * width      (X, Y: Metrica 0-1 coordinates, origin top left)

plus the roster (who plays for whom, goalkeepers, first/last frame each player is seen) and the home team's
attacking direction per period.

Sources: the Metrica CSV events of Sample Games 1-2 (read here), the Metrica JSON events + EPTS metadata of Game 3
(read through kloppy), or :mod:`soccerai.synth.possession_model` (generated, no input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.match.schema import DEFAULT_PITCH

FRAME_RATE = 25.0
PITCH = DEFAULT_PITCH  # the Metrica event coordinates are scaled to this pitch
METRICA_CSV_COLUMNS = (
    "Team", "Type", "Subtype", "Period", "Start Frame", "Start Time [s]", "End Frame", "End Time [s]",
    "From", "To", "Start X", "Start Y", "End X", "End Y",
)  # fmt: skip
MARGIN = 0.06
"""How far outside the 0-1 pitch (as a fraction) an event may start: balls crossing the line sit just outside."""
PERIOD_TAIL_FRAMES = 50
"""Frames of tracking kept after a period's last event."""

TIMELINE_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Int8(),
    "start_frame": pl.Int64(),
    "end_frame": pl.Int64(),
    "team": pl.String(),  # "home" | "away"
    "type": pl.String(),  # Metrica type: PASS, SHOT, CARRY, SET PIECE, BALL OUT, RECOVERY, BALL LOST, CHALLENGE, ...
    "subtype": pl.String(),
    "player": pl.String(),  # "Player<N>"
    "receiver": pl.String(),
    "sx": pl.Float64(),  # centred metres, provider orientation; NaN when unknown
    "sy": pl.Float64(),
    "ex": pl.Float64(),
    "ey": pl.Float64(),
}


@dataclass(frozen=True)
class Timeline:
    """A full match of events, its roster and the home team's direction per period."""

    events: pl.DataFrame  # TIMELINE_SCHEMA, sorted by (period, start_frame)
    roster: pl.DataFrame  # player, team, jersey, is_goalkeeper, first_frame, last_frame, n_events
    periods: tuple[tuple[int, int, int], ...]  # (period, first frame, last frame), frames inclusive
    home_attacks_positive_x: dict[int, bool]
    source: Path | None = None
    generated: bool = False


def read_timeline(path: str | Path) -> Timeline:
    """Read a real event timeline: a Metrica CSV event file, or a Metrica JSON event file with its EPTS metadata
    (``<name>_events.json`` beside ``<name>_metadata.xml``). Raises :class:`InvalidInputError` naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError("no such event file", path)
    if path.stat().st_size == 0:
        raise InvalidInputError("event file is empty", path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = _read_metrica_csv(path)
    elif suffix == ".json":
        raw = _read_metrica_json(path)
    else:
        raise InvalidInputError(f"unsupported event file type {suffix!r} (want Metrica .csv or .json)", path)
    return build_timeline(raw, source=path)


def build_timeline(raw: pl.DataFrame, source: Path | None = None, generated: bool = False) -> Timeline:
    """Check Metrica-style rows (``METRICA_CSV_COLUMNS``) and turn them into a :class:`Timeline`."""
    events = _to_timeline_table(raw, source)
    _check_events(events, source)
    roster = _infer_roster(events)
    periods = tuple(
        (
            int(p),
            int(part["start_frame"].min()),
            int(max(part["end_frame"].max(), part["start_frame"].max())) + PERIOD_TAIL_FRAMES,
        )
        for (p,), part in events.group_by("period", maintain_order=True)
    )
    return Timeline(
        events=events,
        roster=roster,
        periods=periods,
        home_attacks_positive_x=_infer_directions(events),
        source=source,
        generated=generated,
    )


def _read_metrica_csv(path: Path) -> pl.DataFrame:
    try:
        raw = pl.read_csv(path, glob=False, infer_schema_length=10000)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
        raise InvalidInputError(f"not a readable Metrica event CSV ({type(exc).__name__})", path) from exc
    missing = [c for c in METRICA_CSV_COLUMNS if c not in raw.columns]
    if missing:
        raise InvalidInputError(f"not a Metrica event CSV: missing columns {missing}", path)
    return raw


def _read_metrica_json(path: Path) -> pl.DataFrame:
    """Game 3 style: JSON events + EPTS metadata, parsed by kloppy; returns Metrica CSV-like rows."""
    from kloppy import metrica

    meta = path.with_name(path.name.removesuffix("_events.json") + "_metadata.xml")
    if not path.name.endswith("_events.json") or not meta.is_file():
        raise InvalidInputError(
            "Metrica JSON events need their EPTS metadata beside them (<name>_events.json + <name>_metadata.xml)",
            path,
        )
    try:
        dataset = metrica.load_event(event_data=str(path), meta_data=str(meta), coordinates="metrica")
    except Exception as exc:  # noqa: BLE001 - kloppy raises many types on foreign files
        raise InvalidInputError(
            f"not a Metrica JSON event file ({type(exc).__name__}: {str(exc)[:80]})", path
        ) from exc
    rows = [
        _json_row(e.raw_event, e.team.ground.value) for e in dataset.events if isinstance(e.raw_event, dict)
    ]
    if not rows:
        raise InvalidInputError("event file holds no events", path)
    return pl.DataFrame(
        rows,
        schema={
            c: (pl.Float64 if c.endswith((" X", " Y", "[s]")) else pl.String) for c in METRICA_CSV_COLUMNS
        },
        orient="row",
    ).with_columns(pl.col("Period", "Start Frame", "End Frame").cast(pl.Int64))


def _json_row(raw: dict, ground: str) -> tuple:
    start, end = raw.get("start") or {}, raw.get("end") or {}
    nan = float("nan")

    def num(d: dict, key: str) -> float:
        value = d.get(key)
        return float(value) if value is not None else nan

    return (
        ground.capitalize(),
        (raw.get("type") or {}).get("name"),
        _json_subtype(raw.get("subtypes")),
        str(raw.get("period")),
        str(start.get("frame")),
        num(start, "time"),
        str(end.get("frame") if end.get("frame") is not None else 0),
        num(end, "time"),
        (raw.get("from") or {}).get("name"),
        (raw.get("to") or {}).get("name"),
        num(start, "x"),
        num(start, "y"),
        num(end, "x"),
        num(end, "y"),
    )


def _json_subtype(sub: object) -> str | None:
    if isinstance(sub, dict):
        return sub.get("name")
    if isinstance(sub, list):
        return "-".join(s.get("name", "") for s in sub if isinstance(s, dict)) or None
    return None


def _normalise_player(col: str) -> pl.Expr:
    """``"Player 26"`` and ``"Player26"`` are the same player (Game 2 mixes both spellings)."""
    return pl.col(col).cast(pl.String).str.replace_all(" ", "")


def _to_timeline_table(raw: pl.DataFrame, source: Path | None) -> pl.DataFrame:
    length, width = PITCH
    try:
        table = raw.select(
            pl.col("Period").cast(pl.Int8).alias("period"),
            pl.col("Start Frame").cast(pl.Int64).alias("start_frame"),
            pl.col("End Frame").cast(pl.Int64).fill_null(0).alias("end_frame"),
            pl.col("Team").cast(pl.String).str.to_lowercase().alias("team"),
            pl.col("Type").cast(pl.String).str.to_uppercase().alias("type"),
            pl.col("Subtype").cast(pl.String).alias("subtype"),
            _normalise_player("From").alias("player"),
            _normalise_player("To").alias("receiver"),
            ((pl.col("Start X").cast(pl.Float64) - 0.5) * length).alias("sx"),
            ((0.5 - pl.col("Start Y").cast(pl.Float64)) * width).alias("sy"),
            ((pl.col("End X").cast(pl.Float64) - 0.5) * length).alias("ex"),
            ((0.5 - pl.col("End Y").cast(pl.Float64)) * width).alias("ey"),
        )
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(
            f"event columns have unreadable values ({str(exc).splitlines()[0][:80]})", source
        ) from exc
    table = table.with_columns(pl.col(c).fill_null(float("nan")) for c in ("sx", "sy", "ex", "ey"))
    # Kick-offs carry no end frame (0): they end where they start.
    return table.with_columns(
        pl.when(pl.col("end_frame") <= 0)
        .then(pl.col("start_frame"))
        .otherwise(pl.col("end_frame"))
        .alias("end_frame")
    )


def _check_events(events: pl.DataFrame, source: Path | None) -> None:
    """Empty timelines, unknown teams, backwards frames and events off the pitch are errors."""
    if events.height == 0:
        raise InvalidInputError("event timeline is empty", source)
    if events["start_frame"].null_count() or events["period"].null_count():
        raise InvalidInputError("events without a period or start frame", source)
    teams = set(events["team"].unique().to_list())
    if not teams <= {"home", "away"}:
        raise InvalidInputError(
            f"unknown team values {sorted(t for t in teams - {'home', 'away'} if t)} (want Home/Away)", source
        )
    for (period,), part in events.group_by("period", maintain_order=True):
        frames = part["start_frame"].to_numpy()
        back = np.flatnonzero(np.diff(frames) < 0)
        if back.size:
            raise InvalidInputError(
                f"start frames go backwards in period {period} (frame {frames[back[0]]} then {frames[back[0] + 1]})",
                source,
            )
    bad_end = events.filter(pl.col("end_frame") < pl.col("start_frame"))
    if bad_end.height:
        row = bad_end.row(0, named=True)
        raise InvalidInputError(
            f"{row['type']} event ends (frame {row['end_frame']}) before it starts ({row['start_frame']})",
            source,
        )
    half_l, half_w = PITCH[0] * (0.5 + MARGIN), PITCH[1] * (0.5 + MARGIN)
    off = events.filter(
        pl.col("sx").is_not_nan() & ((pl.col("sx").abs() > half_l) | (pl.col("sy").abs() > half_w))
    )
    if off.height:
        row = off.row(0, named=True)
        raise InvalidInputError(
            f"{row['type']} at frame {row['start_frame']} starts outside the pitch ({row['sx']:.1f}, {row['sy']:.1f}) m",
            source,
        )


def _infer_roster(events: pl.DataFrame) -> pl.DataFrame:
    """Every player seen in the events, his team, jersey, first/last frame, and the goalkeeper of each team.

    The goalkeeper is the player taking most goal kicks; failing that, the one whose events lie deepest in his
    own half (relative to his team's direction)."""
    seen = pl.concat(
        [
            events.select("team", pl.col("player"), pl.col("start_frame").alias("frame")),
            events.filter(pl.col("type") == "PASS").select(
                "team", pl.col("receiver").alias("player"), pl.col("end_frame").alias("frame")
            ),
        ]
    ).filter(pl.col("player").is_not_null() & (pl.col("player") != ""))
    roster = (
        seen.group_by("player", "team")
        .agg(
            pl.col("frame").min().alias("first_frame"),
            pl.col("frame").max().alias("last_frame"),
            pl.len().alias("n_events"),
        )
        .sort("team", "first_frame", "player")
    )
    dup = roster.filter(pl.col("player").is_duplicated())
    if dup.height:  # the same name in both teams: keep the team where he acts most
        roster = (
            roster.sort("n_events", descending=True)
            .unique("player", keep="first")
            .sort("team", "first_frame", "player")
        )
    roster = roster.with_columns(
        pl.col("player").str.extract(r"(\d+)$").cast(pl.Int32).fill_null(0).alias("jersey"),
    )
    keepers = {team: _goalkeeper(events, roster, team) for team in ("home", "away")}
    return roster.with_columns(pl.col("player").is_in(list(keepers.values())).alias("is_goalkeeper"))


def _goalkeeper(events: pl.DataFrame, roster: pl.DataFrame, team: str) -> str | None:
    team_events = events.filter(pl.col("team") == team)
    kicks = (
        team_events.filter(pl.col("subtype").fill_null("").str.contains("GOAL KICK"))
        .group_by("player")
        .len()
        .sort("len", descending=True)
    )
    if kicks.height:
        return kicks["player"][0]
    directions = _infer_directions(events)
    depth = (
        team_events.with_columns(
            (
                pl.col("sx")
                * pl.col("period").replace_strict(
                    {p: (1.0 if d else -1.0) for p, d in directions.items()}, default=1.0
                )
                * (1.0 if team == "home" else -1.0)
            ).alias("ax")
        )
        .group_by("player")
        .agg(pl.col("ax").mean())
        .drop_nans()
        .sort("ax")
    )
    return depth["player"][0] if depth.height else (roster.filter(pl.col("team") == team)["player"].first())


def _infer_directions(events: pl.DataFrame) -> dict[int, bool]:
    """Home attacks +x in a period when its shots (or, with none, its passes' forward progress) point to +x."""
    out: dict[int, bool] = {}
    sign = pl.when(pl.col("team") == "home").then(1.0).otherwise(-1.0)
    for (period,), part in events.group_by("period", maintain_order=True):
        shots = part.filter(pl.col("type") == "SHOT").select((pl.col("sx") * sign).mean()).item()
        if shots is not None and np.isfinite(shots) and shots != 0:
            out[int(period)] = bool(shots > 0)
            continue
        passes = (
            part.filter(pl.col("type") == "PASS").select(((pl.col("ex") - pl.col("sx")) * sign).mean()).item()
        )
        out[int(period)] = bool(passes is None or not np.isfinite(passes) or passes >= 0)
    if (
        len(out) == 2 and out[1] == out[2]
    ):  # teams always swap at half time: trust the period with more evidence
        out[2] = not out[1]
    return out


def player_sort_key(player: str) -> tuple[int, str]:
    """Sort "Player2" before "Player10"."""
    match = re.search(r"(\d+)$", player)
    return (int(match.group(1)) if match else 0, player)
