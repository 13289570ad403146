"""What-if simulation: sampled futures of some agents of a scene and their C-OBSO.

Windows are cut by :func:`soccerai.window_cutter.array_windows`, the C-OBSO agents are chosen by
:func:`soccerai.evaluate.cobso.select_cobso_agents` and the C-OBSO arithmetic is :func:`soccerai.match_obso.ghost_cobso`;
this module only wires a scene to them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from soccerai.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from soccerai.errors import InvalidParameterError, InvalidTrackingError, SoccerAIError
from soccerai.evaluate.cobso import CobsoResult, select_cobso_agents
from soccerai.evaluate.pitch_control import Grid
from soccerai.layout import to_model_rate
from soccerai.match_obso import ghost_cobso
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.replay.scene import Scene, scene_tensors, shooter_at
from soccerai.schema import Match
from soccerai.train import TrainConfig, fit_model
from soccerai.trajectory_windows import N_AGENTS, N_PER_TEAM, TrajectoryWindows
from soccerai.window_cutter import array_windows, make_windows


@dataclass
class Simulation:
    """Sampled futures of some agents from frame ``start`` of a scene.

    ``futures [S, H, 23, 2]``: positions after the start frame; agents not in ``predicted`` follow the real
    (given) tracking. ``real [H, 23, 2]``: what really happened (NaN past the end of the scene).
    """

    start: int
    predicted: list[int]
    futures: np.ndarray
    real: np.ndarray
    model_label: str


def default_agents(scene: Scene, start: int, horizon: int) -> list[int]:
    """Default agents to predict: A1 / D1 / D2 of the C-OBSO setup at the evaluation frame ``start + horizon``.

    Candidates come from :func:`soccerai.evaluate.cobso.select_cobso_agents` (off-ball attackers in the attacking
    third, each with his nearest defender D1 and the shooter's nearest defender D2); the one nearest the goal is
    taken as A1.
    """
    end = min(len(scene) - 1, start + horizon)
    shooter = shooter_at(scene, end)
    pos, _, ok = scene_tensors(scene)
    candidates = select_cobso_agents(pos[end], ok[end], shooter, scene.pitch[0])
    if not candidates:
        raise InvalidTrackingError(f"no off-ball attacker in the attacking third at frame {scene.frames[end]}")
    goal = torch.tensor([scene.pitch[0] / 2, 0.0])
    best = min(candidates, key=lambda c: float(torch.linalg.vector_norm(pos[end, c.attacker] - goal)))
    return best.replaced


def history_batch(scene: Scene, start: int, obs_len: int) -> TrajectoryBatch:
    """The ``obs_len`` frames ending at ``start`` as a one-window batch (missing frames before the scene: masked).

    Cut by :func:`soccerai.window_cutter.array_windows` (one frame of future, dropped by ``history()``).
    """
    scene.check_index(start)
    windows = array_windows(scene.positions, scene.velocities, scene.valid, [start - obs_len + 1], obs_len,
                            obs_len + 1, _goalkeepers(scene), scene.simulated)
    return TrajectoryBatch.from_windows(windows).history()


def _goalkeepers(scene: Scene) -> np.ndarray:
    """Slots 0 and 11 hold the keepers (:mod:`soccerai.layout`) where the scene tracks one."""
    keepers = np.zeros(N_AGENTS, dtype=bool)
    keepers[[0, N_PER_TEAM]] = scene.valid[:, [0, N_PER_TEAM]].any(axis=0)
    return keepers


def real_future(scene: Scene, start: int, horizon: int) -> np.ndarray:
    """Real positions ``[H, 23, 2]`` after ``start``; beyond the scene (or where missing) the last known position."""
    out = np.full((horizon, N_AGENTS, 2), np.nan)
    stop = min(len(scene), start + 1 + horizon)
    out[: stop - start - 1] = scene.positions[start + 1 : stop]
    last = np.nan_to_num(scene.positions[start])
    for h in range(horizon):  # hold the last known position where the future is unknown
        last = np.where(np.isnan(out[h]), last, out[h])
        out[h] = last
    return out


def simulate(model: TrajectoryModel, scene: Scene, start: int, predicted: list[int], n_samples: int = 10,
             horizon: int = 40, obs_len: int = 20, seed: int = 0, model_label: str = "") -> Simulation:
    """Sample ``n_samples`` futures of the ``predicted`` agents for ``horizon`` frames after frame ``start``.

    The other agents are given their real future (conditional ghosting, as in C-OBSO). A model error becomes an
    :class:`InvalidParameterError` with one line, never a traceback.
    """
    if not predicted:
        raise InvalidParameterError("choose at least one agent to predict")
    scene.check_index(start)
    unseen = [k for k in predicted if not scene.valid[start, k]]
    if unseen:
        raise InvalidParameterError(f"agents {unseen} are not tracked at this frame (out of camera view): they "
                                    "cannot be simulated")
    if not (1 <= n_samples <= 100 and 1 <= horizon <= 100 and 2 <= obs_len <= 100):
        raise InvalidParameterError(f"samples {n_samples} (1-100), horizon {horizon} (1-100), history {obs_len} (2-100)")
    history = history_batch(scene, start, obs_len)
    real = real_future(scene, start, horizon)
    mask = torch.zeros(1, N_AGENTS, dtype=torch.bool)
    mask[0, predicted] = True
    generator = torch.Generator().manual_seed(seed)
    try:
        out = model.sample(history, horizon, n_samples, mask, torch.from_numpy(real).float()[None], generator=generator)
    except SoccerAIError:
        raise
    except Exception as exc:  # a model that fails is reported in one line
        raise InvalidParameterError(f"model {getattr(model, 'name', '?')} failed to sample: {exc}") from exc
    futures = out[:, 0].numpy().astype(np.float64)
    if not np.isfinite(futures[:, :, predicted]).all():
        raise InvalidParameterError(f"model {getattr(model, 'name', '?')} produced NaN/inf futures")
    return Simulation(start, list(predicted), futures, real, model_label or getattr(model, "name", "model"))


def simulation_cobso(scene: Scene, sim: Simulation, grid: Grid | None = None) -> CobsoResult | None:
    """C-OBSO of the simulation: the shooter's OBSO at the last simulated frame, real minus predicted, per sample.

    Defined only when the predicted agents are an (A1, D1, D2) set of :func:`select_cobso_agents` at that frame
    and the scene still has the real frame; otherwise None. The arithmetic is :func:`soccerai.match_obso.ghost_cobso`.
    """
    horizon = sim.futures.shape[1]
    end = sim.start + horizon
    if end >= len(scene):
        return None
    shooter = shooter_at(scene, end)
    pos, vel, ok = scene_tensors(scene)
    agents = next((c for c in select_cobso_agents(pos[end], ok[end], shooter, scene.pitch[0])
                   if set(c.replaced) == set(sim.predicted)), None)
    if agents is None:
        return None
    return ghost_cobso(pos[end], vel[end], ok[end], shooter, agents, torch.from_numpy(sim.futures).float(),
                       grid or Grid())


def scene_windows(scene: Scene, obs_len: int, pred_len: int, stride: int = 5) -> TrajectoryWindows:
    """Sliding training windows over a scene (:func:`soccerai.window_cutter.array_windows`)."""
    total = obs_len + pred_len
    starts = list(range(0, len(scene) - total + 1, stride))
    if not starts:
        raise InvalidTrackingError(f"scene of {len(scene)} frames is shorter than one window of {total}")
    return array_windows(scene.positions, scene.velocities, scene.valid, starts, obs_len, total,
                         _goalkeepers(scene), scene.simulated)


def find_checkpoints(root: Path, limit: int = 50) -> list[Path]:
    """Checkpoint folders (``manifest.json`` beside ``model.safetensors``) under ``root``, newest first."""
    if not Path(root).is_dir():
        return []
    found = [w.parent for w in Path(root).rglob(WEIGHTS_FILE) if (w.parent / CONFIG_FILE).is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


def train_demo_model(match: Match, steps: int = 30, seed: int = 0) -> TrajectoryModel:
    """A tiny VRNN fitted for ``steps`` optimiser steps on ``match`` (2 s observed, 4 s predicted windows).

    For the no-set-up demo only: it is barely trained, and the dashboard labels it so.
    """
    if not 1 <= steps <= 10_000:
        raise InvalidParameterError(f"steps must be in 1..10000, got {steps}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = make_windows(to_model_rate(match), obs_s=2.0, pred_s=4.0, stride_s=2.0)
    config = TrainConfig(epochs=1, max_steps=steps, batch_size=16, seed=seed, accelerator="cpu")
    return fit_model("vrnn", {"hidden": 32, "latent": 8}, windows, None, config).model


