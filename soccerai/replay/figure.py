"""The plotly replay figure: animated in the browser (one plotly frame per tracking frame, play/pause at several
speeds, a frame slider), so playback never needs a server round trip; or one frame, clickable (the dashboard's pitch:
players carry their agent index, a lattice of invisible targets carries the spot clicked)."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from soccerai.match.pitch import Pitch
from soccerai.replay.players import Roles, player_info
from soccerai.replay.scene import Scene
from soccerai.replay.simulation import Simulation
from soccerai.replay.style import (
    BALL_COLOUR,
    PALETTE,
    SurfaceStyle,
    decluttered,
    smooth,
    surface_style,
    team_colour,
    view_title,
)
from soccerai.replay.values import format_value
from soccerai.windows.container import BALL_INDEX, DT, N_PER_TEAM

PITCH_COLOUR, LINE_COLOUR = "#2e7d32", "rgba(255,255,255,0.85)"
DARK_LINE_COLOUR = "rgba(40,40,40,0.75)"
"""Pitch lines over an opaque surface (white lines vanish in its light, contested middle)."""


TITLE_LINE_PX = 17
"""Height of one line of the animated pitch's 14 px title."""
SELECTED_COLOUR = "#00e5ff"
"""The ring of the player selected on a clickable figure."""
SPOT_STEP_M = 1.0
"""Spacing of the invisible click targets that let a click anywhere on a clickable figure place a player: a click
lands on the nearest target, at most ``SPOT_STEP_M / sqrt(2)`` (0.7 m) from the pointer in open play."""
SPOT_CLEAR_M = 1.5
"""No click target within this distance of a player: his marker (17 px, about 1.1 m in radius on a 1366 px wide
screen) plus a target's (6 px), so a click on a player always picks the player. Placing closer than this to
another player is done with the Edit tab's x / y boxes."""


def pitch_shapes(pitch: Pitch | None = None, colour: str = LINE_COLOUR) -> list[dict]:
    """mplsoccer-style pitch markings as plotly shapes (centred pitch, metres; default 105 x 68), drawn above
    surfaces; the grass is the plot background (dark lines over an opaque surface: :data:`DARK_LINE_COLOUR`)."""
    pitch = pitch or Pitch()
    hl, hw = pitch.half_length, pitch.half_width
    line = {"color": colour, "width": 2}

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
             "fillcolor": colour, "line": line, "layer": "above"},
        ]
    return shapes


@dataclass
class Overlays:
    """Which layers the replay draws.

    ``surface [F, ny, nx]`` is drawn by its kind, read from ``surface_name`` (:func:`soccerai.replay.style.surface_kind`):
    "pitch control" as home/away control, "OBSO" on the fixed OBSO scale. ``values [F, 23]`` are written beside
    the attackers (OBSO, as %). ``roles`` marks the shooter, A1, D1 and D2 on the pitch.
    """

    trail_frames: int = 10
    velocities: bool = True
    surface: np.ndarray | None = None  # [F, ny, nx]
    surface_name: str = ""
    values: np.ndarray | None = None  # [F, 23] per-player values (e.g. OBSO)
    values_name: str = "OBSO"
    colorscale: str = "RdBu_r"  # kept for callers; the scale comes from the surface's kind
    roles: Roles | None = None
    selected: int | None = None
    """An agent ringed in :data:`SELECTED_COLOUR` (the dashboard's selected player)."""


def _hover(scene: Scene, k: int) -> str:
    info = player_info(scene, k)
    name = info.label() if info is not None else scene.labels[k]
    return html.escape(f"{name} - {scene.teams.get(scene.side_of(k), '')}")  # provider text, never plotly HTML


FRAME_KEYS = frozenset({"x", "y", "text", "customdata"})
"""What an animation frame carries of each moving trace: plotly.js merges a frame's trace into the drawn one, so
the styling (colours, sizes, names, hover templates) is sent once, with the figure's own traces."""


def _scatter(**properties) -> dict:
    """A scatter trace as a plain dict (see :func:`_frame_traces`)."""
    return {"type": "scatter", **properties}


def _frame_traces(scene: Scene, f: int, ov: Overlays, clickable: bool = False,
                  hovers: list[str] | None = None) -> list[dict]:
    """The dynamic traces of frame ``f``, always the same traces in the same order (the animation replaces them
    one for one): per team its trails and markers (jersey number inside; ``customdata`` ``[agent, name]``), the
    values beside the attackers (decluttered), the role rings, the selected player's ring, the velocity arrows and
    the ball. ``clickable``: a click never dims the markers (plotly's selection). The surface is drawn apart.
    Plain dicts, validated once by the figure that holds them (a ``go.Scatter`` per trace and frame cost seconds
    per rerun: each was validated when built, again inside its ``go.Frame`` and again inside the figure).
    ``hovers``: each agent's :func:`_hover` text, computed once per figure."""
    hovers = hovers or [_hover(scene, k) for k in range(BALL_INDEX)]
    pos, ok = scene.positions[f], scene.valid[f]
    traces: list[dict] = []
    lo = max(0, f - ov.trail_frames)
    for agents in (range(N_PER_TEAM), range(N_PER_TEAM, 2 * N_PER_TEAM)):
        side = scene.side_of(agents[0])
        colour = team_colour(side)
        idx = [k for k in agents if ok[k]]
        xs, ys = _segments([scene.positions[lo : f + 1, k] for k in idx])
        traces.append(_scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1.5}, opacity=0.7,
                                 hoverinfo="skip", showlegend=False, name=f"{scene.teams[side]} trails"))
        traces.append(_scatter(
            x=pos[idx, 0], y=pos[idx, 1], mode="markers+text", text=[html.escape(scene.labels[k]) for k in idx],
            textposition="middle center", textfont={"color": "white", "size": 9},
            marker={"size": 17, "color": colour, "line": {"color": "white", "width": 1.5}},
            name="attack" if agents[0] == 0 else "defence", showlegend=False,
            customdata=[[k, hovers[k], f] for k in idx],
            hovertemplate="%{customdata[1]}<extra>click to select</extra>" if clickable
            else "%{customdata[1]}<extra></extra>",
            **({"selected": {"marker": {"opacity": 1}}, "unselected": {"marker": {"opacity": 1}}} if clickable else {})))
    shown = decluttered(pos, ov.values[f], [k for k in range(N_PER_TEAM) if ok[k]]) if ov.values is not None else []
    traces.append(_scatter(x=pos[shown, 0], y=pos[shown, 1] - 2.4, mode="text", hoverinfo="skip", showlegend=False,
                             text=[format_value(ov.values[f, k], "probability") for k in shown],
                             textfont={"color": "black", "size": 10}, name=f"{ov.values_name} values"))
    marked = [(role, info.slot) for role, info in ov.roles.items() if ok[info.slot]] if ov.roles is not None else []
    traces.append(_scatter(x=[pos[k, 0] for _, k in marked], y=[pos[k, 1] for _, k in marked], mode="markers+text",
                             text=[role for role, _ in marked], textposition="top center", hoverinfo="skip",
                             textfont={"color": "black", "size": 11}, showlegend=False, name="roles",
                             marker={"size": 27, "symbol": "circle-open", "color": "black", "line": {"width": 2.5}}))
    if ov.selected is not None:
        ringed = [ov.selected] if ok[ov.selected] else []
        traces.append(_scatter(x=pos[ringed, 0], y=pos[ringed, 1], mode="markers+text", text=["selected"] * len(ringed),
                                 textposition="bottom center", hoverinfo="skip", showlegend=False,
                                 textfont={"color": SELECTED_COLOUR, "size": 11}, name=f"selected {hovers[ov.selected]}",
                                 marker={"size": 27, "symbol": "circle-open", "color": SELECTED_COLOUR,
                                         "line": {"width": 3}}))
    vel = scene.velocities[f] if ov.velocities else np.zeros_like(pos)
    arrows = [np.stack([pos[k], pos[k] + vel[k]]) for k in range(BALL_INDEX) if ok[k] and ov.velocities]
    xs, ys = _segments(arrows)
    traces.append(_scatter(x=xs, y=ys, mode="lines", line={"color": "#222222", "width": 2}, hoverinfo="skip",
                             name="velocity (1 s)", showlegend=False))
    ball = pos[BALL_INDEX] if ok[BALL_INDEX] else np.array([np.nan, np.nan])
    traces.append(_scatter(x=[ball[0]], y=[ball[1]], mode="markers", name="ball", showlegend=False,
                             marker={"size": 10, "color": BALL_COLOUR, "line": {"color": "black", "width": 1.5}}))
    return traces


def colour_key(scene: Scene) -> list[go.Scatter]:
    """Legend-only traces naming each team's colour (attacking team first) and the ball."""
    key = []
    for side in (scene.attacking_team, scene.defending_team):
        role = "attacking" if side == scene.attacking_team else "defending"
        key.append(go.Scatter(x=[None], y=[None], mode="markers", hoverinfo="skip",
                              name=html.escape(f"{scene.teams.get(side, side)} ({side}, {role})"),
                              marker={"size": 12, "color": team_colour(side), "line": {"color": "white", "width": 1}}))
    key.append(go.Scatter(x=[None], y=[None], mode="markers", hoverinfo="skip", name="ball",
                          marker={"size": 9, "color": BALL_COLOUR, "line": {"color": "black", "width": 1}}))
    return key


def frame_clock(scene: Scene, f: int) -> str:
    """The match clock at scene frame ``f`` with tenths (``"16:20.3"``): what the slider and the title show."""
    text = scene.clock(f)
    if scene.times is not None and np.isfinite(scene.times[f]):
        text += f".{int(scene.times[f] * 10) % 10}"
    return text


def _colorbar(style: SurfaceStyle, name: str) -> go.Scatter:
    """A static, invisible trace carrying the surface's colour bar (the surface itself is a layout image)."""
    return go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip", name=name or style.title,
                      marker={"color": [style.vmin], "colorscale": _plotly_scale(style.scale), "cmin": style.vmin,
                              "cmax": style.vmax, "showscale": True,
                              "colorbar": {"title": {"text": style.title}, "len": 0.75, "thickness": 10, "x": 1.0,
                                           "xpad": 2, "tickvals": style.tickvals,
                                           "ticktext": [html.escape(t) for t in style.ticktext]}})


def _plotly_scale(scale: list[tuple[float, str]] | str) -> list | str:
    return [[p, c] for p, c in scale] if isinstance(scale, list) else scale.capitalize()


def colour_map(scale: list[tuple[float, str]] | str):
    """The matplotlib colour map of a :class:`SurfaceStyle` scale."""
    from matplotlib import colormaps
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("soccerai", scale) if isinstance(scale, list) else colormaps[scale]


def surface_rgba(surface: np.ndarray, style: SurfaceStyle) -> np.ndarray:
    """One frame ``[ny, nx]`` as smoothed, opaque RGBA ``[ny*U, nx*U, 4]`` (NaN cells transparent), row 0 = -y."""
    fine = smooth(surface)
    rgba = colour_map(style.scale)(np.clip((np.nan_to_num(fine, nan=style.vmin) - style.vmin)
                                           / (style.vmax - style.vmin), 0.0, 1.0))
    rgba[..., 3] = np.where(np.isfinite(fine), 1.0, 0.0)
    return rgba


def _surface_image(surface: np.ndarray, style: SurfaceStyle, pitch: Pitch) -> dict:
    """One frame's surface as a plotly layout image stretched over the pitch, opaque and smoothed.

    plotly.js drops heatmap traces while animating (plotly.js #4491, still in the 4.x Streamlit ships), but
    updates layout images from frames, so each frame carries its surface as a small PNG.
    """
    import base64

    from PIL import Image

    picture = Image.fromarray((surface_rgba(surface, style)[::-1] * 255).astype(np.uint8), "RGBA")  # top row = +y
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return {"source": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), "xref": "x",
            "yref": "y", "x": -pitch.half_length, "y": pitch.half_width, "sizex": pitch.length, "sizey": pitch.width,
            "sizing": "stretch",
            "layer": "below", "xanchor": "left", "yanchor": "top"}


def _surface_heatmap(surface: np.ndarray, style: SurfaceStyle, pitch: Pitch) -> go.Heatmap:
    """One frame's surface as a smoothed heatmap trace with its colour bar (a figure that is never animated)."""
    ny, nx = surface.shape
    return go.Heatmap(
        x=np.linspace(-pitch.half_length, pitch.half_length, nx), y=np.linspace(-pitch.half_width, pitch.half_width, ny),
        z=np.clip(surface, style.vmin, style.vmax), zmin=style.vmin, zmax=style.vmax, zsmooth="best",
        colorscale=_plotly_scale(style.scale), hoverinfo="skip", name=style.title,
        colorbar={"title": {"text": style.title, "side": "right"}, "len": 0.8, "thickness": 10, "x": 1.0, "xpad": 2,
                  "tickvals": style.tickvals, "ticktext": [html.escape(t) for t in style.ticktext]})


def _click_targets(scene: Scene, f: int) -> go.Scatter:
    """Invisible markers every :data:`SPOT_STEP_M` over the pitch (``customdata`` -1), none within
    :data:`SPOT_CLEAR_M` of a player: a click anywhere on the pitch is a point with its position (the spot nearest
    the pointer), and a click on a player picks the player."""
    pitch = scene.pitch
    gx, gy = np.meshgrid(np.arange(-pitch.half_length, pitch.half_length + 1e-6, SPOT_STEP_M),
                         np.arange(-pitch.half_width, pitch.half_width + 1e-6, SPOT_STEP_M))
    spots = np.stack([gx.ravel(), gy.ravel()], axis=1)
    ok = scene.valid[f, :BALL_INDEX]
    players_xy = scene.positions[f, :BALL_INDEX][ok]
    if len(players_xy):  # near a player, a click picks the player, never the spot under him
        near = np.linalg.norm(spots[:, None] - players_xy[None], axis=2).min(axis=1)
        spots = spots[near > SPOT_CLEAR_M]
    return go.Scatter(x=spots[:, 0].round(1), y=spots[:, 1].round(1), mode="markers", name="spot",
                      marker={"size": 6, "color": "rgba(0,0,0,0)"}, showlegend=False,
                      selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
                      customdata=np.full(len(spots), -1, dtype=np.int16),
                      hovertemplate="(%{x:.1f}, %{y:.1f}) m<extra>click to place the selected player</extra>")


def _segments(paths: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate polylines ``[n_i, 2]`` into one trace's ``(x, y)``, separated by NaN gaps (plotly breaks a line
    at NaN; numpy arrays go to the browser as binary, never element by element)."""
    if not paths:
        return np.empty(0), np.empty(0)
    gap = np.full((1, 2), np.nan)
    joined = np.concatenate([part for path in paths for part in (np.asarray(path, dtype=np.float64), gap)])
    return joined[:, 0], joined[:, 1]


def simulation_traces(sim: Simulation, scene: Scene, legend: bool = True) -> list[go.Scatter]:
    """Static traces: the fan of sampled futures (thin, one colour per agent) and the real future (dashed).
    ``legend=False``: no legend entries (a page that names the predicted players itself keeps its pitch's size:
    six long entries would push the pitch down and into its title)."""
    traces = []
    start = scene.positions[sim.start]
    for i, k in enumerate(sim.predicted):
        colour = PALETTE[i % len(PALETTE)]
        who = html.escape(sim.names.get(k) or scene.labels[k])
        paths = [np.concatenate([start[k][None], sim.futures[s, :, k]]) for s in range(sim.futures.shape[0])]
        xs, ys = _segments(paths)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 2.0}, opacity=0.8,
                                 showlegend=legend,
                                 legendgroup=f"sim{k}", hoverinfo="skip",
                                 name=f"predicted {who}: {sim.n_samples} futures ({html.escape(sim.model_label)})"))
        ends = sim.futures[:, -1, k]
        traces.append(go.Scatter(x=ends[:, 0], y=ends[:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                                 legendgroup=f"sim{k}",
                                 marker={"size": 8, "color": colour, "line": {"color": "black", "width": 1}},
                                 name=f"{who}: where the futures end"))
        real = np.concatenate([start[k][None], sim.real[:, k]])
        traces.append(go.Scatter(x=real[:, 0], y=real[:, 1], mode="lines", name=f"real {who}", legendgroup=f"sim{k}",
                                 showlegend=legend,
                                 hoverinfo="skip", line={"color": colour, "width": 3, "dash": "dash"}))
    return traces


def replay_figure(scene: Scene, overlays: Overlays | None = None, simulation: Simulation | None = None,
                  initial: int | None = None, title: str = "", *, animate: bool = True, clickable: bool = False,
                  height: int = 720, notes: bool = True) -> go.Figure:
    """The replay at frame ``initial`` (default the key frame).

    ``animate`` (default): one plotly frame per scene frame, play/pause at 0.5x/1x/2x and a frame slider. Static
    traces (simulated futures) come first; the dynamic traces of each frame follow and are the only ones the
    animation replaces, so playback runs in the browser without a server round trip. Otherwise the one frame
    ``initial`` on a compact layout (the surface as a heatmap, no legend). ``clickable`` adds the invisible click
    targets of :func:`_click_targets` (players carry their agent index in ``customdata[0]``).
    """
    ov = overlays or Overlays()
    show_notes = notes
    initial = scene.check_index(scene.key_index if initial is None else initial)
    pitch = scene.pitch
    static = [*colour_key(scene),
              *(simulation_traces(simulation, scene, legend=show_notes) if simulation is not None else [])]
    style = surface_style(scene, ov.surface, ov.surface_name) if ov.surface is not None else None
    if style is not None and animate:
        static.append(_colorbar(style, ov.surface_name))
    elif style is not None:
        static.insert(0, _surface_heatmap(style.values[initial], style, pitch))
    hovers = [_hover(scene, k) for k in range(BALL_INDEX)]
    dynamic = _frame_traces(scene, initial, ov, clickable, hovers)
    n_static = len(static)
    redraw = ov.surface is not None  # surface images need a full redraw per frame; markers and lines do not

    drawn: dict[bytes, dict] = {}  # held surfaces (stride > 1) repeat: each distinct one is encoded once

    def images(f: int) -> list[dict]:
        if style is None or not animate:
            return []
        key = style.values[f].tobytes()
        if key not in drawn:
            drawn[key] = _surface_image(style.values[f], style, pitch)
        return [drawn[key]]

    moving = list(range(n_static, n_static + len(dynamic)))
    frames = [{"name": str(f), "layout": {"images": images(f)}, "traces": moving,
               "data": [{k: v for k, v in trace.items() if k in FRAME_KEYS}
                        for trace in _frame_traces(scene, f, ov, clickable, hovers)]}
              for f in range(len(scene))] if animate else []
    fig = go.Figure(data=[*static, *dynamic, *([_click_targets(scene, initial)] if clickable else [])], frames=frames)
    fig.update_layout(images=images(initial))
    heading = title or view_title(scene, initial, simulation.model_label if simulation is not None else None)
    if scene.source not in heading:  # every figure says whether its tracking is real or simulated
        heading = f"{heading} ({scene.source})"
    fig.update_layout(plot_bgcolor=PITCH_COLOUR, height=height,
                      shapes=pitch_shapes(pitch, DARK_LINE_COLOUR if style is not None else LINE_COLOUR))
    if not animate:
        fig.update_layout(
            title={"text": html.escape(heading).replace("\n", "<br>"), "font": {"size": 14}, "x": 0.01, "y": 0.98}, showlegend=True,
            legend={"orientation": "h", "x": 0.0, "y": -0.01, "yanchor": "top", "font": {"size": 10}},
            uirevision="pitch", margin={"l": 4, "r": 80, "t": 30, "b": 40}, hoverlabel={"namelength": -1},
            xaxis={"range": [-pitch.half_length - 2, pitch.half_length + 2], "visible": False, "fixedrange": True},
            yaxis={"range": [-pitch.half_width - 2, pitch.half_width + 2], "visible": False, "scaleanchor": "x",
                   "fixedrange": True})
        return fig
    notes = [style.explanation] if style is not None and show_notes else []
    if ov.values is not None and show_notes:
        notes.append(f"Numbers under attackers: their {ov.values_name} (%)")
    if ov.roles is not None and show_notes:
        notes.append("Rings: " + ", ".join(html.escape(label) for label in ov.roles.labels()))
    fig.update_layout(
        # plotly.js anchors a multi-line title's top one line too high per extra line (its first line was cut)
        title={"text": html.escape(heading).replace("\n", "<br>"), "font": {"size": 14}, "yanchor": "top",
               "y": 0.99 - TITLE_LINE_PX * heading.count("\n") / height},
        annotations=[{"text": "<br>".join(notes), "showarrow": False, "xref": "paper", "yref": "paper", "x": 0,
                      "y": 1.0, "xanchor": "left", "yanchor": "bottom", "align": "left",
                      "font": {"size": 11}}] if notes else [],
        xaxis={"range": [-pitch.half_length - 4, pitch.half_length + 4], "visible": False, "fixedrange": True},
        yaxis={"range": [-pitch.half_width - 4, pitch.half_width + 4], "visible": False, "scaleanchor": "x",
               "fixedrange": True},
        margin={"l": 10, "r": 80, "t": (96 if notes else 84) + 36 * heading.count("\n"), "b": 100},
        uirevision="pitch",
        legend={"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom", "font": {"size": 10}},
        updatemenus=[_play_menu(redraw, initial, len(scene))], sliders=[_slider(scene, initial, redraw)], hoverlabel={"namelength": -1},
    )
    return fig


def _play_menu(redraw: bool, initial: int, n_frames: int) -> dict:
    """Play buttons at 0.5x / 1x / 2x of real time (10 Hz) and pause, below the pitch.

    Play runs the frames from the shown one, ``initial``, to the clip's end; after a pause or a scrub forward it
    goes on from there (plotly's ``fromcurrent``). A bare "play every frame" would start at the clip's first frame
    (plotly knows no current frame before the first animation), jumping the pitch back to the clip's start."""
    names = [str(f) for f in range(initial, n_frames)]

    def play(speed: float) -> dict:
        return {"label": f"▶ {speed:g}x", "method": "animate",
                "args": [names, {"frame": {"duration": int(1000 * DT / speed), "redraw": redraw},
                                "transition": {"duration": 0}, "fromcurrent": True, "mode": "immediate"}]}

    pause = {"label": "❚❚ pause", "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}
    return {"type": "buttons", "direction": "left", "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "top",
            "pad": {"t": 40, "r": 10}, "buttons": [play(0.5), play(1.0), play(2.0), pause]}


def _slider(scene: Scene, initial: int, redraw: bool) -> dict:
    """A frame slider labelled on the match clock (and seconds from the key frame); scrubbing animates in the browser."""
    steps = [{"label": frame_clock(scene, f), "method": "animate",
              "args": [[str(f)], {"frame": {"duration": 0, "redraw": redraw}, "mode": "immediate"}]}
             for f in range(len(scene))]
    return {"active": initial, "steps": steps, "x": 0.44, "len": 0.56, "y": 0.0, "yanchor": "top",
            "pad": {"t": 30}, "currentvalue": {"prefix": "clock "}}


