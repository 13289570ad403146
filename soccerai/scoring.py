"""Scoring opportunity of a whole match: OBSO at every shot, and C-OBSO with a trained trajectory model.

This module joins the pieces: canonical match -> 10 Hz with velocities (:mod:`soccerai.tracking`) -> one model
window per shot (:func:`soccerai.windowing.window_at_frame`) -> OBSO (:mod:`soccerai.evaluate.obso`) and the C-OBSO
counterfactual (:mod:`soccerai.evaluate.cobso`) with A1, D1, D2 forecast by a :class:`TrajectoryModel`.

C-OBSO protocol (Teranishi et al. 2022, honest version). For a shot at frame ``f`` by shooter A2, let
``f0 = f - 1`` be the frame before the shot. The window observes ``obs_s`` seconds ending ``horizon_s`` before
``f0`` and its future runs to ``f0``. For each candidate A1 (an off-ball attacker in the attacking third at ``f0``),
with D1 = A1's nearest defender and D2 = A2's nearest defender, the model samples ``S`` futures of A1, D1, D2 only
(every other agent is given its true future); the scene at ``f0`` with A1, D1, D2 at their sampled end positions
gives ``OBSO_s(A2)``, and ``C-OBSO_s = max(OBSO_real(A2) - OBSO_s(A2), 0)``. Default statistic: the mean over
samples, reported with its standard deviation. Only the model's own samples are rolled out (no true future of a
predicted agent is read, see :func:`soccerai.models.base.resolve_predict_mask`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import polars as pl
import torch

from soccerai.errors import InvalidParameterError, SoccerAIError
from soccerai.evaluate.cobso import CobsoResult, cobso, select_cobso_agents
from soccerai.evaluate.obso import obso
from soccerai.evaluate.pitch_control import Grid, PitchControlParams
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.schema import Match
from soccerai.tracking import add_velocities, resample
from soccerai.windowing import window_at_frame
from soccerai.windows import FPS, N_AGENTS, TrajectoryWindows

SHOT_TYPE = "SHOT"

SHOT_OBSO_SCHEMA: dict[str, pl.DataType] = {
    "shot_id": pl.String(),
    "period": pl.Int8(),
    "frame": pl.Int64(),
    "team": pl.String(),
    "shooter": pl.String(),
    "result": pl.String(),
    "shooter_obso": pl.Float64(),
    "obso_total": pl.Float64(),
}

COBSO_PAIR_SCHEMA: dict[str, pl.DataType] = {
    "shot_id": pl.String(),
    "team": pl.String(),
    "shooter": pl.String(),
    "a1": pl.String(),
    "d1": pl.String(),
    "d2": pl.String(),
    "real_obso": pl.Float64(),
    "predicted_obso_mean": pl.Float64(),
    "cobso": pl.Float64(),
    "cobso_std": pl.Float64(),
    "n_samples": pl.Int64(),
}


def to_model_rate(match: Match) -> Match:
    """The match at 10 Hz with smoothed velocities (a no-op when it already is)."""
    tracking = match.tracking
    already = abs(match.metadata.frame_rate - FPS) < 1e-6 and tracking.get_column("vx").null_count() == 0
    if not already:
        tracking = add_velocities(resample(tracking, fps=FPS))
    return Match(tracking=tracking, players=match.players, metadata=match.metadata, events=match.events)


def shots(match: Match) -> pl.DataFrame:
    """The match's shots (events of type SHOT with a shooter), in time order."""
    if match.events is None:
        raise InvalidParameterError(f"match {match.match_id} has no events: shots are needed for OBSO / C-OBSO")
    return (
        match.events.filter((pl.col("type") == SHOT_TYPE) & pl.col("player_id").is_not_null())
        .sort("period", "frame")
    )


@dataclass
class ShotScene:
    """One shot's window: observed history, true future ending at the frame before the shot."""

    shot_id: str
    team: str
    shooter: str
    shooter_index: int
    result: str | None
    window: TrajectoryWindows

    @property
    def object_ids(self) -> list[str | None]:
        return list(self.window.meta.get_column("object_ids").item(0))

    def last_frame(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Positions ``[23, 2]``, velocities ``[23, 2]`` and validity ``[23]`` at the frame before the shot."""
        state = torch.as_tensor(self.window.states[0, -1])
        return state[:, :2], state[:, 2:], torch.as_tensor(self.window.mask[0, -1])


def shot_scenes(match10: Match, obs_s: float = 2.0, horizon_s: float = 4.0) -> tuple[list[ShotScene], int]:
    """A :class:`ShotScene` per shot whose window fits in the tracking; also the number of shots skipped."""
    scenes: list[ShotScene] = []
    skipped = 0
    for shot in shots(match10).iter_rows(named=True):
        end_of_future = int(shot["frame"]) - 1
        obs_end = end_of_future - int(round(horizon_s * match10.metadata.frame_rate))
        try:
            window = window_at_frame(match10, int(shot["period"]), obs_end, shot["team"], obs_s, horizon_s)
        except SoccerAIError:
            skipped += 1
            continue
        ids = list(window.meta.get_column("object_ids").item(0))
        if shot["player_id"] not in ids[:11]:
            skipped += 1
            continue
        scenes.append(ShotScene(str(shot["event_id"]), shot["team"], shot["player_id"],
                                ids.index(shot["player_id"]), shot.get("result"), window))
    return scenes, skipped


def shot_obso(match: Match, grid: Grid | None = None, params: PitchControlParams | None = None) -> pl.DataFrame:
    """OBSO at the frame before each shot: the shooter's value and the surface total (``SHOT_OBSO_SCHEMA``)."""
    match10 = to_model_rate(match)
    scenes, skipped = shot_scenes(match10)
    if skipped:
        warnings.warn(f"{skipped} shots skipped: too little tracking before them or shooter untracked", stacklevel=2)
    if not scenes:
        return pl.DataFrame(schema=SHOT_OBSO_SCHEMA)
    frames = [scene.last_frame() for scene in scenes]
    result = obso(torch.stack([f[0] for f in frames]), torch.stack([f[1] for f in frames]),
                  torch.stack([f[2] for f in frames]), grid, params)
    rows = [
        (s.shot_id, int(s.window.meta["period"][0]), int(s.window.meta["obs_end_frame"][0]), s.team, s.shooter,
         s.result, float(result.player_values[i, s.shooter_index]), float(result.total[i]))
        for i, s in enumerate(scenes)
    ]
    return pl.DataFrame(rows, schema=SHOT_OBSO_SCHEMA, orient="row", nan_to_null=True)


def sample_ghosts(model: TrajectoryModel, scene: ShotScene, replaced: list[list[int]], n_samples: int,
                  seed: int = 0) -> torch.Tensor:
    """Sample futures where, in row ``b``, only the agents ``replaced[b]`` are forecast: ``[S, B, H, 23, 2]``."""
    model.eval()
    b = len(replaced)
    batch = TrajectoryBatch.from_windows(scene.window, [0] * b)
    predict_mask = torch.zeros(b, N_AGENTS, dtype=torch.bool)
    for row, agents in enumerate(replaced):
        predict_mask[row, agents] = True
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return model.sample(batch.history(), scene.window.pred_len, n_samples, predict_mask,
                            batch.future_positions(), generator=generator)


def scene_cobso(model: TrajectoryModel, scene: ShotScene, n_samples: int = 10, seed: int = 0,
                grid: Grid | None = None, params: PitchControlParams | None = None) -> list[CobsoResult]:
    """C-OBSO of every A1 candidate of one shot."""
    positions, velocities, valid = scene.last_frame()
    candidates = select_cobso_agents(positions, valid, scene.shooter_index)
    if not candidates:
        return []
    samples = sample_ghosts(model, scene, [c.replaced for c in candidates], n_samples, seed)
    results = []
    for row, agents in enumerate(candidates):
        end = samples[:, row, -1]  # [S, 23, 2] at the frame before the shot
        end_velocity = (samples[:, row, -1] - samples[:, row, -2]) * FPS
        results.append(cobso(positions, velocities, valid, scene.shooter_index, agents, end, end_velocity,
                             grid, params))
    return results


def match_cobso(match: Match, model: TrajectoryModel, n_samples: int = 10, seed: int = 0,
                obs_s: float = 2.0, horizon_s: float = 4.0, progress=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """C-OBSO for every (shot, A1) pair of a match and the per-player table.

    Returns ``(pairs, players)``: ``pairs`` in ``COBSO_PAIR_SCHEMA``; ``players`` one row per A1 with the number of
    shots, mean C-OBSO (mean over shots of the per-shot sample mean), mean spread and total.
    """
    if n_samples < 1:
        raise InvalidParameterError(f"n_samples must be at least 1, got {n_samples}")
    match10 = to_model_rate(match)
    scenes, skipped = shot_scenes(match10, obs_s, horizon_s)
    if skipped:
        warnings.warn(f"{skipped} shots skipped: too little tracking before them or shooter untracked", stacklevel=2)
    rows = []
    for scene in scenes if progress is None else progress(scenes):
        ids = scene.object_ids
        for res in scene_cobso(model, scene, n_samples, seed):
            a = res.agents
            rows.append((scene.shot_id, scene.team, scene.shooter, ids[a.attacker], ids[a.attacker_defender],
                         ids[a.shooter_defender], res.real_obso, float(res.predicted_obso.mean()), res.mean,
                         res.std, n_samples))
    pairs = pl.DataFrame(rows, schema=COBSO_PAIR_SCHEMA, orient="row")
    return pairs, per_player_cobso(pairs)


def per_player_cobso(pairs: pl.DataFrame) -> pl.DataFrame:
    """Per-A1 summary of C-OBSO pairs, best first."""
    return (
        pairs.group_by("a1", "team")
        .agg(pl.len().alias("shots"), pl.col("cobso").mean().alias("cobso_mean"),
             pl.col("cobso_std").mean().alias("cobso_std_mean"), pl.col("cobso").sum().alias("cobso_total"))
        .rename({"a1": "player"})
        .sort("cobso_mean", descending=True)
    )
