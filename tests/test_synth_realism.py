"""Calibrated synthesizer: its new random sources (determinism per seed), the measurement models and the realism
report's statistics (SIMULATED tracking, hand-made arrays with known answers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.match.schema import Match
from soccerai.synth import synthesize_match
from soccerai.synth.ball import BallPath, bend_passes, dribble_touches
from soccerai.synth.behaviour import (
    CALIBRATED,
    SOURCES,
    Behaviour,
    behaviour_draws,
    behaviour_streams,
    draw_styles,
    ou_series,
)
from soccerai.synth.measurement import MODELS, TAIL_CAP, MeasurementModel, ar1_noise, camera_visible, observe
from soccerai.synth.realism import (
    Wide,
    realism_objective,
    realism_report,
    report_statistics,
    simulated_statistics,
)

SHORT_S = 240.0  # 2 minutes of each half


@pytest.fixture(scope="module")
def calibrated(events_dir: Path) -> Match:
    return synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=SHORT_S)


# --- the new random sources: same seed, same draws; another seed, other draws -------------------------------------


def test_behaviour_draws_are_seeded() -> None:
    keeper = np.zeros(22, dtype=bool)
    keeper[[0, 11]] = True

    def draws(seed: int, b: Behaviour = CALIBRATED):
        streams = behaviour_streams(seed)
        return behaviour_draws(streams, b, 500, 0.32, keeper, draw_styles(streams["style"], b))

    a, b, c = draws(0), draws(0), draws(1)
    for name in ("decide", "offset", "urgency", "team_shift"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    rate = a.decide[1:].mean()  # each player re-decides with probability dt / decision_mean_s per step
    assert rate == pytest.approx(0.32 / CALIBRATED.decision_mean_s, rel=0.1)
    changes = (np.diff(a.offset[:, :, 0], axis=0) != 0).mean()
    assert changes == pytest.approx(CALIBRATED.intention_rate_per_s * 0.32, rel=0.2)
    roam = np.abs(a.offset[:, :, 0]).mean(axis=0)
    assert roam[keeper].max() < roam[~keeper].mean()  # goalkeepers roam less
    off = behaviour_draws(behaviour_streams(0), Behaviour.v3(), 10, 0.32, keeper, (np.ones(22), np.ones(22)))
    assert off.decide.all() and not off.offset.any() and (off.urgency == 1).all()  # v3: nothing random
    assert not off.team_shift.any()
    # one generator per source: switching a source off leaves every other source's draws as they were
    quiet = draws(0, CALIBRATED.with_(team_shift_sigma_m=0.0, decision_mean_s=0.0))
    assert not quiet.team_shift.any() and quiet.decide.all()
    assert np.array_equal(quiet.offset, a.offset) and np.array_equal(quiet.urgency, a.urgency)
    assert len(set(SOURCES)) == len(SOURCES) == len(behaviour_streams(0))


def test_team_shift_is_an_ornstein_uhlenbeck_offset_per_team() -> None:
    """The team-shift source: stationary std sigma, lag-1 correlation exp(-dt / tau), the two teams independent."""
    u = ou_series(np.random.default_rng(3), (200_000, 2, 2), 0.32, 3.0, 4.0)
    assert u.std() == pytest.approx(3.0, rel=0.05)
    assert np.corrcoef(u[1:, 0, 0], u[:-1, 0, 0])[0, 1] == pytest.approx(np.exp(-0.32 / 4.0), abs=0.01)
    assert abs(np.corrcoef(u[:, 0, 0], u[:, 1, 0])[0, 1]) < 0.05
    assert np.array_equal(u, ou_series(np.random.default_rng(3), (200_000, 2, 2), 0.32, 3.0, 4.0))
    assert not ou_series(np.random.default_rng(3), (5, 2, 2), 0.32, 0.0, 4.0).any()


def test_ball_flight_and_touches_are_seeded_and_keep_the_ends() -> None:
    def ball() -> BallPath:
        x = np.linspace(0.0, 30.0, 101)
        return BallPath(0, x.copy(), np.zeros(101), np.zeros(101), np.ones(101, bool), np.zeros(101, np.int8))

    events = pl.DataFrame(
        {"type": ["PASS"], "start_frame": [10], "end_frame": [60], "sx": [3.0], "sy": [0.0], "ex": [18.0], "ey": [0.0]}
    )
    paths = []
    for seed in (0, 0, 1):
        b = ball()
        bend_passes(b, events, 0, np.random.default_rng(seed), 0.1)
        paths.append(b.y.copy())
    assert np.array_equal(paths[0], paths[1]) and not np.array_equal(paths[0], paths[2])
    assert paths[0][10] == 0.0 and paths[0][60] == 0.0 and np.abs(paths[0][11:60]).max() > 0  # ends unchanged
    dribbled = []
    for seed in (0, 0, 1):
        b = ball()
        b.x[20:81] += 0.3 * np.sin(np.arange(61))  # a wobbly glued ball
        dribble_touches(b, [(3, 20, 80)], 25.0, np.random.default_rng(seed), 0.4)
        dribbled.append(b.x.copy())
    assert np.array_equal(dribbled[0], dribbled[1]) and not np.array_equal(dribbled[0], dribbled[2])
    assert dribbled[0][20] == ball().x[20] and dribbled[0][80] == ball().x[80] + 0.3 * np.sin(60)


def test_calibrated_match_is_seeded_and_differs_from_v3(events_dir: Path, calibrated: Match) -> None:
    game1 = events_dir / "Sample_Game_1_RawEventsData.csv"
    again = synthesize_match(game1, seed=0, duration_s=SHORT_S)
    assert again.tracking.equals(calibrated.tracking)
    v3 = synthesize_match(game1, seed=0, duration_s=SHORT_S, behaviour=Behaviour.v3())
    assert not v3.tracking.select("x").equals(calibrated.tracking.select("x"))
    assert v3.metadata.extra["behaviour"] == "v3" and calibrated.metadata.extra["behaviour"]["foresight_s"] > 0


def test_event_alignment_kept(calibrated: Match) -> None:
    """The ball and the event's player within 1 m of every reachable event's start spot at its start frame."""
    ev = calibrated.events.filter(pl.col("start_x").is_not_null() & pl.col("player_id").is_not_null())
    tr = calibrated.tracking.select("period", "frame", "object_id", "x", "y")
    who = ev.join(tr, left_on=["period", "frame", "player_id"], right_on=["period", "frame", "object_id"])
    ball = ev.join(tr.filter(pl.col("object_id") == "ball"), on=["period", "frame"])
    unreachable = {(r["period"], r["frame"]) for r in calibrated.metadata.extra["unreachable_events"]}
    who = who.filter(~pl.struct("period", "frame").is_in([{"period": p, "frame": f} for p, f in unreachable]))
    assert who.height > 50
    assert np.hypot(who["x"] - who["start_x"], who["y"] - who["start_y"]).max() <= 1.0
    core = ball.filter(pl.col("type").is_in(["PASS", "SHOT", "CARRY"]))
    assert np.hypot(core["x"] - core["start_x"], core["y"] - core["start_y"]).max() <= 1.0
    assert calibrated.metadata.extra["max_event_error_m"] <= 1.0 or unreachable


# --- measurement models ---------------------------------------------------------------------------------------


def test_ar1_noise_has_its_std_and_time_constant() -> None:
    e = ar1_noise(np.random.default_rng(0), 200_000, 2, 0.1, 0.3, 0.5)
    assert e.std() == pytest.approx(0.3, rel=0.03)
    lag1 = np.corrcoef(e[1:, 0], e[:-1, 0])[0, 1]
    assert lag1 == pytest.approx(np.exp(-0.1 / 0.5), abs=0.01)
    assert np.array_equal(e, ar1_noise(np.random.default_rng(0), 200_000, 2, 0.1, 0.3, 0.5))
    assert not ar1_noise(np.random.default_rng(0), 10, 2, 0.1, 0.0, 0.5).any()


def test_heavy_tailed_noise_jumps_now_and_then() -> None:
    """Student-t innovations (broadcast re-detections): same AR(1) correlation, far heavier tails than Gaussian
    (p99 / p50 of |second difference| ~11 with 2 degrees of freedom, as on the real SkillCorner match; Gaussian
    3.8), capped, and seeded."""
    def ratio(e: np.ndarray) -> float:
        a = np.abs(np.diff(e[:, 0], 2))
        return float(np.percentile(a, 99) / np.percentile(a, 50))

    gauss = ar1_noise(np.random.default_rng(0), 100_000, 2, 0.1, 0.1, 0.5)
    heavy = ar1_noise(np.random.default_rng(0), 100_000, 2, 0.1, 0.1, 0.5, dof=2.0)
    assert ratio(gauss) == pytest.approx(3.8, rel=0.1)
    assert 8.0 < ratio(heavy) < 16.0
    assert np.corrcoef(heavy[1:, 0], heavy[:-1, 0])[0, 1] == pytest.approx(np.exp(-0.1 / 0.5), abs=0.05)
    rho = np.exp(-0.1 / 0.5)
    innovations = (heavy[1:] - rho * heavy[:-1]) / (0.1 * np.sqrt(1 - rho**2))
    assert np.abs(innovations).max() <= TAIL_CAP + 1e-6
    assert np.array_equal(heavy, ar1_noise(np.random.default_rng(0), 100_000, 2, 0.1, 0.1, 0.5, dof=2.0))


def test_camera_window_follows_the_ball() -> None:
    model = MeasurementModel("broadcast", view_half_length_m=15.0, camera_tau_s=1e-6)
    ball = np.array([0.0, 0.0, 30.0])
    x = np.array([[10.0, 20.0], [-14.0, -16.0], [20.0, 50.0]])
    assert camera_visible(ball, x, 0.1, model).tolist() == [[True, False], [True, False], [True, False]]
    slow = MeasurementModel("broadcast", view_half_length_m=15.0, camera_tau_s=1.0)
    assert camera_visible(ball, x, 0.1, slow)[2].tolist() == [False, False]  # the camera lags behind the ball


def test_observe_broadcast_and_optical(calibrated: Match) -> None:
    broadcast = observe(calibrated, MODELS["broadcast"], seed=0)
    assert broadcast.metadata.frame_rate == 10.0 and broadcast.metadata.simulated
    assert broadcast.tracking["vx"].null_count() == broadcast.tracking.height  # velocities recomputed downstream
    per_frame = broadcast.tracking.filter(pl.col("team") != "ball").group_by("period", "frame").len()["len"]
    assert 4 < per_frame.mean() < 18 and per_frame.max() <= 22  # only the camera's players
    assert broadcast.tracking.filter(pl.col("team") == "ball").height == per_frame.len()  # the ball always
    assert observe(calibrated, MODELS["broadcast"], seed=0).tracking.equals(broadcast.tracking)
    assert not observe(calibrated, MODELS["broadcast"], seed=1).tracking.equals(broadcast.tracking)
    optical = observe(calibrated, MODELS["optical"], seed=0)
    assert optical.tracking.height == calibrated.tracking.height  # everyone, every frame
    key = ["period", "frame", "object_id"]
    joined = optical.tracking.join(calibrated.tracking, on=key, suffix="_true").filter(pl.col("team") != "ball")
    err = (joined["x"] - joined["x_true"]).to_numpy()
    m = MODELS["optical"]
    assert err.std() == pytest.approx(np.hypot(m.sigma_m, m.jitter_m), rel=0.25)
    with pytest.raises(Exception, match="measurement must be one of"):
        synthesize_match(None, seed=0, duration_s=20, measurement="drone")


# --- the report's statistics on arrays with known answers ------------------------------------------------------


def _wide(x: np.ndarray, y: np.ndarray, team: np.ndarray) -> Wide:
    n = x.shape[0]
    return Wide("test", np.arange(n) / 10.0, np.ones(n, int), x, y, team, np.zeros(team.size, bool), 10.0, True)


def test_report_statistics_known_motion() -> None:
    """Six players at constant velocity (CV is exact), one with a gap: speeds exact, no speed across the gap."""
    n = 200
    t = np.arange(n) / 10.0
    speeds = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    x = t[:, None] * speeds[None, :] + np.arange(6)[None, :] * 5.0
    y = np.tile(np.array([0.0, 0.0, 0.0, 3.0, 3.0, 3.0]), (n, 1))
    x[100:105, 0] = np.nan  # a player out of view for half a second
    x[105:, 0] += 40.0  # ...who comes back 40 m further on: no velocity may span the gap
    stats = report_statistics(_wide(x, y, np.array([0, 0, 0, 1, 1, 1])))
    assert stats["speed p50 (m/s)"] == pytest.approx(4.0)  # 591 of 1188 speeds are <= 3 m/s (6 lost to the gap)
    assert stats["speed p99 (m/s)"] == pytest.approx(6.0, abs=1e-6)
    assert stats["|acc| p99 (m/s2)"] == pytest.approx(0.0, abs=1e-6)
    for h in (1, 2, 3, 4):
        assert stats[f"CV ADE {h} s (m)"] == pytest.approx(0.0, abs=1e-9)
    assert stats["turning rate (deg/s)"] == pytest.approx(0.0, abs=1e-6)
    assert stats["nearest opponent (m)"] >= 3.0  # the teams run 3 m apart across the pitch
    assert stats["sprints /player-minute"] == 0.0
    assert stats["visible players /sample"] == pytest.approx((6 * n - 5) / n)


def test_report_ratios_and_objective() -> None:
    real = {"A (real, x)": {"speed p50 (m/s)": 2.0, "forecast anchors": 100.0}}
    sim = {"v": {"A (real, x)": {"speed p50 (m/s)": 3.0, "forecast anchors": 5.0}}}
    table = realism_report(sim, real)
    assert table.columns == ["statistic", "v via A model", "A (real, x)", "v / A"]
    assert table["v / A"].to_list() == [1.5, 0.05]
    assert realism_objective(sim["v"], real, {}) == pytest.approx(np.log(1.5))  # the sample size is left out


def test_simulated_statistics_respect_visibility(calibrated: Match) -> None:
    stats = simulated_statistics(calibrated)
    broadcast, optical = stats["SkillCorner (real, broadcast)"], stats["Hawk-Eye (real, optical)"]
    assert optical["visible players /sample"] == pytest.approx(22.0)
    assert broadcast["visible players /sample"] < 18.0
    assert broadcast["team length (m)"] < optical["team length (m)"]  # the camera shows part of each team
    assert 1.0 < optical["CV ADE 4 s (m)"] < 6.0 and optical["forecast anchors"] > 1000


# --- against the real matches (slow: reading them takes ~1 min) ---------------------------------------------------


@pytest.mark.slow
def test_real_statistics_and_the_cli_report(data_dir: Path, events_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """The REAL SkillCorner match and Hawk-Eye minutes through the report code: broadcast visibility shows, the
    figures are cached, and ``soccerai synthesize --report --report-v3`` prints both tables."""
    import typer
    from typer.testing import CliRunner

    from soccerai.cli.commands import synthesize
    from soccerai.synth.realism import real_statistics

    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(tmp_path))
    real = real_statistics(data_dir)
    skillcorner, hawkeye = real["SkillCorner (real, broadcast)"], real["Hawk-Eye (real, optical)"]
    assert skillcorner["visible players /sample"] < 14.0 and hawkeye["visible players /sample"] > 20.0
    assert 3.0 < skillcorner["CV ADE 4 s (m)"] < 6.0 and 2.0 < hawkeye["CV ADE 4 s (m)"] < 4.0
    assert skillcorner["speed p99 (m/s)"] < 12.0 and skillcorner["forecast anchors"] > 10_000
    assert len(list((tmp_path / "realism").glob("real-*.json"))) == 2
    app = typer.Typer()
    app.callback()(lambda: None)
    synthesize.register(app)
    args = ["synthesize", str(events_dir / "Sample_Game_1_RawEventsData.csv"), "--format", "parquet",
            "--minutes", "2", "--out", str(tmp_path / "sim"), "--report", "--report-v3"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "SkillCorner (real, broadcast)" in result.output and "Hawk-Eye (real, optical)" in result.output
    assert "v3 SIMULATED" in result.output and "CV ADE 4 s" in result.output
