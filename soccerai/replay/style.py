"""What the replay figure and the exports share: team colours, the overlay colour scales and their legends, label
placement and titles. The plotly figure (:mod:`soccerai.replay.figure`) and the matplotlib exports
(:mod:`soccerai.replay.export`) draw from here, so the browser and a downloaded file read the same.

Colour: each team keeps its colour in every attack (home orange, away blue: a colour-blind-safe pair). The
pitch-control map is drawn opaque (never blended with the grass) on a diverging blue - light grey - orange scale:
orange where the home team controls the ball's next touch, blue where the away team does. OBSO is drawn on the
sequential, colour-blind-safe ``cividis`` scale with a FIXED top, :data:`OBSO_SCALE_MAX`, the same for every play,
so a brighter map always means more scoring opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soccerai.replay.scene import Scene

HOME_COLOUR, AWAY_COLOUR, BALL_COLOUR = "#d95f02", "#1f5fa8", "#ffffff"
"""Team marker colours (orange / blue) and the ball."""
CONTROL_SCALE: list[tuple[float, str]] = [(0.0, "#2b6cb0"), (0.25, "#90b8dc"), (0.5, "#ececec"),
                                          (0.75, "#f6b27a"), (1.0, "#d95f02")]
"""Home control from 0 (away controls: blue) through 0.5 (contested: light grey) to 1 (home controls: orange)."""
OBSO_COLOURMAP = "cividis"
OBSO_SCALE_MAX = 0.1
"""Top of the OBSO colour scale (per grid cell, 10 %): the same for every play; brighter cells are clipped."""
OBSO_EXPLANATION = ("OBSO: chance that the next ball to this cell becomes a goal "
                    "(pitch control x ball transition x scoring), % per cell; scale fixed at 0-10 %")
CONTROL_EXPLANATION = "Pitch control: which team would reach a ball played to each point first"
UPSAMPLE = 4
"""Surfaces are drawn bilinearly interpolated at this many pixels per grid cell (smooth edges, not blocks)."""
PALETTE = ["#e7298a", "#66a61e", "#7570b3", "#e6ab02", "#a6761d", "#1b9e77"]
"""Colours of the simulated agents' futures (distinct from both teams)."""
VALUE_MIN = 0.001
"""Players' OBSO values under 0.1 % are not written on the pitch (they read 0.00 %)."""
LABEL_CLEARANCE_M = 4.0
"""A value is written beside a player only when no already-labelled player is closer than this (metres)."""


def team_colour(side: str) -> str:
    return HOME_COLOUR if side == "home" else AWAY_COLOUR if side == "away" else BALL_COLOUR


@dataclass(frozen=True)
class SurfaceStyle:
    """How to draw a surface: the values to colour ``[F, ny, nx]``, the scale and the colour bar's words."""

    values: np.ndarray
    scale: list[tuple[float, str]] | str
    vmin: float
    vmax: float
    title: str
    tickvals: list[float]
    ticktext: list[str]
    explanation: str


def surface_kind(name: str) -> str:
    """``"control"``, ``"obso"`` or ``"other"`` from an overlay's name ("pitch control", "OBSO", ...)."""
    low = name.lower()
    return "control" if "control" in low else "obso" if "obso" in low else "other"


def surface_style(scene: Scene, surface: np.ndarray, name: str) -> SurfaceStyle:
    """The drawing of ``surface`` (``[F, ny, nx]`` or ``[ny, nx]``, scene frame: the attack plays to +x).

    Pitch control is the attacking team's; it is shown as HOME control (``1 - c`` when the away team attacks) so the
    colours stay with the teams. OBSO uses the fixed scale ``0..OBSO_SCALE_MAX``.
    """
    kind = surface_kind(name)
    home, away = scene.teams["home"], scene.teams["away"]
    if kind == "control":
        values = surface if scene.attacking_team == "home" else 1.0 - surface
        return SurfaceStyle(values, CONTROL_SCALE, 0.0, 1.0, "pitch control", [0.0, 0.5, 1.0],
                            [f"{away} control", "contested", f"{home} control"], CONTROL_EXPLANATION)
    if kind == "obso":
        ticks = [i * OBSO_SCALE_MAX / 4 for i in range(5)]
        text = [f"{100 * t:.1f} %" for t in ticks[:-1]] + [f"{100 * OBSO_SCALE_MAX:.1f} % +"]
        return SurfaceStyle(surface, OBSO_COLOURMAP, 0.0, OBSO_SCALE_MAX, "OBSO per cell", ticks, text,
                            OBSO_EXPLANATION)
    top = float(np.nanmax(surface)) if np.isfinite(surface).any() else 1.0
    top = top if top > 0 else 1.0
    return SurfaceStyle(surface, OBSO_COLOURMAP, 0.0, top, name, [0.0, top], ["0", f"{top:.3g}"], name)


def smooth(surface: np.ndarray, factor: int = UPSAMPLE) -> np.ndarray:
    """``[ny, nx]`` bilinearly resampled to ``[ny * factor, nx * factor]`` (cell centres kept; NaN stays NaN)."""
    from PIL import Image

    ny, nx = surface.shape
    finite = np.isfinite(surface)
    filled = np.where(finite, surface, np.nanmean(surface) if finite.any() else 0.0).astype(np.float32)
    size = (nx * factor, ny * factor)
    out = np.asarray(Image.fromarray(filled, mode="F").resize(size, Image.Resampling.BILINEAR), dtype=np.float64)
    mask = np.asarray(Image.fromarray(finite.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 0
    return np.where(mask, out, np.nan)


def decluttered(positions: np.ndarray, values: np.ndarray, agents: list[int],
                clearance: float = LABEL_CLEARANCE_M, minimum: float = VALUE_MIN) -> list[int]:
    """The agents whose value is written: highest value first, at least ``minimum``, and none within ``clearance``
    metres of one already written (so labels never pile up)."""
    chosen: list[int] = []
    for k in sorted(agents, key=lambda a: -np.nan_to_num(values[a], nan=-1.0)):
        if not np.isfinite(values[k]) or values[k] < minimum or not np.isfinite(positions[k]).all():
            continue
        if all(np.linalg.norm(positions[k] - positions[j]) >= clearance for j in chosen):
            chosen.append(k)
    return chosen


def view_title(scene: Scene, index: int, model: str | None = None, max_chars: int = 110) -> str:
    """Two lines, never cut in the middle of the clock: ``"FC Bayern v Dortmund · 2019-11-09 · 2-1 · 23:41.3"``, then
    ``"FC Bayern attack -> · real tracking · model gvrnn-sim-skillcorner · edits: ..."``."""
    clock = scene.clock(index)
    if scene.times is not None and np.isfinite(scene.times[index]):
        clock += f".{int(scene.times[index] * 10) % 10}"
    first = " · ".join(p for p in (scene.title, scene.date, scene.score, clock) if p)
    parts = [f"{scene.teams[scene.attacking_team]} attack ->", scene.source]
    if model:
        parts.append(f"model {model}")
    if scene.edits:
        edits = "; ".join(scene.edits)
        parts.append("edits: " + (edits if len(edits) <= max_chars else edits[: max_chars - 3] + "..."))
    return first + "\n" + " · ".join(parts)
