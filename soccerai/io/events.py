"""Metrica event timelines into the canonical ``EVENTS_SCHEMA`` table.

Two formats, both Metrica's (0-1 coordinates, origin top-left, y downwards, 25 Hz frames on the tracking clock):

* **CSV** (``Sample_Game_<n>_RawEventsData.csv``): columns Team, Type, Subtype, Period, Start Frame,
  Start Time [s], End Frame, End Time [s], From, To, Start X, Start Y, End X, End Y. Every row is one event.
* **JSON** (``Sample_Game_3_events.json``) with its EPTS metadata XML: kloppy's ``metrica.load_event`` reads the
  pair (it checks both files and gives teams, player ids and pitch size); the rows are the file's own ``data``
  entries, all of them, because kloppy merges some (set pieces into passes) and the file's own types are wanted.

Columns
    * ``type``: the file's type upper-cased (PASS, SHOT, CARRY, BALL LOST, RECOVERY, SET PIECE, CHALLENGE,
      BALL OUT, FAULT RECEIVED, CARD); ``subtype``: the file's subtype(s) joined by ``-`` (``ON TARGET-GOAL``).
    * ``result``: for shots, the first of GOAL, SAVED, BLOCKED, WOODWORK, OFF TARGET, ON TARGET found in the
      subtype; for other events, ``WON``/``LOST`` when the subtype says so; else null.
    * ``team``: "home" / "away". ``player_id``/``receiver_id``: the tracking ids of the same provider. CSV:
      ``PlayerN`` -> ``"<team>_N"`` as kloppy names the CSV tracking players (``Player11`` of the home team ->
      ``home_11``); the team of a player is the team of the rows where they are ``From``, else the event's team.
      JSON: the EPTS player ids (``P3577``), which are kloppy's tracking ids for the EPTS files.
    * coordinates in metres: ``x_m = (x - 0.5) * length``, ``y_m = (0.5 - y) * width`` (the Metrica tracking
      mapping of :mod:`soccerai.io.providers.kloppy`), then rotated 180 degrees in the periods where home attacks -x
      so that home attacks +x. Directions come from the tracking match when one is given (its
      ``MatchMetadata.periods``; its pitch size is used too), else from the events themselves: home attacks
      towards the side of its shots (mean shot x of home minus that of away; if a period has no shot, the same
      with every event's start x).
    * ``frame``/``end_frame``: the file's frames; ``time_s``: seconds since the start of the period,
      ``(frame - first frame of the period + 1) / 25`` with the period's first frame from the tracking match
      when given, else the period's earliest event frame.
    * ``event_id``: the row number (CSV, from 1) or the file's ``index`` (JSON), as a string; ``match_id`` from the
      tracking match, else the file stem without ``_RawEventsData`` / ``_events``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.io import compression
from soccerai.io.detect import read_head
from soccerai.match.schema import DEFAULT_PITCH, EVENTS_SCHEMA, SHOT, Match, conform

FRAME_RATE = 25.0
CSV_COLUMNS = (
    "Team",
    "Type",
    "Subtype",
    "Period",
    "Start Frame",
    "Start Time [s]",
    "End Frame",
    "End Time [s]",
    "From",
    "To",
    "Start X",
    "Start Y",
    "End X",
    "End Y",
)
REQUIRED_CSV_COLUMNS = (
    "Team",
    "Type",
    "Period",
    "Start Frame",
    "Start Time [s]",
    "End Frame",
    "End Time [s]",
)
"""Columns every CSV event row fills (a row cut short lacks some)."""
SHOT_RESULTS = ("GOAL", "SAVED", "BLOCKED", "WOODWORK", "OFF TARGET", "ON TARGET")
EVENT_PROVIDERS = ("metrica-csv", "metrica-json")


def load_events(
    path: Path | str,
    provider: str | None = None,
    *,
    match: Match | None = None,
    meta: Path | str | None = None,
) -> pl.DataFrame:
    """Events of one Metrica file as a canonical ``EVENTS_SCHEMA`` table (see the module docstring).

    ``provider``: "metrica-csv" or "metrica-json" (sniffed when None). ``match``: the tracking of the same game,
    for its pitch size, directions and period starts. ``meta``: the EPTS metadata XML a JSON file needs (default:
    ``<prefix>_metadata.xml`` beside it, e.g. ``Sample_Game_3_metadata.xml``).
    """
    path = Path(path)
    provider = provider or detect_event_provider(path)
    if provider == "metrica-csv":
        raw = _read_metrica_csv(path)
    elif provider == "metrica-json":
        raw = _read_metrica_json(path, Path(meta) if meta else _default_meta(path))
    else:
        raise InvalidInputError(
            f"unknown event provider {provider!r} (known: {', '.join(EVENT_PROVIDERS)})", path
        )
    return _canonical(raw, path, match)


def detect_event_provider(path: Path) -> str:
    """ "metrica-csv" or "metrica-json" from the first bytes of ``path``."""
    head = read_head(path)
    if head.startswith("Team,Type,Subtype"):
        return "metrica-csv"
    if head.lstrip().startswith("{") and '"data"' in head and '"subtypes"' in head:
        return "metrica-json"
    raise InvalidInputError("not a Metrica event file (CSV RawEventsData or JSON events)", path)


# ---------------------------------------------------------------------------------------------------------------
# Readers: each returns a polars frame with match_id, event_id, period, frame, end_frame, team, type, subtype,
# player_id, receiver_id and raw 0-1 coordinates sx, sy, ex, ey, plus a "pitch" entry in frame attributes.
# ---------------------------------------------------------------------------------------------------------------


def _read_metrica_csv(path: Path) -> dict[str, Any]:
    read_head(path)
    try:
        df = pl.read_csv(compression.source(path), glob=False, infer_schema_length=0)
    except Exception as exc:  # polars raises ComputeError/NoDataError on corrupt CSV
        raise InvalidInputError(f"cannot be read as Metrica CSV events ({type(exc).__name__})", path) from exc
    missing = [c for c in CSV_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidInputError(f"not Metrica CSV events: missing columns {missing}", path)
    if df.height == 0:
        raise InvalidInputError("no events", path)
    incomplete = df.select(pl.any_horizontal(pl.col(REQUIRED_CSV_COLUMNS).is_null()).sum()).item()
    if incomplete:
        raise InvalidInputError(
            f"{incomplete} rows lack one of {', '.join(REQUIRED_CSV_COLUMNS)} (truncated or corrupt)", path
        )
    try:
        df = df.with_columns(
            pl.col("Period", "Start Frame", "End Frame").cast(pl.Int64),
            pl.col("Start X", "Start Y", "End X", "End Y").cast(pl.Float64),
        )
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(
            "non-numeric period/frame/coordinate values (corrupt or truncated)", path
        ) from exc
    team = pl.col("Team").str.to_lowercase()
    if not set(df.get_column("Team").str.to_lowercase().unique().to_list()) <= {"home", "away"}:
        raise InvalidInputError("column Team must hold Home/Away", path)
    player_team = dict(df.select(pl.col("From"), team).drop_nulls().unique("From", keep="first").iter_rows())

    def player_id(column: str) -> pl.Expr:
        number = pl.col(column).str.extract(r"(\d+)$")
        owner = pl.col(column).replace_strict(player_team, default=None, return_dtype=pl.String)
        return (
            pl.when(number.is_not_null()).then(pl.coalesce(owner, team) + "_" + number).alias(f"{column}_id")
        )

    table = df.with_row_index("row", offset=1).select(
        pl.col("row").cast(pl.String).alias("event_id"),
        pl.col("Period").alias("period"),
        pl.col("Start Frame").alias("frame"),
        pl.col("End Frame").alias("end_frame"),
        team.alias("team"),
        pl.col("Type").str.to_uppercase().alias("type"),
        pl.col("Subtype").alias("subtype"),
        player_id("From").alias("player_id"),
        player_id("To").alias("receiver_id"),
        pl.col("Start X").alias("sx"),
        pl.col("Start Y").alias("sy"),
        pl.col("End X").alias("ex"),
        pl.col("End Y").alias("ey"),
    )
    return {"table": table, "pitch": DEFAULT_PITCH, "match_id": re.sub(r"_?RawEventsData$", "", path.stem)}


def _default_meta(path: Path) -> Path:
    return path.with_name(re.sub(r"_?events$", "", path.stem) + "_metadata.xml")


def _kloppy_metadata(path: Path, meta: Path) -> Any:
    from kloppy import metrica

    for file in (path, meta):
        read_head(file)
    try:
        return metrica.load_event(event_data=path, meta_data=meta).metadata
    except Exception as exc:  # kloppy/lxml/json raise anything on corrupt input
        raise InvalidInputError(
            f"cannot be read as Metrica JSON events with {meta.name} ({type(exc).__name__})", path
        ) from exc


def _subtypes(raw: Any) -> str | None:
    if not raw:
        return None
    items = raw if isinstance(raw, list) else [raw]
    return "-".join(str(item["name"]) for item in items)


def _read_metrica_json(path: Path, meta: Path) -> dict[str, Any]:
    metadata = _kloppy_metadata(path, meta)
    grounds = {team.team_id: str(team.ground.value) for team in metadata.teams}
    data = json.loads(compression.read_bytes(path).decode("utf-8-sig"))["data"]
    rows = []
    for event in data:
        start, end = event.get("start") or {}, event.get("end") or {}
        rows.append(
            {
                "event_id": str(event["index"]),
                "period": event["period"],
                "frame": start.get("frame"),
                "end_frame": end.get("frame"),
                "team": grounds.get(event["team"]["id"]),
                "type": str(event["type"]["name"]).upper(),
                "subtype": _subtypes(event.get("subtypes")),
                "player_id": (event.get("from") or {}).get("id"),
                "receiver_id": (event.get("to") or {}).get("id"),
                "sx": start.get("x"),
                "sy": start.get("y"),
                "ex": end.get("x"),
                "ey": end.get("y"),
            }
        )
    dims = metadata.pitch_dimensions
    pitch = (float(dims.pitch_length or DEFAULT_PITCH[0]), float(dims.pitch_width or DEFAULT_PITCH[1]))
    schema = {
        "event_id": pl.String,
        "period": pl.Int64,
        "frame": pl.Int64,
        "end_frame": pl.Int64,
        "team": pl.String,
        "type": pl.String,
        "subtype": pl.String,
        "player_id": pl.String,
        "receiver_id": pl.String,
        "sx": pl.Float64,
        "sy": pl.Float64,
        "ex": pl.Float64,
        "ey": pl.Float64,
    }
    if not rows:
        raise InvalidInputError("no events", path)
    return {
        "table": pl.DataFrame(rows, schema=schema),
        "pitch": pitch,
        "match_id": re.sub(r"_?events$", "", path.stem),
    }


# ---------------------------------------------------------------------------------------------------------------
# Shared: metres, orientation, results, time
# ---------------------------------------------------------------------------------------------------------------


def shot_result(subtype: str | None) -> str | None:
    """Outcome of a shot from its Metrica subtype (``HEAD-ON TARGET-GOAL`` -> ``GOAL``)."""
    if subtype is None:
        return None
    return next((result for result in SHOT_RESULTS if result in subtype.upper()), None)


def _result(event_type: str, subtype: str | None) -> str | None:
    if event_type == SHOT:
        return shot_result(subtype)
    parts = set((subtype or "").upper().split("-"))
    return "WON" if "WON" in parts else "LOST" if "LOST" in parts else None


def _directions_from_events(table: pl.DataFrame) -> dict[int, bool]:
    """Per period: does home attack +x? Home shoots towards the side where its shots are (module docstring)."""
    directions: dict[int, bool] = {}
    for (period,), part in table.group_by("period"):
        shots = part.filter(pl.col("type") == SHOT)
        basis = shots if shots.select(pl.col("team").n_unique()).item() >= 1 and shots.height else part
        means = dict(basis.group_by("team").agg(pl.col("x").mean()).iter_rows())
        home, away = means.get("home"), means.get("away")
        score = (home or 0.0) - (away or 0.0)
        directions[int(period)] = score >= 0.0
    return directions


def _canonical(raw: dict[str, Any], path: Path, match: Match | None) -> pl.DataFrame:
    table: pl.DataFrame = raw["table"].with_columns(pl.col("sx", "sy", "ex", "ey").fill_nan(None))
    length, width = (match.metadata.pitch_length, match.metadata.pitch_width) if match else raw["pitch"]
    table = table.with_columns(
        ((pl.col("sx") - 0.5) * length).alias("x"),
        ((0.5 - pl.col("sy")) * width).alias("y"),
        ((pl.col("ex") - 0.5) * length).alias("end_x"),
        ((0.5 - pl.col("ey")) * width).alias("end_y"),
    )
    if match is not None:
        directions = {
            p.id: p.home_attacks_positive_x
            for p in match.metadata.periods
            if p.home_attacks_positive_x is not None
        }
        starts = {p.id: p.start_frame for p in match.metadata.periods}
    else:
        directions = _directions_from_events(table)
        starts = dict(table.group_by("period").agg(pl.col("frame").min()).iter_rows())
    flip = pl.col("period").is_in([p for p, positive in directions.items() if not positive])
    table = table.with_columns(
        [pl.when(flip).then(-pl.col(c)).otherwise(pl.col(c)).alias(c) for c in ("x", "y", "end_x", "end_y")]
    )
    start_frame = pl.col("period").replace_strict(starts, default=None, return_dtype=pl.Int64)
    table = table.with_columns(
        pl.lit(match.match_id if match else raw["match_id"]).alias("match_id"),
        ((pl.col("frame") - start_frame + 1) / FRAME_RATE).alias("time_s"),
        pl.struct("type", "subtype")
        .map_elements(lambda s: _result(s["type"], s["subtype"]), return_dtype=pl.String)
        .alias("result"),
        pl.col("x").alias("start_x"),
        pl.col("y").alias("start_y"),
    )
    return conform(table, EVENTS_SCHEMA)
