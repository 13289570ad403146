"""What-if simulation: sampled futures of some agents of a scene and their C-OBSO.

Windows are cut by :func:`soccerai.windows.cutter.array_windows`, the C-OBSO agents are chosen by
:func:`soccerai.evaluate.cobso.select_cobso_agents` and the C-OBSO arithmetic is :func:`soccerai.evaluate.match_obso.ghost_cobso`;
this module only wires a scene to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import torch

from soccerai.errors import InvalidParameterError, InvalidTrackingError, SoccerAIError
from soccerai.evaluate.cobso import CobsoResult, select_cobso_agents
from soccerai.evaluate.match_obso import ghost_cobso
from soccerai.evaluate.pitch_control import Grid
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.replay.players import player_info, roles, scene_shooter
from soccerai.replay.scene import Scene, scene_tensors, shooter_at
from soccerai.training import pretrained
from soccerai.training.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from soccerai.training.pretrained import DEFAULT_MODEL
from soccerai.windows.container import N_AGENTS, N_PER_TEAM
from soccerai.windows.cutter import array_windows


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
    names: dict[int, str] = field(default_factory=dict)
    """Each predicted agent as the metadata names him (``"Müller (#25, RW)"``)."""
    edits: tuple[str, ...] = ()
    """The what-if edits of the scene it was sampled from."""

    @property
    def horizon(self) -> int:
        return self.futures.shape[1]

    @property
    def n_samples(self) -> int:
        return self.futures.shape[0]


def default_agents(scene: Scene, start: int, horizon: int) -> list[int]:
    """Default agents to predict: A1, D1, D2 (:func:`soccerai.replay.players.roles`) at the evaluation frame
    ``start + horizon`` (the scene's last frame when that is beyond it), among the sets tracked at ``start``."""
    end = min(len(scene) - 1, scene.check_index(start) + horizon)
    found = roles(scene, end, tracked_at=start)
    if not found.predicted:
        raise InvalidTrackingError(f"no ball, shooter or off-ball attacker in the attacking third at frame "
                                   f"{scene.frames[end]} ({scene.clock(end)})")
    return found.predicted


@lru_cache(maxsize=4)
def load_model(name_or_path: str = DEFAULT_MODEL) -> TrajectoryModel:
    """A shipped pretrained model (default :data:`soccerai.training.pretrained.DEFAULT_MODEL`, the GVRNN trained on the real
    SkillCorner match) or a checkpoint folder, loaded once per process and put in eval mode."""
    model, _ = pretrained.load(name_or_path)
    model.eval()
    return model


def history_batch(scene: Scene, start: int, obs_len: int) -> TrajectoryBatch:
    """The ``obs_len`` frames ending at ``start`` as a one-window batch (missing frames before the scene: masked).

    Cut by :func:`soccerai.windows.cutter.array_windows` (one frame of future, dropped by ``history()``).
    """
    scene.check_index(start)
    windows = array_windows(scene.positions, scene.velocities, scene.valid, [start - obs_len + 1], obs_len,
                            obs_len + 1, _goalkeepers(scene), scene.simulated)
    return TrajectoryBatch.from_windows(windows).history()


def _goalkeepers(scene: Scene) -> np.ndarray:
    """Slots 0 and 11 hold the keepers (:mod:`soccerai.windows.layout`) where the scene tracks one."""
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


def simulate(model: TrajectoryModel | str, scene: Scene, start: int, predicted: list[int] | None = None,
             n_samples: int = 20, horizon: int = 40, obs_len: int = 20, seed: int = 0,
             model_label: str = "") -> Simulation:
    """Sample ``n_samples`` futures of the ``predicted`` agents for ``horizon`` frames after frame ``start``.

    ``model`` is a model or the name of a shipped one / a checkpoint folder (:func:`load_model`, loaded once per
    process); ``predicted`` defaults to A1, D1, D2 (:func:`default_agents`). The other agents are given their real
    future (conditional ghosting, as in C-OBSO). A model error becomes an :class:`InvalidParameterError` with one
    line, never a traceback. The pretrained GVRNN samples 3 agents x 20 futures of 4 s in about 0.4 s of one CPU.
    """
    if isinstance(model, str):
        model_label = model_label or model
        model = load_model(model)
    if predicted is None:
        predicted = default_agents(scene, start, horizon)
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
    names = {k: (info.label() if (info := player_info(scene, k)) is not None else scene.labels[k]) for k in predicted}
    return Simulation(start, list(predicted), futures, real, model_label or getattr(model, "name", "model"), names,
                      tuple(scene.edits))


def simulation_cobso(scene: Scene, sim: Simulation, grid: Grid | None = None) -> CobsoResult | None:
    """C-OBSO of the simulation: the shooter's OBSO at the last simulated frame, real minus predicted, per sample.

    Defined only when the predicted agents are an (A1, D1, D2) set of :func:`select_cobso_agents` at that frame
    and the scene still has the real frame; otherwise None. The arithmetic is :func:`soccerai.evaluate.match_obso.ghost_cobso`.
    """
    horizon = sim.futures.shape[1]
    end = sim.start + horizon
    if end >= len(scene):
        return None
    known = scene_shooter(scene)  # a shot moment: the shot table's shooter, as roles() shows him
    shooter = known if known is not None else shooter_at(scene, end)
    pos, vel, ok = scene_tensors(scene)
    agents = next((c for c in select_cobso_agents(pos[end], ok[end], shooter, scene.pitch.length)
                   if set(c.replaced) == set(sim.predicted)), None)
    if agents is None:
        return None
    return ghost_cobso(pos[end], vel[end], ok[end], shooter, agents, torch.from_numpy(sim.futures).float(),
                       grid or Grid.over(scene.pitch))


COMPARE_SCHEMA: dict[str, pl.DataType] = {
    "player": pl.String(), "predicted_in": pl.String(), "model_a": pl.String(), "model_b": pl.String(),
    "end_error_a_m": pl.Float64(), "end_error_b_m": pl.Float64(), "spread_a_m": pl.Float64(),
    "spread_b_m": pl.Float64(), "end_shift_m": pl.Float64(),
}
"""One row per agent predicted in either simulation, at the last step both simulated (``h = min(H_a, H_b)``):
``end_error`` mean over samples of ``|p_s(h) - p_real(h)|`` (m), ``spread`` mean distance of the samples' end
positions from their centroid (m), ``end_shift`` distance between the two centroids (m; what changed)."""


def compare_simulations(a: Simulation, b: Simulation) -> pl.DataFrame:
    """Two simulations from the same start frame side by side (two models, or before/after an edit):
    :data:`COMPARE_SCHEMA`. An agent one of them did not predict follows the real tracking there."""
    if a.start != b.start:
        raise InvalidParameterError(f"simulations start at different frames ({a.start} and {b.start}): compare "
                                    "simulations from one frame")
    h = min(a.horizon, b.horizon) - 1
    real = a.real[h]
    rows = []
    for k in dict.fromkeys([*a.predicted, *b.predicted]):
        ends = [sim.futures[:, h, k] for sim in (a, b)]
        centroids = [e.mean(axis=0) for e in ends]
        error = [float(np.linalg.norm(e - real[k], axis=-1).mean()) for e in ends]
        spread = [float(np.linalg.norm(e - c, axis=-1).mean()) for e, c in zip(ends, centroids, strict=True)]
        where = "both" if k in a.predicted and k in b.predicted else "a" if k in a.predicted else "b"
        rows.append((a.names.get(k) or b.names.get(k) or "unnamed player", where, a.model_label, b.model_label,
                     *error, *spread, float(np.linalg.norm(centroids[0] - centroids[1]))))
    return pl.DataFrame(rows, schema=COMPARE_SCHEMA, orient="row", nan_to_null=True)


def find_checkpoints(root: Path, limit: int = 50) -> list[Path]:
    """Checkpoint folders (``manifest.json`` beside ``model.safetensors``) under ``root``, newest first."""
    if not Path(root).is_dir():
        return []
    found = [w.parent for w in Path(root).rglob(WEIGHTS_FILE) if (w.parent / CONFIG_FILE).is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


COMPARE_LABELS = {
    "player": "player", "predicted_in": "predicted in", "model_a": "model A", "model_b": "model B",
    "end_error_a_m": "A: end error (m)", "end_error_b_m": "B: end error (m)", "spread_a_m": "A: spread (m)",
    "spread_b_m": "B: spread (m)", "end_shift_m": "end shift A→B (m)",
}
"""Human column names of :func:`compare_simulations` (the dashboard's Compare table)."""


def readable_comparison(table: pl.DataFrame) -> pl.DataFrame:
    """:func:`compare_simulations` with :data:`COMPARE_LABELS` as column names and metres to 0.1 m."""
    metres = [c for c in table.columns if c.endswith("_m")]
    return table.with_columns(pl.col(metres).round(1)).rename({c: COMPARE_LABELS.get(c, c) for c in table.columns})


def _end_errors(sim: Simulation) -> tuple[float, float]:
    """Mean over predicted agents (with a real end) of the samples' end error and spread (m)."""
    h = sim.horizon - 1
    errors, spreads = [], []
    for k in sim.predicted:
        real = sim.real[h, k]
        if not np.isfinite(real).all():
            continue
        ends = sim.futures[:, h, k]
        errors.append(float(np.linalg.norm(ends - real, axis=-1).mean()))
        spreads.append(float(np.linalg.norm(ends - ends.mean(axis=0), axis=-1).mean()))
    return (float(np.mean(errors)), float(np.mean(spreads))) if errors else (math.nan, math.nan)


def prediction_warnings(sim: Simulation, baseline: Simulation | None = None, ratio: float = 0.25) -> list[str]:
    """Plain-words warnings about a simulation: its samples' spread far below its error (over-confident: the fan is
    not the range of what could happen), and constant velocity (``baseline``) ending as close to the real run."""
    error, spread = _end_errors(sim)
    found = []
    if math.isfinite(error) and spread < ratio * error:
        found.append(f"The samples spread {spread:.1f} m around their centre but end {error:.1f} m from where the "
                     "players really went: the fan is far narrower than the model's error, so read it as one guess, "
                     "not as the range of what could happen.")
    if baseline is not None and math.isfinite(error):
        cv_error, _ = _end_errors(baseline)
        if math.isfinite(cv_error) and cv_error <= 1.05 * error:
            found.append(f"Constant velocity (every player keeps running straight on) ends {cv_error:.1f} m from the "
                         f"real positions, as close as {sim.model_label} ({error:.1f} m): this prediction adds "
                         "nothing over running straight on.")
    return found


def what_if_verdict(before: Simulation, after: Simulation, moved: list[tuple[str, float]],
                    shooter_obso: tuple[float, float] | None = None) -> str:
    """One line in words: "moving <name> 9 m shifts <name>'s predicted end point by X m and the shooter's OBSO
    by Y" from two simulations of one start frame (before and after the edits ``moved``: (name, metres))."""
    table = compare_simulations(before, after).sort("end_shift_m", descending=True, nulls_last=True)
    movers = {name for name, _ in moved}
    others = table.filter(~pl.col("player").is_in(list(movers))) if table.height > 1 else table
    top = (others if others.height else table).row(0, named=True)
    what = " and ".join(f"{name} {metres:.0f} m" for name, metres in moved) or "nobody"
    line = f"Moving {what} shifts {top['player']}'s predicted end point by {top['end_shift_m']:.1f} m"
    if shooter_obso is not None and all(math.isfinite(v) for v in shooter_obso):
        change = shooter_obso[1] - shooter_obso[0]
        line += f" and the shooter's predicted OBSO by {100 * change:+.1f} points ({100 * shooter_obso[0]:.1f} % → " \
                f"{100 * shooter_obso[1]:.1f} %)"
    return line + "."
