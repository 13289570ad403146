"""The replay package behind the dashboard, on REAL tracking: the SkillCorner match (Bayern v Dortmund, broadcast,
10 Hz, no events: its shots are detected) cut to its first minutes of each half, and the Sportec provider sample
(8 s, no shots or attacks). Nothing is mocked; the forecasts come from the shipped pretrained GVRNN.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from soccerai import replay
from soccerai.data.store import write_match
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.cobso import select_cobso_agents
from soccerai.evaluate.pitch_control import Grid
from soccerai.io import load_match
from soccerai.match.schema import Match

SKILLCORNER = "real-matches/skillcorner-bayern-dortmund-2019-11-09"
MINUTES = 6.0


@pytest.fixture(scope="module")
def real(data_dir: Path) -> Match:
    """The first six minutes of each half of the real SkillCorner match."""
    folder = data_dir / SKILLCORNER
    match = load_match([folder / "match_data.json", folder / "structured_data.json.xz"])
    kept = match.tracking.filter(pl.col("time_s") < MINUTES * 60)
    return replace(match, tracking=kept)


@pytest.fixture(scope="module")
def sportec(samples_dir: Path) -> Match:
    return load_match([samples_dir / "sportec_meta.xml", samples_dir / "sportec_positional.xml"])


@pytest.fixture(scope="module")
def moments(real: Match) -> list[replay.Moment]:
    return replay.timeline(real)


@pytest.fixture(scope="module")
def shot_scene(real: Match, moments: list[replay.Moment]) -> replay.Scene:
    shot = next(m for m in moments if m.kind == "shot" and m.player is not None)
    return replay.scene_for_moment(real, shot)


def test_match_clock() -> None:
    assert replay.match_clock(1, 0.0) == "00:00"
    assert replay.match_clock(1, 754.9) == "12:34"  # a clock floors: 12:34.9 shows 12:34
    assert replay.match_clock(2, 61.0) == "46:01"  # the second half starts at 45:00
    assert replay.match_clock(1, 46 * 60 + 5) == "45+1:05"  # first-half stoppage, never "46:05" of the 2nd half
    assert replay.match_clock(1, 45 * 60 + 2) == "45+0:02" and replay.match_clock(2, 5.0) == "45:05"
    assert replay.match_clock(2, 47 * 60) == "90+2:00"
    assert replay.parse_clock("16:23") == (1, 983.0) and replay.parse_clock("45:05") == (2, 5.0)
    assert replay.parse_clock("45+2:05") == (1, 2825.0) and replay.parse_clock("90+1") == (2, 2760.0)
    for typed in ("16:75", "abc", "50+1", ""):
        with pytest.raises(InvalidParameterError):
            replay.parse_clock(typed)
    assert replay.match_clock(3, 0.0) == "90:00"
    for period, seconds in ((1, 983.0), (1, 2825.0), (2, 5.0), (2, 2760.0), (3, 61.0)):  # typed back, same moment
        assert replay.parse_clock(replay.match_clock(period, seconds)) == (period, seconds)
    for bad in ((0, 1.0), (2, -1.0), (1, math.nan)):
        with pytest.raises(InvalidParameterError):
            replay.match_clock(*bad)


def test_timeline_is_in_match_time_with_mm_ss_clocks(real: Match, moments: list[replay.Moment]) -> None:
    assert {m.kind for m in moments} >= {"shot", "attack"} and {m.period for m in moments} == {1, 2}
    keys = [(m.period, m.time_s) for m in moments]
    assert keys == sorted(keys)
    assert {m.source for m in moments} == {"detected"}  # real tracking without events: every moment is found in it
    for m in moments:
        start = 45 * 60 if m.period == 2 else 0
        minutes, seconds = (int(p) for p in m.clock.split(":"))
        assert minutes * 60 + seconds == start + math.floor(m.time_s)
        assert m.label.startswith(f"{m.clock} {'goal' if m.is_goal else m.kind} (detected)")
        assert m.label.endswith(" - FC Bayern Munchen" if m.team == "home" else " - Borussia Dortmund")
    second = next(m for m in moments if m.period == 2)
    assert second.clock >= "45:00"


def test_any_point_replays_even_without_moments(sportec: Match, real: Match) -> None:
    assert replay.timeline(sportec) == []  # 8 s of real Sportec tracking: no shot, no attack
    scene = replay.scene_at(sportec, 1, 3.0, before_s=2.0, after_s=1.0)
    assert len(scene) >= 25 and scene.clock(scene.key_index) == "00:03"
    assert scene.valid[:, :22].sum() > 0 and not scene.simulated
    later = replay.scene_at(real, 2, 200.0)
    assert later.clock(later.key_index) == "48:20" and later.period == 2
    with pytest.raises(InvalidParameterError, match="no tracking in period 3"):
        replay.scene_at(real, 3, 10.0)


def test_edit_and_undo_restore_the_scene_exactly(shot_scene: replay.Scene) -> None:
    frame = shot_scene.key_index
    agent = next(k for k in range(1, 11) if shot_scene.valid[frame, k])
    edits = replay.EditList().add(agent, frame, (30.0, -10.0))
    moved = edits.apply(shot_scene)
    assert np.allclose(moved.positions[frame, agent], (30.0, -10.0))
    assert not np.allclose(shot_scene.positions[frame, agent], (30.0, -10.0))  # the scene itself is untouched
    name = replay.player_info(shot_scene, agent).short_name
    assert name in moved.edits[0] and "agent" not in moved.edits[0]
    twice = edits.add(agent, frame, (31.0, -9.0))
    assert np.allclose(twice.apply(shot_scene).positions[frame, agent], (31.0, -9.0))
    back = twice.undo().undo().apply(shot_scene)
    for field in ("positions", "velocities", "valid"):
        assert np.array_equal(getattr(back, field), getattr(shot_scene, field), equal_nan=True)
    assert back.edits == shot_scene.edits and back.key == shot_scene.key and moved.key != shot_scene.key
    assert {edits: 1}[replay.EditList().add(agent, frame, (30.0, -10.0))] == 1  # hashable: a cache key
    with pytest.raises(InvalidParameterError, match="off the pitch"):
        replay.EditList().add(agent, frame, (300.0, 0.0)).apply(shot_scene)


def test_roles_are_named_from_the_metadata(real: Match, shot_scene: replay.Scene) -> None:
    frame = replay.players.shot_index(shot_scene)
    assert frame is not None and shot_scene.frames[frame] < shot_scene.shot_frame  # the frame before the shot
    roles = replay.roles(shot_scene, frame)
    assert roles.shooter is not None and roles.a1 is not None and roles.d1 is not None and roles.d2 is not None
    players = {r["object_id"]: r for r in real.players.iter_rows(named=True)}
    for role, info in roles.items():
        row = players[info.object_id]
        assert info.name == row["name"] and info.jersey == row["jersey"]
        assert info.label(role).startswith(f"{role} - {row['name'].split()[-1]} (#{row['jersey']}")
    pos, _, ok = replay.scene_tensors(shot_scene)
    candidates = select_cobso_agents(pos[frame], ok[frame], roles.shooter.slot, shot_scene.pitch.length)
    values = replay.frame_obso(shot_scene, frame)
    assert roles.a1.slot == max((c.attacker for c in candidates), key=lambda a: values[a])  # highest OBSO
    assert roles.agents in candidates and roles.predicted == roles.agents.replaced
    assert set(roles.slots()) >= {"shooter", "A1", "D1", "D2"}


def test_one_role_assignment_per_shot_on_every_frame_and_every_path(real: Match, moments) -> None:
    """A shot moment has ONE shooter, A1, D1, D2: the shot table's shooter at every frame of the scene (never the
    player nearest the ball frame by frame), and the same four as the library's per-shot roles
    (:func:`soccerai.evaluate.match_obso.shot_roles`, what the CLI, demo and pipeline show; compared where the
    shot's window fits in this cut of the match, and on a simulated match in ``test_match_obso.py``)."""
    from soccerai.evaluate.match_obso import match_shot_roles

    library = match_shot_roles(real)
    assert library.height == sum(m.kind == "shot" for m in moments)  # no shot dropped
    assert library.filter(pl.col("shooter").is_null())["reason"].null_count() == 0
    shots = [m for m in moments if m.kind == "shot"]
    compared = 0
    for moment in shots:
        scene = replay.scene_for_moment(real, moment)
        seen = {replay.roles(scene, i).items().__repr__() for i in range(0, len(scene), 7)}
        assert len(seen) == 1, f"roles change across the frames of the shot at {moment.clock}"
        roles = replay.roles(scene, scene.key_index)
        if moment.player is None:  # listed with the reason, no shooter invented from the nearest player
            assert roles.shooter is None and roles.reason
            continue
        assert roles.shooter is not None and roles.shooter.object_id == moment.player
        row = library.filter((pl.col("period") == moment.period) & (pl.col("frame") == moment.frame))
        assert row["shooter"][0] == moment.player
        if row["a1"][0] is None or roles.a1 is None:
            continue
        compared += 1
        ids = {role: info.object_id for role, info in
               [("shooter", roles.shooter), ("a1", roles.a1), ("d1", roles.d1), ("d2", roles.d2)]}
        assert ids == {k: row[k][0] for k in ("shooter", "a1", "d1", "d2")}, moment.clock


def _no_check():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def quiet():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield

    return quiet()


def test_player_table_has_finite_numbers_in_one_format(shot_scene: replay.Scene) -> None:
    table = replay.player_table(shot_scene)
    assert table.height >= 12 and table.get_column("name").null_count() == 0
    assert not table.get_column("name").str.contains("agent").any()
    seconds = len(shot_scene) / shot_scene.fps
    assert table.get_column("distance_m").is_finite().all()
    assert (table.get_column("distance_m") <= 12.0 * seconds).all() and table.get_column("distance_m").max() > 1.0
    assert (table.get_column("top_speed_kmh") <= 12.0 * 3.6 + 1e-6).all()
    attackers = table.filter(pl.col("attacking"))
    assert attackers.get_column("obso").drop_nulls().is_finite().all() and attackers.get_column("obso").max() > 0
    assert table.filter(~pl.col("attacking")).get_column("obso").null_count() == table.filter(~pl.col("attacking")).height
    shown = replay.format_columns(table, replay.TABLE_KINDS)
    assert shown.get_column("obso").str.contains(r"^(\d+\.\d\d %|-)$").all()
    # a player seen only around tracking jumps has no trustworthy speed: "-" rather than an invented number
    assert shown.get_column("top_speed_kmh").str.contains(r"(^\d+\.\d km/h|^-)$").all()
    assert replay.format_value(3e-13, "probability") == "0.00 %" and replay.format_value(0.0168) == "1.68 %"
    assert replay.format_value(None) == replay.format_value(math.nan) == "-"


def test_pretrained_simulation_and_comparison(shot_scene: replay.Scene) -> None:
    assert replay.load_model() is replay.load_model()  # loaded once per process
    start = max(0, len(shot_scene) - 41)
    sim = replay.simulate("gvrnn-skillcorner", shot_scene, start)
    assert len(sim.predicted) == 3 and sim.futures.shape == (20, 40, 23, 2)
    assert np.isfinite(sim.futures[:, :, sim.predicted]).all() and len(sim.names) == 3
    assert sim.futures[:, -1, sim.predicted].std(axis=0).max() > 0.05  # 20 different futures, not one
    edited = replay.EditList().add(sim.predicted[0], start, tuple(shot_scene.positions[start, sim.predicted[0]]
                                                                  + (0.0, 6.0))).apply(shot_scene)
    after = replay.simulate(replay.load_model(), edited, start, sim.predicted, model_label="after edit")
    table = replay.compare_simulations(sim, after)
    assert table.height == 3 and table.get_column("end_shift_m").is_finite().all()
    assert table.row(0, named=True)["end_shift_m"] > 1.0  # the edited player's futures moved with him
    assert replay.compare_simulations(sim, sim).get_column("end_shift_m").max() == 0.0
    with_cobso = replay.player_table(shot_scene, sim)
    assert with_cobso.get_column("cobso").drop_nulls().len() <= 1


def test_exports_are_presentation_sized_with_the_futures(shot_scene: replay.Scene) -> None:
    start = max(0, len(shot_scene) - 41)
    sim = replay.simulate("gvrnn-skillcorner", shot_scene, start, n_samples=5)
    maps = replay.scene_surfaces(shot_scene, Grid.over(shot_scene.pitch, 25, 16), stride=10)
    ov = replay.Overlays(surface=maps.control, surface_name="pitch control", values=maps.player_obso,
                         roles=replay.roles(shot_scene, start))
    png = Image.open(io.BytesIO(replay.frame_png(shot_scene, start, ov, sim)))
    assert png.size[0] >= 1600
    plain = replay.replay_frames(shot_scene, dpi=20, every=60)
    fan = replay.replay_frames(shot_scene, dpi=20, every=60, simulation=sim)
    assert np.abs(next(plain).astype(int) - next(fan).astype(int)).mean() > 0.05  # the fan is drawn from frame 0
    title = replay.view_title(shot_scene, start, sim.model_label)
    assert shot_scene.clock(start) in title and "gvrnn-skillcorner" in title and "real tracking" in title
    with pytest.raises(InvalidParameterError, match="too large"):
        replay.replay_gif(shot_scene, dpi=300, every=1)


def test_figure_legends_and_fixed_obso_scale(shot_scene: replay.Scene) -> None:
    maps = replay.scene_surfaces(shot_scene, Grid.over(shot_scene.pitch, 25, 16), stride=10)
    control = replay.replay_figure(shot_scene, replay.Overlays(surface=maps.control, surface_name="pitch control"))
    bar = next(t for t in control.data if t.marker.showscale).marker
    assert bar.colorbar.ticktext == ("Borussia Dortmund control", "contested", "FC Bayern Munchen control")
    assert control.layout.images[0].source.startswith("data:image/png")
    for scale in (1.0, 5.0):  # the OBSO scale does not follow the play
        fig = replay.replay_figure(shot_scene, replay.Overlays(surface=maps.obso * scale, surface_name="OBSO"))
        assert next(t for t in fig.data if t.marker.showscale).marker.cmax == replay.OBSO_SCALE_MAX
    assert shot_scene.clock(shot_scene.key_index) in control.layout.title.text


def test_a_click_in_open_play_lands_where_it_was_aimed(shot_scene: replay.Scene) -> None:
    from soccerai.replay.figure import SPOT_CLEAR_M

    index = shot_scene.key_index
    figure = replay.replay_figure(shot_scene, initial=index, animate=True, clickable=True)
    spot = next(t for t in figure.data if t.name == "spot")
    spots = np.stack([np.asarray(spot.x, float), np.asarray(spot.y, float)], axis=1)
    players = shot_scene.positions[index, : replay.BALL_INDEX][shot_scene.valid[index, : replay.BALL_INDEX]]
    to_player = np.linalg.norm(spots[:, None] - players[None], axis=2).min(axis=1)
    assert to_player.min() > SPOT_CLEAR_M  # a click on a player picks the player, never a spot under him
    rng = np.random.default_rng(0)
    pitch = shot_scene.pitch
    aims = rng.uniform((-pitch.half_length, -pitch.half_width), (pitch.half_length, pitch.half_width), (4000, 2))
    open_play = aims[np.linalg.norm(aims[:, None] - players[None], axis=2).min(axis=1) > SPOT_CLEAR_M + 1.0]
    miss = np.linalg.norm(open_play[:, None] - spots[None], axis=2).min(axis=1)
    assert len(open_play) > 2000 and miss.max() <= 0.5 * np.sqrt(2) + 1e-6  # the nearest target is within 0.71 m


def test_surfaces_are_cached_by_scene_key(shot_scene: replay.Scene) -> None:
    first = replay.cached_surfaces(shot_scene, (25, 16), stride=10)
    assert replay.cached_surfaces(shot_scene, (25, 16), stride=10) is first
    moved = replay.EditList().add(next(k for k in range(1, 11) if shot_scene.valid[0, k]), 0, (0.0, 0.0)).apply(shot_scene)
    assert replay.cached_surfaces(moved, (25, 16), stride=10) is not first
    assert np.isfinite(first.control).any(axis=(1, 2)).all()  # held from the nearest usable frame, never blank
    only = replay.scene_surfaces(shot_scene, Grid.over(shot_scene.pitch, 25, 16), None, stride=10)  # no score model
    np.testing.assert_allclose(only.control, first.control, rtol=1e-6, atol=1e-6)
    assert np.isnan(only.obso).all() and np.isnan(only.player_obso).all()


def test_a_frame_without_the_ball_draws_the_nearest_usable_surface(real: Match) -> None:
    from soccerai.evaluate.pitch_control import usable_frames

    found = replay.scene_at(real, 1, 16 * 60 + 20, 8.0, 8.0)
    usable = usable_frames(*replay.scene_tensors(found)).numpy()
    lost, kept = int(np.flatnonzero(~usable)[0]), int(np.flatnonzero(usable)[0])
    maps, used = replay.frame_surfaces(found, lost, Grid.over(found.pitch, 25, 16))
    assert used != lost and usable[used] and np.isfinite(maps.control).all() and np.isfinite(maps.obso).all()
    assert replay.nearest_usable(found, kept) == kept


def test_match_summaries_of_a_store(real: Match, sportec: Match, tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_match(real, store / "bayern-dortmund.parquet")
    write_match(sportec, store / "sportec.parquet")
    (store / "broken.parquet").write_bytes(b"PAR1 not really")
    table = replay.match_summaries(store)
    assert table.height == 3
    broken = table.filter(pl.col("path").str.ends_with("broken.parquet")).row(0, named=True)
    assert broken["problem"] and broken["home"] is None
    good = table.filter(pl.col("problem").is_null())
    assert set(good.get_column("provider")) == {"skillcorner", "sportec"}
    assert not good.get_column("simulated").any() and (good.get_column("duration_s") > 0).all()
    bayern = good.filter(pl.col("provider") == "skillcorner").row(0, named=True)
    assert bayern["n_moments"] == len(replay.timeline(real)) and "real skillcorner" in bayern["label"]
    assert (bayern["home"], bayern["away"], bayern["date"], bayern["score"]) == (
        "FC Bayern Munchen", "Borussia Dortmund", "2019-11-09", "4-0")  # from SkillCorner's match_data.json
    freiburg = good.filter(pl.col("provider") == "sportec").row(0, named=True)
    assert freiburg["home"] == "Sport-Club Freiburg" and freiburg["n_moments"] == 0


def test_jump_free_leaves_broadcast_jumps_out_of_distances_and_top_speeds() -> None:
    """A player re-identified 8 m away in one 10 Hz step (80 m/s) runs neither 8 m nor at 288 km/h."""
    from soccerai.match.quality import jump_free

    t = np.arange(30) / 10.0
    positions = np.stack([5.0 * t, np.zeros_like(t)], axis=-1)  # 5 m/s
    positions[15:, 0] += 8.0  # the jump between frames 14 and 15
    valid = np.ones(30, dtype=bool)
    steps_ok, frames_ok = jump_free(positions, valid, fps=10.0)
    assert not steps_ok[14] and steps_ok[[0, 13, 15, 28]].all()
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=-1)
    assert steps[steps_ok].sum() == pytest.approx(5.0 * 2.8)
    assert not frames_ok[10:20].any() and frames_ok[:10].all() and frames_ok[20:].all()
