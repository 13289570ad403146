"""mplsoccer figures: surfaces (pitch control, OBSO) with the players on top, and real versus predicted runs.

Coordinates are soccerai's: metres, centred on the centre spot, attack towards +x; mplsoccer's centred
``"skillcorner"`` pitch type draws exactly that frame, so nothing is offset. Every function returns the matplotlib
``Axes`` it drew on; :func:`save_figure` writes a PNG atomically.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from mplsoccer import Pitch

from soccerai.errors import InvalidParameterError
from soccerai.files import atomic_path
from soccerai.match.schema import DEFAULT_PITCH
from soccerai.windows.container import BALL_INDEX, N_AGENTS, N_PER_TEAM

ATTACK_COLOUR, DEFENCE_COLOUR, BALL_COLOUR = "#d62728", "#1f77b4", "white"


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def draw_pitch(ax: Axes | None = None, length: float = DEFAULT_PITCH[0], width: float = DEFAULT_PITCH[1],
               line_colour: str = "#c7d5cc", pitch_colour: str = "#22312b") -> tuple[Pitch, Axes]:
    """A centred 105 x 68 (or given) pitch on ``ax`` (a new figure when None); lines above surfaces (zorder 2)."""
    pitch = Pitch(
        pitch_type="skillcorner",
        pitch_length=length,
        pitch_width=width,
        line_color=line_colour,
        pitch_color=pitch_colour,
        line_zorder=2,
    )
    if ax is None:
        _, ax = pitch.draw(figsize=(10, 6.8))
    else:
        pitch.draw(ax=ax)
    return pitch, ax


def draw_players(
    pitch: Pitch, ax: Axes, positions, velocities=None, valid=None, arrow_seconds: float = 1.0
) -> None:
    """Attackers red, defenders blue (goalkeepers with a thicker edge), the ball white, velocity arrows."""
    positions = _numpy(positions)
    valid = np.isfinite(positions).all(-1) if valid is None else _numpy(valid).astype(bool)
    for team, colour in (
        (slice(0, N_PER_TEAM), ATTACK_COLOUR),
        (slice(N_PER_TEAM, 2 * N_PER_TEAM), DEFENCE_COLOUR),
    ):
        shown = np.arange(N_AGENTS)[team][valid[team]]
        pitch.scatter(
            positions[shown, 0],
            positions[shown, 1],
            ax=ax,
            s=140,
            c=colour,
            edgecolors="black",
            linewidth=[2.5 if k in (0, N_PER_TEAM) else 0.8 for k in shown],
            zorder=4,
        )
        if velocities is not None:
            vel = _numpy(velocities)[shown] * arrow_seconds
            pitch.arrows(
                positions[shown, 0],
                positions[shown, 1],
                positions[shown, 0] + vel[:, 0],
                positions[shown, 1] + vel[:, 1],
                ax=ax,
                color=colour,
                width=1.5,
                headwidth=4,
                zorder=3,
            )
    if valid[BALL_INDEX]:
        pitch.scatter(
            positions[BALL_INDEX, 0],
            positions[BALL_INDEX, 1],
            ax=ax,
            s=60,
            c=BALL_COLOUR,
            edgecolors="black",
            zorder=5,
        )


def plot_surface(
    frame_positions,
    surface,
    ax: Axes | None = None,
    title: str = "",
    velocities=None,
    valid=None,
    cmap: str = "RdBu_r",
    vmin: float | None = 0.0,
    vmax: float | None = None,
    length: float = DEFAULT_PITCH[0],
    width: float = DEFAULT_PITCH[1],
    colorbar_label: str = "",
) -> Axes:
    """A surface ``[ny, nx]`` (row = y from -width/2) as a heatmap under the players of one frame ``[23, 2]``."""
    surface = _numpy(surface)
    if surface.ndim != 2:
        raise InvalidParameterError(f"surface must be [ny, nx], got shape {surface.shape}")
    pitch, ax = draw_pitch(ax, length, width)
    image = ax.imshow(
        surface,
        extent=(-length / 2, length / 2, -width / 2, width / 2),
        origin="lower",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax if vmax is not None else np.nanmax(surface),
        alpha=0.75,
        zorder=1,
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label=colorbar_label)
    draw_players(pitch, ax, frame_positions, velocities, valid)
    _set_title(ax, title)
    return ax


def plot_runs(
    real,
    predicted_samples,
    ax: Axes | None = None,
    title: str = "",
    agents: list[int] | None = None,
    context_positions=None,
    length: float = DEFAULT_PITCH[0],
    width: float = DEFAULT_PITCH[1],
) -> Axes:
    """Real trajectories (solid) and predicted samples (a faint fan) of some agents.

    Args:
        real: ``[T, N, 2]`` real positions (N = 23 in agent order, or any N with ``agents=None``).
        predicted_samples: ``[S, T', N, 2]`` predicted positions (T' may differ from T: the forecast horizon).
        agents: which agents to draw (default: every agent whose predictions differ from the real path).
        context_positions: ``[23, 2]`` a frame to draw the other players from (e.g. the last observed frame).
    """
    real, predicted = _numpy(real), _numpy(predicted_samples)
    if real.ndim != 3 or predicted.ndim != 4 or predicted.shape[2:] != real.shape[1:]:
        raise InvalidParameterError(
            f"real must be [T, N, 2] and predictions [S, T, N, 2]; got {real.shape}, {predicted.shape}"
        )
    pitch, ax = draw_pitch(ax, length, width)
    if context_positions is not None:
        draw_players(pitch, ax, context_positions)
    if agents is None:
        horizon = min(real.shape[0], predicted.shape[1])
        moved = np.nan_to_num(np.abs(predicted[:, :horizon] - real[None, :horizon])).max(axis=(0, 1, 3))
        agents = [k for k in range(real.shape[1]) if moved[k] > 1e-6]
    for k in agents:
        colour = ATTACK_COLOUR if k < N_PER_TEAM else DEFENCE_COLOUR if k < 2 * N_PER_TEAM else "white"
        for sample in predicted[:, :, k]:
            ax.plot(sample[:, 0], sample[:, 1], color=colour, alpha=0.35, linewidth=1.2, zorder=3)
        ax.plot(real[:, k, 0], real[:, k, 1], color=colour, linewidth=2.5, zorder=4)
        ax.plot(real[-1, k, 0], real[-1, k, 1], marker="o", color=colour, markeredgecolor="black", zorder=5)
    _set_title(ax, title)
    return ax


TITLE_CHARS = 60
"""A panel title wraps onto new lines at this many characters, so two panels side by side never overlap."""


def _set_title(ax: Axes, title: str) -> None:
    ax.set_title("\n".join(textwrap.wrap(title, TITLE_CHARS)), color="black")


def save_figure(ax: Axes, path: str | Path, dpi: int = 110) -> Path:
    """Write the figure of ``ax`` to ``path`` (PNG) atomically and close it."""
    path = Path(path)
    with atomic_path(path, ".png") as tmp:
        ax.figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(ax.figure)
    return path


def cobso_shot_figure(view, path: str | Path, tracking: str = "simulated") -> Path:
    """Draw a :class:`soccerai.evaluate.match_obso.CobsoShotView` (:func:`soccerai.evaluate.match_obso.cobso_shot_view`): the OBSO surface at
    the frame before the shot (left) and the real runs of A1, D1, D2 (solid) against the model's counterfactual
    samples (faint, right). ``tracking`` ("simulated" or "real") goes in the title; players are named by the pair's
    ``shooter_name`` / ``a1_name`` ("Name (#number)") when it has them.
    """
    best = view.pair
    fig, axes = plt.subplots(1, 2, figsize=(16, 5.6))
    what = "GOAL" if (best.get("result") or "").upper() == "GOAL" else "shot"
    plot_surface(view.positions, view.surface, ax=axes[0], velocities=view.velocities, valid=view.valid,
                 colorbar_label="OBSO",
                 title=f"OBSO before the {what} ({best['shot_id']}) by {best.get('shooter_name') or best['shooter']}: "
                       f"{best['real_obso']:.3f} ({tracking} tracking)")
    # untracked agents (broadcast: out of camera view) are NaN in the view, never drawn at the centre spot
    context = view.positions.clone()
    context[~view.valid.bool()] = float("nan")
    plot_runs(view.real, view.samples, ax=axes[1], agents=view.agents, context_positions=context,
              title=f"A1 {best.get('a1_name') or best['a1']}: real run (solid) vs {view.model_name} samples; "
                    f"C-OBSO {best['cobso']:.4f} (signed {best.get('cobso_signed', best['cobso']):+.4f})")
    return save_figure(axes[0], path)
