"""The dashboard pages through streamlit.testing's AppTest, plus the view functions of soccerai.replay.

Everything runs on a short SIMULATED demo match (the synthesizer driven by a real Metrica event timeline) and the
real Last Row clip; nothing is mocked.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from PIL import Image

os.environ.setdefault("SOCCERAI_DEMO_SECONDS", "240")  # read when dashboard/ui.py is first imported
os.environ.setdefault("SOCCERAI_DEMO_TRAIN_STEPS", "3")

from streamlit.testing.v1 import AppTest  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.checkpoint import save_checkpoint  # noqa: E402
from soccerai.commands.dashboard import streamlit_command  # noqa: E402
from soccerai.errors import InvalidInputError, InvalidParameterError  # noqa: E402
from soccerai.evaluate.pitch_control import Grid  # noqa: E402
from soccerai.models import build_model  # noqa: E402
from soccerai.store import write_match  # noqa: E402
from soccerai.synth import synthesize_match  # noqa: E402

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
TIMEOUT = 300


@pytest.fixture(scope="module")
def demo_match(events_dir: Path):
    return synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=240)


@pytest.fixture(scope="module")
def shot_scene(demo_match) -> replay.Scene:
    shot = next(m for m in replay.list_moments(demo_match) if m.kind == "shot")
    return replay.scene_for_moment(demo_match, shot)


def _figure(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _values(field: list | dict) -> np.ndarray:
    """A trace's x or y: plotly writes numpy arrays as base64 typed arrays (``{"dtype", "bdata"}``)."""
    if isinstance(field, dict):
        return np.frombuffer(base64.b64decode(field["bdata"]), dtype=np.dtype(field["dtype"]))
    return np.array([np.nan if v is None else v for v in field], dtype=float)


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# ----------------------------------------------------------------------------------------------------------------
# Replay & what-if page


def _on_simulated_demo(at: AppTest) -> AppTest:
    """The app switched to the simulated demo match (it opens on the real SkillCorner match)."""
    demo = next(o for o in at.sidebar.selectbox(key="match").options if o.startswith("demo: simulated"))
    return at.sidebar.selectbox(key="match").set_value(demo).run()


def test_replay_page_opens_on_the_real_match_with_its_detected_shots() -> None:
    """With an empty store the app shows the real SkillCorner match: banner, detected shots, nobody at (0, 0)."""
    at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=TIMEOUT).run()
    _no_errors(at)
    assert at.sidebar.selectbox(key="match").value.startswith("real: SkillCorner")
    assert any("real — SkillCorner broadcast tracking (players out of camera view are not shown)" in i.value
               for i in at.info)
    moments = at.sidebar.selectbox(key="moment").options
    assert moments[0].startswith("shot 1 (detected)")
    figure = _figure(at)
    assert "real tracking" in figure["layout"]["title"]["text"]
    for trace in figure["data"]:
        if trace.get("name") in ("attack", "defence"):
            xy = np.stack([_values(trace["x"]), _values(trace["y"])], axis=1)
            assert not (np.abs(xy) < 1e-9).all(axis=1).any(), "an absent player was drawn at (0, 0)"


def test_replay_page_pick_match_change_frame_overlays() -> None:
    at = _on_simulated_demo(AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=TIMEOUT).run())
    _no_errors(at)
    assert any("Simulated tracking" in w.value for w in at.warning)
    moments = at.sidebar.selectbox(key="moment").options
    assert any(m.startswith("shot") for m in moments) and any(m.startswith("attack") for m in moments)

    at.sidebar.selectbox(key="moment").set_value(moments[1]).run()
    _no_errors(at)
    figure = _figure(at)
    assert "simulated tracking" in figure["layout"]["title"]["text"]
    assert len(figure["frames"]) == len(figure["layout"]["sliders"][0]["steps"]) > 10

    at.sidebar.select_slider(key="frame").set_value(7).run()
    assert _figure(at)["layout"]["sliders"][0]["active"] == 7
    at.sidebar.radio(key="surface").set_value("OBSO").run()
    at.sidebar.checkbox(key="values").check().run()
    _no_errors(at)
    figure = _figure(at)
    assert any(d.get("name") == "OBSO" and d["marker"]["showscale"] for d in figure["data"])  # its colour bar
    images = [f["layout"]["images"][0]["source"] for f in figure["frames"]]  # the surface, one PNG per frame
    assert all(i.startswith("data:image/png;base64,") for i in images) and len(set(images)) > 1
    assert at.dataframe[0].value["OBSO"].max() > 0


def test_simulate_then_edit_updates_the_prediction() -> None:
    at = _on_simulated_demo(AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=TIMEOUT).run())
    demo = next(o for o in at.selectbox(key="model").options if "untrained demo model" in o)
    at.selectbox(key="model").set_value(demo)
    at.button(key="run_simulation").click().run()
    _no_errors(at)
    assert any(s.value.startswith("Prediction: 10 sampled futures") for s in at.success)
    names = [d.get("name", "") for d in _figure(at)["data"]]
    predicted = [n for n in names if n.startswith("predicted")]
    assert len(predicted) == 3  # A1, D1, D2 by default
    before = [d for d in _figure(at)["data"] if d.get("name", "").startswith("predicted")][0]

    frame = at.sidebar.select_slider(key="frame").value
    agent = at.multiselect[0].value[0]  # A1, one of the predicted agents
    at.selectbox(key="edit_agent").set_value(agent).run()
    at.number_input(key=f"ex_{frame}_{agent}").set_value(-30.0)
    at.number_input(key=f"evx_{frame}_{agent}").set_value(-3.0)
    at.button(key="apply_edit").click().run()
    _no_errors(at)
    assert any("What-if edits" in i.value for i in at.info)
    attackers = next(d for d in _figure(at)["data"] if d.get("name") == "attack")
    assert np.isclose(_values(attackers["x"]), -30.0).any()
    after = [d for d in _figure(at)["data"] if d.get("name", "").startswith("predicted")]
    assert after, "the simulation is re-run on the edited scene"
    assert not np.allclose(_values(before["x"]), _values(after[0]["x"]), equal_nan=True)


def test_checkpoints_are_offered_and_a_missing_one_is_one_clear_error() -> None:
    folder = save_checkpoint(build_model("gvrnn", {"hidden": 8, "latent": 4}),
                             Path(os.environ["SOCCERAI_OUT_DIR"]) / "checkpoints" / "gvrnn-tiny")
    at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=TIMEOUT).run()
    assert str(folder) in at.selectbox(key="model").options
    at.selectbox(key="model").set_value(str(folder))
    at.button(key="run_simulation").click().run()
    _no_errors(at)
    assert any("gvrnn-tiny" in s.value for s in at.success)

    at.text_input(key="checkpoint_path").set_value("/no/such/checkpoint")
    at.button(key="run_simulation").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]  # one line: neither a checkpoint folder nor a shipped model name
    assert error.startswith("Simulation failed: '/no/such/checkpoint' is neither a checkpoint folder") and "\n" not in error


def test_stored_match_is_offered_and_invalid_store_file_reported(demo_match, tmp_path: Path) -> None:
    store = Path(os.environ["SOCCERAI_OUT_DIR"]) / "store"
    write_match(demo_match, store / "stored-demo.parquet")
    (store / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=TIMEOUT).run()
    options = at.sidebar.selectbox(key="match").options
    assert [Path(o).name for o in options[:2]] == ["broken.parquet", "stored-demo.parquet"]
    assert not at.exception
    assert at.error and "broken.parquet: not a parquet file" in at.error[0].value
    at.sidebar.selectbox(key="match").set_value(options[1]).run()
    _no_errors(at)
    assert at.get("plotly_chart")


# ----------------------------------------------------------------------------------------------------------------
# Leaderboard and benchmark pages


def test_leaderboard_page_weights_by_shots(tmp_path: Path) -> None:
    state = tmp_path / "pipeline" / "nightly"
    rows = {"g1": {"player": ["p7", "p9"], "shots": [2, 1], "cobso_mean": [0.010, 0.002]},
            "g2": {"player": ["p7"], "shots": [1], "cobso_mean": [0.004]}}
    for match, table in rows.items():
        (state / "matches" / match).mkdir(parents=True)
        pl.DataFrame(table).write_parquet(state / "matches" / match / "cobso.parquet")
    at = AppTest.from_file(str(DASHBOARD / "pages" / "1_Leaderboard.py"), default_timeout=TIMEOUT).run()
    assert any("No C-OBSO outputs" in i.value for i in at.info)  # default folder is empty
    at.text_input(key="pipeline_dir").set_value(str(tmp_path / "pipeline")).run()
    _no_errors(at)
    board = at.dataframe[0].value
    assert list(board["player"]) == ["p7", "p9"]
    assert board["cobso"].iloc[0] == pytest.approx((2 * 0.010 + 1 * 0.004) / 3)
    assert list(board["matches"]) == [2, 1]


def test_benchmark_page_runs_on_the_real_clip() -> None:
    at = AppTest.from_file(str(DASHBOARD / "pages" / "2_Benchmarks.py"), default_timeout=TIMEOUT).run()
    _no_errors(at)
    at.multiselect(key="bench_models").set_value([at.multiselect(key="bench_models").options[0]])
    at.button(key="run_benchmark").click().run()
    _no_errors(at)
    table = at.dataframe[-1].value
    assert set(table["data"]) == {"real"}
    assert (table["ade"] > 0).all() and (table["ade"] < 30).all()


# ----------------------------------------------------------------------------------------------------------------
# soccerai.replay: the view functions behind the pages


def test_scene_is_attack_oriented_and_labelled(shot_scene: replay.Scene) -> None:
    assert shot_scene.simulated and shot_scene.source == "simulated tracking"
    assert shot_scene.positions.shape == (len(shot_scene), 23, 2)
    steps = np.diff(shot_scene.frames)
    assert np.allclose(steps, 2.5, atol=0.6)  # 25 Hz source resampled to 10 Hz
    ball = shot_scene.positions[shot_scene.key_index, replay.BALL_INDEX]
    assert ball[0] > 0  # at the shot the ball is in the attacked half (+x)


def test_edit_player_moves_history_and_rejects_absurd_edits(shot_scene: replay.Scene) -> None:
    edited = replay.edit_player(shot_scene, 30, 4, (10.0, -5.0), (2.0, 1.0))
    offset = np.array([10.0, -5.0]) - shot_scene.positions[30, 4]
    assert np.allclose(edited.positions[:31, 4] - shot_scene.positions[:31, 4], offset)
    assert np.array_equal(edited.positions[31:, 4], shot_scene.positions[31:, 4])
    assert np.array_equal(edited.velocities[30, 4], [2.0, 1.0]) and len(edited.edits) == 1
    with pytest.raises(InvalidParameterError, match="off the pitch"):
        replay.edit_player(shot_scene, 30, 4, (500.0, 0.0), (0.0, 0.0))
    with pytest.raises(InvalidParameterError, match="human speed"):
        replay.edit_player(shot_scene, 30, 4, (0.0, 0.0), (30.0, 0.0))
    with pytest.raises(InvalidParameterError, match="not a tracked player"):
        replay.edit_player(shot_scene, 30, replay.BALL_INDEX, (0.0, 0.0), (0.0, 0.0))


def test_simulation_fan_and_cobso(shot_scene: replay.Scene) -> None:
    start = shot_scene.key_index - 40
    agents = replay.default_agents(shot_scene, start, 40)
    sim = replay.simulate(build_model("constant_velocity"), shot_scene, start, agents, n_samples=4, horizon=40)
    assert sim.futures.shape == (4, 40, 23, 2)
    given = [k for k in range(23) if k not in agents and shot_scene.valid[start + 1 :, k].all()]
    assert np.allclose(sim.futures[:, :, given], sim.real[None, :, given])  # others follow the real tracking
    result = replay.simulation_cobso(shot_scene, sim, Grid(25, 16))
    assert result is not None and result.per_sample.shape == (4,) and result.mean >= 0.0
    figure = replay.replay_figure(shot_scene, simulation=sim)
    assert sum(1 for d in figure.data if d.name.startswith("predicted")) == len(agents)


def test_model_producing_nan_is_reported(shot_scene: replay.Scene) -> None:
    broken = build_model("vrnn", {"hidden": 8, "latent": 4})
    with torch.no_grad():
        for p in broken.parameters():
            p.fill_(float("nan"))
    start = shot_scene.key_index - 10
    with pytest.raises(InvalidParameterError, match="NaN"):
        replay.simulate(broken, shot_scene, start, [1, 12], n_samples=2, horizon=5)


def test_exports_are_png_and_gif(shot_scene: replay.Scene) -> None:
    png = replay.frame_png(shot_scene, 5, dpi=40)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    gif = Image.open(io.BytesIO(replay.replay_gif(shot_scene, dpi=30, every=25)))
    assert gif.format == "GIF" and gif.n_frames == len(range(0, len(shot_scene), 25))


def test_upload_refuses_bad_files_and_stays_in_its_folder(demo_match, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    with pytest.raises(InvalidInputError, match="not valid tracking data"):
        replay.save_upload("junk.parquet", b"\x00" * 100, folder)
    with pytest.raises(InvalidInputError, match="only soccerai .parquet"):
        replay.save_upload("notes.txt", b"hello", folder)
    with pytest.raises(InvalidInputError, match="limit"):
        replay.save_upload("big.parquet", b"\x00" * (replay.MAX_UPLOAD_BYTES + 1), folder)
    assert list(folder.iterdir()) == []  # nothing half-written
    good = tmp_path / "good.parquet"
    write_match(demo_match, good)
    saved = replay.save_upload("../../etc/evil name[1].parquet", good.read_bytes(), folder)
    assert saved.parent == folder and saved.name == "evil_name_1_.parquet"
    assert replay.load_match(saved).match_id == demo_match.match_id


def test_cli_command_binds_localhost_headless() -> None:
    command = streamlit_command(8765)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.headless") + 1] == "true"
    assert Path(command[4]) == DASHBOARD / "app.py"
    with pytest.raises(InvalidParameterError):
        streamlit_command(80)
