"""Model windows from the real Last Row clip and from constructed 10 Hz tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.match import tracking
from soccerai.match.schema import Match
from soccerai.windows import cutter as window_cutter


@pytest.fixture(scope="module")
def lastrow_10hz(clips_dir: Path) -> Match:
    match = load_lastrow(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv")
    return dataclasses.replace(
        match, tracking=tracking.add_velocities(tracking.resample(match.tracking, fps=10.0))
    )


def _swap_sides(match: Match) -> Match:
    """The same play with the team labels swapped and the pitch rotated (static rule: home attacks +x)."""
    swapped = match.tracking.with_columns(
        pl.col("team").replace({"home": "away", "away": "home"}),
        *[-pl.col(c) for c in ("x", "y", "vx", "vy")],
    )
    players = match.players.with_columns(pl.col("team").replace({"home": "away", "away": "home"}))
    return dataclasses.replace(match, tracking=swapped, players=players)


def test_lastrow_windows(lastrow_10hz: Match) -> None:
    windows, stats = window_cutter.make_windows_with_stats(lastrow_10hz, obs_s=2.0, pred_s=4.0)
    assert windows.states.shape[1:] == (60, 23, 4) and len(windows) >= 1
    assert windows.obs_len == 20 and windows.simulated is False
    assert stats.produced == len(windows) and stats.skipped == 0
    assert (windows.meta.get_column("attacking_team") == "home").all()
    # 10 attackers, 10 defenders (Last Row tracked 20 players), the ball
    assert (
        windows.mask[:, :, :11].sum(axis=2).min() == 10 and windows.mask[:, :, 11:22].sum(axis=2).min() == 10
    )
    assert windows.mask[:, :, 22].all()
    assert (windows.states[~windows.mask] == 0).all()
    assert windows.is_goalkeeper[:, 11].all() and windows.is_goalkeeper.sum() == len(
        windows
    )  # defending GK first
    assert all(ids[22] == "ball" for ids in windows.meta.get_column("object_ids").to_list())
    attackers_vx = windows.states[:, :, :11, 2][windows.mask[:, :, :11]]
    assert attackers_vx.mean() > 0.0  # the attack goes towards +x


def test_orientation_puts_attack_towards_plus_x(lastrow_10hz: Match) -> None:
    """Swapping which team is "home" changes nothing in the windows: the attacking team always plays +x."""
    original = window_cutter.make_windows(lastrow_10hz)
    swapped = window_cutter.make_windows(_swap_sides(lastrow_10hz))
    assert (swapped.meta.get_column("attacking_team") == "away").all()
    np.testing.assert_allclose(swapped.states, original.states, atol=1e-5)
    np.testing.assert_array_equal(swapped.mask, original.mask)


def test_skipped_windows_are_counted(lastrow_10hz: Match) -> None:
    with pytest.warns(UserWarning, match="3 with too few tracked players"):
        windows = window_cutter.make_windows(lastrow_10hz, min_players=21)
    assert len(windows) == 0 and windows.states.shape == (0, 60, 23, 4)
    tracking_no_ball = lastrow_10hz.tracking.filter(~((pl.col("team") == "ball") & (pl.col("frame") == 100)))
    windows, stats = window_cutter.make_windows_with_stats(
        dataclasses.replace(lastrow_10hz, tracking=tracking_no_ball)
    )
    assert stats.skipped_missing_ball >= 1 and stats.produced == len(windows)
    assert all(not (s <= 100 <= s + 118) for s in windows.meta.get_column("start_frame").to_list())


def test_horizons_and_window_at_frame(lastrow_10hz: Match) -> None:
    segments = pl.DataFrame(
        {"period": [1], "start_frame": [0], "end_frame": [194], "team": ["home"]},
        schema_overrides={"period": pl.Int8},
    )
    for pred_s, expected in ((4.0, 4), (6.0, 2), (8.0, 0)):
        windows = window_cutter.make_windows(lastrow_10hz, pred_s=pred_s, segments=segments)
        assert len(windows) == expected and windows.states.shape[1] == 20 + 10 * int(pred_s)
    windows = window_cutter.make_windows(lastrow_10hz, segments=segments)
    one = window_cutter.window_at_frame(lastrow_10hz, 1, int(windows.meta.item(1, "obs_end_frame")), "home")
    np.testing.assert_array_equal(one.states[0], windows.states[1])
    odd_frame = window_cutter.window_at_frame(
        lastrow_10hz, 1, 59, "home"
    )  # a 20 Hz frame: last 10 Hz frame before it
    assert odd_frame.meta.item(0, "obs_end_frame") == 58
    with pytest.raises(InvalidParameterError, match="lacks"):
        window_cutter.window_at_frame(lastrow_10hz, 1, 10, "home")
    with pytest.raises(InvalidParameterError):
        window_cutter.window_at_frame(lastrow_10hz, 2, 100, "home")


def test_window_at_frame_cuts_the_same_window_from_a_prebuilt_cube(lastrow_10hz: Match) -> None:
    cube = window_cutter.match_cube(lastrow_10hz)
    assert cube.match_id == lastrow_10hz.match_id and set(cube.periods) == {1}
    for frame, team in ((58, "home"), (80, "away")):
        from_match = window_cutter.window_at_frame(lastrow_10hz, 1, frame, team)
        from_cube = window_cutter.window_at_frame(cube, 1, frame, team)
        np.testing.assert_array_equal(from_cube.states, from_match.states)
        np.testing.assert_array_equal(from_cube.mask, from_match.mask)
        assert from_cube.meta.equals(from_match.meta)
    with pytest.raises(InvalidParameterError, match="lacks"):
        window_cutter.window_at_frame(cube, 1, 10, "home")
    with pytest.raises(InvalidParameterError, match="expected a Match"):
        window_cutter.match_cube(lastrow_10hz.tracking)  # type: ignore[arg-type]


def test_deterministic(lastrow_10hz: Match) -> None:
    a, b = window_cutter.make_windows(lastrow_10hz), window_cutter.make_windows(lastrow_10hz)
    np.testing.assert_array_equal(a.states, b.states)
    assert a.meta.equals(b.meta)


def test_bad_input(lastrow_10hz: Match) -> None:
    for kwargs in (
        {"obs_s": 0.0},
        {"pred_s": -4.0},
        {"stride_s": 0.05},
        {"obs_s": float("nan")},
        {"min_players": 30},
    ):
        with pytest.raises(InvalidParameterError):
            window_cutter.make_windows(lastrow_10hz, **kwargs)
    raw_20hz = dataclasses.replace(
        lastrow_10hz, tracking=tracking.add_velocities(load_lastrow_tracking(lastrow_10hz))
    )
    with pytest.raises(InvalidTrackingError, match="Hz first .soccerai.windows.layout.to_model_rate"):
        window_cutter.make_windows(raw_20hz)
    no_velocity = lastrow_10hz.tracking.with_columns(pl.lit(None, pl.Float64).alias("vx"))
    with pytest.raises(InvalidTrackingError, match="no velocities; run soccerai.windows.layout.to_model_rate"):
        window_cutter.make_windows(no_velocity)
    with pytest.raises(InvalidTrackingError):
        window_cutter.make_windows(lastrow_10hz.tracking.clear())
    with pytest.raises(InvalidParameterError):
        window_cutter.make_windows("not a match")  # type: ignore[arg-type]


def load_lastrow_tracking(match: Match) -> pl.DataFrame:
    return load_lastrow(match.metadata.source_files[0]).tracking
