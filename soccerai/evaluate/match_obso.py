"""Scoring opportunity of a whole match: OBSO at every shot, and C-OBSO with a trained trajectory model.

This module joins the pieces: canonical match -> 10 Hz with velocities (:func:`soccerai.windows.layout.to_model_rate`) -> one model
window per shot, cut from the match laid out once (:func:`soccerai.windows.cutter.match_cube`) -> OBSO
(:mod:`soccerai.evaluate.obso`) and the C-OBSO counterfactual (:mod:`soccerai.evaluate.cobso`) with A1, D1, D2 forecast by a :class:`TrajectoryModel`.

OBSO at a shot means one thing everywhere in soccerai (:func:`scenes_obso`; the pipeline, the CLI and the demo call
it): OBSO of the scene at the 10 Hz frame before the shot, i.e. the last frame of the shot's C-OBSO window, with
velocities smoothed over the whole match. So a shot's ``shooter_obso`` is the ``real_obso`` of its C-OBSO pairs.

C-OBSO protocol (Teranishi et al. 2022, honest version). For a shot at frame ``f`` by shooter A2, let
``f0 = f - 1`` be the frame before the shot. The window observes ``obs_s`` seconds ending ``horizon_s`` before
``f0`` and its future runs to ``f0``. For each candidate A1 (an off-ball attacker in the attacking third at ``f0``),
with D1 = A1's nearest defender and D2 = A2's nearest defender, the model is sampled twice with the same seed
(:func:`paired_ghosts`): once with A1 GIVEN his real run and D1, D2 forecast (the real-run scene), once with A1, D1,
D2 forecast (the counterfactual scene; or A1 given an alternative run); every other agent is given its true future.
``C-OBSO_s = OBSO_s(A2 | real run) - OBSO_s(A2 | counterfactual)`` (``cobso_signed``, the mean over samples) and its
clipped form ``max(., 0)`` (``cobso``, as the paper reports); see :mod:`soccerai.evaluate.cobso` for why the scenes
are paired (the unpaired "observed minus forecast" is negative by construction). ``real_obso`` stays the observed
frame's value. Only the model's own samples are rolled out (no true future of a predicted agent is read, see
:func:`soccerai.models.base.resolve_predict_mask`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch

from soccerai.errors import InvalidParameterError, SoccerAIError
from soccerai.evaluate.cobso import (
    CobsoAgents,
    CobsoResult,
    cobso,
    paired_cobso,
    select_cobso_agents,
    shot_agents,
)
from soccerai.evaluate.obso import ObsoResult, match_summary, obso
from soccerai.evaluate.pitch_control import Grid, PitchControlParams
from soccerai.match.names import with_player_names
from soccerai.match.schema import Match
from soccerai.match.shots import MatchShots, ShotSource, match_shots
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.windows.container import FPS, N_AGENTS, N_PER_TEAM, TrajectoryWindows
from soccerai.windows.cutter import match_cube, window_at_frame
from soccerai.windows.layout import (
    FrameTensors,
    MatchCube,
    check_team,
    clock_frames,
    frame_tensors,
    to_model_rate,
)

SHOT_OBSO_SCHEMA: dict[str, pl.DataType] = {
    "shot_id": pl.String(),
    "shot_source": pl.String(),
    "period": pl.Int8(),
    "frame": pl.Int64(),
    "scored_frame": pl.Int64(),
    "team": pl.String(),
    "shooter": pl.String(),
    "result": pl.String(),
    "shooter_obso": pl.Float64(),
    "best_player": pl.String(),
    "best_obso": pl.Float64(),
    "obso_total": pl.Float64(),
}
"""One row per shot: ``frame`` is the shot's own frame, ``scored_frame`` the 10 Hz frame before it that is scored;
``best_player`` / ``best_obso`` the attacker (shooter included) with the highest OBSO at that frame; ``shot_source``
says where the shot came from: the match's events, or detected in its tracking (:mod:`soccerai.match.shots`)."""

COBSO_PAIR_SCHEMA: dict[str, pl.DataType] = {
    "shot_id": pl.String(),
    "shot_source": pl.String(),
    "team": pl.String(),
    "shooter": pl.String(),
    "a1": pl.String(),
    "d1": pl.String(),
    "d2": pl.String(),
    "real_obso": pl.Float64(),
    "real_run_obso_mean": pl.Float64(),
    "predicted_obso_mean": pl.Float64(),
    "cobso_signed": pl.Float64(),
    "cobso": pl.Float64(),
    "cobso_std": pl.Float64(),
    "n_samples": pl.Int64(),
}
"""One row per (shot, A1): ``real_obso`` the shooter's OBSO in the observed frame, ``real_run_obso_mean`` in the
model's real-run scenes, ``predicted_obso_mean`` in its counterfactual scenes; ``cobso_signed`` the mean of their
per-sample difference, ``cobso`` the mean of its clipped form (``max(., 0)``), ``cobso_std`` the clipped spread."""


def shots(match: Match) -> pl.DataFrame:
    """The match's shots in time order: its event shots, or (no events) shots detected in its tracking."""
    return match_shots(match).shots


@dataclass
class ShotScene:
    """One shot's window: observed history, true future ending at the frame before the shot."""

    shot_id: str
    team: str
    shooter: str
    shooter_index: int
    result: str | None
    window: TrajectoryWindows
    period: int
    shot_frame: int
    scored_frame: int
    """The window's last frame: the 10 Hz frame before the shot, where OBSO and C-OBSO are read."""
    source: ShotSource = "events"
    """Where the shot came from: the match's events or detected in its tracking."""

    @property
    def object_ids(self) -> list[str | None]:
        return list(self.window.meta.get_column("object_ids").item(0))

    def last_frame(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Positions ``[23, 2]``, velocities ``[23, 2]`` and validity ``[23]`` at the frame before the shot."""
        state = torch.as_tensor(self.window.states[0, -1])
        return state[:, :2], state[:, 2:], torch.as_tensor(self.window.mask[0, -1])


SKIP_REASONS = {
    "shooter_unknown": "shooter not visible at the kick",
    "no_window": "ball missing or too little contiguous tracking around the shot",
    "shooter_untracked": "shooter not tracked in the shot's window",
}


def shot_scenes(match10: Match, obs_s: float = 2.0, horizon_s: float = 4.0,
                cube: MatchCube | None = None, found: MatchShots | None = None) -> tuple[list[ShotScene], int]:
    """A :class:`ShotScene` per shot whose window fits in the tracking; also the number of shots skipped.

    The match is laid out once (``cube``, built from ``match10`` when not given) and every shot's window is cut
    from it. A shot at frame ``f`` gets the window whose future ends at the last 10 Hz frame before ``f``.
    ``found``: the shots to use (default :func:`soccerai.match.shots.match_shots` of ``match10``).
    """
    scenes, skips = shot_scenes_counted(match10, obs_s, horizon_s, cube, found)
    return scenes, sum(skips.values())


def shot_scenes_counted(match10: Match, obs_s: float = 2.0, horizon_s: float = 4.0, cube: MatchCube | None = None,
                        found: MatchShots | None = None) -> tuple[list[ShotScene], dict[str, int]]:
    """:func:`shot_scenes` with the skipped shots counted by reason (the keys of :data:`SKIP_REASONS`)."""
    scenes, skipped = shot_scenes_listed(match10, obs_s, horizon_s, cube, found)
    skips = dict.fromkeys(SKIP_REASONS, 0)
    for reason in skipped.get_column("reason_key"):
        skips[reason] += 1
    return scenes, skips


SKIPPED_SHOT_SCHEMA: dict[str, pl.DataType] = {
    "shot_id": pl.String(), "period": pl.Int8(), "frame": pl.Int64(), "team": pl.String(), "shooter": pl.String(),
    "result": pl.String(), "reason_key": pl.String(), "reason": pl.String(),
}


def shot_scenes_listed(match10: Match, obs_s: float = 2.0, horizon_s: float = 4.0, cube: MatchCube | None = None,
                       found: MatchShots | None = None) -> tuple[list[ShotScene], pl.DataFrame]:
    """:func:`shot_scenes` with every skipped shot LISTED (``SKIPPED_SHOT_SCHEMA``: the shot and why), not dropped."""
    found = found if found is not None else match_shots(match10)
    cube = cube if cube is not None else match_cube(match10)
    scenes: list[ShotScene] = []
    skipped = []
    horizon_frames = clock_frames(match10.metadata, horizon_s)
    for shot in found.shots.iter_rows(named=True):
        scene, reason = _shot_scene(cube, shot, obs_s, horizon_s, horizon_frames, found.source)
        if scene is None:
            skipped.append((str(shot["event_id"]), shot["period"], shot["frame"], shot["team"], shot["player_id"],
                            shot.get("result"), reason, SKIP_REASONS[reason]))
        else:
            scenes.append(scene)
    return scenes, pl.DataFrame(skipped, schema=SKIPPED_SHOT_SCHEMA, orient="row")


def _shot_scene(cube: MatchCube, shot: dict, obs_s: float, horizon_s: float, horizon_frames: int,
                source: ShotSource) -> tuple[ShotScene | None, str]:
    """The scene of one shot (an events row), or None and why (its window does not fit, its shooter is unseen).

    ``horizon_frames`` is ``horizon_s`` on the match's frame clock (:func:`soccerai.windows.layout.clock_frames`).
    """
    if shot["player_id"] is None:
        return None, "shooter_unknown"
    period, shot_frame = int(shot["period"]), int(shot["frame"])
    obs_end = shot_frame - 1 - horizon_frames
    try:
        window = window_at_frame(cube, period, obs_end, shot["team"], obs_s, horizon_s)
    except SoccerAIError:
        return None, "no_window"
    ids = list(window.meta.get_column("object_ids").item(0))
    if shot["player_id"] not in ids[:N_PER_TEAM] or not window.mask[0, -1, ids.index(shot["player_id"])]:
        return None, "shooter_untracked"
    frames = cube.periods[period].frames
    start = int(np.searchsorted(frames, int(window.meta["start_frame"][0])))
    scored_frame = int(frames[start + window.states.shape[1] - 1])
    return ShotScene(str(shot["event_id"]), shot["team"], shot["player_id"], ids.index(shot["player_id"]),
                     shot.get("result"), window, period, shot_frame, scored_frame, source), ""


def scenes_obso(scenes: Sequence[ShotScene], grid: Grid | None = None, params: PitchControlParams | None = None,
                players: pl.DataFrame | None = None, **obso_options) -> pl.DataFrame:
    """OBSO at the frame before each shot (``SHOT_OBSO_SCHEMA``): the one per-shot OBSO of soccerai.

    Each player-id column has its ``<column>_name`` beside it ("Name (#number)" from the match's ``players``,
    :func:`soccerai.match.names.with_player_names`).

    Every scene's last frame is scored by :func:`soccerai.evaluate.obso.obso` (``obso_options`` go to it), so the
    shooter's value is the ``real_obso`` of C-OBSO at the same shot.
    """
    if not scenes:
        return with_player_names(pl.DataFrame(schema=SHOT_OBSO_SCHEMA), players)
    frames = [scene.last_frame() for scene in scenes]
    result = obso(torch.stack([f[0] for f in frames]), torch.stack([f[1] for f in frames]),
                  torch.stack([f[2] for f in frames]), grid, params, **obso_options)
    attack_values = result.player_values[:, :N_PER_TEAM].double()
    rows = []
    for i, scene in enumerate(scenes):
        best = _best_attacker(attack_values[i])
        rows.append((scene.shot_id, scene.source, scene.period, scene.shot_frame, scene.scored_frame, scene.team, scene.shooter,
                     scene.result, float(attack_values[i, scene.shooter_index]),
                     None if best is None else scene.object_ids[best],
                     None if best is None else float(attack_values[i, best]), float(result.total[i])))
    return with_player_names(pl.DataFrame(rows, schema=SHOT_OBSO_SCHEMA, orient="row", nan_to_null=True), players)


def _best_attacker(values: torch.Tensor) -> int | None:
    """Slot of the highest finite value among the attackers' ``values [11]`` (None when none is finite)."""
    finite = torch.isfinite(values)
    if not bool(finite.any()):
        return None
    return int(torch.where(finite, values, -math.inf).argmax())


def shot_obso(match: Match, grid: Grid | None = None, params: PitchControlParams | None = None,
              obs_s: float = 2.0, horizon_s: float = 4.0, **obso_options) -> pl.DataFrame:
    """OBSO at the frame before each shot of ``match`` (any rate): :func:`scenes_obso` of its :func:`shot_scenes`.

    A shot is scored when the C-OBSO window (``obs_s`` observed + ``horizon_s`` ending at the frame before the
    shot) fits in the tracking and its shooter is tracked; the others are skipped with a warning.
    """
    return scenes_obso(match_scenes(match, obs_s, horizon_s), grid, params, match.players, **obso_options)


def match_scenes(match: Match, obs_s: float = 2.0, horizon_s: float = 4.0) -> list[ShotScene]:
    """:func:`shot_scenes` of ``match`` at any rate (resampled to 10 Hz once); skipped shots give one warning.

    The shots are :func:`soccerai.match.shots.match_shots` of ``match`` at its own rate: its events when it has any,
    else those detected in its tracking (each scene's ``source`` says which)."""
    found = match_shots(match)
    scenes, skips = shot_scenes_counted(to_model_rate(match), obs_s, horizon_s, found=found)
    if sum(skips.values()):
        reasons = ", ".join(f"{n} {SKIP_REASONS[k]}" for k, n in skips.items() if n)
        warnings.warn(f"{sum(skips.values())} of {found.shots.height} shots ({found.source}) skipped: {reasons}",
                      stacklevel=2)
    return scenes


def sample_ghosts(model: TrajectoryModel, scene: ShotScene, replaced: list[list[int]], n_samples: int,
                  seed: int = 0, runs: Sequence[tuple[int, torch.Tensor] | None] | None = None) -> torch.Tensor:
    """Sample futures where, in row ``b``, only the agents ``replaced[b]`` are forecast: ``[S, B, H, 23, 2]``.

    ``runs[b]``: ``(agent, future [H, 2])`` given to the model in row ``b`` instead of that agent's true future (an
    alternative run of A1), or None.
    """
    b = len(replaced)
    batch = TrajectoryBatch.from_windows(scene.window, [0] * b)
    predict_mask = torch.zeros(b, N_AGENTS, dtype=torch.bool)
    for row, agents in enumerate(replaced):
        predict_mask[row, agents] = True
    given = batch.given_future()
    if runs is not None and any(run is not None for run in runs):
        given = given.clone()
        for row, run in enumerate(runs):
            if run is not None:
                given[row, :, run[0]] = torch.as_tensor(run[1], dtype=given.dtype)
    generator = torch.Generator().manual_seed(seed)
    return model.sample(batch.history(), scene.window.pred_len, n_samples, predict_mask, given,
                        generator=generator)


def paired_ghosts(model: TrajectoryModel, scene: ShotScene, candidates: Sequence[CobsoAgents], n_samples: int,
                  seed: int = 0, alternatives: Sequence[torch.Tensor | None] | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The paired scenes of C-OBSO: ``(real_run, counterfactual)``, each ``[S, B, H, 23, 2]``, same seed and layout.

    Row ``b`` is candidate ``b``. Real run: A1 given his true future, D1 and D2 forecast. Counterfactual: A1, D1 and
    D2 forecast, or (``alternatives[b]`` a ``[H, 2]`` run) A1 given that run and D1, D2 forecast.
    """
    defenders = [[a for a in c.replaced if a != c.attacker] for c in candidates]
    real_run = sample_ghosts(model, scene, defenders, n_samples, seed)
    alternatives = list(alternatives or [None] * len(candidates))
    masks = [d if alt is not None else c.replaced for c, d, alt in zip(candidates, defenders, alternatives, strict=True)]
    runs = [None if alt is None else (c.attacker, alt) for c, alt in zip(candidates, alternatives, strict=True)]
    counterfactual = sample_ghosts(model, scene, masks, n_samples, seed, runs)
    return real_run, counterfactual


def seen_candidates(scene: ShotScene) -> tuple[list[CobsoAgents], int]:
    """The (A1, D1, D2) candidates of one shot whose three agents are tracked on every observed frame and at the frame
    before the shot, and how many candidates were dropped because one of them was unseen (broadcast tracking: a
    player out of camera view is never forecast from nothing)."""
    positions, _, valid = scene.last_frame()
    candidates = select_cobso_agents(positions, valid, scene.shooter_index)
    window = scene.window
    seen = window.mask[0, : window.obs_len].all(axis=0) & window.mask[0, -1]
    kept = [c for c in candidates if all(bool(seen[a]) for a in c.replaced)]
    return kept, len(candidates) - len(kept)


def scene_roles(scene: ShotScene, player_obso: torch.Tensor | None = None) -> CobsoAgents | None:
    """The shot's (A1, D1, D2) (:func:`soccerai.evaluate.cobso.shot_agents`) at the frame before the shot, for the
    shot table's shooter; ``player_obso [23]`` at that frame when already computed."""
    positions, velocities, valid = scene.last_frame()
    if player_obso is None:
        player_obso = obso(positions[None], velocities[None], valid[None]).player_values[0]
    window = scene.window
    seen = window.mask[0, : window.obs_len].all(axis=0) & window.mask[0, -1]
    return shot_agents(positions, valid, scene.shooter_index, player_obso.double().numpy(), seen=seen)


SHOT_ROLES_SCHEMA: dict[str, pl.DataType] = {
    "shot_id": pl.String(), "period": pl.Int8(), "frame": pl.Int64(), "team": pl.String(), "result": pl.String(),
    "shooter": pl.String(), "a1": pl.String(), "d1": pl.String(), "d2": pl.String(), "reason": pl.String(),
}
"""One row per shot: the roles every face shows (:func:`shot_roles`); ``reason`` says why a shot has no roles
(its shooter never visible, no window, no off-ball attacker in the attacking third), null when it has them."""


def shot_roles(scenes: Sequence[ShotScene], players: pl.DataFrame | None = None,
               skipped: pl.DataFrame | None = None) -> pl.DataFrame:
    """Shooter, A1, D1, D2 of every shot (``SHOT_ROLES_SCHEMA`` with names): :func:`scene_roles` of each scene; the
    ``skipped`` shots of :func:`shot_scenes_listed` are listed too, with their reason, in time order."""
    rows = []
    for scene in scenes:
        agents = scene_roles(scene)
        ids = scene.object_ids
        picked = [None] * 3 if agents is None else [ids[agents.attacker], ids[agents.attacker_defender],
                                                     ids[agents.shooter_defender]]
        reason = "no seen off-ball attacker in the attacking third" if agents is None else None
        rows.append((scene.shot_id, scene.period, scene.shot_frame, scene.team, scene.result, scene.shooter, *picked,
                     reason))
    for r in ([] if skipped is None else skipped.iter_rows(named=True)):
        rows.append((r["shot_id"], r["period"], r["frame"], r["team"], r["result"], r["shooter"], None, None, None,
                     r["reason"]))
    table = pl.DataFrame(rows, schema=SHOT_ROLES_SCHEMA, orient="row").sort("period", "frame", nulls_last=True)
    return with_player_names(table, players)


def match_shot_roles(match: Match, obs_s: float = 2.0, horizon_s: float = 4.0) -> pl.DataFrame:
    """:func:`shot_roles` of every shot of ``match`` (any rate), skipped shots listed with their reason."""
    scenes, skipped = shot_scenes_listed(to_model_rate(match), obs_s, horizon_s, found=match_shots(match))
    return shot_roles(scenes, match.players, skipped)


def scene_cobso(model: TrajectoryModel, scene: ShotScene, n_samples: int = 10, seed: int = 0,
                grid: Grid | None = None, params: PitchControlParams | None = None) -> list[CobsoResult]:
    """Paired C-OBSO of every A1 candidate of one shot whose A1, D1 and D2 are seen (:func:`seen_candidates`)."""
    positions, velocities, valid = scene.last_frame()
    candidates, _ = seen_candidates(scene)
    if not candidates:
        return []
    real_run, counterfactual = paired_ghosts(model, scene, candidates, n_samples, seed)
    return [paired_ghost_cobso(positions, velocities, valid, scene.shooter_index, agents, real_run[:, row],
                               counterfactual[:, row], grid, params)
            for row, agents in enumerate(candidates)]


def _end_state(futures: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """End positions ``[S, 23, 2]`` of sampled futures ``[S, H, 23, 2]`` and their last 10 Hz velocity."""
    return futures[:, -1], (futures[:, -1] - futures[:, -2]) * FPS if futures.shape[1] > 1 else None


def paired_ghost_cobso(positions: torch.Tensor, velocities: torch.Tensor, valid: torch.Tensor, shooter: int,
                       agents: CobsoAgents, real_run: torch.Tensor, counterfactual: torch.Tensor,
                       grid: Grid | None = None, params: PitchControlParams | None = None) -> CobsoResult:
    """Paired C-OBSO (:func:`soccerai.evaluate.cobso.paired_cobso`) of real-run and counterfactual futures
    ``[S, H, 23, 2]``: A1, D1, D2 at their end positions moving at their last 10 Hz step, in both scenes."""
    real_pos, real_vel = _end_state(real_run)
    cf_pos, cf_vel = _end_state(counterfactual)
    return paired_cobso(positions, velocities, valid, shooter, agents, real_pos, cf_pos, real_vel, cf_vel,
                        grid, params)


def ghost_cobso(positions: torch.Tensor, velocities: torch.Tensor, valid: torch.Tensor, shooter: int,
                agents: CobsoAgents, futures: torch.Tensor, grid: Grid | None = None,
                params: PitchControlParams | None = None) -> CobsoResult:
    """C-OBSO of sampled futures ``[S, H, 23, 2]`` whose last frame is the scene ``positions [23, 2]``.

    The predicted agents end at ``futures[:, -1]`` moving at ``(futures[:, -1] - futures[:, -2]) * 10`` m/s (the
    last 10 Hz step; none with ``H = 1``); :func:`soccerai.evaluate.cobso.cobso` does the rest.
    """
    end_velocity = (futures[:, -1] - futures[:, -2]) * FPS if futures.shape[1] > 1 else None
    return cobso(positions, velocities, valid, shooter, agents, futures[:, -1], end_velocity, grid, params)


def scenes_cobso(scenes: Sequence[ShotScene], model: TrajectoryModel, n_samples: int = 10, seed: int = 0,
                 progress: Callable[[Sequence[ShotScene]], Iterable[ShotScene]] | None = None,
                 players: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """C-OBSO for every (shot, A1) pair of the given scenes and the per-player table (see :func:`match_cobso`);
    player ids get their names beside them from the match's ``players`` (:func:`soccerai.match.names.with_player_names`)."""
    if n_samples < 1:
        raise InvalidParameterError(f"n_samples must be at least 1, got {n_samples}")
    rows = []
    unseen = 0
    for scene in scenes if progress is None else progress(scenes):
        ids = scene.object_ids
        unseen += seen_candidates(scene)[1]
        for res in scene_cobso(model, scene, n_samples, seed):
            a = res.agents
            rows.append((scene.shot_id, scene.source, scene.team, scene.shooter, ids[a.attacker],
                         ids[a.attacker_defender], ids[a.shooter_defender], res.real_obso,
                         float(res.paired_real_obso.mean()) if res.paired_real_obso is not None else res.real_obso,
                         float(res.predicted_obso.mean()), res.signed_mean, res.mean, res.std, n_samples))
    if unseen:
        warnings.warn(f"{unseen} (shot, A1) pairs skipped: A1, D1 or D2 not tracked over the window (out of camera "
                      "view)", stacklevel=2)
    pairs = with_player_names(pl.DataFrame(rows, schema=COBSO_PAIR_SCHEMA, orient="row"), players)
    return pairs, per_player_cobso(pairs)


def match_cobso(match: Match, model: TrajectoryModel, n_samples: int = 10, seed: int = 0,
                obs_s: float = 2.0, horizon_s: float = 4.0, progress=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """C-OBSO for every (shot, A1) pair of a match and the per-player table.

    Returns ``(pairs, players)``: ``pairs`` in ``COBSO_PAIR_SCHEMA``; ``players`` one row per A1 with the number of
    shots, mean C-OBSO (mean over shots of the per-shot sample mean), mean spread and total.
    """
    if n_samples < 1:
        raise InvalidParameterError(f"n_samples must be at least 1, got {n_samples}")
    return scenes_cobso(match_scenes(match, obs_s, horizon_s), model, n_samples, seed, progress, match.players)


def per_player_cobso(pairs: pl.DataFrame) -> pl.DataFrame:
    """Per-A1 summary of C-OBSO pairs, best first (with ``player_name`` when the pairs have ``a1_name``)."""
    keys = ["a1", "a1_name", "team"] if "a1_name" in pairs.columns else ["a1", "team"]
    if "cobso_signed" not in pairs.columns:  # tables written before paired C-OBSO
        pairs = pairs.with_columns(cobso_signed=pl.lit(None, pl.Float64()))
    return (
        pairs.group_by(keys, maintain_order=True)
        .agg(pl.len().alias("shots"), pl.col("cobso").mean().alias("cobso_mean"),
             pl.col("cobso_signed").mean().alias("cobso_signed_mean"),
             pl.col("cobso_std").mean().alias("cobso_std_mean"), pl.col("cobso").sum().alias("cobso_total"),
             pl.col("shot_source").unique().sort().str.join(",").alias("shot_source"))
        .rename({"a1": "player", "a1_name": "player_name"}, strict=False)
        .sort("cobso_mean", descending=True)
    )


@dataclass
class SpanObso:
    """OBSO over a span of play: the frame tensors (attack frame), the OBSO result and the per-player summary."""

    frames: FrameTensors
    result: ObsoResult
    summary: pl.DataFrame

    @property
    def best_frame(self) -> int:
        """Index of the frame with the largest total OBSO (skipped frames count as -1)."""
        return int(self.result.total.nan_to_num(-1.0).argmax())


def span_start(match: Match, period: int | None = None) -> tuple[int, float]:
    """``(period, start_s)`` where the tracking of ``period`` (default: the first period tracked) starts."""
    tracked = match.tracking if period is None else match.tracking.filter(pl.col("period") == period)
    if tracked.height == 0:
        raise InvalidParameterError(f"no tracking in period {period}" if period is not None else "no tracking at all")
    first = tracked.sort("period", "time_s").row(0, named=True)
    return int(first["period"]), float(first["time_s"])


def span_obso(match: Match, attacking_team: str, period: int | None, start_s: float | None, seconds: float,
              grid: Grid | None = None, score_model: str = "potential") -> SpanObso:
    """OBSO of every 10 Hz frame of ``period`` between ``start_s`` and ``start_s + seconds`` (period clock).

    ``period`` None: the first period tracked; ``start_s`` None: where that period's tracking starts
    (:func:`span_start`), so the default span works on every match (broadcast tracking rarely starts at 0 s).

    The span is brought to model rate (:func:`soccerai.windows.layout.to_model_rate`, velocities smoothed over the span),
    laid out for ``attacking_team`` (:func:`soccerai.windows.layout.frame_tensors`) and scored by
    :func:`soccerai.evaluate.obso.obso`; the summary is :func:`soccerai.evaluate.obso.match_summary`.
    """
    check_team(attacking_team)
    if seconds <= 0:
        raise InvalidParameterError(f"seconds must be positive, got {seconds}")
    if period is None or start_s is None:
        period, first_s = span_start(match, period)
        start_s = first_s if start_s is None else start_s
    span = match.tracking.filter((pl.col("period") == period) & pl.col("time_s").is_between(start_s, start_s + seconds))
    if span.height == 0:
        raise InvalidParameterError(f"no tracking in period {period} between {start_s} s and {start_s + seconds} s")
    match10 = to_model_rate(Match(tracking=span, players=match.players, metadata=match.metadata))
    frames = frame_tensors(match10.tracking, match.players, attacking_team)
    result = obso(frames.positions, frames.velocities, frames.valid, grid, score_model=score_model)
    return SpanObso(frames, result, with_player_names(match_summary(result, frames.object_ids), match.players))


@dataclass
class CobsoShotView:
    """What the C-OBSO shot figure draws: the shot with the largest C-OBSO, computed here, drawn by :mod:`soccerai.viz`.

    ``positions``/``velocities``/``valid`` and ``surface [ny, nx]`` at the frame before the shot; ``real [H, 23, 2]``
    the true future of the window, ``samples [S, H, 23, 2]`` the model's counterfactual futures of ``agents``
    (A1, D1, D2).
    """

    pair: dict
    positions: torch.Tensor
    velocities: torch.Tensor
    valid: torch.Tensor
    surface: torch.Tensor
    real: torch.Tensor
    samples: torch.Tensor
    agents: list[int]
    model_name: str


def cobso_shot_view(scenes: Sequence[ShotScene], model: TrajectoryModel, pairs: pl.DataFrame,
                    n_samples: int = 10, shot_id: str | None = None) -> CobsoShotView | None:
    """What to draw of one shot: ``shot_id``, else a GOAL with C-OBSO pairs, else the shot with the largest C-OBSO.

    Its (A1, D1, D2) are the shot's one role assignment (:func:`scene_roles`, what every face shows) when that A1
    has a pair, else the pair with the largest C-OBSO. None when ``pairs`` has no row for such a shot.
    ``scenes`` are those C-OBSO was computed on (:func:`shot_scenes`), ``pairs`` its table (:func:`scenes_cobso`).
    """
    if pairs.height == 0:
        return None
    if shot_id is None:
        goals = {s.shot_id for s in scenes if (s.result or "").upper() == "GOAL"}
        ranked = pairs.with_columns(goal=pl.col("shot_id").is_in(list(goals)))
        shot_id = ranked.sort("goal", "cobso", "real_obso", descending=True)["shot_id"][0]
    scene = next((s for s in scenes if s.shot_id == shot_id), None)
    if scene is None:
        raise InvalidParameterError(f"shot {shot_id} of the C-OBSO pairs is not among the given scenes")
    of_shot = pairs.filter(pl.col("shot_id") == shot_id)
    if of_shot.height == 0:
        return None
    ids = scene.object_ids
    chosen = scene_roles(scene)
    same = of_shot.filter(pl.col("a1") == ids[chosen.attacker]) if chosen is not None else of_shot.clear()
    best = (same if same.height else of_shot.sort("cobso", "real_obso", descending=True)).row(0, named=True)
    best = {**best, "result": scene.result}
    agents = sorted({ids.index(best[k]) for k in ("a1", "d1", "d2")})
    positions, velocities, valid = scene.last_frame()
    surface = obso(positions[None], velocities[None], valid[None]).surface[0]
    samples = sample_ghosts(model, scene, [agents], n_samples)[:, 0]
    future = scene.window.obs_len
    real = torch.as_tensor(scene.window.states[0, future:, :, :2]).clone()
    real[~torch.as_tensor(scene.window.mask[0, future:])] = float("nan")  # unseen frames are not drawn
    name = getattr(model, "name", type(model).__name__).replace("_", " ")
    return CobsoShotView(best, positions, velocities, valid, surface, real, samples, agents, name)
