"""soccerai dashboard — Replay & what-if (the home page).

Pick a match by teams, date and score; move over the whole match on its mm:ss clock or jump from the timeline of
shots and attacks; switch overlays; click a player on the pitch and click where he should be; simulate futures
with the pretrained GVRNN from the clock's frame; compare two runs; export the view. Run with
``soccerai dashboard``.

Playback runs in the browser: the pitch is the whole clip (every agent, 16 s at 10 Hz, overlays at 2 Hz) sent once
as plotly frames with play / pause / slider controls, so play, pause and scrub cost no server rerun. The server
works only on a simulation, an edit, an overlay change or a jump. One state: ``st.session_state["clock"]`` (a
provider frame) is the frame simulations and edits start from (a click on a player at any frame of the animation
moves it there); edits and runs are keyed to (match, view) and dropped when the match changes or an Undo leaves
them behind.
"""

from __future__ import annotations

import contextlib
import html
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pages and tests import ui.py from here

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402
import ui  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.errors import SoccerAIError  # noqa: E402
from soccerai.evaluate.pitch_control import Grid  # noqa: E402
from soccerai.replay import style  # noqa: E402

st.set_page_config(page_title="soccerai", page_icon="⚽", layout="wide")
st.markdown("<style>.block-container{padding-top:3.4rem;padding-bottom:0.5rem}"
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


KINDS = {"all": None, "goals": ["goal"], "shots": ["shot", "goal"], "attacks": ["attack"]}
table = ui.guarded(lambda: ui.timeline_table(source), "Cannot read this match")
if table is not None and table.height:
    kind = st.sidebar.radio("Timeline", list(KINDS), key="timeline_kind", horizontal=True)  # one always chosen
    if KINDS.get(kind):
        table = table.filter(pl.col("what").is_in(KINDS[kind]))
    st.session_state["timeline_rows"] = table["index"].to_list()
    st.sidebar.caption(f"{table.height} moments: goals first (scorer in brackets), then time order (*detected*: "
                       "found in the tracking, no event data). Click one to jump.")
    st.sidebar.dataframe(table.select("clock", "what", "team", "source"), key="timeline", on_select=timeline_clicked,
                         selection_mode="single-row", hide_index=True, height=250, width="stretch")
elif table is not None:
    st.sidebar.info("No shots or attacks in this match: move freely on its clock.")


def go_to_widgets() -> None:
    """Free navigation: a typed match clock (mm:ss, or 45+m:ss in stoppage time)."""
    state = st.session_state
    lengths = ui.period_lengths(source)

    def moved() -> None:
        state["goto_error"] = None
        typed = str(state.get("goto") or "").strip()
        if not typed:
            return
        try:
            period, seconds = replay.parse_clock(typed)
        except SoccerAIError as exc:
            state["goto_error"] = str(exc)
            return
        if period not in lengths or seconds > lengths[period] + 0.05:
            spans = ", ".join(f"{replay.match_clock(p, 0)}-{replay.match_clock(p, t)}" for p, t in lengths.items())
            state["goto_error"] = f"{typed} is outside this match (its clock runs {spans})"
            return
        ui.guarded(lambda: ui.go_to_time(period, seconds), "Cannot go there")

    spans = ", ".join(f"{replay.match_clock(p, 0)}-{replay.match_clock(p, t)}" for p, t in lengths.items())
    st.sidebar.text_input("Go to (match clock)", key="goto", on_change=moved, placeholder="16:23 or 45+2:05",
                          help=f"mm:ss; stoppage time as 45+m:ss or 90+m:ss. This match: {spans}.")
    if state.get("goto_error"):
        st.sidebar.error(state["goto_error"])


go_to_widgets()


# -- the workspace -----------------------------------------------------------------------------------------------
def clock_widgets(view_scene: replay.Scene, index: int) -> None:
    """The step buttons move the one clock (the frame simulations and edits start from); play, pause and scrub are
    the pitch's own controls, in the browser."""
    view = ui.current_view()

    def step(seconds: float) -> None:
        ui.step_clock(view_scene, view.period, seconds)

    c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 3.2], vertical_alignment="center")
    c1.button("-1s", key="back_1", on_click=step, args=(-1.0,), width="stretch")
    c2.button("-0.1s", key="back_01", on_click=step, args=(-0.1,), width="stretch")
    c3.button("+0.1s", key="fwd_01", on_click=step, args=(0.1,), width="stretch")
    c4.button("+1s", key="fwd_1", on_click=step, args=(1.0,), width="stretch")
    c5.caption(f"Start frame {ui.clock_text(view_scene, index)}. ▶ plays the clip in the browser from there (or "
               "on from a pause); a click on a player at any frame moves the start frame there.")


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
    return {"surface": surface, "velocities": velocities, "trail": trail, "grid": ui.GRIDS[grid],
            "score_model": score_model}


def surface_caption(view_scene: replay.Scene, index: int, options: dict, maps: ui.FrameSurfaces | None,
                    provider: str | None) -> None:
    """What the surface shows, in words: whose OBSO and its total; pitch control's colours; the caveat of
    broadcast tracking (players out of view count for nobody)."""
    if maps is None or options["surface"] == "none":
        return
    attacking = view_scene.teams[view_scene.attacking_team]
    if options["surface"] == "OBSO":
        total = float(np.nansum(maps.obso))
        st.caption(f"OBSO of **{attacking}** (attacking →) at {ui.clock_text(view_scene, index)}: total "
                   f"**{100 * total:.2f} %** chance that their next action scores. " + style.OBSO_EXPLANATION)
    else:
        st.caption(style.CONTROL_EXPLANATION + f" Orange: {view_scene.teams['home']} (home), blue: "
                   f"{view_scene.teams['away']} (away).")
    if provider == "skillcorner" and not view_scene.simulated:
        st.caption(":warning: Broadcast tracking: only the players in camera view are counted; the others are "
                   "missing from this surface, so it over-states the space of whichever team has more players "
                   "out of view.")
    if not np.isfinite(maps.control).any():
        st.caption(":warning: No frame of this clip has the ball and both teams tracked: nothing to draw.")
    elif maps.index != index:
        st.caption(f"The ball is not tracked at {ui.clock_text(view_scene, index)}: the surface is the one at "
                   f"{ui.clock_text(view_scene, maps.index)}, the nearest frame with the ball.")
    st.caption("While playing, the surface is recomputed every 0.5 s of match time (held in between).")


def colour_key(view_scene: replay.Scene, sim: replay.Simulation) -> None:
    """One coloured name per predicted player, the colours of the fan."""
    chips = [f"<span style='color:{style.PALETTE[i % len(style.PALETTE)]};font-weight:600'>■ "
             f"{html.escape(ui.player_name(view_scene, k))}</span>" for i, k in enumerate(sim.predicted)]
    st.markdown("Predicted (thin lines: samples, dots: where they end, dashed: the real run): " + " · ".join(chips),
                unsafe_allow_html=True)


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
            baseline = sim if model == ui.BASELINE else replay.simulate(
                ui.load_model(ui.BASELINE), view_scene, index, list(agents), 1, horizon, model_label="constant velocity")
            edited = f", {len(ui.edits_of(view))} edit(s)" if ui.edits_of(view) else ""
            return ui.Run(f"{len(ui.runs()) + 1}: {ui.model_label(model)} from {clock}{edited}", view,
                          ui.edits_of(view), model, sim, cobso, baseline)

        with st.spinner("Sampling futures..."):
            done = ui.guarded(run, "Simulation failed")
        if done is not None:
            ui.add_run(done)
    shown = ui.shown_run(view)
    if shown is not None:
        sim = shown.simulation
        st.success(f"Prediction: {sim.futures.shape[0]} sampled futures of "
                   f"{', '.join(ui.player_name(view_scene, k) for k in sim.predicted)} over "
                   f"{sim.futures.shape[1] / 10:.1f} s with {shown.model} — run {shown.label} ({view_scene.source}).")
        colour_key(view_scene, sim)
        verdict = ui.guarded(lambda: ui.verdict(shown), "Cannot compare with the unedited run")
        if verdict:
            st.markdown(f"**What-if:** {verdict}")
        for warning in replay.prediction_warnings(sim, shown.baseline if shown.model != ui.BASELINE else None):
            st.warning(warning, icon=":material/warning:")
        if shown.model == ui.BASELINE:
            st.caption("Constant velocity is the baseline: the fan shows the interface, not skill.")
        cobso_metrics(shown)


def cobso_metrics(run: ui.Run) -> None:
    if run.cobso is None:
        st.caption("C-OBSO needs the predicted agents to be the A1/D1/D2 set at the last simulated frame, inside "
                   "the clip.")
        return
    st.markdown(f"**C-OBSO** (mean ± std over samples): **{fmt(run.cobso.mean)} ± {fmt(run.cobso.std)}**  \n"
                f"Shooter's real OBSO: **{fmt(run.cobso.real_obso)}**, predicted: "
                f"**{fmt(float(run.cobso.predicted_obso.mean()))}**",
                help="real minus predicted OBSO of the shooter at the last simulated frame, negatives set to 0: "
                     "the scoring chance the real movement created beyond what the model expected.")
    if run.cobso.mean == 0:
        st.caption("C-OBSO 0: in every sample the predicted players leave the shooter at least as much scoring "
                   "chance as the real ones did.")


def fmt(value: float) -> str:
    """Numbers in one format (:func:`soccerai.replay.format_value`)."""
    return replay.format_value(value)


def edit_controls(view_scene: replay.Scene, index: int) -> None:
    state, view = st.session_state, ui.current_view()
    players = [k for k in range(replay.BALL_INDEX) if view_scene.valid[index, k]]
    selected = state.get("selected")
    edits = ui.edits_of(view)
    st.caption("Click a player on the pitch to select him, then click where he should be. His path up to the "
               "start frame moves with him; surfaces and new simulations use the edited scene.")
    if selected is not None and selected in players:
        px, py = view_scene.positions[index, selected]
        hl, hw = view_scene.pitch.half_length, view_scene.pitch.half_width
        c1, c2, c3 = st.columns([1.4, 1, 1])
        c1.markdown(f"**Selected:** {ui.player_name(view_scene, selected)}")
        suffix = f"{view}_{index}_{selected}_{len(edits)}"  # a new edit shows the new place
        kx, ky = f"ex_{suffix}", f"ey_{suffix}"
        c2.number_input("x (m)", -hl, hl, float(np.clip(round(px, 1), -hl, hl)), 0.5, key=kx)
        c3.number_input("y (m)", -hw, hw, float(np.clip(round(py, 1), -hw, hw)), 0.5, key=ky)
        c1.button("Place", key="apply_edit",
                  on_click=lambda: ui.place(view_scene, selected, float(state[kx]), float(state[ky])))
    else:
        st.info("No player selected: click one on the pitch.")
    if state.get("edit_error"):
        st.error(f"Edit refused: {state['edit_error']}")
    if edits:
        st.dataframe(pl.DataFrame({"at": [ui.clock_text(view_scene, ui.index_of(view_scene, e[0])) for e in edits],
                                   "player": [ui.player_name(view_scene, e[1]) for e in edits],
                                   "to (m)": [f"({e[2]:.1f}, {e[3]:.1f})" for e in edits]}),
                     hide_index=True, height=38 + 35 * min(len(edits), 8), key="edit_list", width="stretch",
                     column_config={"player": st.column_config.TextColumn(width="large")})
        b1, b2 = st.columns(2)
        b1.button("Undo last edit", key="undo_edit", on_click=ui.undo_edit)
        b2.button("Undo all edits", key="reset_edits", on_click=ui.clear_edits)


def compare_controls(view_scene: replay.Scene) -> None:
    done = ui.runs()
    if len(done) < 2:
        st.info("Run two simulations (two models, or before and after an edit) to compare them side by side.")
        st.session_state.pop("compare", None)
        return
    labels = [r.label for r in done]
    c1, c2 = st.columns(2)
    a = c1.selectbox("Run A", range(len(done)), index=len(done) - 2, format_func=lambda i: labels[i], key="cmp_a")
    b = c2.selectbox("Run B", range(len(done)), index=len(done) - 1, format_func=lambda i: labels[i], key="cmp_b")
    if a is None or b is None or max(a, b) >= len(done):
        return
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
        st.dataframe(replay.readable_comparison(per_agent.drop("model_a", "model_b")), hide_index=True,
                     key="compare_agents")
        st.caption("end error: mean distance of the samples' end positions from the real one; spread: of the "
                   "samples around their centre; end shift: between the two runs' centres (all in metres).")


def export_controls(view_scene: replay.Scene, index: int, options: dict, run: ui.Run | None,
                    maps: ui.FrameSurfaces | None, roles: replay.Roles) -> None:
    """PNG / GIF / MP4 of what the pitch shows: its overlays, the run drawn on it and the pitch's own roles (one
    role assignment on the pitch, the tables and the exports)."""
    state = st.session_state
    overlays = ui.pitch_overlays(view_scene, index, options, maps, roles)
    sim = run.simulation if run is not None else None
    key = (ui.current_view(), index, ui.edits_of(ui.current_view()), tuple(sorted((k, str(v)) for k, v in
                                                                                     options.items())),
           run.label if run else None, tuple(roles.labels()))
    if state.get("export_key") != key:  # what was made shows another view: its download buttons go
        for kind in EXPORT_MIME:
            state.pop(kind, None)
        state["export_key"] = key
    st.caption(f"PNG: this frame with its overlays and simulation; GIF / MP4: the whole clip ({view_scene.source}). "
               "Exports reuse the simulation shown, they never sample again.")
    clip = replay.Overlays(trail_frames=options["trail"], velocities=options["velocities"], roles=roles)
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


def players_table(view_scene: replay.Scene, index: int, run: ui.Run | None, roles: replay.Roles) -> None:
    """The pitch's roles and the run's own C-OBSO (computed once, when it was simulated: the table and the
    Simulate tab show one number), each agent's OBSO cached per frame."""
    view = ui.current_view()

    def build() -> pl.DataFrame:
        obso = ui.player_obso_at(view, ui.edits_of(view), index)
        return replay.player_table(view_scene, run.cobso if run else None, index, obso, roles)

    table = ui.guarded(build, "Cannot build the player table")
    if table is not None:
        st.caption(f"In this clip ({view_scene.source}); OBSO at {ui.clock_text(view_scene, index)}; C-OBSO of the "
                   "shown simulation's A1.")
        shown = replay.format_columns(table.drop("slot", "side", "attacking"), replay.TABLE_KINDS)
        st.dataframe(shown, hide_index=True, height=280, key="player_table")


def heading(view_scene: replay.Scene, index: int, edits: tuple) -> str:
    """Two lines, so a 1366 px screen never cuts it: ``"16:20.0 · FC Bayern München v Borussia Dortmund"`` and
    ``"FC Bayern München attacking → · edited (1) · real tracking"``."""
    first = f"{ui.clock_text(view_scene, index)} · {view_scene.teams['home']} v {view_scene.teams['away']}"
    parts = (f"{view_scene.teams[view_scene.attacking_team]} attacking →",
             f"edited ({len(edits)})" if edits else None, view_scene.source)
    return first + "\n" + " · ".join(p for p in parts if p)


def workspace() -> None:
    state = st.session_state
    view = ui.current_view()
    view_scene = ui.guarded(lambda: ui.scene(view, ui.edits_of(view)), "Cannot build the replay")
    if view_scene is None:
        return
    index = ui.clock_index(view_scene)
    match = ui.get_match(source)
    horizon = int(state.get("horizon", 40))
    edits = ui.edits_of(view)
    roles = ui.roles_at(view, edits, min(len(view_scene) - 1, index + horizon))
    role_labels = roles.labels()
    pitch, side = st.columns([2.25, 1])
    with side:
        view_tab, sim_tab, edit_tab, cmp_tab, players_tab, export_tab = st.tabs(
            ["View", "Simulate", "Edit", "Compare", "Players", "Export"])
        with view_tab:
            options = overlay_controls()
        maps = clip = None
        if options["surface"] != "none":
            score = options["score_model"] if options["surface"] == "OBSO" else ""  # pitch control needs no score
            maps = ui.guarded(lambda: ui.surfaces_at(view, edits, index, options["grid"], score),
                              "Cannot compute the overlays")
            clip = ui.guarded(lambda: ui.clip_surfaces(view, edits, options["grid"], score),
                              "Cannot compute the overlays")
        with view_tab:
            surface_caption(view_scene, index, options, maps, match.metadata.provider)
        with sim_tab:
            simulate_controls(view_scene, index, roles.slots())
        with edit_tab:
            edit_controls(view_scene, index)
        with cmp_tab:
            compare_controls(view_scene)
        run = ui.shown_run(view)
        with players_tab:
            players_table(view_scene, index, run, roles)
        with export_tab:
            export_controls(view_scene, index, options, run, maps, roles)
    with pitch:
        if state.get("moment_label"):
            st.caption(f"Moment: {state['moment_label']}")
        overlays = ui.pitch_overlays(view_scene, index, options, maps, roles, state.get("selected"), clip)
        figure = replay.replay_figure(view_scene, overlays, run.simulation if run else None, index,
                                      heading(view_scene, index, edits), animate=True, clickable=True,
                                      height=ui.PITCH_HEIGHT, notes=False)
        st.plotly_chart(figure, key="pitch", on_select=ui.on_pitch_click, selection_mode="points",
                        config={"displayModeBar": False}, width="stretch")
        clock_widgets(view_scene, index)
        if role_labels:
            end = ui.clock_text(view_scene, min(len(view_scene) - 1, index + horizon))
            st.caption("Rings: " + " · ".join(role_labels) + f" (at {end}, the end of a {horizon / 10:.0f} s "
                       "simulation)")
        ui.source_banner(view_scene, match.metadata.provider)
    done = ui.runs()
    if "compare" in state and len(done) >= 2:
        a, b = state["compare"]
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


st.fragment(workspace)()
