"""View data for the dashboard: replay scenes, overlays, what-if simulations and the plotly replay figure.

Everything the Streamlit app shows is computed here (the app only lays it out), so it is testable without a
browser. A :class:`Scene` is a short slice of one match at 10 Hz in the modelling agent order of
:mod:`soccerai.windows` (0..10 attackers, 11..21 defenders, 22 ball; goalkeepers first), oriented so that the
attacking team plays towards ``+x``. Every scene carries ``simulated`` so each view can say whether its tracking
was measured or written by soccerai's synthesizer.

The replay figure animates in the browser: one plotly frame per tracking frame, play/pause buttons at several
speeds and a frame slider, so playback never needs a server round trip.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
import torch

from soccerai.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from soccerai.errors import InvalidInputError, InvalidParameterError, InvalidTrackingError, SoccerAIError
from soccerai.evaluate.cobso import CobsoResult, select_cobso_agents
from soccerai.evaluate.obso import ScoreModel, obso, on_ball_attacker
from soccerai.evaluate.obso import player_values as player_obso_values
from soccerai.evaluate.pitch_control import Grid
from soccerai.layout import frame_tensors, to_model_rate
from soccerai.match_obso import ghost_cobso
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.possession import attacks
from soccerai.schema import DEFAULT_PITCH, Match
from soccerai.store import atomic_path, check_parquet_budget, read_match
from soccerai.train import TrainConfig, fit_model
from soccerai.trajectory_windows import BALL_INDEX, FPS, N_AGENTS, N_PER_TEAM, TrajectoryWindows
from soccerai.window_cutter import array_windows, make_windows

DT = 1.0 / FPS
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_UPLOAD_DECODED_BYTES = 1024 * 1024 * 1024
"""An upload may decode to at most 1 GiB (a full match is a few hundred MiB)."""
MAX_LABEL = 16
"""Provider-given object ids shown as labels are cut to this many characters."""
"""Uploaded match files larger than this are refused."""

ATTACK_COLOUR, DEFENCE_COLOUR, BALL_COLOUR = "#d62728", "#1f77b4", "#ffffff"
PITCH_COLOUR, LINE_COLOUR = "#2e7d32", "rgba(255,255,255,0.85)"


# ----------------------------------------------------------------------------------------------------------------
# Scenes


@dataclass
class Moment:
    """Something worth replaying: a shot or an attack, on the match's own frame clock."""

    label: str
    kind: str  # "shot" | "attack"
    period: int
    frame: int  # the key frame (the shot, or the attack's last frame)
    team: str  # attacking team, "home" | "away"
    start_frame: int | None = None


@dataclass
class Scene:
    """A replayable slice of a match at 10 Hz, attack towards +x.

    Attributes:
        positions, velocities: ``[F, 23, 2]`` metres, m/s (NaN position where an agent is missing).
        valid: bool ``[F, 23]``.
        frames: provider frame number of each scene frame ``[F]``.
        labels: 23 short names (jersey numbers, "ball").
        key_index: index of the moment's key frame (the shot) in the scene.
    """

    positions: np.ndarray
    velocities: np.ndarray
    valid: np.ndarray
    frames: np.ndarray
    period: int
    attacking_team: str
    object_ids: list[str | None]
    labels: list[str]
    key_index: int
    simulated: bool
    match_id: str
    pitch: tuple[float, float] = DEFAULT_PITCH
    fps: float = FPS
    edits: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.positions.shape[0]

    @property
    def source(self) -> str:
        """'simulated tracking' or 'real tracking' (every figure says which)."""
        return "simulated tracking" if self.simulated else "real tracking"

    def check_index(self, index: int) -> int:
        if not 0 <= index < len(self):
            raise InvalidParameterError(f"frame index {index} is outside the scene (0..{len(self) - 1})")
        return index


def list_matches(store: Path) -> list[Path]:
    """The ``.parquet`` match files of the store folder, sorted by name (none when the folder is missing)."""
    return sorted(p for p in Path(store).glob("*.parquet") if p.is_file()) if Path(store).is_dir() else []


def load_match(path: Path) -> Match:
    """Read and validate a stored match; any problem becomes a one-line :class:`SoccerAIError`."""
    match = read_match(path)
    try:
        return match.validate()
    except SoccerAIError as exc:
        raise InvalidTrackingError(f"not valid tracking data: {exc}", path) from exc


def list_moments(match: Match) -> list[Moment]:
    """Shots (the match's events, else those found in its tracking: :func:`soccerai.shots.match_shots`), then
    attacks reaching the final third (:func:`soccerai.possession.attacks`)."""
    from soccerai.shots import match_shots

    found = match_shots(match)
    shots = found.shots.filter(pl.col("team").is_in(["home", "away"]) & pl.col("frame").is_not_null())
    tag = " (detected)" if found.source == "detected" else ""
    moments = [Moment(f"shot {i + 1}{tag}: {r['team']}, period {r['period']}, {r['time_s'] or 0:.0f} s"
                      + (f", {r['result'].lower()}" if r["result"] else ""), "shot",
                      int(r["period"]), int(r["frame"]), r["team"])
               for i, r in enumerate(shots.sort("period", "frame").iter_rows(named=True))]
    found = attacks(match.tracking, zone="third", pitch_length=match.metadata.pitch_length)
    moments += [Moment(f"attack {i + 1}: {r['team']}, period {r['period']}, {r['duration']:.0f} s", "attack",
                       int(r["period"]), int(r["end_frame"]), r["team"], int(r["start_frame"]))
                for i, r in enumerate(found.sort("period", "start_frame").iter_rows(named=True))]
    return moments


def scene_for_moment(match: Match, moment: Moment, before_s: float = 6.0, after_s: float = 4.0) -> Scene:
    """The scene around ``moment``: ``before_s`` seconds before its key frame to ``after_s`` after, at 10 Hz."""
    if before_s < 0 or after_s < 0 or before_s + after_s <= 0:
        raise InvalidParameterError(f"scene span must be positive, got before={before_s}s after={after_s}s")
    rate = match.metadata.frame_rate
    lo, hi = moment.frame - int(before_s * rate), moment.frame + int(after_s * rate)
    sliced = match.tracking.filter((pl.col("period") == moment.period) & pl.col("frame").is_between(lo, hi))
    if sliced.height == 0:
        raise InvalidTrackingError(f"no tracking frames around frame {moment.frame} of period {moment.period}")
    sliced = to_model_rate(replace(match, tracking=sliced, events=None)).tracking
    # an object seen on one isolated frame has no velocity: absent there (broadcast flicker), never at rest
    sliced = sliced.filter(pl.col("vx").is_not_null() & pl.col("vy").is_not_null())
    tensors = frame_tensors(sliced, match.players, moment.team)
    labels = _labels(tensors.object_ids, match.players)
    frames = tensors.frames
    key = int(np.argmin(np.abs(frames - moment.frame)))
    return Scene(
        positions=tensors.positions.numpy().astype(np.float64), velocities=tensors.velocities.numpy().astype(np.float64),
        valid=tensors.valid.numpy(), frames=frames, period=moment.period, attacking_team=moment.team,
        object_ids=tensors.object_ids, labels=labels, key_index=key, simulated=match.metadata.simulated,
        match_id=match.match_id, pitch=(match.metadata.pitch_length, match.metadata.pitch_width),
    )


def _labels(object_ids: list[str | None], players: pl.DataFrame) -> list[str]:
    jersey = dict(zip(players.get_column("object_id").to_list(), players.get_column("jersey").to_list(), strict=True))
    return ["ball" if o == "ball" else "" if o is None else str(jersey.get(o) or o)[:MAX_LABEL] for o in object_ids]


# ----------------------------------------------------------------------------------------------------------------
# Edits (what-if)


def edit_player(scene: Scene, index: int, agent: int, position: tuple[float, float],
                velocity: tuple[float, float]) -> Scene:
    """A copy of ``scene`` with ``agent`` moved to ``position`` moving at ``velocity`` at frame ``index``.

    The agent's whole path up to ``index`` is translated by the same offset (so the history a model sees stays
    physically consistent) and his velocity at ``index`` is replaced. Frames after ``index`` are left alone: they
    are what the simulation predicts.
    """
    scene.check_index(index)
    if not 0 <= agent < BALL_INDEX or not scene.valid[index, agent]:
        raise InvalidParameterError(f"agent {agent} is not a tracked player at frame index {index}")
    length, width = scene.pitch
    x, y = position
    if not (abs(x) <= length / 2 + 5 and abs(y) <= width / 2 + 5):
        raise InvalidParameterError(f"position ({x:.1f}, {y:.1f}) m is off the pitch")
    if not np.all(np.isfinite(velocity)) or np.hypot(*velocity) > 12.0:
        raise InvalidParameterError(f"velocity {velocity} m/s is not a human speed (max 12 m/s)")
    positions, velocities = scene.positions.copy(), scene.velocities.copy()
    offset = np.asarray(position) - positions[index, agent]
    positions[: index + 1, agent] += offset
    velocities[index, agent] = velocity
    note = f"{scene.labels[agent]} moved to ({x:.1f}, {y:.1f}) at {velocity[0]:.1f},{velocity[1]:.1f} m/s"
    return replace(scene, positions=positions, velocities=velocities, edits=[*scene.edits, note])


# ----------------------------------------------------------------------------------------------------------------
# Overlays


@dataclass
class SceneSurfaces:
    """Overlay data of every scene frame: pitch control and OBSO ``[F, ny, nx]``, players' OBSO ``[F, 23]``."""

    grid: Grid
    control: np.ndarray
    obso: np.ndarray
    player_obso: np.ndarray


def scene_surfaces(scene: Scene, grid: Grid | None = None, score_model: ScoreModel = "potential",
                   stride: int = 1) -> SceneSurfaces:
    """Pitch control, OBSO and each player's OBSO for the scene (:func:`soccerai.evaluate.obso.obso`).

    ``stride > 1`` computes every ``stride``-th frame only and holds each surface until the next one (overlays at
    ``10 / stride`` Hz). Both score models are cheap now: OBSO with the "potential" model costs ~2 ms of CPU per
    frame on a 50 x 32 grid, the "distance" model ~1.5 ms (``benchmarks/obso.py``).
    """
    if stride < 1:
        raise InvalidParameterError(f"stride must be at least 1, got {stride}")
    grid = grid or Grid()
    positions, velocities, valid = _tensors(scene)
    keep = torch.arange(0, len(scene), stride)
    result = obso(positions[keep], velocities[keep], valid[keep], grid=grid, score_model=score_model)
    hold = torch.arange(len(scene)) // stride
    player = player_obso_values(result.surface[hold], positions, valid, grid)
    return SceneSurfaces(grid, result.control[hold].numpy(), result.surface[hold].numpy(), player.numpy())


def _tensors(scene: Scene) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(scene.positions).float(), torch.from_numpy(scene.velocities).float(),
            torch.from_numpy(scene.valid))


# ----------------------------------------------------------------------------------------------------------------
# Simulation


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


def shooter_at(scene: Scene, index: int) -> int:
    """The on-ball attacker (nearest the ball) at frame ``index``."""
    scene.check_index(index)
    pos, ok = _tensors(scene)[0][index : index + 1], torch.from_numpy(scene.valid[index : index + 1])
    shooter = int(on_ball_attacker(pos, ok)[0])
    if shooter < 0:
        raise InvalidTrackingError(f"no ball or no attacker at frame {scene.frames[index]}")
    return shooter


def default_agents(scene: Scene, start: int, horizon: int) -> list[int]:
    """Default agents to predict: A1 / D1 / D2 of the C-OBSO setup at the evaluation frame ``start + horizon``.

    Candidates come from :func:`soccerai.evaluate.cobso.select_cobso_agents` (off-ball attackers in the attacking
    third, each with his nearest defender D1 and the shooter's nearest defender D2); the one nearest the goal is
    taken as A1.
    """
    end = min(len(scene) - 1, start + horizon)
    shooter = shooter_at(scene, end)
    pos, _, ok = _tensors(scene)
    candidates = select_cobso_agents(pos[end], ok[end], shooter, scene.pitch[0])
    if not candidates:
        raise InvalidTrackingError(f"no off-ball attacker in the attacking third at frame {scene.frames[end]}")
    goal = torch.tensor([scene.pitch[0] / 2, 0.0])
    best = min(candidates, key=lambda c: float(torch.linalg.vector_norm(pos[end, c.attacker] - goal)))
    return best.replaced


def history_batch(scene: Scene, start: int, obs_len: int) -> TrajectoryBatch:
    """The ``obs_len`` frames ending at ``start`` as a one-window batch (missing frames before the scene: masked).

    Cut by :func:`soccerai.windowing.array_windows` (one frame of future, dropped by ``history()``).
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
    and the scene still has the real frame; otherwise None. The arithmetic is :func:`soccerai.scoring.ghost_cobso`.
    """
    horizon = sim.futures.shape[1]
    end = sim.start + horizon
    if end >= len(scene):
        return None
    shooter = shooter_at(scene, end)
    pos, vel, ok = _tensors(scene)
    agents = next((c for c in select_cobso_agents(pos[end], ok[end], shooter, scene.pitch[0])
                   if set(c.replaced) == set(sim.predicted)), None)
    if agents is None:
        return None
    return ghost_cobso(pos[end], vel[end], ok[end], shooter, agents, torch.from_numpy(sim.futures).float(),
                       grid or Grid())


def scene_windows(scene: Scene, obs_len: int, pred_len: int, stride: int = 5) -> TrajectoryWindows:
    """Sliding training windows over a scene (:func:`soccerai.windowing.array_windows`)."""
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


# ----------------------------------------------------------------------------------------------------------------
# The plotly replay figure


def pitch_shapes(length: float = DEFAULT_PITCH[0], width: float = DEFAULT_PITCH[1]) -> list[dict]:
    """mplsoccer-style pitch markings as plotly shapes (centred pitch, metres), drawn above surfaces; the grass is
    the plot background."""
    hl, hw = length / 2, width / 2
    line = {"color": LINE_COLOUR, "width": 2}

    def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
        return {"type": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "line": line, "layer": "above"}

    shapes = [
        rect(-hl, -hw, hl, hw),
        {"type": "line", "x0": 0, "y0": -hw, "x1": 0, "y1": hw, "line": line, "layer": "above"},
        {"type": "circle", "x0": -9.15, "y0": -9.15, "x1": 9.15, "y1": 9.15, "line": line, "layer": "above"},
    ]
    for side in (-1, 1):
        goal_line = side * hl
        shapes += [
            rect(goal_line, -20.16, goal_line - side * 16.5, 20.16),
            rect(goal_line, -9.16, goal_line - side * 5.5, 9.16),
            rect(goal_line, -3.66, goal_line + side * 2.0, 3.66),
            {"type": "circle", "x0": side * (hl - 11) - 0.3, "y0": -0.3, "x1": side * (hl - 11) + 0.3, "y1": 0.3,
             "fillcolor": LINE_COLOUR, "line": line, "layer": "above"},
        ]
    return shapes


@dataclass
class Overlays:
    """Which layers the replay draws."""

    trail_frames: int = 10
    velocities: bool = True
    surface: np.ndarray | None = None  # [F, ny, nx]
    surface_name: str = ""
    values: np.ndarray | None = None  # [F, 23] per-player values (e.g. OBSO)
    values_name: str = "OBSO"
    colorscale: str = "RdBu_r"  # a name both plotly and matplotlib know


def _frame_traces(scene: Scene, f: int, ov: Overlays) -> list[go.BaseTraceType]:
    """The dynamic traces of frame ``f``, always in the same order (the animation replaces them one for one).

    The surface is not a trace: it is a layout image (:func:`_surface_image`)."""
    pos, ok = scene.positions[f], scene.valid[f]
    traces: list[go.BaseTraceType] = []
    lo = max(0, f - ov.trail_frames)
    for team, agents, colour in (("attack", range(N_PER_TEAM), ATTACK_COLOUR),
                                 ("defence", range(N_PER_TEAM, 2 * N_PER_TEAM), DEFENCE_COLOUR)):
        xs, ys = _segments([scene.positions[lo : f + 1, k] for k in agents if ok[k]])
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1.5}, opacity=0.6,
                                 hoverinfo="skip", showlegend=False, name=f"{team} trails"))
        idx = [k for k in agents if ok[k]]
        text = [html.escape(scene.labels[k]) for k in idx]  # provider names are text, never plotly HTML
        if ov.values is not None and team == "attack":
            text = [f"{t}<br>{ov.values[f, k]:.3f}" if np.isfinite(ov.values[f, k]) else t for t, k in zip(text, idx, strict=False)]
        traces.append(go.Scatter(x=pos[idx, 0], y=pos[idx, 1], mode="markers+text", text=text,
                                 textposition="top center", textfont={"color": "white", "size": 10},
                                 marker={"size": 13, "color": colour, "line": {"color": "white", "width": 1}},
                                 name="attack" if team == "attack" else "defence",
                                 customdata=idx, hovertemplate="%{text} (agent %{customdata})<extra></extra>"))
    vel = scene.velocities[f] if ov.velocities else np.zeros_like(pos)
    arrows = [np.stack([pos[k], pos[k] + vel[k]]) for k in range(BALL_INDEX) if ok[k] and ov.velocities]
    xs, ys = _segments(arrows)
    traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "yellow", "width": 2}, hoverinfo="skip",
                             name="velocity (1 s)", showlegend=False))
    ball = pos[BALL_INDEX] if ok[BALL_INDEX] else np.array([np.nan, np.nan])
    traces.append(go.Scatter(x=[ball[0]], y=[ball[1]], mode="markers", name="ball",
                             marker={"size": 9, "color": BALL_COLOUR, "line": {"color": "black", "width": 1}}))
    return traces


def _surface_top(surface: np.ndarray) -> float:
    top = float(np.nanmax(surface)) if np.isfinite(surface).any() else 1.0
    return top if top > 0 else 1.0


def _colorbar(ov: Overlays) -> go.Scatter:
    """A static, invisible trace carrying the surface's colour bar (the surface itself is a layout image)."""
    return go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip", name=ov.surface_name,
                      marker={"color": [0.0], "colorscale": ov.colorscale, "cmin": 0.0, "cmax": _surface_top(ov.surface),
                              "showscale": True, "colorbar": {"title": {"text": ov.surface_name}, "len": 0.6}})


def _surface_image(surface: np.ndarray, top: float, colorscale: str, length: float, width: float,
                   alpha: float = 0.55) -> dict:
    """One frame's surface ``[ny, nx]`` as a plotly layout image stretched over the pitch.

    plotly.js drops heatmap traces while animating (plotly.js #4491, still in the 4.x Streamlit ships), but
    updates layout images from frames, so each frame carries its surface as a small PNG (NaN cells transparent).
    """
    import base64

    from matplotlib import colormaps
    from PIL import Image

    rgba = colormaps[colorscale](np.clip(np.nan_to_num(surface, nan=0.0) / top, 0.0, 1.0))
    rgba[..., 3] = np.where(np.isfinite(surface), alpha, 0.0)
    picture = Image.fromarray((rgba[::-1] * 255).astype(np.uint8), "RGBA")  # image rows run top (+y) down
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return {"source": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), "xref": "x",
            "yref": "y", "x": -length / 2, "y": width / 2, "sizex": length, "sizey": width, "sizing": "stretch",
            "layer": "below", "xanchor": "left", "yanchor": "top"}


def _segments(paths: list[np.ndarray]) -> tuple[list, list]:
    """Concatenate polylines into one trace, separated by None gaps."""
    xs: list = []
    ys: list = []
    for path in paths:
        xs += [*path[:, 0].tolist(), None]
        ys += [*path[:, 1].tolist(), None]
    return xs, ys


def simulation_traces(sim: Simulation, scene: Scene) -> list[go.Scatter]:
    """Static traces: the fan of sampled futures (thin, one colour per agent) and the real future (dashed)."""
    traces = []
    start = scene.positions[sim.start]
    palette = ["#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#bcbd22", "#8c564b"]
    for i, k in enumerate(sim.predicted):
        colour = palette[i % len(palette)]
        paths = [np.concatenate([start[k][None], sim.futures[s, :, k]]) for s in range(sim.futures.shape[0])]
        xs, ys = _segments(paths)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1}, opacity=0.7,
                                 name=f"predicted {html.escape(scene.labels[k])} ({sim.futures.shape[0]} samples)"))
        real = np.concatenate([start[k][None], sim.real[:, k]])
        traces.append(go.Scatter(x=real[:, 0], y=real[:, 1], mode="lines", name=f"real {html.escape(scene.labels[k])}",
                                 line={"color": colour, "width": 3, "dash": "dash"}))
    return traces


def replay_figure(scene: Scene, overlays: Overlays | None = None, simulation: Simulation | None = None,
                  initial: int | None = None, title: str = "") -> go.Figure:
    """The animated replay: one plotly frame per scene frame, play/pause at 0.5x/1x/2x and a frame slider.

    Static traces (simulated futures) come first; the dynamic traces of each frame follow and are the only ones
    the animation replaces, so playback runs in the browser without a server round trip.
    """
    ov = overlays or Overlays()
    initial = scene.check_index(scene.key_index if initial is None else initial)
    static = simulation_traces(simulation, scene) if simulation is not None else []
    if ov.surface is not None:
        static.append(_colorbar(ov))
    dynamic = _frame_traces(scene, initial, ov)
    n_static = len(static)
    length, width = scene.pitch
    redraw = ov.surface is not None  # surface images need a full redraw per frame; markers and lines do not

    def images(f: int) -> list[dict]:
        if ov.surface is None:
            return []
        return [_surface_image(ov.surface[f], _surface_top(ov.surface), ov.colorscale, length, width)]

    frames = [go.Frame(name=str(f), data=_frame_traces(scene, f, ov), layout={"images": images(f)},
                       traces=list(range(n_static, n_static + len(dynamic))))
              for f in range(len(scene))]
    fig = go.Figure(data=[*static, *dynamic], frames=frames)
    fig.update_layout(images=images(initial))
    heading = title or f"{scene.match_id} — P{scene.period}, {scene.attacking_team} attacks →"
    fig.update_layout(
        title=f"{heading} ({scene.source})", shapes=pitch_shapes(length, width), plot_bgcolor=PITCH_COLOUR,
        xaxis={"range": [-length / 2 - 4, length / 2 + 4], "visible": False, "fixedrange": True},
        yaxis={"range": [-width / 2 - 4, width / 2 + 4], "visible": False, "scaleanchor": "x", "fixedrange": True},
        margin={"l": 10, "r": 10, "t": 50, "b": 120}, height=720, legend={"orientation": "h", "y": -0.2},
        updatemenus=[_play_menu(redraw)], sliders=[_slider(scene, initial, redraw)],
    )
    return fig


def _play_menu(redraw: bool) -> dict:
    """Play buttons at 0.5x / 1x / 2x of real time (10 Hz) and pause, below the pitch."""
    def play(speed: float) -> dict:
        return {"label": f"▶ {speed:g}x", "method": "animate",
                "args": [None, {"frame": {"duration": int(1000 * DT / speed), "redraw": redraw},
                                "transition": {"duration": 0}, "fromcurrent": True, "mode": "immediate"}]}

    pause = {"label": "❚❚ pause", "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}
    return {"type": "buttons", "direction": "left", "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "top",
            "pad": {"t": 40, "r": 10}, "buttons": [play(0.5), play(1.0), play(2.0), pause]}


def _slider(scene: Scene, initial: int, redraw: bool) -> dict:
    """A frame slider labelled in seconds relative to the key frame; scrubbing animates in the browser."""
    steps = [{"label": f"{(f - scene.key_index) * DT:+.1f}s", "method": "animate",
              "args": [[str(f)], {"frame": {"duration": 0, "redraw": redraw}, "mode": "immediate"}]}
             for f in range(len(scene))]
    return {"active": initial, "steps": steps, "x": 0.3, "len": 0.7, "y": 0.0, "yanchor": "top",
            "pad": {"t": 30}, "currentvalue": {"prefix": "t = "}}


# ----------------------------------------------------------------------------------------------------------------
# Export


def frame_png(scene: Scene, index: int, overlays: Overlays | None = None, simulation: Simulation | None = None,
              dpi: int = 100) -> bytes:
    """The view at frame ``index`` as PNG bytes (matplotlib + mplsoccer, no browser needed)."""
    fig, ax = _mpl_pitch(scene)
    _draw_mpl_frame(ax, scene, scene.check_index(index), overlays or Overlays(), simulation)
    return _png_bytes(fig, dpi, close=True)


MIN_DPI, MAX_DPI = 10, 300
"""Replay exports are rendered between these resolutions (an 8 x 5.4 inch figure: 80 x 54 to 2400 x 1620 px)."""
VIDEO_CODECS = ("libx264", "h264", "mpeg4")
"""MP4 encoders in order of preference; PyAV's wheels bundle FFmpeg with libx264, so H.264 is what is used."""


def replay_gif(scene: Scene, overlays: Overlays | None = None, dpi: int = 60, every: int = 1) -> bytes:
    """The whole replay as an animated GIF, one image per ``every`` scene frames, played at scene speed.

    Frames come from :func:`replay_frames` (the same ones :func:`replay_mp4` encodes), each quantised to an
    adaptive 256-colour palette.
    """
    from PIL import Image

    images = [Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE)
              for rgb in replay_frames(scene, overlays, dpi, every)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(1000 * every / scene.fps), loop=0)
    return out.getvalue()


def replay_mp4(scene: Scene, overlays: Overlays | None = None, dpi: int = 80, every: int = 1) -> bytes:
    """The whole replay as an MP4 video (H.264, ``yuv420p``), one video frame per ``every`` scene frames.

    The frames are those of :func:`replay_gif`. The frame rate is ``scene.fps / every`` (10 Hz scenes: 10 fps at
    ``every=1``, 5 fps at ``every=2``), so the video plays at real speed and lasts ``ceil(F / every) / fps``
    seconds. The encoder is the first of :data:`VIDEO_CODECS` the installed FFmpeg can encode with: ``libx264``
    (H.264 High profile, CRF 23, preset "medium") with PyAV's own wheels; ``mpeg4`` (MPEG-4 Part 2) only on an
    FFmpeg built without H.264. H.264 4:2:0 needs even sizes, so an odd width or height is padded by repeating
    the last pixel column or row. The video is written in memory (``io.BytesIO``) and returned as bytes; the
    ``moov`` index therefore comes after the data (``+faststart`` needs a named file), which players of a
    downloaded file do not mind.
    """
    import av

    frames = replay_frames(scene, overlays, dpi, every)  # checks the arguments before anything is opened
    codec = video_codec()
    rate = Fraction(scene.fps).limit_denominator(1000) / every
    try:
        return _encode_mp4(frames, codec, rate)
    except av.FFmpegError as exc:
        raise SoccerAIError(f"MP4 encoding with {codec} failed: {exc}") from exc


def _encode_mp4(frames: Iterator[np.ndarray], codec: str, rate: Fraction) -> bytes:
    """Encode RGB frames as ``yuv420p`` video at ``rate`` frames per second into MP4 bytes, in memory."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = None
        for index, rgb in enumerate(frames):
            rgb = _even_size(rgb)
            if stream is None:
                stream = container.add_stream(codec, rate=rate, options=_codec_options(codec))
                stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))  # flush the encoder's delayed frames
    return out.getvalue()


def video_codec() -> str:
    """The first encoder of :data:`VIDEO_CODECS` that the FFmpeg bundled with PyAV provides."""
    import av

    for name in VIDEO_CODECS:
        if name in av.codecs_available:
            try:
                return av.Codec(name, "w").name
            except av.FFmpegError:  # a decoder only
                continue
    raise SoccerAIError(f"PyAV's FFmpeg has none of the video encoders {', '.join(VIDEO_CODECS)}")


def _codec_options(codec: str) -> dict[str, str]:
    return {"crf": "23", "preset": "medium"} if codec == "libx264" else {}


def _even_size(rgb: np.ndarray) -> np.ndarray:
    """Pad an ``[H, W, 3]`` image by one edge pixel where H or W is odd (4:2:0 chroma needs even sizes)."""
    pad = ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0))
    return np.pad(rgb, pad, mode="edge") if any(p[1] for p in pad) else rgb


def replay_frames(scene: Scene, overlays: Overlays | None = None, dpi: int = 60,
                  every: int = 1) -> Iterator[np.ndarray]:
    """RGB images ``[H, W, 3]`` uint8 of scene frames ``0, every, 2 every, ...``: what the GIF and MP4 show.

    The arguments are checked at once (:class:`InvalidParameterError`: ``every < 1``, ``dpi`` outside
    ``MIN_DPI..MAX_DPI``, an empty scene, overlays of another length); the images are rendered lazily, one per ``next()``.
    """
    _check_export(scene, dpi, every)
    ov = overlays or Overlays()
    for name, layer in (("surface", ov.surface), ("values", ov.values)):
        if layer is not None and len(layer) != len(scene):
            raise InvalidParameterError(f"the {name} overlay has {len(layer)} frames, the scene {len(scene)}")
    return _rendered_frames(scene, ov, dpi, every)


def _rendered_frames(scene: Scene, ov: Overlays, dpi: int, every: int) -> Iterator[np.ndarray]:
    """The pitch is drawn once; each frame's artists are drawn, rasterised by the Agg canvas and removed."""
    import matplotlib.pyplot as plt

    fig, ax = _mpl_pitch(scene)
    fig.set_dpi(dpi)
    try:
        for f in range(0, len(scene), every):
            artists = _draw_mpl_frame(ax, scene, f, ov, None)
            fig.canvas.draw()
            yield np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
            for artist in artists:
                artist.remove()
    finally:
        plt.close(fig)


def _check_export(scene: Scene, dpi: int, every: int) -> None:
    if len(scene) == 0:
        raise InvalidParameterError(f"the scene of {scene.match_id} has no frames to export")
    if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
        raise InvalidParameterError(f"every must be a whole number of frames, at least 1, got {every!r}")
    if not isinstance(dpi, int | float | np.number) or not MIN_DPI <= dpi <= MAX_DPI:  # NaN fails the range too
        raise InvalidParameterError(f"dpi must be between {MIN_DPI} and {MAX_DPI}, got {dpi!r}")
    if not np.isfinite(scene.fps) or scene.fps <= 0:
        raise InvalidParameterError(f"the scene's frame rate must be positive, got {scene.fps}")


def _png_bytes(fig, dpi: int, close: bool = False) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    if close:
        plt.close(fig)
    return buffer.getvalue()


def _mpl_pitch(scene: Scene):
    """An mplsoccer pitch in centred metres (a custom pitch shifted by half its size), on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    from mplsoccer import Pitch

    length, width = scene.pitch
    pitch = Pitch(pitch_type="custom", pitch_length=length, pitch_width=width, pitch_color=PITCH_COLOUR,
                  line_color="white", stripe=False)
    fig, ax = pitch.draw(figsize=(8, 5.4))
    return fig, ax


def _draw_mpl_frame(ax, scene: Scene, f: int, ov: Overlays, sim: Simulation | None) -> list:
    """Draw frame ``f`` on an mplsoccer pitch; returns the artists drawn (so an animation can remove them)."""
    length, width = scene.pitch
    dx, dy = length / 2, width / 2  # custom mplsoccer pitches start at (0, 0)
    drawn: list = []
    if ov.surface is not None:
        drawn.append(ax.imshow(ov.surface[f], extent=(0, length, 0, width), origin="lower", cmap=ov.colorscale,
                               alpha=0.5, vmin=0, vmax=_surface_top(ov.surface), zorder=1))
    from matplotlib.collections import LineCollection

    pos, ok = scene.positions[f] + (dx, dy), scene.valid[f]
    for agents, colour in ((range(N_PER_TEAM), ATTACK_COLOUR), (range(N_PER_TEAM, 2 * N_PER_TEAM), DEFENCE_COLOUR)):
        idx = [k for k in agents if ok[k]]
        trails = [scene.positions[max(0, f - ov.trail_frames) : f + 1, k] + (dx, dy) for k in idx]
        drawn.append(ax.add_collection(LineCollection(trails, colors=colour, alpha=0.6, linewidths=1, zorder=2)))
        drawn.append(ax.scatter(pos[idx, 0], pos[idx, 1], s=120, color=colour, edgecolor="white", zorder=3))
        drawn += [ax.text(pos[k, 0], pos[k, 1] + 1.5, scene.labels[k], color="white", fontsize=7, ha="center",
                          zorder=4, parse_math=False) for k in idx]
        if ov.velocities:
            vel = scene.velocities[f, idx]
            drawn.append(ax.quiver(pos[idx, 0], pos[idx, 1], vel[:, 0], vel[:, 1], color="yellow", angles="xy",
                                   scale_units="xy", scale=1, width=0.003, zorder=3))
    if ok[BALL_INDEX]:
        drawn.append(ax.scatter(pos[BALL_INDEX, 0], pos[BALL_INDEX, 1], s=50, color="white",
                                edgecolor="black", zorder=5))
    if sim is not None:
        for k in sim.predicted:
            for s in range(sim.futures.shape[0]):
                drawn += ax.plot(sim.futures[s, :, k, 0] + dx, sim.futures[s, :, k, 1] + dy, color="orange", lw=0.7)
            drawn += ax.plot(sim.real[:, k, 0] + dx, sim.real[:, k, 1] + dy, color="black", lw=2, ls="--")
    ax.set_title(f"{scene.match_id} P{scene.period} frame {scene.frames[f]} "
                 f"(t {(f - scene.key_index) * DT:+.1f}s, {scene.source})", fontsize=9, parse_math=False)
    return drawn


# ----------------------------------------------------------------------------------------------------------------
# Uploads


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
VALUE_COLUMNS = ("cobso_mean", "cobso")


def cobso_leaderboard(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per-player C-OBSO over matches from the pipeline's ``cobso`` outputs (``{match: table}``).

    Rows of each table are (player, value[, shots]); a player's score is the shot-weighted mean of his values,
    ``sum_m shots_m * value_m / sum_m shots_m``, shown beside his total shots, matches and best single value.
    """
    parts = []
    for match, table in tables.items():
        player = next((c for c in PLAYER_COLUMNS if c in table.columns), None)
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
