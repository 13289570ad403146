"""Resampling, velocities, orientation and possession on real clips and on tables with known motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.match import possession, tracking
from soccerai.match.schema import MAX_PLAYER_SPEED, TRACKING_SCHEMA, conform


@pytest.fixture(scope="module")
def lastrow(clips_dir: Path) -> pl.DataFrame:
    return load_lastrow(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv").tracking


def constant_velocity_table(
    fps: float = 25.0, gap: tuple[float, float] = (4.0, 6.0), jump: float = 30.0
) -> pl.DataFrame:
    """Two players and a ball moving at constant velocity for 10 s, with no samples inside ``gap``.

    After the gap every object is ``jump`` metres further along x than constant motion would put it, so a velocity
    computed across the gap would be wrong by ``jump / gap length``.
    """
    t = np.arange(0, 10 * fps + 1) / fps
    t = t[(t < gap[0]) | (t > gap[1])]
    after = (t > gap[1]).astype(float)
    objects = {"h1": ("home", 3.0, 0.0), "a1": ("away", 0.0, -3.0), "ball": ("ball", 2.0, 1.0)}
    rows = [
        pl.DataFrame(
            {
                "match_id": "cv",
                "period": 1,
                "frame": np.rint(t * fps).astype(np.int64),
                "time_s": t,
                "object_id": oid,
                "team": team,
                "x": -20.0 + vx * t + jump * after,
                "y": 5.0 + vy * t,
            }
        )
        for oid, (team, vx, vy) in objects.items()
    ]
    return conform(pl.concat(rows), TRACKING_SCHEMA)


# ---------------------------------------------------------------------------------------------------------------- resample


def test_resample_lastrow_20_to_10_hz(lastrow: pl.DataFrame) -> None:
    out = tracking.resample(lastrow, fps=10.0)
    times = out.get_column("time_s").unique().sort().to_numpy()
    assert len(times) == 98
    np.testing.assert_allclose(np.diff(times), 0.1, atol=1e-9)
    assert out.group_by("frame").len().get_column("len").unique().to_list() == [21]
    # every 10 Hz instant is a 20 Hz sample (the even frames): positions unchanged
    joined = out.join(lastrow, on=["frame", "object_id"], suffix="_src")
    assert joined.height == out.height
    np.testing.assert_allclose(joined.get_column("x"), joined.get_column("x_src"), atol=1e-9)
    tracking.validate_tracking(out)


def test_resample_interpolates_short_gaps_but_not_long_ones() -> None:
    table = constant_velocity_table(gap=(4.0, 6.0))
    short_hole = table.filter(~pl.col("time_s").is_between(1.01, 1.29))  # 0.32 s hole < max_gap_s
    out = tracking.resample(short_hole, fps=10.0, max_gap_s=0.5)
    h1 = out.filter(pl.col("object_id") == "h1")
    at = h1.filter((pl.col("time_s") - 1.2).abs() < 1e-9)
    assert at.height == 1 and at.item(0, "x") == pytest.approx(-20.0 + 3.0 * 1.2)
    assert h1.filter(pl.col("time_s").is_between(4.05, 5.95)).height == 0  # the 2 s gap is not bridged
    assert h1.height == 80  # 0.0..3.9 and 6.1..10.0 (40 + 40 instants), nothing invented
    assert out.select(pl.struct("frame", "object_id").n_unique()).item() == out.height


def test_resample_carries_ball_owner_forward() -> None:
    table = constant_velocity_table(gap=(20.0, 21.0)).with_columns(
        pl.when(pl.col("time_s") < 5.0)
        .then(pl.lit("home"))
        .otherwise(pl.lit("away"))
        .alias("ball_owning_team")
    )
    out = tracking.resample(table, fps=10.0)
    owner = out.filter(pl.col("object_id") == "ball").sort("time_s")
    assert owner.filter(pl.col("time_s") < 4.99).get_column("ball_owning_team").unique().to_list() == ["home"]
    assert owner.filter(pl.col("time_s") > 5.01).get_column("ball_owning_team").unique().to_list() == ["away"]


# ---------------------------------------------------------------------------------------------------------------- velocities


def test_constant_velocity_recovered_and_gap_not_bridged() -> None:
    table = constant_velocity_table()
    out = tracking.add_velocities(table, method="savgol")
    expected = {"h1": (3.0, 0.0), "a1": (0.0, -3.0), "ball": (2.0, 1.0)}
    for oid, (vx, vy) in expected.items():
        obj = out.filter(pl.col("object_id") == oid)
        np.testing.assert_allclose(obj.get_column("vx"), vx, atol=1e-6)
        np.testing.assert_allclose(obj.get_column("vy"), vy, atol=1e-6)
    assert not out.get_column("speed_flag").any()


def test_butterworth_recovers_constant_velocity_away_from_edges() -> None:
    out = tracking.add_velocities(constant_velocity_table(), method="butterworth")
    h1 = out.filter(pl.col("object_id") == "h1")
    np.testing.assert_allclose(h1.get_column("vx"), 3.0, atol=0.05)  # edges of each segment included
    assert h1.get_column("vx").max() < 3.0 + 0.05  # the 30 m jump across the 2 s gap (15 m/s) never shows


def test_velocity_uses_real_time_on_irregular_clock() -> None:
    """Dropped single frames (steps of 1-1.4 frame periods) keep the velocity exact: derivative w.r.t. time_s."""
    rng = np.random.default_rng(0)
    t = np.cumsum(np.where(rng.random(300) < 0.2, 0.052, 0.04))
    table = conform(
        pl.DataFrame(
            {
                "match_id": "m",
                "period": 1,
                "frame": np.arange(300),
                "time_s": t,
                "object_id": "p",
                "team": "home",
                "x": 4.0 * t,
                "y": -1.0 * t,
            }
        ),
        TRACKING_SCHEMA,
    )
    out = tracking.add_velocities(table)
    np.testing.assert_allclose(out.get_column("vx"), 4.0, atol=1e-6)
    np.testing.assert_allclose(out.get_column("vy"), -1.0, atol=1e-6)


def test_player_jump_is_split_and_flagged_speeds_match() -> None:
    table = constant_velocity_table(gap=(99.0, 99.5)).with_columns(
        pl.when((pl.col("object_id") == "h1") & (pl.col("time_s") > 5.0))
        .then(pl.col("x") + 8.0)
        .otherwise(pl.col("x"))
        .alias("x")
    )
    out = tracking.add_velocities(table)
    h1 = out.filter(pl.col("object_id") == "h1")
    np.testing.assert_allclose(h1.get_column("vx"), 3.0, atol=1e-6)  # an 8 m teleport in 0.04 s is not motion


@pytest.mark.parametrize("method", ["savgol", "butterworth"])
def test_lastrow_speeds_are_human(lastrow: pl.DataFrame, method: str) -> None:
    """Real Last Row tracking, 20 Hz and resampled to 10 Hz: p99 player speed below 10 m/s, nothing flagged."""
    for table in (lastrow, tracking.resample(lastrow)):
        summary = tracking.speed_summary(tracking.add_velocities(table, method=method))
        assert 0.5 < summary["p50"] < 3.0
        assert summary["p99"] < 10.0
        assert summary["flagged_fraction"] == 0.0


def _pff_canonical(samples_dir: Path, game: str) -> pl.DataFrame:
    """Real PFF sample read with kloppy directly (metres, centred), laid out as the canonical long table."""
    from kloppy import pff

    dataset = pff.load_tracking(
        meta_data=samples_dir / f"pff_metadata_{game}.json",
        roster_meta_data=samples_dir / f"pff_rosters_{game}.json",
        raw_data=samples_dir / f"pff_{game}.jsonl",
        only_alive=False,
        coordinates="secondspectrum",
    )
    rows = []
    for frame in dataset.frames:
        base = {
            "match_id": game,
            "period": frame.period.id,
            "frame": frame.frame_id,
            "time_s": frame.timestamp.total_seconds(),
        }
        for player, c in frame.players_coordinates.items():
            if c is not None and np.isfinite(c.x) and np.isfinite(c.y):
                rows.append(
                    base
                    | {
                        "object_id": str(player.player_id),
                        "team": player.team.ground.value,
                        "x": c.x,
                        "y": c.y,
                    }
                )
    return conform(pl.DataFrame(rows), TRACKING_SCHEMA)


@pytest.mark.parametrize("game", ["10517", "3812"])
def test_pff_frame_gaps_do_not_make_absurd_speeds(samples_dir: Path, game: str) -> None:
    """PFF samples keep only 25 frames at each end of a period: frame differencing at 29.97 Hz gives 1000+ m/s."""
    table = _pff_canonical(samples_dir, game)
    naive = (
        table.sort("period", "object_id", "frame")
        .select(
            ((pl.col("x").diff() ** 2 + pl.col("y").diff() ** 2).sqrt() * 29.97).over("period", "object_id")
        )
        .to_series()
        .max()
    )
    assert naive > 1000.0  # the trap is in the data
    out = tracking.add_velocities(table)
    speed = out.select((pl.col("vx") ** 2 + pl.col("vy") ** 2).sqrt()).to_series()
    assert speed.max() < 3 * MAX_PLAYER_SPEED  # what remains is smooth but too fast: flagged, not absurd
    assert speed.median() < 6.0
    assert (out.get_column("speed_flag") == (speed > MAX_PLAYER_SPEED)).all()
    resampled = tracking.resample(table)
    assert resampled.filter(pl.col("time_s").is_between(10.0, 900.0)).height == 0  # no invented minutes


def test_metrica_epts_speeds(samples_dir: Path) -> None:
    from soccerai.io.providers.metrica import read_metrica_epts

    match = read_metrica_epts(
        samples_dir / "epts_metrica_metadata.xml", samples_dir / "epts_metrica_tracking.txt"
    )
    for table in (match.tracking, tracking.resample(match.tracking)):
        summary = tracking.speed_summary(tracking.add_velocities(table, method="butterworth"))
        assert summary["p99"] < 10.0 and summary["flagged_fraction"] == 0.0


def test_deterministic(lastrow: pl.DataFrame) -> None:
    def run() -> pl.DataFrame:
        return tracking.add_velocities(tracking.resample(lastrow), method="butterworth")

    assert run().equals(run())


# ---------------------------------------------------------------------------------------------------------------- bad input


def test_bad_tables_raise(lastrow: pl.DataFrame) -> None:
    nan_rows = lastrow.with_columns(
        pl.when(pl.col("frame") == 4).then(float("nan")).otherwise(pl.col("x")).alias("x")
    )
    for bad in (nan_rows, lastrow.clear(), lastrow.drop("x")):
        with pytest.raises(InvalidTrackingError):
            tracking.resample(bad)
        with pytest.raises(InvalidTrackingError):
            tracking.add_velocities(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: tracking.resample(t, fps=0.0),
        lambda t: tracking.resample(t, fps=-10.0),
        lambda t: tracking.resample(t, fps=float("nan")),
        lambda t: tracking.resample(t, fps=50.0),  # above the 20 Hz source
        lambda t: tracking.resample(t, max_gap_s=0.0),
        lambda t: tracking.add_velocities(t, method="kalman"),  # type: ignore[arg-type]
        lambda t: tracking.add_velocities(t, window_s=-1.0),
        lambda t: tracking.add_velocities(t, method="butterworth", cutoff_hz=15.0),
        lambda t: tracking.add_velocities(t, polyorder=9),
    ],
)
def test_absurd_parameters_raise(lastrow: pl.DataFrame, call) -> None:  # noqa: ANN001
    with pytest.raises(InvalidParameterError):
        call(lastrow)


# ---------------------------------------------------------------------------------------------------------------- possession


def test_possession_from_proximity_on_lastrow(lastrow: pl.DataFrame) -> None:
    """Chelsea have the ball for the first second of the clip, then Liverpool (home) keep it to the goal."""
    segments = possession.possession_segments(tracking.resample(lastrow), min_duration_s=0.0)
    assert segments.get_column("source").unique().to_list() == ["proximity"]
    last = segments.row(-1, named=True)
    assert last["team"] == "home" and last["end_frame"] == 194 and last["duration"] > 8.0
    assert segments.row(0, named=True)["team"] == "away"
    third = possession.attacks(tracking.resample(lastrow), zone="third")
    assert third.height == 1 and third.item(0, "team") == "home" and third.item(0, "max_x") > 52.5


def test_possession_from_tracking_and_events() -> None:
    table = tracking.resample(constant_velocity_table(gap=(20.0, 21.0))).with_columns(
        pl.when(pl.col("time_s") < 5.0)
        .then(pl.lit("home"))
        .otherwise(pl.lit("away"))
        .alias("ball_owning_team")
    )
    segments = possession.possession_segments(table)
    assert segments.select("team", "start_frame", "end_frame").rows() == [
        ("home", 0, 123),
        ("away", 125, 250),
    ]
    assert segments.get_column("duration").to_list() == pytest.approx([4.9, 5.0])
    events = pl.DataFrame({"period": [1, 1, 1], "frame": [0, 100, 200], "team": ["away", "home", "away"]})
    from_events = possession.possession_segments(
        table.with_columns(pl.lit(None, pl.String).alias("ball_owning_team")), events
    )
    assert from_events.get_column("source").unique().to_list() == ["events"]
    assert from_events.select("team", "start_frame").rows() == [("away", 0), ("home", 100), ("away", 200)]
    with pytest.raises(InvalidParameterError):
        possession.possession_segments(table, control_radius=-1.0)
