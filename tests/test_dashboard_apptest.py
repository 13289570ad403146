"""The dashboard pages through streamlit.testing's AppTest, plus the view functions of soccerai.replay.

Everything runs on a short SIMULATED demo match (the synthesizer driven by a real Metrica event timeline) and the
real Last Row clip; nothing is mocked.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from PIL import Image

os.environ.setdefault("SOCCERAI_DEMO_SECONDS", "240")  # read when dashboard/ui.py is first imported

import sys  # noqa: E402

from streamlit.testing.v1 import AppTest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
import ui  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.cli.commands.dashboard import streamlit_command  # noqa: E402
from soccerai.data.store import write_match  # noqa: E402
from soccerai.errors import InvalidInputError, InvalidParameterError  # noqa: E402
from soccerai.evaluate.pitch_control import Grid  # noqa: E402
from soccerai.models import build_model  # noqa: E402
from soccerai.synth import synthesize_match  # noqa: E402

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
TIMEOUT = 300


@pytest.fixture(scope="module")
def demo_match(events_dir: Path):
    return synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=240)


@pytest.fixture(scope="module")
def shot_scene(demo_match) -> replay.Scene:
    shot = next(m for m in replay.timeline(demo_match) if m.kind in ("shot", "goal"))
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
# Replay & what-if page (the real SkillCorner match: what the app opens on with an empty store)


def _app() -> AppTest:
    return AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=TIMEOUT)


def _title(at: AppTest) -> str:
    return _figure(at)["layout"]["title"]["text"]


def test_replay_page_opens_on_the_real_match_with_its_timeline() -> None:
    """Empty store: the real SkillCorner match, its banner, a time-ordered timeline of detected shots, nobody at
    (0, 0), the match clock in the title."""
    at = _app().run()
    _no_errors(at)
    assert at.sidebar.selectbox(key="match").value.startswith("real: SkillCorner")
    assert any("real — SkillCorner broadcast tracking (players out of camera view are not shown)" in i.value
               for i in at.info)
    timeline = at.sidebar.dataframe[0].value
    assert "detected" in set(timeline["source"]) and {"shot", "attack"} <= set(timeline["what"])
    first = list(timeline.loc[timeline["what"] != "goal", "clock"])[:50]  # goals first, then time order
    assert first == sorted(first) and all(len(c) == 5 and c[2] == ":" for c in first)  # time order, mm:ss
    assert "real tracking" in _title(at)
    assert "FC Bayern" in _title(at) and "Dortmund" in _title(at)  # both teams, never the same name twice
    assert all(len(line) <= 75 for line in _title(at).split("<br>")), _title(at)  # two lines a 1366 px screen shows
    figure = _figure(at)
    assert len(figure["frames"]) > 100 and figure["layout"]["updatemenus"]  # the clip plays in the browser
    assert {"FC Bayern Munchen (home, attacking)", "ball"} & {d.get("name") for d in figure["data"]}  # colour key
    assert all(i.icon != "📺" for i in at.info)
    for trace in _figure(at)["data"]:
        if trace.get("name") in ("attack", "defence"):
            xy = np.stack([_values(trace["x"]), _values(trace["y"])], axis=1)
            assert not (np.abs(xy) < 1e-9).all(axis=1).any(), "an absent player was drawn at (0, 0)"


def test_one_clock_free_navigation_and_no_snapping_back() -> None:
    at = _app().run()
    at.sidebar.text_input(key="goto").set_value("25:00").run()  # a typed clock: 25:00 in the first half
    _no_errors(at)
    assert _title(at).startswith("25:0")
    clock = at.session_state["clock"]
    at.button(key="fwd_1").click().run()  # +1 s: ten frames at 10 Hz
    assert at.session_state["clock"] == clock + 10 and _title(at).startswith("25:0")
    shown = _title(at)
    slider = _figure(at)["layout"]["sliders"][0]  # the browser's slider shows the same clock as the title
    assert slider["steps"][slider["active"]]["label"] == shown.split(" · ")[0]
    play = _figure(at)["layout"]["updatemenus"][0]["buttons"][1]  # ▶ 1x plays on from the shown frame
    assert play["label"] == "▶ 1x" and play["args"][0][0] == str(slider["active"])
    at.radio(key="surface").set_value("pitch control").run()  # an overlay never moves the clock
    _no_errors(at)
    assert at.session_state["clock"] == clock + 10 and _title(at) == shown
    figure = _figure(at)
    assert figure["layout"]["images"] and all(f["layout"]["images"] for f in figure["frames"][::20])
    assert any("only the players in camera view" in c.value for c in at.caption)  # the broadcast caveat
    at.sidebar.text_input(key="goto").set_value("99:00").run()  # outside the match: a clear message, no move
    assert any("outside this match" in e.value for e in at.sidebar.error) and _title(at) == shown
    at.sidebar.text_input(key="goto").set_value("nonsense").run()
    assert any("not a match clock" in e.value for e in at.sidebar.error)
    at.sidebar.text_input(key="goto").set_value("45+0:30").run()  # first-half stoppage time
    _no_errors(at)
    assert _title(at).startswith("45+0:3") and not at.sidebar.error  # the banner goes on the next action
    at.sidebar.radio(key="timeline_kind").set_value("shots").run()
    shots = at.sidebar.dataframe[0].value
    at.sidebar.radio(key="timeline_kind").set_value("shots").run()  # clicking the active filter keeps it
    assert set(at.sidebar.dataframe[0].value["what"]) <= {"shot", "goal"} and len(at.sidebar.dataframe[0].value) == len(shots)


def _alpha_max(source: str) -> int:
    """The largest alpha of a layout image's PNG data URI (0: an all-transparent, i.e. empty, surface)."""
    png = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGBA")
    return int(np.asarray(png)[..., 3].max())


@pytest.mark.parametrize("surface", ["pitch control", "OBSO"])
def test_animated_surface_is_drawn_on_every_frame(surface: str) -> None:
    """The animated pitch draws its surface as layout images (plotly.js #4491): the image at the clock and every
    frame's image hold a drawn (finite, opaque) surface, never an empty transparent PNG."""
    at = _app().run()
    at.sidebar.text_input(key="goto").set_value("25:00").run()
    at.radio(key="surface").set_value(surface).run()
    _no_errors(at)
    figure = _figure(at)
    sources = [figure["layout"]["images"][0]["source"]] + [f["layout"]["images"][0]["source"] for f in figure["frames"]]
    assert len(sources) > 100 and all(len(s) > 1000 for s in sources), min(len(s) for s in sources)
    assert all(_alpha_max(s) > 0 for s in sources[:: max(1, len(sources) // 12)])


def test_live_surface_is_drawn_where_the_ball_is_not_tracked() -> None:
    """Broadcast tracking loses the ball for a few frames: with the clock on such a frame the surface at the clock
    is the nearest frame's with the ball (it once drew an all-transparent, empty PNG there), and the page says so."""
    from soccerai.evaluate.pitch_control import usable_frames

    at = _app().run()
    at.sidebar.text_input(key="goto").set_value("16:20").run()
    view = at.session_state["view"]
    shown = ui.scene(view, ())
    unusable = np.flatnonzero(~usable_frames(*replay.scene_tensors(shown)).numpy())
    assert unusable.size, "this clip has the ball on every frame: pick a clock where it is lost"
    at.session_state["clock"] = int(shown.frames[unusable[0]])
    at.radio(key="surface").set_value("pitch control").run()
    _no_errors(at)
    assert _alpha_max(_figure(at)["layout"]["images"][0]["source"]) > 0
    assert any("The ball is not tracked at" in c.value for c in at.caption)


def test_obso_names_its_team_and_total_and_stale_downloads_go() -> None:
    at = _app().run()
    at.sidebar.text_input(key="goto").set_value("25:00").run()
    at.radio(key="surface").set_value("OBSO").run()
    _no_errors(at)
    caption = next(c.value for c in at.caption if c.value.startswith("OBSO of "))
    assert re.match(r"OBSO of \*\*(FC Bayern Munchen|Borussia Dortmund)\*\* \(attacking →\)", caption), caption
    assert re.search(r"total \*\*\d+\.\d\d %\*\*", caption), caption
    at.button(key="make_png").click().run()
    assert at.download_button(key="dl_png").label == "Download PNG"
    at.radio(key="surface").set_value("pitch control").run()  # the PNG made shows another overlay: its button goes
    with pytest.raises(KeyError):
        at.download_button(key="dl_png")


def test_prediction_warnings_say_when_the_fan_or_the_model_adds_nothing() -> None:
    real = np.zeros((10, 23, 2))
    tight = np.repeat((real + (4.0, 3.0))[None], 5, axis=0)  # five identical samples, each 5 m off
    sim = replay.Simulation(0, [3], tight, real, "gvrnn")
    straight = replay.Simulation(0, [3], np.repeat((real + (0.0, 5.0))[None], 1, axis=0), real, "constant velocity")
    over_confident, no_better = replay.prediction_warnings(sim, straight)
    assert "spread 0.0 m" in over_confident and "end 5.0 m from" in over_confident
    assert "Constant velocity" in no_better and "adds nothing" in no_better
    spread = tight + np.random.default_rng(0).normal(0.0, 6.0, tight.shape)  # an honest fan: wide as the error
    better = replay.Simulation(0, [3], np.repeat((real + (0.0, 20.0))[None], 1, axis=0), real, "constant velocity")
    assert replay.prediction_warnings(replay.Simulation(0, [3], spread, real, "gvrnn"), better) == []


def test_simulate_place_a_player_undo_and_compare() -> None:
    at = _app().run()
    first_shot = next(i for i, m in enumerate(replay.timeline(_real())) if m.kind in ("shot", "goal"))
    at = _jump(at, first_shot)
    at.button(key="run_simulation").click().run()
    _no_errors(at)
    (done,) = [s.value for s in at.success if s.value.startswith("Prediction: 20 sampled futures")]
    assert "gvrnn-sim-skillcorner" in done
    agent = at.multiselect[0].value[0]  # A1, a predicted agent
    at.session_state["selected"] = agent  # what a click on him does
    at.run()
    next(n for n in at.number_input if n.label == "x (m)").set_value(-30.0)
    at.button(key="apply_edit").click().run()
    _no_errors(at)
    assert "edited (1)" in _title(at)
    assert next(n for n in at.number_input if n.label == "x (m)").value == -30.0  # the boxes show the new place
    at.button(key="apply_edit").click().run()  # a repeated click adds no second edit
    assert "edited (1)" in _title(at) and len(at.session_state["edits"][at.session_state["view"]]) == 1
    attackers = next(d for d in _figure(at)["data"] if d.get("name") == "attack")
    assert np.isclose(_values(attackers["x"]), -30.0).any()
    at.button(key="run_simulation").click().run()  # again, on the edited scene
    assert any("1 edit(s)" in s.value for s in at.success)
    assert any(m.value.startswith("**What-if:** Moving ") and "predicted end point by" in m.value
               for m in at.markdown), [m.value for m in at.markdown]
    assert any("■" in m.value for m in at.markdown)  # a colour key naming each predicted player
    assert at.selectbox(key="cmp_a").value != at.selectbox(key="cmp_b").value
    runs = next(d.value for d in at.dataframe if "run" in d.value.columns)
    per_agent = next((d.value for d in at.dataframe if "end shift A→B (m)" in d.value.columns), None)
    assert per_agent is not None and (per_agent["end shift A→B (m)"] >= 0).all(), [e.value for e in at.error]
    assert not any("_m" in c for c in per_agent.columns)
    assert (per_agent["end shift A→B (m)"].round(1) == per_agent["end shift A→B (m)"]).all()  # rounded
    assert list(runs["run"]) == ["A", "B"] and list(runs["edits"]) == [0, 1], [e.value for e in at.error]
    at.button(key="undo_edit").click().run()
    assert "edited" not in _title(at)
    assert not any("1 edit(s)" in s.value for s in at.success)  # the edited run's predictions are not drawn
    names = {d.get("name") or "" for d in _figure(at)["data"]}
    assert any(n.startswith("predicted ") for n in names)  # the unedited run is
    at.sidebar.selectbox(key="match").set_value(ui.DEMO).run()  # another match: nothing of the old one stays
    _no_errors(at)
    assert not at.session_state["runs"] and "compare" not in at.session_state
    assert not any(n.startswith("predicted ") for n in {d.get("name") or "" for d in _figure(at)["data"]})


def test_model_control_is_one_explicit_choice() -> None:
    at = _app().run()
    assert at.selectbox(key="model").value == "gvrnn-sim-skillcorner"  # the default pretrained GVRNN first
    assert not [t for t in at.text_input if t.key == "checkpoint_path"]  # no folder field unless "another..." is chosen
    at.selectbox(key="model").set_value(ui.OTHER).run()
    at.text_input(key="checkpoint_path").set_value("/no/such/checkpoint").run()
    at.button(key="run_simulation").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("Simulation failed: '/no/such/checkpoint' is neither a checkpoint folder") and "\n" not in error


def test_a_provider_sample_without_shots_still_replays(samples_dir: Path) -> None:
    from soccerai.io import load_match

    store = Path(os.environ["SOCCERAI_OUT_DIR"]) / "store"
    match = load_match([samples_dir / "sportec_meta.xml", samples_dir / "sportec_positional.xml"])
    write_match(match, store / "sportec-sample.parquet")
    at = _app().run()
    _no_errors(at)
    options = at.sidebar.selectbox(key="match").options
    found = [o for o in options if "sportec" in o.lower()]
    assert len(found) == 1, options
    assert "sportec-sample" in at.sidebar.selectbox(key="match").value  # one stored match: it opens, no empty screen
    assert at.get("plotly_chart") and "real tracking" in _title(at)


def test_a_stored_copy_of_the_real_match_is_its_one_entry(monkeypatch, tmp_path: Path) -> None:
    """The picker lists the real match once: the store's copy, not also the built-in entry under a near-identical
    label."""
    monkeypatch.setenv("SOCCERAI_STORE_DIR", str(tmp_path / "store"))
    write_match(_real(), tmp_path / "store" / "bayern-dortmund.parquet")
    options, labels = ui.match_options()
    bayern = [o for o in options if "Bayern" in labels[o]]
    assert len(bayern) == 1 and bayern[0] != ui.REAL, labels
    assert "2019-11-09" in labels[bayern[0]] and "4-0" in labels[bayern[0]]


def _real():
    return ui.real_match()


def _jump(at: AppTest, index: int) -> AppTest:
    """Open the timeline's moment ``index`` the way a click on its row does."""
    moment = replay.timeline(_real())[index]
    at.session_state["view"] = ui.View(ui.REAL, moment.period, moment.frame, moment.team)
    at.session_state["clock"] = moment.frame - 40
    at.session_state["moment_label"] = moment.label
    return at.run()


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
    assert any("No C-OBSO outputs" in i.value for i in at.info) or any("does not exist" in w.value for w in at.warning)
    at.text_input(key="pipeline_dir").set_value(str(tmp_path / "nowhere")).run()
    assert any("does not exist" in w.value for w in at.warning)  # a missing folder says so
    (tmp_path / "empty").mkdir()
    at.text_input(key="pipeline_dir").set_value(str(tmp_path / "empty")).run()
    assert any("No C-OBSO outputs" in i.value for i in at.info)
    at.text_input(key="pipeline_dir").set_value(str(tmp_path / "pipeline")).run()
    _no_errors(at)
    board = at.dataframe[0].value
    assert list(board["player"]) == ["p7", "p9"]
    assert board["cobso"].iloc[0] == pytest.approx((2 * 0.010 + 1 * 0.004) / 3)
    assert list(board["matches"]) == [2, 1]


def test_leaderboard_reads_the_demo_output(tmp_path: Path) -> None:
    """After `make demo`: out/demo/cobso_players.parquet fills the board."""
    demo = tmp_path / "demo"
    demo.mkdir()
    pl.DataFrame({"player": ["home_9", "home_7"], "player_name": ["Lewandowski (#9)", "Müller (#25)"],
                  "team": ["home", "home"], "shots": [2, 1], "cobso_mean": [0.02, 0.01],
                  "tracking": ["real", "real"]}).write_parquet(demo / "cobso_players.parquet")
    at = AppTest.from_file(str(DASHBOARD / "pages" / "1_Leaderboard.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="pipeline_dir").set_value(str(tmp_path)).run()
    _no_errors(at)
    assert list(at.dataframe[0].value["player"]) == ["Lewandowski (#9)", "Müller (#25)"]


def test_benchmark_page_says_when_the_clip_is_missing(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCCERAI_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(DASHBOARD / "pages" / "2_Benchmarks.py"), default_timeout=TIMEOUT).run()
    _no_errors(at)
    assert any("Last Row clip is not in the data folder" in w.value for w in at.warning)


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
    assert sum(1 for d in figure.data if d.name.endswith(f"{sim.n_samples} futures (constant_velocity)")) == len(agents)


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
