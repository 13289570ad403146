"""Streamlit plumbing shared by the dashboard pages: bounded caches over :mod:`soccerai.replay`, the one clock,
and the click handlers of the pitch.

All analytics live in :mod:`soccerai.replay` (and what it imports); this module only caches their results, keeps
the session's state (match, clock, edits, simulation runs) and turns :class:`soccerai.errors.SoccerAIError` into
``st.error`` messages.

Memory: every cache is bounded (``max_entries`` and a ``ttl``), so a server with many sessions stays small: at
most :data:`MATCH_CACHE` parsed matches, models loaded once per process, and scenes / one-frame surfaces in
small LRU caches. Sessions keep only their own small state (edits, a few simulation runs).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
import streamlit as st

from soccerai import pretrained, replay
from soccerai.config import output_dir, store_dir
from soccerai.errors import InvalidParameterError, SoccerAIError
from soccerai.evaluate.pitch_control import Grid
from soccerai.models import build_model
from soccerai.models.base import TrajectoryModel
from soccerai.schema import Match

DEMO = "demo: simulated match (synthesizer)"
REAL = "real: SkillCorner, FC Bayern München v Borussia Dortmund, 2019-11-09"
DEMO_SECONDS = float(os.environ.get("SOCCERAI_DEMO_SECONDS", "360"))
"""Length of the demo match (half in each period); tests shorten it."""
BASELINE = "constant velocity (baseline, no training)"
OTHER = "another checkpoint folder..."
GRIDS = {"coarse 25 x 16 (fast)": (25, 16), "standard 50 x 32": (50, 32)}
BEFORE_S, AFTER_S = 8.0, 8.0
"""A view is the match from 8 s before to 8 s after the point it was opened at; the clock moves inside it and a
new view is cut when the clock leaves it."""
MATCH_CACHE, SCENE_CACHE, SURFACE_CACHE, TTL_S = 3, 48, 256, 1800
MAX_RUNS = 6
"""Simulation runs kept per session (each ~0.3 MB of sampled futures)."""
Edit = tuple[int, int, float, float, float, float]  # provider frame, agent, x, y, vx, vy

T = TypeVar("T")


def guarded(action: Callable[[], T], what: str) -> T | None:
    """Run ``action``; a soccerai error becomes one ``st.error`` line (never a traceback) and None."""
    try:
        return action()
    except SoccerAIError as exc:
        st.error(f"{what}: {exc}")
        return None


# ----------------------------------------------------------------------------------------------------------------
# Matches (parsed once per process, at most MATCH_CACHE at a time)


@st.cache_resource(show_spinner="Simulating the demo match (simulated tracking)...", max_entries=1)
def demo_match(seconds: float = DEMO_SECONDS) -> Match:
    """A short simulated match driven by a real Metrica event timeline (a generated one if that is missing)."""
    from soccerai.config import metrica_events_dir
    from soccerai.synth import synthesize_match

    events = metrica_events_dir() / "Sample_Game_1_RawEventsData.csv"
    return synthesize_match(events if events.is_file() else None, seed=0, duration_s=seconds)


@st.cache_resource(show_spinner="Reading the real SkillCorner match...", max_entries=1)
def real_match() -> Match:
    """The real SkillCorner match (data folder, else the installed kloppy package's test files)."""
    from soccerai.end_to_end_demo import real_match_files
    from soccerai.io import load_match

    return load_match(real_match_files())


@st.cache_resource(show_spinner=False)
def real_available() -> bool:
    from soccerai.end_to_end_demo import real_match_files

    try:
        real_match_files()
    except SoccerAIError:
        return False
    return True


@st.cache_resource(show_spinner="Reading the match...", max_entries=MATCH_CACHE, ttl=TTL_S)
def stored_match(path: str, mtime: float) -> Match:
    return replay.load_match(Path(path))


def get_match(source: str) -> Match:
    if source == DEMO:
        return demo_match()
    if source == REAL:
        return real_match()
    path = Path(source)
    if not path.is_file():
        raise SoccerAIError("match file has gone", path)
    return stored_match(source, path.stat().st_mtime)


@st.cache_data(show_spinner=False, max_entries=8, ttl=60)
def summaries(store: str) -> pl.DataFrame:
    """One row per stored match (teams, date, score, ...): :func:`soccerai.replay.match_summaries`."""
    if hasattr(replay, "match_summaries"):
        return replay.match_summaries(Path(store))
    paths = replay.list_matches(Path(store))  # until match_summaries lands: file names only
    return pl.DataFrame({"path": [str(p) for p in paths], "label": [p.stem for p in paths]})


def match_label(row: dict[str, Any]) -> str:
    """'Home v Away · date · score · provider' from a :func:`summaries` row."""
    if "home" not in row:
        return str(row.get("label", row["path"]))
    parts = [f"{row['home']} v {row['away']}", row.get("date"), row.get("score"), row.get("provider")]
    text = " · ".join(str(p) for p in parts if p not in (None, ""))
    return text + (" (simulated)" if row.get("simulated") else "")


# ----------------------------------------------------------------------------------------------------------------
# Timeline and match clock


@st.cache_data(show_spinner="Finding shots and attacks...", max_entries=16, ttl=TTL_S)
def timeline(source: str) -> list[replay.Moment]:
    """Time-ordered moments of the match (:func:`soccerai.replay.timeline`)."""
    match = get_match(source)
    if hasattr(replay, "timeline"):
        return list(replay.timeline(match))
    return sorted(replay.list_moments(match), key=lambda m: (m.period, m.frame))


@st.cache_data(show_spinner=False, max_entries=16, ttl=TTL_S)
def periods(source: str) -> dict[int, tuple[int, int]]:
    """``{period: (first frame, last frame)}`` of the match's tracking."""
    spans = (get_match(source).tracking.group_by("period").agg(pl.col("frame").min().alias("lo"),
                                                               pl.col("frame").max().alias("hi")).sort("period"))
    return {int(r["period"]): (int(r["lo"]), int(r["hi"])) for r in spans.iter_rows(named=True)}


def rate(source: str) -> float:
    return float(get_match(source).metadata.frame_rate)


def period_seconds(source: str, period: int, frame: int) -> float:
    """Seconds since the period's first tracked frame."""
    return (frame - periods(source)[period][0]) / rate(source)


def clock_text(source: str, period: int, frame: int) -> str:
    """The mm:ss match clock of a frame (:func:`soccerai.replay.format_clock`)."""
    seconds = period_seconds(source, period, frame)
    if hasattr(replay, "format_clock"):
        return replay.format_clock(period, seconds)
    total = 45 * 60 * (period - 1) + max(0.0, seconds)  # until format_clock lands
    return f"{int(total // 60):02d}:{total % 60:04.1f}"


def moment_frame(moment: replay.Moment) -> int:
    return int(moment.frame)


def timeline_table(source: str) -> pl.DataFrame:
    """What the timeline list shows: clock, kind, event / detected, label."""
    rows = []
    for m in timeline(source):
        rows.append({"clock": getattr(m, "clock", None) or clock_text(source, m.period, m.frame),
                     "what": m.kind, "team": m.team,
                     "source": getattr(m, "source", "detected" if "detected" in m.label else "event"),
                     "label": m.label})
    return pl.DataFrame(rows, schema={"clock": pl.String, "what": pl.String, "team": pl.String, "source": pl.String,
                                      "label": pl.String})


# ----------------------------------------------------------------------------------------------------------------
# Scenes: a view of the match around a point, with edits; surfaces of one frame


@dataclass(frozen=True)
class View:
    """Which slice of which match is on screen: ``center`` is the provider frame the view was opened at."""

    source: str
    period: int
    center: int
    team: str


def _attacking_team(match: Match, period: int, frame: int) -> str:
    """The team owning the ball nearest ``frame`` (home when no row says)."""
    near = (match.tracking.filter((pl.col("period") == period) & pl.col("frame").is_between(frame - 50, frame + 50)
                                  & pl.col("ball_owning_team").is_in(["home", "away"]))
            .with_columns((pl.col("frame") - frame).abs().alias("d")).sort("d").head(1))
    return str(near["ball_owning_team"][0]) if near.height else "home"


def view_at(source: str, period: int, frame: int, team: str | None = None) -> View:
    return View(source, period, int(frame), team or _attacking_team(get_match(source), period, int(frame)))


@st.cache_data(show_spinner="Cutting the scene...", max_entries=SCENE_CACHE, ttl=TTL_S)
def scene(view: View, edits: tuple[Edit, ...] = ()) -> replay.Scene:
    """The scene of a view (:func:`soccerai.replay.scene_at`), with the what-if edits applied in order."""
    match = get_match(view.source)
    if hasattr(replay, "scene_at"):
        base = replay.scene_at(match, view.period, period_seconds(view.source, view.period, view.center),
                               BEFORE_S, AFTER_S)
    else:  # until scene_at lands: a moment at the view's centre
        base = replay.scene_for_moment(match, replay.Moment("", "view", view.period, view.center, view.team),
                                       BEFORE_S, AFTER_S)
    for frame, agent, x, y, vx, vy in edits:
        base = replay.edit_player(base, index_of(base, frame), agent, (x, y), (vx, vy))
    return base


def index_of(view: replay.Scene, frame: int) -> int:
    """The scene index nearest a provider frame."""
    return int(np.argmin(np.abs(np.asarray(view.frames) - frame)))


@dataclass
class FrameSurfaces:
    control: np.ndarray  # [ny, nx]
    obso: np.ndarray  # [ny, nx]
    player_obso: np.ndarray  # [23]
    grid: Grid


@st.cache_data(show_spinner=False, max_entries=SURFACE_CACHE, ttl=TTL_S)
def surfaces_at(view: View, edits: tuple[Edit, ...], index: int, grid: tuple[int, int],
                score_model: str) -> FrameSurfaces:
    """Pitch control, OBSO and each player's OBSO at one scene frame (:func:`soccerai.replay.scene_surfaces` of
    that frame): an overlay toggle or a frame step costs one frame of OBSO, never the whole scene."""
    whole = scene(view, edits)
    one = replace(whole, positions=whole.positions[index : index + 1], velocities=whole.velocities[index : index + 1],
                  valid=whole.valid[index : index + 1], frames=whole.frames[index : index + 1], key_index=0)
    maps = replay.scene_surfaces(one, Grid(*grid, *whole.pitch), score_model, 1)
    return FrameSurfaces(maps.control[0], maps.obso[0], maps.player_obso[0], maps.grid)


# ----------------------------------------------------------------------------------------------------------------
# Models: loaded once per process


@st.cache_resource(show_spinner="Loading the model (once per server)...", max_entries=4)
def load_model(choice: str) -> TrajectoryModel:
    """The model behind a :func:`model_choices` entry or a checkpoint folder; the pretrained GVRNN by name."""
    if choice == BASELINE:
        return build_model("constant_velocity")
    return pretrained.load(choice)[0]


def model_choices() -> list[str]:
    """The shipped pretrained models first (by name), the baseline, checkpoints under the output folder, and
    :data:`OTHER` (which opens a folder field)."""
    found = [str(p) for p in replay.find_checkpoints(output_dir())]
    return [*pretrained.available(), BASELINE, *found, OTHER]


def model_label(choice: str) -> str:
    return Path(choice).name if choice not in (BASELINE,) else "constant velocity"


# ----------------------------------------------------------------------------------------------------------------
# Session state: the match, the one clock, edits and simulation runs


def state() -> Any:
    return st.session_state


def current_view() -> View | None:
    return state().get("view")


def edits_of(view: View) -> tuple[Edit, ...]:
    return tuple(state().setdefault("edits", {}).get(view, ()))


def set_edits(view: View, edits: tuple[Edit, ...]) -> None:
    state().setdefault("edits", {})[view] = list(edits)


def open_match(source: str) -> None:
    """Show ``source`` from its first moment (or its first tracked frame when it has none)."""
    state()["source"] = source
    found = timeline(source)
    if found:
        jump_to(found[0])
    else:
        period = min(periods(source))
        lo, hi = periods(source)[period]
        go_to(period, min(hi, lo + int(BEFORE_S * rate(source))))
    state().pop("selected", None)


def jump_to(moment: replay.Moment) -> None:
    """Open a view on ``moment``; the clock stands 4 s before it (where a simulation of it starts)."""
    source = state()["source"]
    view = view_at(source, moment.period, moment_frame(moment), moment.team)
    state()["view"] = view
    lo = periods(source)[moment.period][0]
    state()["clock"] = max(lo, moment_frame(moment) - int(4 * rate(source)))
    state()["moment_label"] = moment.label


def go_to(period: int, frame: int) -> None:
    """Move the clock to ``frame``; a new view is cut when the frame is outside the current one."""
    source = state()["source"]
    lo, hi = periods(source)[period]
    frame = int(min(max(frame, lo), hi))
    view = current_view()
    margin = int(1 * rate(source))
    span_lo = view.center - int(BEFORE_S * rate(source)) + margin if view else 0
    span_hi = view.center + int(AFTER_S * rate(source)) - margin if view else -1
    if view is None or view.period != period or not span_lo <= frame <= span_hi:
        state()["view"] = view_at(source, period, frame)
        state()["moment_label"] = None
    state()["clock"] = frame


def clock_index(view_scene: replay.Scene) -> int:
    return index_of(view_scene, int(state()["clock"]))


def select_player(agent: int | None) -> None:
    state()["selected"] = agent


def on_pitch_click() -> None:
    """A click on the pitch: a player selects him; an empty spot places the selected player there (an edit at
    the clock's frame, keeping his velocity)."""
    event = state().get("pitch")
    points = event["selection"]["points"] if event else []
    if not points or current_view() is None:
        return
    point = points[0]
    data = point.get("customdata")
    data = data[0] if isinstance(data, list) and data else data
    if data is None:  # a simulated path or another trace without a player
        return
    if int(data) >= 0:  # players carry their agent index, the click lattice -1
        select_player(int(data))
    elif state().get("selected") is not None:
        view = current_view()
        place(scene(view, edits_of(view)), int(state()["selected"]), float(point["x"]), float(point["y"]))


def place(view_scene: replay.Scene, agent: int, x: float, y: float, velocity: tuple[float, float] | None = None) -> \
        str | None:
    """Add the edit 'agent at (x, y) at the clock's frame'; returns an error line when the edit is refused."""
    view = current_view()
    index = clock_index(view_scene)
    vx, vy = velocity if velocity is not None else view_scene.velocities[index, agent]
    edit: Edit = (int(view_scene.frames[index]), int(agent), round(x, 1), round(y, 1), float(vx), float(vy))
    try:
        replay.edit_player(view_scene, index, agent, edit[2:4], edit[4:])
    except SoccerAIError as exc:
        state()["edit_error"] = str(exc)
        return str(exc)
    set_edits(view, (*edits_of(view), edit))
    state()["edit_error"] = None
    return None


def undo_edit() -> None:
    view = current_view()
    set_edits(view, edits_of(view)[:-1])


def clear_edits() -> None:
    set_edits(current_view(), ())


@dataclass
class Run:
    """One simulation the user asked for, kept in the session (never re-sampled on a rerun or an export)."""

    label: str
    view: View
    edits: tuple[Edit, ...]
    model: str
    simulation: replay.Simulation
    cobso: Any


def runs() -> list[Run]:
    return state().setdefault("runs", [])


def add_run(run: Run) -> None:
    kept = [*runs(), run][-MAX_RUNS:]
    state()["runs"] = kept


def resolve_model(choice: str, folder: str) -> str:
    """The one model the Model control names: the dropdown, or the typed folder when the dropdown says
    :data:`OTHER` (a typed folder never overrides another choice)."""
    if choice != OTHER:
        return choice
    if not folder.strip():
        raise InvalidParameterError("type a checkpoint folder (or pick a model from the list)")
    return str(pretrained.resolve(folder.strip()))


def source_banner(view_scene: replay.Scene, provider: str | None = None) -> None:
    """Say loudly whether the tracking is simulated, and that broadcast tracking hides players out of view."""
    from soccerai.end_to_end_demo import REAL_SOURCE

    if view_scene.simulated:
        st.warning("**Simulated tracking** (soccerai's match synthesizer), not measured play.", icon="🧪")
    elif provider == "skillcorner":
        st.info(REAL_SOURCE, icon="📺")
    else:
        st.caption(f"Real tracking ({provider or 'provider'}).")


# ----------------------------------------------------------------------------------------------------------------
# Who is who


def roles_at(view_scene: replay.Scene, index: int, horizon: int = 40) -> dict[str, int]:
    """``{"shooter": agent, "A1": agent, "D1": agent, "D2": agent}`` at a frame (:func:`soccerai.replay.roles`);
    empty where the frame has no ball or no off-ball attacker in the attacking third."""
    if hasattr(replay, "roles"):
        found = replay.roles(view_scene, index)
        return {k: int(v) for k, v in (found.items() if isinstance(found, dict) else vars(found).items())
                if isinstance(v, int | np.integer)}
    try:  # until roles lands: the C-OBSO setup of soccerai.replay.default_agents
        a1, d1, d2 = replay.default_agents(view_scene, index, horizon)[:3]
        return {"shooter": replay.shooter_at(view_scene, index), "A1": a1, "D1": d1, "D2": d2}
    except (SoccerAIError, ValueError):
        return {}


def player_name(view_scene: replay.Scene, agent: int) -> str:
    side = "attack" if agent < replay.N_PER_TEAM else "defence"
    return f"#{view_scene.labels[agent]} ({side})"


# ----------------------------------------------------------------------------------------------------------------
# The pitch: one frame, clickable


PITCH_HEIGHT = 470
CONTROL_SCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
"""Pitch control: a diverging blue-white-red map (ColorBrewer RdBu, colour-blind safe), opaque over the grass."""
OBSO_TOP = 0.004
"""OBSO colour scale: 0 .. this (per grid cell) for every play, so two plays compare by eye."""
SPOT_STEP_M = 2.0
"""Spacing of the invisible click targets that let a click anywhere on the pitch place the selected player."""


def frame_figure(view_scene: replay.Scene, index: int, *, trail: int = 10, velocities: bool = True,
                 surface: str = "none", maps: FrameSurfaces | None = None, simulation: replay.Simulation | None = None,
                 marks: dict[str, int] | None = None, selected: int | None = None, title: str = "",
                 height: int = PITCH_HEIGHT, teams: tuple[str, str] = ("attack", "defence")):
    """The pitch at one scene frame: players (jersey inside the marker), trails, 1 s velocity arrows, the ball,
    the roles (shooter / A1 / D1 / D2 ringed and named), the selected player, an optional opaque surface, the
    simulated futures, and a lattice of invisible click targets. One frame only: a frame step redraws ~30 kB."""
    import plotly.graph_objects as go

    length, width = view_scene.pitch
    pos, ok = view_scene.positions[index], view_scene.valid[index]
    traces: list = []
    if surface != "none" and maps is not None:
        xs = np.linspace(-length / 2, length / 2, maps.control.shape[1])
        ys = np.linspace(-width / 2, width / 2, maps.control.shape[0])
        if surface == "pitch control":
            traces.append(go.Heatmap(
                x=xs, y=ys, z=maps.control, zmin=0, zmax=1, colorscale=CONTROL_SCALE, zsmooth="best", hoverinfo="skip",
                colorbar={"title": {"text": "pitch control", "side": "right"}, "len": 0.8, "thickness": 12,
                          "tickvals": [0, 0.5, 1], "ticktext": [f"{teams[1]}", "even", f"{teams[0]}"]}))
        else:
            traces.append(go.Heatmap(
                x=xs, y=ys, z=np.clip(maps.obso, 0, OBSO_TOP), zmin=0, zmax=OBSO_TOP, colorscale="Viridis",
                zsmooth="best", hoverinfo="skip",
                colorbar={"title": {"text": "OBSO per cell", "side": "right"}, "len": 0.8, "thickness": 12,
                          "tickformat": ".1%"}))
    if simulation is not None:
        traces += replay.simulation_traces(simulation, view_scene)
    lo = max(0, index - trail)
    for team, agents, colour in (("attack", range(replay.N_PER_TEAM), replay.ATTACK_COLOUR),
                                 ("defence", range(replay.N_PER_TEAM, 2 * replay.N_PER_TEAM), replay.DEFENCE_COLOUR)):
        idx = [k for k in agents if ok[k]]
        if trail > 0:
            xs, ys = [], []
            for k in idx:
                path = view_scene.positions[lo : index + 1, k]
                xs += [*path[:, 0].tolist(), None]
                ys += [*path[:, 1].tolist(), None]
            traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1.5}, opacity=0.6,
                                     hoverinfo="skip", showlegend=False))
        if velocities:
            xs, ys = [], []
            for k in idx:
                xs += [pos[k, 0], pos[k, 0] + view_scene.velocities[index, k, 0], None]
                ys += [pos[k, 1], pos[k, 1] + view_scene.velocities[index, k, 1], None]
            traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#ffd92f", "width": 2},
                                     hoverinfo="skip", showlegend=False))
        traces.append(go.Scatter(
            x=pos[idx, 0], y=pos[idx, 1], mode="markers+text", name=team,
            text=[view_scene.labels[k] for k in idx], textposition="middle center",
            textfont={"color": "white", "size": 9},
            marker={"size": 17, "color": colour, "line": {"color": "white", "width": 1}},
            customdata=np.asarray(idx, dtype=np.int16),
            selected={"marker": {"opacity": 1}}, unselected={"marker": {"opacity": 1}},
            hovertemplate=[f"{player_name(view_scene, k)}<extra>click to select</extra>" for k in idx]))
    if ok[replay.BALL_INDEX]:
        ball = pos[replay.BALL_INDEX]
        traces.append(go.Scatter(x=[ball[0]], y=[ball[1]], mode="markers", name="ball", hoverinfo="skip",
                                 marker={"size": 9, "color": "white", "line": {"color": "black", "width": 1.5}}))
    ringed = {**(marks or {})}
    if selected is not None and ok[selected]:
        ringed = {**ringed, "selected": selected}
    for name, agent in ringed.items():
        if not ok[agent]:
            continue
        colour = "#00e5ff" if name == "selected" else "black"
        traces.append(go.Scatter(x=[pos[agent, 0]], y=[pos[agent, 1]], mode="markers+text", hoverinfo="skip",
                                 text=[name], textposition="bottom center",
                                 textfont={"color": colour if name == "selected" else "white", "size": 11},
                                 marker={"size": 27, "color": "rgba(0,0,0,0)", "line": {"color": colour, "width": 3}},
                                 name=f"{name} {player_name(view_scene, agent)}", showlegend=False))
    gx, gy = np.meshgrid(np.arange(-length / 2, length / 2 + 1e-6, SPOT_STEP_M),
                         np.arange(-width / 2, width / 2 + 1e-6, SPOT_STEP_M))
    spots = np.stack([gx.ravel(), gy.ravel()], axis=1)
    players_xy = pos[: replay.BALL_INDEX][ok[: replay.BALL_INDEX]]
    if len(players_xy):  # near a player, a click picks the player, never the spot under him
        near = np.linalg.norm(spots[:, None] - players_xy[None], axis=2).min(axis=1)
        spots = spots[near > SPOT_STEP_M]
    traces.append(go.Scatter(x=spots[:, 0].round(1), y=spots[:, 1].round(1), mode="markers", name="spot",
                             marker={"size": 9, "color": "rgba(0,0,0,0)"}, showlegend=False,
                             selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
                             customdata=np.full(len(spots), -1, dtype=np.int16),
                             hovertemplate="(%{x:.1f}, %{y:.1f}) m<extra>click to place the selected player</extra>"))
    fig = go.Figure(data=traces)
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.01, "y": 0.98}, shapes=replay.pitch_shapes(length, width),
        plot_bgcolor=replay.PITCH_COLOUR, height=height, showlegend=False, uirevision="pitch",
        xaxis={"range": [-length / 2 - 2, length / 2 + 2], "visible": False, "fixedrange": True},
        yaxis={"range": [-width / 2 - 2, width / 2 + 2], "visible": False, "scaleanchor": "x", "fixedrange": True},
        margin={"l": 4, "r": 4, "t": 30, "b": 4}, hoverlabel={"namelength": -1},
    )
    return fig


# ----------------------------------------------------------------------------------------------------------------
# Pickers


def upload_box() -> None:
    """Sidebar uploader: a size-limited soccerai parquet match, validated before it joins the store."""
    upload = st.sidebar.file_uploader("Add a match (.parquet)", type=["parquet"], key="upload")
    if upload is None or state().get("uploaded_name") == upload.name:
        return
    state()["uploaded_name"] = upload.name
    saved = guarded(lambda: replay.save_upload(upload.name, upload.getvalue(), store_dir()), "Upload refused")
    if saved is not None:
        summaries.clear()
        st.sidebar.success(f"added {saved.name}")


def match_options() -> tuple[list[str], dict[str, str]]:
    """Every match one can open (stored files, the real SkillCorner match, the simulated demo) and its label
    (teams, date, score)."""
    table = guarded(lambda: summaries(str(store_dir())), "Cannot list the store")
    rows = list(table.iter_rows(named=True)) if table is not None else []
    labels = {str(r["path"]): match_label(r) for r in rows}
    if real_available():
        labels[REAL] = "FC Bayern München v Borussia Dortmund · 2019-11-09 · real SkillCorner broadcast tracking"
    labels[DEMO] = "Simulated demo match (synthesizer, Metrica Game 1 events)"
    return list(labels), labels


def pick_match() -> str | None:
    """Sidebar: the match picker. An empty store opens the real SkillCorner match (else the demo); with stored
    matches the page opens on the picker, nothing chosen."""
    upload_box()
    options, labels = match_options()
    stored = [o for o in options if o not in (REAL, DEMO)]
    if "source" not in state() and not stored:
        open_match(options[0])
    current = state().get("source")

    def changed() -> None:
        chosen = state().get("match")
        if chosen is not None and chosen != state().get("source"):
            guarded(lambda: open_match(chosen), "Cannot open this match")

    st.sidebar.selectbox("Match (teams · date · score)", options,
                         index=options.index(current) if current in options else None, format_func=lambda s: labels[s],
                         key="match", on_change=changed, placeholder="Choose a match",
                         help=f"stored matches ({store_dir()}), the real SkillCorner match and a simulated demo")
    if not stored:
        st.sidebar.caption("The store is empty: the **real** SkillCorner match is open (its shots found in the "
                           "tracking, marked *detected*)." if current == REAL else "The store is empty.")
    return current
