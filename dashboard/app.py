"""soccerai dashboard — Replay & what-if (the home page).

Pick a match by teams, date and score; move over the whole match on its mm:ss clock or jump from the timeline of
shots and attacks; switch overlays; click a player on the pitch and click where he should be; simulate futures
with the pretrained GVRNN from the clock's frame; compare two runs; export the view. Run with
``soccerai dashboard``.

One clock: ``st.session_state["clock"]`` (a provider frame) is the frame the pitch shows, the frame simulations
and edits start from, and what every clock widget displays. Only the workspace fragment reruns on a pitch,
overlay, clock or edit change; the sidebar (picker, timeline) reruns when the match or the moment changes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pages and tests import ui.py from here

import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402
import ui  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.evaluate.pitch_control import Grid  # noqa: E402
from soccerai.replay import style  # noqa: E402

PLAY_TICK_S = 0.4
"""While playing, the workspace reruns every 0.4 s and the clock advances 0.4 s of match time."""

st.set_page_config(page_title="soccerai · replay & what-if", page_icon="⚽", layout="wide")
st.markdown("<style>.block-container{padding-top:2.6rem;padding-bottom:0.5rem}"
            "div[data-testid='stVerticalBlock']{gap:0.45rem}</style>", unsafe_allow_html=True)

source = ui.pick_match()
if source is None:
    st.subheader("Replay & what-if")
    st.info("Choose a match in the sidebar (teams · date · score).")
    st.stop()


# -- sidebar: the timeline ----------------------------------------------------------------------------------------
def timeline_clicked() -> None:
    rows = st.session_state["timeline"]["selection"]["rows"]
    if rows:
        shown = st.session_state["timeline_rows"]
        ui.jump_to(ui.timeline(st.session_state["source"])[shown[rows[0]]])


table = ui.guarded(lambda: ui.timeline_table(source), "Cannot read this match")
if table is not None and table.height:
    kind = st.sidebar.segmented_control("Timeline", ["all", "shots", "attacks"], default="all", key="timeline_kind")
    table = table.with_row_index("row")
    if kind in ("shots", "attacks"):
        table = table.filter(pl.col("what").is_in(["shot", "goal"] if kind == "shots" else ["attack"]))
    st.session_state["timeline_rows"] = table["row"].to_list()
    st.sidebar.caption(f"{table.height} moments in time order (*detected*: found in the tracking, no event data). "
                       "Click one to jump.")
    st.sidebar.dataframe(table.select("clock", "what", "team", "source"), key="timeline", on_select=timeline_clicked,
                         selection_mode="single-row", hide_index=True, height=250, width="stretch")
elif table is not None:
    st.sidebar.info("No shots or attacks in this match: move freely on its clock.")


def go_to_widgets() -> None:
    """Free navigation over the whole match: a period and a mm:ss match clock (1 s steps)."""
    state, view = st.session_state, ui.current_view()
    lengths = ui.period_lengths(source)

    def moved() -> None:
        ui.guarded(lambda: ui.go_to_time(state["period"], float(state["match_s"])), "Cannot go there")

    view_scene = ui.guarded(lambda: ui.scene(view, ui.edits_of(view)), "Cannot build the replay")
    now = view_scene.times[ui.clock_index(view_scene)] if view_scene is not None and view_scene.times is not None \
        else 0.0
    state["period"] = view.period
    last = int(lengths.get(view.period, 0.0))
    state["match_s"] = min(last, max(0, int(now)))
    c0, c1 = st.sidebar.columns([1, 3], vertical_alignment="bottom")
    c0.selectbox("Period", list(lengths), key="period", on_change=moved, format_func=lambda p: f"P{p}")
    c1.select_slider("Go to (match clock)", options=list(range(last + 1)), key="match_s", on_change=moved,
                     format_func=lambda sec: replay.format_clock(view.period, sec))


go_to_widgets()


# -- the workspace -----------------------------------------------------------------------------------------------
def clock_widgets(view_scene: replay.Scene, index: int) -> None:
    """The clip slider, the match clock and the step / play buttons: all write the one clock."""
    state, view = st.session_state, ui.current_view()

    def clip_moved() -> None:
        ui.go_to(view.period, int(view_scene.frames[state["clip"]]))

    def step(seconds: float) -> None:
        ui.step_clock(view_scene, view.period, seconds)

    state["clip"] = index
    st.select_slider("Clip (0.1 s steps)", options=list(range(len(view_scene))), key="clip", on_change=clip_moved,
                     format_func=lambda i: ui.clock_text(view_scene, i),
                     label_visibility="collapsed")
    c2, c3, c4, c5, c6 = st.columns(5, vertical_alignment="center")
    c2.button("-1s", key="back_1", on_click=step, args=(-1.0,), width="stretch")
    c3.button("-0.1s", key="back_01", on_click=step, args=(-0.1,), width="stretch")
    c4.button("+0.1s", key="fwd_01", on_click=step, args=(0.1,), width="stretch")
    c5.button("+1s", key="fwd_1", on_click=step, args=(1.0,), width="stretch")
    playing = state.get("playing", False)
    if c6.button("❚❚ Pause" if playing else "▶ Play", key="play", width="stretch"):
        state["playing"] = not playing
        st.rerun()  # re-declare the workspace with (or without) its timer


def overlay_controls() -> dict:
    c1, c2 = st.columns(2)
    surface = c1.radio("Surface", ["none", "pitch control", "OBSO"], key="surface")
    velocities = c2.checkbox("Velocities (1 s)", value=True, key="velocities")
    trail = c2.slider("Trail (frames)", 0, 30, 10, key="trail")
    with st.expander("Overlay settings"):
        grid = st.selectbox("Grid", list(ui.GRIDS), key="grid")
        score_model = st.selectbox("OBSO score model", ["potential", "distance"], key="score_model",
                                   help="'potential' is the C-OBSO paper's score model (shot lines blocked by "
                                        "defenders); 'distance' only looks at the distance to goal.")
    if surface == "OBSO":
        st.caption(style.OBSO_EXPLANATION)
    elif surface == "pitch control":
        st.caption(style.CONTROL_EXPLANATION + f" ({style.HOME_COLOUR} orange: home, blue: away).")
    return {"surface": surface, "velocities": velocities, "trail": trail, "grid": ui.GRIDS[grid],
            "score_model": score_model}


def simulate_controls(view_scene: replay.Scene, index: int, roles: dict[str, int]) -> None:
    view = ui.current_view()
    choices = ui.model_choices()
    c1, c2 = st.columns([1.4, 1])
    choice = c1.selectbox("Model", choices, key="model", format_func=lambda c: Path(c).name if "/" in c else c,
                          help="The shipped pretrained GVRNN (trained on the real SkillCorner match), the "
                               "constant-velocity baseline, checkpoints under the output folder, or another folder.")
    ui.warm_model(choice, view_scene, index)
    folder = c1.text_input("Checkpoint folder", key="checkpoint_path", placeholder="out/models/gvrnn") \
        if choice == ui.OTHER else ""
    horizon = c2.slider("Horizon (frames, 10 Hz)", 5, 60, 40, key="horizon")
    samples = c2.slider("Samples", 1, 30, 20, key="n_samples")
    players = [k for k in range(replay.BALL_INDEX) if view_scene.valid[index, k]]
    defaults = [roles[r] for r in ("A1", "D1", "D2") if r in roles and roles[r] in players]
    agents = st.multiselect("Agents to predict (default A1, D1, D2)", players, default=defaults,
                            format_func=lambda k: ui.player_name(view_scene, k), key=f"agents_{view}_{index}")
    clock = ui.clock_text(view_scene, index)
    if st.button(f"Run simulation from {clock}", type="primary", key="run_simulation"):
        def run() -> ui.Run:
            model = ui.resolve_model(choice, folder)
            sim = replay.simulate(ui.load_model(model), view_scene, index, list(agents), samples, horizon,
                                  model_label=ui.model_label(model))
            cobso = replay.simulation_cobso(view_scene, sim, Grid.over(view_scene.pitch,
                                                                       *ui.GRIDS["coarse 25 x 16 (fast)"]))
            edited = f", {len(ui.edits_of(view))} edit(s)" if ui.edits_of(view) else ""
            return ui.Run(f"{len(ui.runs()) + 1}: {ui.model_label(model)} from {clock}{edited}", view,
                          ui.edits_of(view), model, sim, cobso)

        with st.spinner("Sampling futures..."):
            done = ui.guarded(run, "Simulation failed")
        if done is not None:
            ui.add_run(done)
    shown = latest_run(view)
    if shown is not None:
        sim = shown.simulation
        st.success(f"Prediction: {sim.futures.shape[0]} sampled futures of "
                   f"{', '.join(ui.player_name(view_scene, k) for k in sim.predicted)} over "
                   f"{sim.futures.shape[1] / 10:.1f} s with {shown.model} — run {shown.label} ({view_scene.source}).")
        if shown.model == ui.BASELINE:
            st.caption("Constant velocity is the baseline: the fan shows the interface, not skill.")
        cobso_metrics(shown)


def cobso_metrics(run: ui.Run) -> None:
    if run.cobso is None:
        st.caption("C-OBSO needs the predicted agents to be the A1/D1/D2 set at the last simulated frame, inside "
                   "the clip.")
        return
    c1, c2 = st.columns(2)
    c1.metric("C-OBSO (mean ± std)", f"{fmt(run.cobso.mean)} ± {fmt(run.cobso.std)}",
              help="real minus predicted OBSO of the shooter at the last simulated frame, negatives set to 0: "
                   "the scoring chance the real movement created beyond what the model expected.")
    c2.metric("shooter's real OBSO", fmt(run.cobso.real_obso))
    if run.cobso.mean == 0:
        st.caption("C-OBSO 0: in every sample the predicted players leave the shooter at least as much scoring "
                   "chance as the real ones did.")


def fmt(value: float) -> str:
    """Numbers in one format (:func:`soccerai.replay.format_value`)."""
    return replay.format_value(value)


def latest_run(view: ui.View) -> ui.Run | None:
    return next((r for r in reversed(ui.runs()) if r.view == view), None)


def edit_controls(view_scene: replay.Scene, index: int) -> None:
    state, view = st.session_state, ui.current_view()
    players = [k for k in range(replay.BALL_INDEX) if view_scene.valid[index, k]]
    selected = state.get("selected")
    st.caption("Click a player on the pitch to select him, then click where he should be. His path up to the "
               "clock's frame moves with him; surfaces and new simulations use the edited scene.")
    if selected is not None and selected in players:
        px, py = view_scene.positions[index, selected]
        c1, c2, c3 = st.columns([1.4, 1, 1])
        c1.markdown(f"**Selected:** {ui.player_name(view_scene, selected)}")
        kx, ky = f"ex_{view}_{index}_{selected}", f"ey_{view}_{index}_{selected}"
        c2.number_input("x (m)", -60.0, 60.0, float(round(px, 1)), 0.5, key=kx)
        c3.number_input("y (m)", -40.0, 40.0, float(round(py, 1)), 0.5, key=ky)
        c1.button("Place", key="apply_edit",
                  on_click=lambda: ui.place(view_scene, selected, float(state[kx]), float(state[ky])))
    else:
        st.info("No player selected: click one on the pitch.")
    if state.get("edit_error"):
        st.error(f"Edit refused: {state['edit_error']}")
    edits = ui.edits_of(view)
    if edits:
        st.dataframe(pl.DataFrame({"at": [ui.clock_text(view_scene, ui.index_of(view_scene, e[0])) for e in edits],
                                   "player": [ui.player_name(view_scene, e[1]) for e in edits],
                                   "to (m)": [f"({e[2]:.1f}, {e[3]:.1f})" for e in edits]}),
                     hide_index=True, height=min(180, 38 + 35 * len(edits)), key="edit_list")
        b1, b2 = st.columns(2)
        b1.button("Undo last edit", key="undo_edit", on_click=ui.undo_edit)
        b2.button("Undo all edits", key="reset_edits", on_click=ui.clear_edits)


def compare_controls(view_scene: replay.Scene) -> None:
    done = ui.runs()
    if len(done) < 2:
        st.info("Run two simulations (two models, or before and after an edit) to compare them side by side.")
        return
    labels = [r.label for r in done]
    c1, c2 = st.columns(2)
    a = c1.selectbox("Run A", range(len(done)), index=len(done) - 2, format_func=lambda i: labels[i], key="cmp_a")
    b = c2.selectbox("Run B", range(len(done)), index=len(done) - 1, format_func=lambda i: labels[i], key="cmp_b")
    st.session_state["compare"] = (a, b)
    rows = []
    for name, run in (("A", done[a]), ("B", done[b])):
        rows.append({"run": name, "model": ui.model_label(run.model), "edits": len(run.edits),
                     "samples": run.simulation.futures.shape[0],
                     "C-OBSO": fmt(run.cobso.mean) if run.cobso is not None else "–",
                     "± std": fmt(run.cobso.std) if run.cobso is not None else "–"})
    st.dataframe(pl.DataFrame(rows), hide_index=True, key="compare_table")
    per_agent = ui.guarded(lambda: replay.compare_simulations(done[a].simulation, done[b].simulation),
                           "Cannot compare these runs")
    if per_agent is not None:
        st.dataframe(per_agent, hide_index=True, key="compare_agents")
        st.caption("end_error: mean distance of the samples' end positions from the real one (m); spread: of the "
                   "samples around their centre (m); end_shift: between the two runs' centres (m).")


def export_controls(view_scene: replay.Scene, index: int, options: dict, run: ui.Run | None,
                    maps: ui.FrameSurfaces | None) -> None:
    overlays = ui.pitch_overlays(view_scene, index, options, maps,
                                 ui.guarded(lambda: replay.roles(view_scene, index), "No roles"))
    sim = run.simulation if run is not None else None
    st.caption(f"PNG: this frame with its overlays and simulation; GIF / MP4: the whole clip ({view_scene.source}). "
               "Exports reuse the simulation shown, they never sample again.")
    clip = replay.Overlays(trail_frames=options["trail"], velocities=options["velocities"])
    c1, c2, c3 = st.columns(3)
    export_button(c1, "png", lambda: replay.frame_png(view_scene, index, overlays, sim), "soccerai-view.png")
    export_button(c2, "gif", lambda: replay.replay_gif(view_scene, clip, dpi=100, every=2, simulation=sim),
                  "soccerai-replay.gif", "Rendering the GIF...")
    export_button(c3, "mp4", lambda: replay.replay_mp4(view_scene, clip, every=2, simulation=sim),
                  "soccerai-replay.mp4", "Encoding the MP4...")


EXPORT_MIME = {"png": "image/png", "gif": "image/gif", "mp4": "video/mp4"}


def export_button(column, kind: str, make: Callable[[], bytes], filename: str, spinner: str | None = None) -> None:
    """"Make <KIND>" renders once into ``session_state[kind]``; "Download <KIND>" then offers what it made."""
    state, label = st.session_state, kind.upper()
    if column.button(f"Make {label}", key=f"make_{kind}"):
        with st.spinner(spinner) if spinner else contextlib.nullcontext():
            state[kind] = ui.guarded(make, f"{label} failed")
    if state.get(kind):
        column.download_button(f"Download {label}", state[kind], filename, EXPORT_MIME[kind], key=f"dl_{kind}",
                               on_click="ignore")


def players_table(view_scene: replay.Scene, index: int, run: ui.Run | None) -> None:
    table = ui.guarded(lambda: replay.player_table(view_scene, run.simulation if run else None, frame=index),
                       "Cannot build the player table")
    if table is not None:
        st.caption(f"In this clip ({view_scene.source}); OBSO at {ui.clock_text(view_scene, index)}; C-OBSO of the "
                   "shown simulation's A1.")
        shown = replay.format_columns(table.drop("slot", "side", "attacking"), replay.TABLE_KINDS)
        st.dataframe(shown, hide_index=True, height=280, key="player_table")


def workspace() -> None:
    state = st.session_state
    if state.get("playing"):
        ui.go_to(ui.current_view().period, int(state["clock"]) + int(round(PLAY_TICK_S * ui.rate(source))))
    view = ui.current_view()
    view_scene = ui.guarded(lambda: ui.scene(view, ui.edits_of(view)), "Cannot build the replay")
    if view_scene is None:
        state["playing"] = False
        return
    index = ui.clock_index(view_scene)
    match = ui.get_match(source)
    horizon = int(state.get("horizon", 40))
    roles = ui.roles_at(view, ui.edits_of(view), min(len(view_scene) - 1, index + horizon))
    role_labels = roles.labels()
    pitch, side = st.columns([2.25, 1])
    with side:
        view_tab, sim_tab, edit_tab, cmp_tab, players_tab, export_tab = st.tabs(
            ["View", "Simulate", "Edit", "Compare", "Players", "Export"])
        with view_tab:
            options = overlay_controls()
        maps = None
        if options["surface"] != "none":
            maps = ui.guarded(lambda: ui.surfaces_at(view, ui.edits_of(view), index, options["grid"],
                                                     options["score_model"]), "Cannot compute the overlays")
        with sim_tab:
            simulate_controls(view_scene, index, roles.slots())
        with edit_tab:
            edit_controls(view_scene, index)
        with cmp_tab:
            compare_controls(view_scene)
        run = latest_run(view)
        with players_tab:
            players_table(view_scene, index, run)
        with export_tab:
            export_controls(view_scene, index, options, run, maps)
    with pitch:
        clock = ui.clock_text(view_scene, index)
        edits = ui.edits_of(view)
        heading = " · ".join(p for p in (clock, state.get("moment_label"),
                                         f"{view_scene.teams[view_scene.attacking_team]} attack →",
                                         f"edited ({len(edits)})" if edits else None, view_scene.source) if p)
        overlays = ui.pitch_overlays(view_scene, index, options, maps, roles, state.get("selected"))
        figure = replay.replay_figure(view_scene, overlays, run.simulation if run else None, index, heading,
                                      animate=False, clickable=True, height=ui.PITCH_HEIGHT)
        st.plotly_chart(figure, key="pitch", on_select=ui.on_pitch_click, selection_mode="points",
                        config={"displayModeBar": False}, width="stretch")
        clock_widgets(view_scene, index)
        if role_labels:
            st.caption(" · ".join(role_labels) + f" (at {ui.clock_text(view_scene, min(len(view_scene) - 1, index + horizon))}, "
                       f"the end of a {horizon / 10:.0f} s simulation)")
        ui.source_banner(view_scene, match.metadata.provider)
    if "compare" in state and len(ui.runs()) >= 2:
        a, b = state["compare"]
        done = ui.runs()
        if max(a, b) < len(done):
            left, right = st.columns(2)
            for column, name, chosen in ((left, "A", done[a]), (right, "B", done[b])):
                other = ui.guarded(lambda chosen=chosen: ui.scene(chosen.view, chosen.edits), "Cannot show the run")
                if other is None:
                    continue
                figure = replay.replay_figure(other, replay.Overlays(trail_frames=0, velocities=False),
                                              chosen.simulation, chosen.simulation.start, f"{name}: {chosen.label}",
                                              animate=False, height=300)
                column.plotly_chart(figure, key=f"compare_{name}", config={"displayModeBar": False}, width="stretch")


st.fragment(workspace, run_every=PLAY_TICK_S if st.session_state.get("playing") else None)()
