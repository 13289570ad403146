"""The plotly replay figure: animated in the browser (one plotly frame per tracking frame, play/pause at several
speeds, a frame slider), so playback never needs a server round trip."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from soccerai.replay.scene import DT, Scene
from soccerai.replay.simulation import Simulation
from soccerai.schema import DEFAULT_PITCH
from soccerai.trajectory_windows import BALL_INDEX, N_PER_TEAM
from soccerai.viz import ATTACK_COLOUR, BALL_COLOUR, DEFENCE_COLOUR

PITCH_COLOUR, LINE_COLOUR = "#2e7d32", "rgba(255,255,255,0.85)"


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


