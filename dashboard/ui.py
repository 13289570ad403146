"""Streamlit plumbing shared by the dashboard pages: cached loaders and the match / moment pickers.

All analytics live in :mod:`soccerai.replay` (and what it imports); this module only caches their results and
turns :class:`soccerai.errors.SoccerAIError` into ``st.error`` messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import streamlit as st

from soccerai import pretrained, replay
from soccerai.checkpoint import MANIFEST_FILE, load_checkpoint
from soccerai.config import metrica_events_dir, output_dir, store_dir
from soccerai.errors import SoccerAIError
from soccerai.evaluate.pitch_control import Grid
from soccerai.models import build_model
from soccerai.models.base import TrajectoryModel
from soccerai.schema import Match

DEMO = "demo: simulated match (synthesizer)"
REAL = "real: SkillCorner, FC Bayern v Borussia Dortmund, 2019-11-09"
DEMO_SECONDS = float(os.environ.get("SOCCERAI_DEMO_SECONDS", "360"))
"""Length of the demo match (half in each period); tests shorten it."""
DEMO_TRAIN_STEPS = int(os.environ.get("SOCCERAI_DEMO_TRAIN_STEPS", "30"))
BASELINE = "constant velocity (baseline, no training)"
DEMO_MODEL = "demo VRNN: untrained demo model ({steps} steps on simulated tracking)"
GRIDS = {"coarse 25 x 16 (fast)": (25, 16), "standard 50 x 32": (50, 32)}
Edit = tuple[int, int, float, float, float, float]  # frame index, agent, x, y, vx, vy

T = TypeVar("T")


def guarded(action: Callable[[], T], what: str) -> T | None:
    """Run ``action``; a soccerai error becomes one ``st.error`` line (never a traceback) and None."""
    try:
        return action()
    except SoccerAIError as exc:
        st.error(f"{what}: {exc}")
        return None


# ----------------------------------------------------------------------------------------------------------------
# Cached loaders (keys are plain strings / tuples, so nothing large is hashed)


@st.cache_resource(show_spinner="Simulating the demo match (simulated tracking)...")
def demo_match(seconds: float = DEMO_SECONDS) -> Match:
    """A short simulated match driven by a real Metrica event timeline (a generated one if that is missing)."""
    from soccerai.synth import synthesize_match

    events = metrica_events_dir() / "Sample_Game_1_RawEventsData.csv"
    return synthesize_match(events if events.is_file() else None, seed=0, duration_s=seconds)


@st.cache_resource(show_spinner="Reading the real SkillCorner match and finding its shots...")
def real_match() -> Match:
    """The real SkillCorner match (data folder, else the installed kloppy package's test files)."""
    from soccerai.end_to_end_demo import real_match_files
    from soccerai.io import load_match

    return load_match(real_match_files())


def real_available() -> bool:
    from soccerai.end_to_end_demo import real_match_files

    try:
        real_match_files()
    except SoccerAIError:
        return False
    return True


@st.cache_resource(show_spinner="Reading the match...")
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


@st.cache_data(show_spinner=False, max_entries=64)
def moments(source: str) -> list[replay.Moment]:
    return replay.list_moments(get_match(source))


@st.cache_data(show_spinner="Cutting the scene...", max_entries=64)
def scene(source: str, moment_index: int, edits: tuple[Edit, ...] = ()) -> replay.Scene:
    """The scene of a moment, with the what-if edits applied in order."""
    base = replay.scene_for_moment(get_match(source), moments(source)[moment_index])
    for index, agent, x, y, vx, vy in edits:
        base = replay.edit_player(base, index, agent, (x, y), (vx, vy))
    return base


@st.cache_data(show_spinner="Computing pitch control and OBSO...", max_entries=32)
def surfaces(source: str, moment_index: int, edits: tuple[Edit, ...], grid: tuple[int, int], score_model: str,
             stride: int) -> replay.SceneSurfaces:
    view = scene(source, moment_index, edits)
    return replay.scene_surfaces(view, Grid(*grid, *view.pitch), score_model, stride)


@st.cache_resource(show_spinner="Training the tiny demo model (a few seconds)...")
def demo_model(steps: int = DEMO_TRAIN_STEPS) -> TrajectoryModel:
    return replay.train_demo_model(demo_match(), steps)


@st.cache_resource(show_spinner="Loading the checkpoint...")
def checkpoint_model(path: str, mtime: float) -> TrajectoryModel:
    return load_checkpoint(path)[0]


def model_choices() -> list[str]:
    """Baseline, the demo model, the shipped pretrained models (by name) and every checkpoint under the output folder."""
    found = [str(p) for p in replay.find_checkpoints(output_dir())]
    return [BASELINE, DEMO_MODEL.format(steps=DEMO_TRAIN_STEPS), *pretrained.available(), *found]


def get_model(choice: str) -> TrajectoryModel:
    """The model behind a :func:`model_choices` entry or a typed checkpoint folder."""
    if choice == BASELINE:
        return build_model("constant_velocity")
    if choice == DEMO_MODEL.format(steps=DEMO_TRAIN_STEPS):
        return demo_model()
    folder = pretrained.resolve(choice)  # a shipped model's name or a checkpoint folder
    config = folder / MANIFEST_FILE
    return checkpoint_model(str(folder), config.stat().st_mtime if config.is_file() else 0.0)


# ----------------------------------------------------------------------------------------------------------------
# Pickers


@dataclass
class Selection:
    source: str
    moment_index: int
    moment: replay.Moment


def upload_box() -> None:
    """Sidebar uploader: a size-limited soccerai parquet match, validated before it joins the store."""
    upload = st.sidebar.file_uploader("Add a match (.parquet)", type=["parquet"], key="upload")
    if upload is None or st.session_state.get("uploaded_name") == upload.name:
        return
    st.session_state["uploaded_name"] = upload.name
    saved = guarded(lambda: replay.save_upload(upload.name, upload.getvalue(), store_dir()), "Upload refused")
    if saved is not None:
        st.sidebar.success(f"added {saved.name}")


def pick_match() -> Selection | None:
    """Sidebar: match (store files, else the demo) and moment (shot or attack)."""
    upload_box()
    stored = [str(p) for p in replay.list_matches(store_dir())]
    options = [*stored, *([REAL] if real_available() else []), DEMO]
    source = st.sidebar.selectbox("Match", options, format_func=lambda s: s if s in (DEMO, REAL) else Path(s).name,
                                  key="match", help=f"parquet files in {store_dir()}")
    if not stored:
        st.sidebar.caption("The store is empty: showing the **real** SkillCorner match (its shots found in the "
                           "tracking)" if options[0] == REAL else "The store is empty: showing a small **simulated** "
                           "demo match.")
    found = guarded(lambda: moments(source), "Cannot read this match")
    if found is None:
        return None
    if not found:
        st.error("This match has no shots or attacks to replay.")
        return None
    index = st.sidebar.selectbox("Shot or attack", range(len(found)), format_func=lambda i: found[i].label,
                                 key="moment")
    return Selection(source, int(index), found[int(index)])


def edits_key(selection: Selection) -> tuple[Edit, ...]:
    """The what-if edits made on this moment (session state)."""
    return tuple(st.session_state.get("edits", {}).get((selection.source, selection.moment_index), ()))


def add_edit(selection: Selection, edit: Edit) -> None:
    edits = st.session_state.setdefault("edits", {})
    edits[(selection.source, selection.moment_index)] = [*edits_key(selection), edit]


def clear_edits(selection: Selection) -> None:
    st.session_state.setdefault("edits", {}).pop((selection.source, selection.moment_index), None)


def source_banner(view: replay.Scene, provider: str | None = None) -> None:
    """Say loudly whether the tracking is simulated, and that broadcast tracking hides players out of view."""
    from soccerai.end_to_end_demo import REAL_SOURCE

    if view.simulated:
        st.warning("**Simulated tracking** (soccerai's match synthesizer), not measured play.", icon="🧪")
    elif provider == "skillcorner":
        st.info(REAL_SOURCE, icon="📺")
    else:
        st.caption("Real tracking.")
