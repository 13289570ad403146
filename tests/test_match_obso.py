"""Match-level OBSO and C-OBSO (soccerai.evaluate.match_obso) on a short SIMULATED match with real event-driven shots."""

from __future__ import annotations

import polars as pl
import pytest
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.match_obso import (
    match_cobso,
    sample_ghosts,
    scenes_cobso,
    scenes_obso,
    shot_obso,
    shot_scenes,
    to_model_rate,
)
from soccerai.evaluate.pitch_control import Grid
from soccerai.models import build_model
from soccerai.models.base import TrajectoryModel
from soccerai.synth import synthesize_match
from soccerai.windows.container import N_PER_TEAM
from soccerai.windows.cutter import match_cube

GRID = Grid(30, 20)


@pytest.fixture(scope="module")
def match():
    """Ten simulated minutes of the real Game 1 timeline (it has shots in that span)."""
    from soccerai.config import metrica_events_dir

    return synthesize_match(metrica_events_dir() / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=900)


def test_every_shot_scene_ends_at_the_frame_before_the_shot(match) -> None:
    match10 = to_model_rate(match)
    scenes, skipped = shot_scenes(match10)
    n_shots = match.events.filter(pl.col("type") == "SHOT").height
    assert scenes and len(scenes) + skipped == n_shots
    shot_frames = dict(match.events.filter(pl.col("type") == "SHOT").select("event_id", "frame").iter_rows())
    for scene in scenes:
        last_frame = int(scene.window.meta["obs_end_frame"][0]) + int(round(4.0 * match.metadata.frame_rate))
        assert 0 <= shot_frames[scene.shot_id] - last_frame <= 4  # within one 10 Hz step of the shot
        assert scene.object_ids[scene.shooter_index] == scene.shooter
        assert scene.shot_frame == shot_frames[scene.shot_id]
        assert scene.shot_frame - 4 <= scene.scored_frame < scene.shot_frame  # the 10 Hz frame before the shot


def test_scenes_cut_from_a_prebuilt_cube_are_the_same(match) -> None:
    match10 = to_model_rate(match)
    rebuilt, skipped = shot_scenes(match10)
    reused, skipped_reused = shot_scenes(match10, cube=match_cube(match10))
    assert skipped == skipped_reused and [s.shot_id for s in rebuilt] == [s.shot_id for s in reused]
    for a, b in zip(rebuilt, reused, strict=True):
        assert (a.window.states == b.window.states).all() and a.scored_frame == b.scored_frame


def test_shot_obso_is_a_probability_like_value(match) -> None:
    table = shot_obso(match, GRID)
    assert table.height >= 1
    values = table["shooter_obso"].drop_nulls()
    assert values.len() >= 1 and values.min() >= 0.0 and values.max() <= 1.0
    assert (table["best_obso"] >= table["shooter_obso"]).all()
    shot_frames = dict(match.events.filter(pl.col("type") == "SHOT").select("event_id", "frame").iter_rows())
    assert table["frame"].to_list() == [shot_frames[i] for i in table["shot_id"]]
    assert (table["scored_frame"] < table["frame"]).all()


def test_shot_obso_is_the_real_obso_of_cobso(match) -> None:
    """One definition: the shooter's OBSO at a shot is the real OBSO C-OBSO subtracts from."""
    scenes, _ = shot_scenes(to_model_rate(match))
    first = scenes[:1]
    table = scenes_obso(first)
    pairs, _ = scenes_cobso(first, build_model("constant_velocity"), n_samples=1)
    assert pairs.height >= 1
    assert pairs["real_obso"].to_numpy() == pytest.approx(table["shooter_obso"][0], rel=1e-5, abs=1e-9)


class ScriptedFuture(TrajectoryModel):
    """A forecaster that returns the scene's TRUE future, with A1 optionally sent to his own goal line instead."""

    name = "scripted"

    def __init__(self, truth: torch.Tensor, a1_to_own_goal: bool) -> None:
        super().__init__()
        self.truth, self.a1_to_own_goal = truth, a1_to_own_goal

    def loss(self, batch):  # pragma: no cover - never trained
        return {"loss": torch.zeros(())}

    def _sample(self, history, horizon, n_samples, predict_mask, given_future, generator):
        out = self.truth[None, None].expand(n_samples, history.batch_size, -1, -1, -1).clone()
        if self.a1_to_own_goal:
            for row in range(history.batch_size):
                forecast_attackers = predict_mask[row, :N_PER_TEAM].nonzero()
                if len(forecast_attackers):  # the counterfactual scene (A1 forecast), not the real-run one
                    out[:, row, :, int(forecast_attackers[0])] = torch.tensor([-50.0, 0.0])
        return out


def test_cobso_is_zero_for_the_true_future_and_the_clipped_loss_of_a_removed_attacker(match) -> None:
    """Facts paired C-OBSO must satisfy that a wrong implementation breaks: forecasting the truth gives exactly 0
    (the real-run and counterfactual scenes are the same); taking A1 out of play changes the shooter's OBSO in some
    pair, and ``cobso_signed = real_run - counterfactual``, ``cobso = max(0, .)`` exactly (a flipped sign, an
    unreplaced A1 or a wrong frame fail)."""
    scenes, _ = shot_scenes(to_model_rate(match))
    moved = checked = 0
    for scene in scenes:
        if checked == 3:
            break
        truth = torch.as_tensor(scene.window.states[0, scene.window.obs_len :, :, :2], dtype=torch.float32)
        exact, _ = scenes_cobso([scene], ScriptedFuture(truth, False), n_samples=2)
        if exact.height == 0:  # no off-ball attacker in the attacking third at this shot: no (A1, D1, D2) pair
            continue
        checked += 1
        # Not exactly equal: the counterfactual takes the replaced agents' velocities from the sampled positions
        # (finite differences at 10 Hz), the real frame from smoothed tracking; that difference is small.
        assert exact["predicted_obso_mean"].to_numpy() == pytest.approx(exact["real_obso"].to_numpy(), rel=0.05)
        assert (exact["cobso_signed"] == 0.0).all() and (exact["cobso"] == 0.0).all()
        removed, players = scenes_cobso([scene], ScriptedFuture(truth, True), n_samples=2)
        assert removed["real_obso"].to_list() == exact["real_obso"].to_list()
        assert removed["real_run_obso_mean"].to_list() == exact["real_run_obso_mean"].to_list()
        signed = (removed["real_run_obso_mean"] - removed["predicted_obso_mean"]).to_numpy()
        assert removed["cobso_signed"].to_numpy() == pytest.approx(signed, abs=1e-7)
        assert removed["cobso"].to_numpy() == pytest.approx(signed.clip(0.0), abs=1e-7)
        moved += int((removed["predicted_obso_mean"] - removed["real_run_obso_mean"]).abs().max() > 1e-6)
        assert set(players["player"]) == set(removed["a1"]) and players["shots"].sum() == removed.height
    assert checked == 3, f"only {checked} of the match's {len(scenes)} shots have a C-OBSO pair"
    assert moved >= 1, "sending A1 to his own goal line never changed the shooter's OBSO"


def test_ghosts_move_only_the_replaced_agents(match) -> None:
    scenes, _ = shot_scenes(to_model_rate(match))
    scene = scenes[0]
    samples = sample_ghosts(build_model("vrnn", {"hidden": 8, "latent": 4}), scene, [[1, 12, 13]], n_samples=3)
    truth = torch.as_tensor(scene.window.states[0, scene.window.obs_len:, :, :2])
    given = [k for k in range(23) if k not in (1, 12, 13) and bool(scene.window.mask[0, -1, k])]
    assert torch.allclose(samples[:, 0][:, :, given], truth[None][:, :, given].expand(3, -1, -1, -1))
    assert not torch.allclose(samples[:, 0, :, 1], truth[None, :, 1].expand(3, -1, -1))


def test_bad_parameters_are_clear(match) -> None:
    with pytest.raises(InvalidParameterError, match="n_samples"):
        match_cobso(match, build_model("constant_velocity"), n_samples=0)



def test_a_match_without_events_is_scored_at_the_shots_found_in_its_tracking(match) -> None:
    """Events win when a match has them; without them the shots come from soccerai.match.shots and the table says so."""
    assert set(shot_obso(match, GRID)["shot_source"]) == {"events"}
    no_events = type(match)(tracking=match.tracking, players=match.players, metadata=match.metadata)
    detected = shot_obso(no_events, GRID)
    assert detected.height > 0 and set(detected["shot_source"]) == {"detected"}
    assert detected["shooter_obso"].drop_nulls().is_between(0.0, 1.0).all()


def test_cli_cobso_writes_pair_and_player_tables_and_the_figure(match, tmp_path, monkeypatch) -> None:
    """``soccerai cobso`` on a stored simulated match (constant-velocity counterfactuals): tables and a figure."""
    from typer.testing import CliRunner

    from soccerai.cli.app import app
    from soccerai.data.store import write_match

    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(tmp_path / "out"))
    stored = write_match(match, tmp_path / "match.parquet")
    out = tmp_path / "cobso"
    done = CliRunner().invoke(app, ["cobso", str(stored), "--samples", "1", "--out", str(out)])
    assert done.exit_code == 0, done.output
    pairs = pl.read_parquet(next(out.glob("*_cobso_pairs.parquet")))
    players = pl.read_parquet(next(out.glob("*_cobso_players.parquet")))
    assert pairs.height > 0 and (pairs["cobso"] >= 0).all() and set(pairs["tracking"]) == {"simulated"}
    assert set(players["player"]) == set(pairs["a1"])
    figure = next(out.glob("*_cobso_best.png"))
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 20_000


def test_one_role_assignment_per_shot_shared_by_the_replay_and_match_obso(match) -> None:
    """Every shot's shooter, A1, D1, D2 from the library (:func:`shot_roles`) are the replay's roles at every frame
    of the shot moment (the dashboard, demo and exports read the same assignment)."""
    from soccerai import replay
    from soccerai.evaluate.match_obso import match_shot_roles

    library = match_shot_roles(match)
    assert library.height == match.events.filter(pl.col("type") == "SHOT").height  # skipped shots listed too
    compared = 0
    for moment in [m for m in replay.timeline(match) if m.kind == "shot"][:4]:
        row = library.filter((pl.col("period") == moment.period) & (pl.col("frame") == moment.frame))
        scene = replay.scene_for_moment(match, moment)
        all_frames = {tuple(replay.roles(scene, i).slots().items()) for i in range(0, len(scene), 10)}
        assert len(all_frames) == 1
        roles = replay.roles(scene, scene.key_index)
        if row["a1"][0] is None:
            continue
        compared += 1
        got = {k: getattr(roles, k).object_id for k in ("shooter", "a1", "d1", "d2")}
        assert got == {k: row[k][0] for k in ("shooter", "a1", "d1", "d2")}
        assert row["shooter_name"][0] and row["a1_name"][0]
    assert compared >= 1
