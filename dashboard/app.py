"""soccerai dashboard — Replay & what-if (the home page).

Pick a match and a shot or attack, replay it in the browser (play/pause, speed, slider, trails), switch overlays
(velocities, pitch control, OBSO, players' OBSO), sample futures from a model, move a player and watch everything
update, and export the view. Run with ``soccerai dashboard``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pages and tests import ui.py from here

import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402
import ui  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.evaluate.pitch_control import Grid  # noqa: E402

st.set_page_config(page_title="soccerai · replay & what-if", page_icon="⚽", layout="wide")
st.title("Replay & what-if")

selection = ui.pick_match()
if selection is None:
    st.stop()
edits = ui.edits_key(selection)
view = ui.guarded(lambda: ui.scene(selection.source, selection.moment_index, edits), "Cannot build the replay")
if view is None:
    st.stop()
ui.source_banner(view, ui.get_match(selection.source).metadata.provider)


def seconds(i: int) -> str:
    return f"{(i - view.key_index) * replay.DT:+.1f} s"


# -- sidebar: frame and overlays -----------------------------------------------------------------------------------
default_frame = max(0, view.key_index - 40)
frame = st.sidebar.select_slider("Frame (simulate / edit from here)", options=list(range(len(view))),
                                 value=default_frame, format_func=seconds, key="frame")
st.sidebar.subheader("Overlays")
trail = st.sidebar.slider("Trail length (frames)", 0, 30, 10, key="trail")
show_velocities = st.sidebar.checkbox("Velocities (1 s arrows)", value=True, key="velocities")
surface_kind = st.sidebar.radio("Surface", ["none", "pitch control", "OBSO"], key="surface", horizontal=True)
show_values = st.sidebar.checkbox("Each attacker's OBSO value", value=False, key="values")
with st.sidebar.expander("Overlay settings"):
    grid_name = st.selectbox("Grid", list(ui.GRIDS), key="grid")
    score_model = st.selectbox("OBSO score model", ["potential", "distance"], key="score_model",
                               help="'potential' is the C-OBSO paper's score model (shot lines blocked by "
                                    "defenders); 'distance' only looks at the distance to goal.")
    stride = st.slider("Compute surfaces every n frames", 1, 10, 5, key="stride")
grid_shape = ui.GRIDS[grid_name]

needs_surfaces = surface_kind != "none" or show_values
maps = None
if needs_surfaces:
    maps = ui.guarded(lambda: ui.surfaces(selection.source, selection.moment_index, edits, grid_shape, score_model,
                                          stride), "Cannot compute the overlays")
overlays = replay.Overlays(trail_frames=trail, velocities=show_velocities)
if maps is not None:
    if surface_kind == "pitch control":
        overlays.surface, overlays.surface_name, overlays.colorscale = maps.control, "pitch control", "RdBu_r"
    elif surface_kind == "OBSO":
        overlays.surface, overlays.surface_name, overlays.colorscale = maps.obso, "OBSO", "YlOrRd"
    if show_values:
        overlays.values = maps.player_obso

chart_slot = st.container()  # the replay goes above the tabs, drawn once the simulation is known

# -- tabs: simulate / edit / export --------------------------------------------------------------------------------
simulate_tab, edit_tab, export_tab = st.tabs(["Simulate", "Edit a player", "Export"])
sim_key = (selection.source, selection.moment_index)
players = [k for k in range(replay.BALL_INDEX) if view.valid[frame, k]]


def agent_name(k: int) -> str:
    side = "A" if k < replay.N_PER_TEAM else "D"
    return f"{side} #{view.labels[k]} (agent {k})"


with simulate_tab:
    left, right = st.columns([2, 1])
    model_choice = left.selectbox("Model", ui.model_choices(), key="model")
    typed = left.text_input("...or a checkpoint folder", key="checkpoint_path", placeholder="out/models/gvrnn")
    horizon = right.slider("Horizon (frames at 10 Hz)", 5, 60, 40, key="horizon")
    n_samples = right.slider("Samples", 1, 30, 10, key="n_samples")
    defaults = ui.guarded(lambda: replay.default_agents(view, frame, horizon), "No default C-OBSO agents") or []
    agents = left.multiselect("Agents to predict (default A1, D1, D2)", players, default=[a for a in defaults
                              if a in players], format_func=agent_name, key=f"agents_{frame}_{horizon}")
    if st.button("Run simulation", type="primary", key="run_simulation"):
        st.session_state.setdefault("simulations", {})[sim_key] = {
            "model": typed.strip() or model_choice, "predicted": tuple(int(a) for a in agents), "start": int(frame),
            "n_samples": int(n_samples), "horizon": int(horizon),
        }

params = st.session_state.get("simulations", {}).get(sim_key)
simulation = cobso = None
if params is not None:
    def run() -> replay.Simulation:
        return replay.simulate(ui.get_model(params["model"]), view, params["start"], list(params["predicted"]),
                               params["n_samples"], params["horizon"], model_label=Path(params["model"]).name)

    with st.spinner("Sampling futures..."):
        simulation = ui.guarded(run, "Simulation failed")
    if simulation is not None:
        grid = Grid(*grid_shape, *view.pitch)
        cobso = ui.guarded(lambda: replay.simulation_cobso(view, simulation, grid), "C-OBSO failed")

with simulate_tab:
    if simulation is not None:
        st.success(f"Prediction: {simulation.futures.shape[0]} sampled futures of "
                   f"{', '.join(agent_name(k) for k in simulation.predicted)} over "
                   f"{simulation.futures.shape[1] / 10:.1f} s with {params['model']} ({view.source}).")
        if "demo" in params["model"] or params["model"] == ui.BASELINE:
            st.caption("This is a baseline / untrained demo model: the fan shows the interface, not skill.")
        if cobso is not None:
            c1, c2, c3 = st.columns(3)
            c1.metric("C-OBSO (mean over samples)", f"{cobso.mean:.4f}", help="real minus predicted OBSO of the "
                      "shooter at the last simulated frame, negatives set to 0")
            c2.metric("spread (std)", f"{cobso.std:.4f}")
            c3.metric("shooter's real OBSO", f"{cobso.real_obso:.4f}")
        else:
            st.caption("C-OBSO needs the predicted agents to be an A1/D1/D2 set and the real frame at the horizon.")

with edit_tab:
    st.write(f"Move a player at frame {seconds(frame)}; his path up to that frame moves with him. Pitch control, "
             "OBSO and the simulation update.")
    who = st.selectbox("Player", players, format_func=agent_name, key="edit_agent")
    px, py = view.positions[frame, who]
    vx, vy = view.velocities[frame, who]
    c1, c2, c3, c4 = st.columns(4)
    nx = c1.number_input("x (m)", -60.0, 60.0, float(round(px, 1)), 0.5, key=f"ex_{frame}_{who}")
    ny = c2.number_input("y (m)", -40.0, 40.0, float(round(py, 1)), 0.5, key=f"ey_{frame}_{who}")
    nvx = c3.number_input("vx (m/s)", -12.0, 12.0, float(round(vx, 1)), 0.5, key=f"evx_{frame}_{who}")
    nvy = c4.number_input("vy (m/s)", -12.0, 12.0, float(round(vy, 1)), 0.5, key=f"evy_{frame}_{who}")
    b1, b2 = st.columns(2)
    if b1.button("Apply edit", key="apply_edit"):
        edit = (int(frame), int(who), float(nx), float(ny), float(nvx), float(nvy))
        checked = ui.guarded(lambda: replay.edit_player(view, *edit[:2], edit[2:4], edit[4:]), "Edit refused")
        if checked is not None:
            ui.add_edit(selection, edit)
            st.rerun()
    if b2.button("Undo all edits", key="reset_edits"):
        ui.clear_edits(selection)
        st.rerun()
    if view.edits:
        st.info("What-if edits: " + "; ".join(view.edits))

figure = replay.replay_figure(view, overlays, simulation, initial=frame,
                              title=f"{selection.moment.label}" + (" — edited" if view.edits else ""))
with chart_slot:
    st.plotly_chart(figure, width="stretch", key="replay_chart")
    st.caption(f"{view.source} · attack towards → · {len(view)} frames at 10 Hz · ▶ buttons play in the browser "
               "at 0.5x / 1x / 2x; the slider scrubs without a server round trip.")
    if maps is not None and show_values:
        values = maps.player_obso[frame, : replay.N_PER_TEAM]
        table = pl.DataFrame({"attacker": [view.labels[k] for k in range(replay.N_PER_TEAM)], "OBSO": values})
        st.dataframe(table.filter(pl.col("OBSO").is_not_nan()).sort("OBSO", descending=True), height=240,
                     key="obso_values")

with export_tab:
    st.write(f"The PNG is the frame at {seconds(frame)} with the current overlays and simulation ({view.source}).")
    if st.button("Make PNG", key="make_png"):
        st.session_state["png"] = replay.frame_png(view, frame, overlays, simulation)
    if "png" in st.session_state:
        st.download_button("Download PNG", st.session_state["png"], "soccerai-view.png", "image/png", key="dl_png")
    every = st.slider("GIF / MP4: one image every n frames", 1, 10, 2, key="gif_every")
    st.caption(f"The GIF and MP4 play the whole replay at real speed ({view.source}); the MP4 is H.264.")
    gif_column, mp4_column = st.columns(2)
    with gif_column:
        if st.button("Make GIF", key="make_gif"):
            with st.spinner("Rendering the GIF..."):
                st.session_state["gif"] = replay.replay_gif(view, overlays, every=every)
        if "gif" in st.session_state:
            st.download_button("Download GIF", st.session_state["gif"], "soccerai-replay.gif", "image/gif",
                               key="dl_gif")
    with mp4_column:
        if st.button("Make MP4", key="make_mp4"):
            with st.spinner("Encoding the MP4..."):
                st.session_state["mp4"] = ui.guarded(lambda: replay.replay_mp4(view, overlays, every=every),
                                                     "Cannot make the MP4")
        if st.session_state.get("mp4") is not None:
            st.download_button("Download MP4", st.session_state["mp4"], "soccerai-replay.mp4", "video/mp4",
                               key="dl_mp4")
