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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
import streamlit as st

from soccerai import replay
from soccerai.cli.demo import REAL_SOURCE, real_match_files
from soccerai.config import metrica_events_dir, output_dir, store_dir
from soccerai.errors import InvalidParameterError, SoccerAIError
from soccerai.evaluate.pitch_control import Grid
from soccerai.io import load_match
from soccerai.match.schema import Match
from soccerai.models import build_model
from soccerai.models.base import TrajectoryModel
from soccerai.synth import synthesize_match
from soccerai.training import pretrained

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
    events = metrica_events_dir() / "Sample_Game_1_RawEventsData.csv"
    return synthesize_match(events if events.is_file() else None, seed=0, duration_s=seconds)


@st.cache_resource(show_spinner="Reading the real SkillCorner match...", max_entries=1)
def real_match() -> Match:
    """The real SkillCorner match (data folder, else the installed kloppy package's test files)."""
    return load_match(real_match_files())


@st.cache_resource(show_spinner=False)
def real_available() -> bool:
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
    return replay.match_summaries(Path(store))


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
    return list(replay.timeline(get_match(source)))


@st.cache_data(show_spinner=False, max_entries=16, ttl=TTL_S)
def periods(source: str) -> dict[int, tuple[int, int]]:
    """``{period: (first frame, last frame)}`` of the match's tracking."""
    spans = (get_match(source).tracking.group_by("period").agg(pl.col("frame").min().alias("lo"),
                                                               pl.col("frame").max().alias("hi")).sort("period"))
    return {int(r["period"]): (int(r["lo"]), int(r["hi"])) for r in spans.iter_rows(named=True)}


@st.cache_data(show_spinner=False, max_entries=16, ttl=TTL_S)
def period_lengths(source: str) -> dict[int, float]:
    """``{period: seconds}``: the last tracked time of each period."""
    times = replay.frame_times(get_match(source).tracking).group_by("period").agg(pl.col("time_s").max())
    return {int(r["period"]): float(r["time_s"] or 0.0) for r in times.iter_rows(named=True)}


def rate(source: str) -> float:
    return float(get_match(source).metadata.frame_rate)


def clock_text(view_scene: replay.Scene, index: int, tenths: bool = True) -> str:
    """The mm:ss match clock at a scene frame (:meth:`soccerai.replay.Scene.clock`), with tenths of a second."""
    text = view_scene.clock(index)
    if tenths and view_scene.times is not None and np.isfinite(view_scene.times[index]):
        text += f".{int(view_scene.times[index] * 10) % 10}"
    return text


def moment_frame(moment: replay.Moment) -> int:
    return int(moment.frame)


def timeline_table(source: str) -> pl.DataFrame:
    """What the timeline list shows: goals first (with the scorer's name), then every moment in time order; clock,
    kind ("goal" / "shot" / "attack"), team name, event / detected; ``index`` is the moment's place in
    :func:`timeline`."""
    from soccerai.match.names import player_names

    match = get_match(source)
    names = player_names(match.players)
    rows = []
    for i, m in enumerate(timeline(source)):
        team = replay.team_name(match.metadata, m.team)
        who = names.get(m.player, m.player) if m.is_goal and m.player else None
        rows.append({"index": i, "clock": m.clock, "what": "goal" if m.is_goal else m.kind,
                     "team": f"{team} ({who})" if who else team, "source": m.source, "label": m.label})
    table = pl.DataFrame(rows, schema={"index": pl.Int64, "clock": pl.String, "what": pl.String, "team": pl.String,
                                       "source": pl.String, "label": pl.String})
    return pl.concat([table.filter(pl.col("what") == "goal"), table.filter(pl.col("what") != "goal")])


# ----------------------------------------------------------------------------------------------------------------
# Scenes: a view of the match around a point, with edits; surfaces of one frame


@dataclass(frozen=True)
class View:
    """Which slice of which match is on screen: ``center`` is the provider frame the view was opened at."""

    source: str
    period: int
    center: int
    team: str


def view_at_time(source: str, period: int, seconds: float) -> View:
    """A view at ``seconds`` into ``period`` (:func:`soccerai.replay.scene_at`: the team on the ball attacks)."""
    found = replay.scene_at(get_match(source), period, seconds, BEFORE_S, AFTER_S)
    return View(source, period, int(found.frames[found.key_index]), found.attacking_team)


@st.cache_data(show_spinner="Cutting the scene...", max_entries=SCENE_CACHE, ttl=TTL_S)
def scene(view: View, edits: tuple[Edit, ...] = ()) -> replay.Scene:
    """The scene of a view (:func:`soccerai.replay.scene_at`), with the what-if edits applied in order."""
    match = get_match(view.source)
    base = replay.scene_for_moment(match, replay.Moment("", "free", view.period, view.center, view.team),
                                   BEFORE_S, AFTER_S)
    listed = replay.EditList()
    for frame, agent, x, y, vx, vy in edits:
        listed = listed.add(agent, index_of(base, frame), (x, y), (vx, vy))
    return listed.apply(base)


def index_of(view: replay.Scene, frame: int) -> int:
    """The scene index nearest a provider frame."""
    return int(np.argmin(np.abs(np.asarray(view.frames) - frame)))


@dataclass
class FrameSurfaces:
    control: np.ndarray  # [ny, nx]
    obso: np.ndarray  # [ny, nx]
    player_obso: np.ndarray  # [23]
    grid: Grid
    index: int
    """The scene frame the surfaces were computed at: the clock's, or the nearest usable one where the clock's
    frame has no tracked ball (:func:`soccerai.replay.frame_surfaces`)."""


@st.cache_data(show_spinner=False, max_entries=SURFACE_CACHE, ttl=TTL_S)
def surfaces_at(view: View, edits: tuple[Edit, ...], index: int, grid: tuple[int, int],
                score_model: str) -> FrameSurfaces:
    """Pitch control, OBSO and each player's OBSO at one scene frame (:func:`soccerai.replay.frame_surfaces`):
    an overlay toggle or a frame step costs one frame of OBSO, never the whole scene. ``score_model=""``: pitch
    control only (OBSO NaN), for the pitch-control overlay."""
    whole = scene(view, edits)
    maps, used = replay.frame_surfaces(whole, index, Grid.over(whole.pitch, *grid), score_model or None)
    return FrameSurfaces(maps.control[0], maps.obso[0], maps.player_obso[0], maps.grid, used)


@st.cache_data(show_spinner=False, max_entries=SURFACE_CACHE, ttl=TTL_S)
def player_obso_at(view: View, edits: tuple[Edit, ...], index: int) -> np.ndarray:
    """Each agent's OBSO ``[23]`` at one scene frame (:func:`soccerai.replay.frame_obso`), for the players table:
    computed once per frame, not on every rerun."""
    return replay.frame_obso(scene(view, edits), index)


CLIP_SURFACE_STRIDE = 5
"""The animated pitch's surfaces are computed every 5th frame (2 Hz) and held in between."""


@st.cache_data(show_spinner=False, max_entries=SCENE_CACHE, ttl=TTL_S)
def clip_surfaces(view: View, edits: tuple[Edit, ...], grid: tuple[int, int], score_model: str) -> np.ndarray:
    """Pitch control and OBSO of the whole clip ``[2, F, ny, nx]`` at 2 Hz (:func:`soccerai.replay.scene_surfaces`,
    stride :data:`CLIP_SURFACE_STRIDE`): what the browser animates with the pitch. ``score_model=""``: pitch
    control only (OBSO NaN: its score model is most of its cost)."""
    whole = scene(view, edits)
    maps = replay.scene_surfaces(whole, Grid.over(whole.pitch, *grid), score_model or None, CLIP_SURFACE_STRIDE)
    return np.stack([maps.control, maps.obso]).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# Models: loaded once per process


@st.cache_resource(show_spinner="Loading the model (once per server)...", max_entries=4)
def load_model(choice: str) -> TrajectoryModel:
    """The model behind a :func:`model_choices` entry or a checkpoint folder; the pretrained GVRNN by name."""
    if choice == BASELINE:
        return build_model("constant_velocity")
    return replay.load_model(choice)


@st.cache_resource(show_spinner=False)
def _warmed() -> set[str]:
    return set()


def warm_model(choice: str, view_scene: replay.Scene, index: int) -> None:
    """Load ``choice`` and draw one tiny sample in a background thread, once per process: torch's first forward
    pass costs seconds, which the analyst's first "Run simulation" should not pay."""
    import threading

    done = _warmed()
    if choice in done or choice in (OTHER, BASELINE):
        return
    done.add(choice)
    agents = [k for k in range(replay.BALL_INDEX) if view_scene.valid[index, k]][:1]

    def run() -> None:
        try:
            replay.simulate(replay.load_model(choice), view_scene, index, agents, 2, 5)  # the process's one copy
        except Exception:  # noqa: BLE001 - warming is best effort; the real run reports any error
            done.discard(choice)

    if agents:
        threading.Thread(target=run, daemon=True, name=f"warm-{Path(choice).name}").start()


def model_choices() -> list[str]:
    """The shipped pretrained models first (by name), the baseline, checkpoints under the output folder, and
    :data:`OTHER` (which opens a folder field)."""
    found = [str(p) for p in replay.find_checkpoints(output_dir())]
    shipped = sorted(pretrained.available(), key=lambda name: name != pretrained.DEFAULT_MODEL)  # default first
    return [*shipped, BASELINE, *found, OTHER]


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
    """Show ``source`` from its first moment (or its first tracked frame when it has none). Everything keyed to
    the old match goes: edits, simulation runs, the comparison, the selection, made exports, banners."""
    for key in ("runs", "edits", "compare", "cmp_a", "cmp_b", "selected", "edit_error", "png", "gif", "mp4",
                "export_key", "goto_error"):
        state().pop(key, None)
    state()["source"] = source
    found = timeline(source)
    if found:
        jump_to(found[0])
    else:  # no shots or attacks (a provider sample): open its first seconds
        view = view_at_time(source, min(periods(source)), BEFORE_S)
        state()["view"], state()["clock"], state()["moment_label"] = view, view.center, None
    state().pop("selected", None)


def jump_to(moment: replay.Moment) -> None:
    """Open a view on ``moment``; the clock stands 4 s before it (where a simulation of it starts)."""
    source = state()["source"]
    view = View(source, moment.period, moment_frame(moment), moment.team)
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
        state()["view"] = View(source, period, frame, view.team if view else "home")
        state()["moment_label"] = None
    state()["clock"] = frame


def go_to_time(period: int, seconds: float) -> None:
    """Free navigation: a new view at ``seconds`` into ``period``, the clock on it."""
    view = view_at_time(state()["source"], period, seconds)
    state()["view"], state()["clock"], state()["moment_label"] = view, view.center, None


def clock_index(view_scene: replay.Scene) -> int:
    return index_of(view_scene, int(state()["clock"]))


def step_clock(view_scene: replay.Scene, period: int, seconds: float) -> None:
    """Move the clock ``seconds`` of match time, always onto a frame the scene shows.

    Broadcast tracking has gaps (frames with nobody tracked are dropped, e.g. 2698-2745 of the real match around
    its 02:13 shot). A step of ``round(seconds * rate)`` provider frames whose nearest shown frame is the one on
    screen would leave the pitch unmoved, so it moves one shown frame in the step's direction instead (across the
    gap). Outside the scene the clock goes to the provider frame and :func:`go_to` cuts a new view there."""
    frames = np.asarray(view_scene.frames)
    target = int(state()["clock"]) + int(round(seconds * rate(state()["source"])))
    if frames[0] <= target <= frames[-1]:
        now, to = clock_index(view_scene), index_of(view_scene, target)
        if to == now:
            to = int(min(max(now + (1 if seconds > 0 else -1), 0), len(frames) - 1))
        target = int(frames[to])
    go_to(period, target)


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
    if int(data) >= 0:  # players carry their agent index (and the animation frame), the click lattice -1
        select_player(int(data))
        frame = point.get("customdata")
        if isinstance(frame, list) and len(frame) > 2 and frame[2] is not None:  # clicked while the clip played
            view = current_view()
            shown = scene(view, edits_of(view))
            go_to(view.period, int(shown.frames[int(np.clip(int(frame[2]), 0, len(shown) - 1))]))
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
    earlier = edits_of(view)
    if any(e[:4] == edit[:4] for e in earlier[-1:]) or (
            np.allclose(view_scene.positions[index, agent], edit[2:4], atol=0.05)):
        state()["edit_error"] = None  # a repeated click (or the player's own spot) adds nothing
        return None
    set_edits(view, (*earlier, edit))
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
    baseline: replay.Simulation | None = None
    """Constant velocity from the same frame for the same agents (one sample): "did it do better than running
    straight on?"."""


def verdict(run: Run) -> str | None:
    """One line in words comparing an edited run with the newest unedited run from the same start frame
    (:func:`soccerai.replay.what_if_verdict`); None when there is no such pair."""
    if not run.edits:
        return None
    base = next((r for r in reversed(runs()) if r.view == run.view and not r.edits
                 and r.simulation.start == run.simulation.start), None)
    if base is None:
        return None
    plain = scene(run.view, ())
    moved = []
    for frame, agent, x, y, _, _ in run.edits:
        before = plain.positions[index_of(plain, frame), agent]
        moved.append((replay.player_info(plain, agent).label() if replay.player_info(plain, agent) else
                      f"#{plain.labels[agent]}", float(np.hypot(x - before[0], y - before[1]))))
    shooter = None
    if base.cobso is not None and run.cobso is not None:
        shooter = (float(base.cobso.predicted_obso.mean()), float(run.cobso.predicted_obso.mean()))
    return replay.what_if_verdict(base.simulation, run.simulation, moved, shooter)


def runs() -> list[Run]:
    """The session's runs of the open match (runs of another match are dropped)."""
    kept = [r for r in state().setdefault("runs", []) if r.view.source == state().get("source")]
    state()["runs"] = kept
    return kept


def shown_run(view: View) -> Run | None:
    """The newest run that applies to what is on the pitch: same view, same edits (after an Undo the predictions
    made with the moved player are no longer drawn)."""
    edits = edits_of(view)
    return next((r for r in reversed(runs()) if r.view == view and r.edits == edits), None)


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
    if view_scene.simulated:
        st.warning("**Simulated tracking** (soccerai's match synthesizer), not measured play.", icon="🧪")
    elif provider == "skillcorner":
        st.info(REAL_SOURCE, icon=":material/videocam:")
    else:
        st.caption(f"Real tracking ({provider or 'provider'}).")


# ----------------------------------------------------------------------------------------------------------------
# Who is who


@st.cache_data(show_spinner=False, max_entries=SURFACE_CACHE, ttl=TTL_S)
def roles_at(view: View, edits: tuple[Edit, ...], index: int) -> replay.Roles:
    """The roles at a scene frame (:func:`soccerai.replay.roles`)."""
    return replay.roles(scene(view, edits), index)


def player_name(view_scene: replay.Scene, agent: int) -> str:
    """``"Müller (#25, RW) - FC Bayern"`` from the metadata (:func:`soccerai.replay.player_info`)."""
    info = replay.player_info(view_scene, agent)
    return f"{info.label()} - {info.team}" if info is not None else f"#{view_scene.labels[agent]}"


# ----------------------------------------------------------------------------------------------------------------
# The pitch: one frame, clickable


PITCH_HEIGHT = 560
"""The animated pitch with its play buttons and slider below."""


def pitch_overlays(view_scene: replay.Scene, index: int, options: dict, maps: FrameSurfaces | None,
                   roles: replay.Roles | None = None, selected: int | None = None,
                   clip: np.ndarray | None = None) -> replay.Overlays:
    """What the pitch draws at scene frame ``index``: the View tab's trails and arrows, the one-frame surface of
    ``maps`` (NaN on the other frames) when a surface is chosen, the ringed roles and the selected player."""
    overlays = replay.Overlays(trail_frames=options["trail"], velocities=options["velocities"], roles=roles,
                               selected=selected)
    if maps is not None and options["surface"] != "none":
        layer = np.full((len(view_scene), *maps.control.shape), np.nan)
        layer[index] = maps.control if options["surface"] == "pitch control" else maps.obso
        if clip is not None:  # the browser animates the whole clip: every frame its (held, 2 Hz) surface
            layer = clip[0 if options["surface"] == "pitch control" else 1].astype(float)
            layer[index] = maps.control if options["surface"] == "pitch control" else maps.obso
        overlays.surface, overlays.surface_name = layer, options["surface"]
    return overlays


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
    stored_real = any("2019-11-09" in str(r.get("date") or "") and "skillcorner" in str(r.get("provider") or "").lower()
                      for r in rows)
    if real_available() and not stored_real:  # the store's copy of the real match is the one entry for it
        labels[REAL] = "FC Bayern München v Borussia Dortmund · 2019-11-09 · real SkillCorner broadcast tracking"
    labels[DEMO] = "Simulated demo match (synthesizer, Metrica Game 1 events)"
    return list(labels), labels


def pick_match() -> str | None:
    """Sidebar: the match picker. An empty store opens the real SkillCorner match (else the demo); with stored
    matches the page opens on the picker, nothing chosen."""
    upload_box()
    options, labels = match_options()
    stored = [o for o in options if o not in (REAL, DEMO)]
    if "source" not in state() and len(stored) <= 1:  # nothing or one stored match: open it, no empty screen
        guarded(lambda: open_match(options[0]), "Cannot open this match")
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
