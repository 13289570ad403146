"""Uploads and the tables the dashboard shows: per player in a clip, pipeline outputs, the C-OBSO leaderboard."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.data.store import check_parquet_budget, read_metadata
from soccerai.errors import InvalidInputError, SoccerAIError
from soccerai.evaluate.cobso import CobsoResult
from soccerai.files import atomic_path
from soccerai.match.names import team_name
from soccerai.match.quality import jump_free
from soccerai.match.schema import MAX_PLAYER_SPEED, SHOT
from soccerai.replay.players import Roles, frame_obso, player_info, roles
from soccerai.replay.scene import Scene, list_matches, load_match, timeline
from soccerai.replay.simulation import Simulation, simulation_cobso
from soccerai.windows.container import BALL_INDEX, N_PER_TEAM

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""Uploaded match files larger than this are refused."""
MAX_UPLOAD_DECODED_BYTES = 1024 * 1024 * 1024
"""An upload may decode to at most 1 GiB (a full match is a few hundred MiB)."""


SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(), "match_id": pl.String(), "home": pl.String(), "away": pl.String(), "date": pl.String(),
    "score": pl.String(), "provider": pl.String(), "simulated": pl.Boolean(), "duration_s": pl.Float64(),
    "n_moments": pl.Int64(), "label": pl.String(), "problem": pl.String(),
}
"""One row per stored match for a match picker. ``date`` and ``score`` when the provider's metadata has them
(``metadata.extra["date"]``, ``["score"]``) or, for the score, the match's event goals; ``duration_s`` the tracked
time summed over periods; ``n_moments`` the length of its :func:`soccerai.replay.timeline`; ``problem`` why a file
could not be read (its other columns are then null): nothing is skipped silently."""


def match_summaries(store: Path, count_moments: bool = True) -> pl.DataFrame:
    """:data:`SUMMARY_SCHEMA` of every match file in ``store`` (:func:`list_matches`), sorted by date then label.

    Metadata and durations are read without decoding the frames; counting moments reads each match once (the
    result is cached per file, path and modification time, in this process).
    """
    rows = [_summary(str(p), p.stat().st_mtime_ns, count_moments) for p in list_matches(store)]
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row").sort("date", "label", nulls_last=True)


@lru_cache(maxsize=256)
def _summary(path: str, mtime_ns: int, count_moments: bool) -> tuple:
    try:
        meta = read_metadata(path)
        periods = (pl.scan_parquet(path, glob=False).group_by("period")
                   .agg((pl.col("time_s").max() - pl.col("time_s").min()).alias("span")).collect())
        duration = float(periods.get_column("span").sum())
        match = load_match(Path(path)) if count_moments else None
        moments = len(timeline(match)) if match is not None else None
        score = meta.extra.get("score") or (_event_score(match) if match is not None else None)
    except (SoccerAIError, OSError, pl.exceptions.PolarsError) as exc:
        return (path, None, None, None, None, None, None, None, None, None, Path(path).name, str(exc)[:200])
    home, away = team_name(meta, "home"), team_name(meta, "away")
    date = meta.extra.get("date")
    label = ", ".join(str(p) for p in (f"{home} v {away}", date, score) if p) + \
        f" ({meta.tracking_label} {meta.provider})"
    return (path, meta.match_id, home, away, date, score, meta.provider, meta.simulated, duration, moments, label,
            None)


def _event_score(match) -> str | None:
    """``"home-away"`` goals from the match's shot events with result GOAL (None without events)."""
    if match.events is None or match.events.height == 0:
        return None
    goals = match.events.filter((pl.col("type") == SHOT) & (pl.col("result").str.to_uppercase() == "GOAL"))
    counts = {t: goals.filter(pl.col("team") == t).height for t in ("home", "away")}
    return f"{counts['home']}-{counts['away']}"


def save_upload(name: str, data: bytes, folder: Path) -> Path:
    """Check an uploaded match file and store it in ``folder`` under a safe name; returns its path.

    Refused (:class:`InvalidInputError`): too large, not ``.parquet``, or not a valid soccerai match. The file is
    validated in a temporary file inside ``folder`` and only renamed into place when valid.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"upload is {len(data) / 2**20:.1f} MiB; the limit is {MAX_UPLOAD_BYTES // 2**20} MiB", name)
    name = name[:255]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".")
    if not safe.endswith(".parquet") or len(safe) <= len(".parquet"):
        raise InvalidInputError("only soccerai .parquet match files can be uploaded", name)
    target = Path(folder) / safe
    with atomic_path(target, ".parquet") as tmp:
        tmp.write_bytes(data)
        try:
            check_parquet_budget(tmp, max_bytes=MAX_UPLOAD_DECODED_BYTES)  # by metadata, before decoding
            load_match(tmp)
        except SoccerAIError as exc:
            raise InvalidInputError(f"not valid tracking data ({exc.problem})", name) from exc
    return target


# ----------------------------------------------------------------------------------------------------------------
# Tables for the leaderboard and benchmark pages


def read_table(path: Path) -> pl.DataFrame:
    """A parquet, CSV or JSON table, read from bytes (brackets in names are not globs); one-line errors."""
    path = Path(path)
    try:
        data = io.BytesIO(path.read_bytes())
        if path.suffix == ".parquet":
            check_parquet_budget(path)
            return pl.read_parquet(data)
        if path.suffix == ".csv":
            return pl.read_csv(data)
        if path.suffix == ".json":
            return _json_table(path)
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        raise InvalidInputError(f"unreadable table ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]})",
                                path) from exc
    raise InvalidInputError("tables must be .parquet, .csv or .json", path)


def _json_table(path: Path) -> pl.DataFrame:
    """JSON as rows: a list of records, or one record whose nested dicts are flattened (``metrics.ade`` ...)."""
    import json

    raw = json.loads(path.read_text())
    rows = raw if isinstance(raw, list) else [raw]
    return pl.DataFrame([_flatten(r) for r in rows if isinstance(r, dict)])


def _flatten(record: dict, prefix: str = "") -> dict:
    flat: dict = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


PLAYER_COLUMNS = ("player", "object_id", "player_id", "a1")
"""Player-id columns of C-OBSO tables; a table's ``player_name`` ("Name (#number)", :mod:`soccerai.match.names`) wins."""
VALUE_COLUMNS = ("cobso_mean", "cobso")


def cobso_leaderboard(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per-player C-OBSO over matches from the pipeline's ``cobso`` outputs (``{match: table}``).

    Rows of each table are (player, value[, shots]); a player's score is the shot-weighted mean of his values,
    ``sum_m shots_m * value_m / sum_m shots_m``, shown beside his total shots, matches and best single value.
    """
    parts = []
    for match, table in tables.items():
        player = next((c for c in ("player_name", *PLAYER_COLUMNS) if c in table.columns), None)  # names first
        value = next((c for c in VALUE_COLUMNS if c in table.columns), None)
        if player is None or value is None:
            raise InvalidInputError(f"C-OBSO table of {match} lacks a player column {PLAYER_COLUMNS} or a value "
                                    f"column {VALUE_COLUMNS}")
        shots = pl.col("shots").cast(pl.Float64) if "shots" in table.columns else pl.lit(1.0)
        team = pl.col("team").cast(pl.String) if "team" in table.columns else pl.lit(None, pl.String)
        parts.append(table.select(pl.col(player).cast(pl.String).alias("player"), team.alias("team"),
                                  pl.col(value).cast(pl.Float64).alias("value"), shots.alias("shots"),
                                  pl.lit(match).alias("match")))
    if not parts:
        return pl.DataFrame(schema={"player": pl.String(), "team": pl.String(), "cobso": pl.Float64(),
                                    "shots": pl.Float64(), "matches": pl.UInt32(), "best": pl.Float64()})
    rows = pl.concat(parts).filter(pl.col("value").is_finite())
    return (rows.group_by("player", "team")
            .agg(((pl.col("value") * pl.col("shots")).sum() / pl.col("shots").sum()).alias("cobso"),
                 pl.col("shots").sum(), pl.col("match").n_unique().alias("matches"), pl.col("value").max().alias("best"))
            .sort("cobso", descending=True))


def pipeline_outputs(state_root: Path, name: str) -> dict[str, Path]:
    """``{match key: file}`` of one per-match pipeline output (``matches/<key>/<name>``) under ``state_root``."""
    return {p.parent.name: p for p in sorted(Path(state_root).glob(f"**/matches/*/{name}"))}


PLAYER_TABLE_SCHEMA: dict[str, pl.DataType] = {
    "slot": pl.Int64(), "role": pl.String(), "name": pl.String(), "jersey": pl.Int32(), "position": pl.String(),
    "team": pl.String(), "side": pl.String(), "attacking": pl.Boolean(), "frames_seen": pl.Int64(),
    "distance_m": pl.Float64(), "top_speed_kmh": pl.Float64(), "obso": pl.Float64(), "cobso": pl.Float64(),
    "cobso_std": pl.Float64(),
}
"""One row per player tracked in the clip. ``distance_m``: path length over consecutive tracked frames;
``top_speed_kmh``: the largest smoothed speed (``3.6 |v|``) away from tracking jumps
(:func:`soccerai.match.quality.jump_free`: a step faster than 12 m/s is a broadcast re-identification, left out of the
distance, and the speeds within 0.5 s of it, or of a smoothed acceleration above 10 m/s^2, are left out of the
top speed); ``obso``: his OBSO at the table's frame (attackers;
defenders have none); ``cobso``/``cobso_std``: C-OBSO of the simulation's A1 (mean and spread over samples)."""
TABLE_KINDS = {"distance_m": "distance", "top_speed_kmh": "speed", "obso": "probability", "cobso": "probability",
               "cobso_std": "probability"}
"""How :func:`soccerai.replay.values.format_columns` shows the table's numbers."""


def player_table(scene: Scene, simulation: Simulation | CobsoResult | None = None, frame: int | None = None, player_obso: np.ndarray | None = None,
                 role_info: Roles | None = None) -> pl.DataFrame:
    """Per player in the clip (:data:`PLAYER_TABLE_SCHEMA`): name, team, position, distance (m), top speed (km/h),
    OBSO at ``frame`` (default the key frame) and, given a simulation (a :class:`soccerai.replay.Simulation`, whose
    C-OBSO :func:`soccerai.replay.simulation_cobso` computes, or that C-OBSO itself), A1's C-OBSO; attackers
    first, then by OBSO.

    Distance sums ``|p_{t+1} - p_t|`` over pairs of consecutive scene frames where he is tracked on both (a player
    out of camera view adds nothing; no gap is bridged). Every number is finite or null.
    """
    frame = scene.key_index if frame is None else scene.check_index(frame)
    result = _cobso_of(scene, simulation)
    values = frame_obso(scene, frame) if player_obso is None else np.asarray(player_obso, dtype=np.float64)
    who = role_info if role_info is not None else roles(scene, frame, values)
    rows = []
    for slot in range(BALL_INDEX):
        info = player_info(scene, slot)
        seen = scene.valid[:, slot]
        if info is None or not seen.any():
            continue
        steps = np.linalg.norm(np.diff(scene.positions[:, slot], axis=0), axis=-1)
        both, steady = jump_free(scene.positions[:, slot], seen, scene.fps, velocities=scene.velocities[:, slot])  # broadcast jumps left out
        speed = np.linalg.norm(scene.velocities[steady, slot], axis=-1)
        speed = speed[np.isfinite(speed) & (speed <= MAX_PLAYER_SPEED)]
        attacking = slot < N_PER_TEAM
        value = float(values[slot]) if attacking and np.isfinite(values[slot]) else None
        cobso = std = None
        if result is not None and result.agents.attacker == slot:
            cobso, std = result.mean, result.std
        rows.append((slot, who.of(slot), info.name, info.jersey, info.position, info.team, info.side, attacking,
                     int(seen.sum()), float(steps[both].sum()), float(speed.max() * 3.6) if speed.size else None,
                     value, cobso, std))
    table = pl.DataFrame(rows, schema=PLAYER_TABLE_SCHEMA, orient="row", nan_to_null=True)
    return table.sort(["attacking", "obso"], descending=[True, True], nulls_last=True)


def _cobso_of(scene: Scene, simulation: Simulation | CobsoResult | None) -> CobsoResult | None:
    """The C-OBSO of a simulation (None where it is undefined), or ``simulation`` itself when it is one."""
    if simulation is None or isinstance(simulation, CobsoResult):
        return simulation
    return simulation_cobso(scene, simulation)
