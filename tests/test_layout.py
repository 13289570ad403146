"""The one owner of match -> 10 Hz -> 23 agents in the attack frame (soccerai.windows.layout), on the real Last Row clip."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
import torch
from test_tracking import constant_velocity_table

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.match import tracking
from soccerai.windows import layout
from soccerai.windows.container import BALL_INDEX, FPS, N_PER_TEAM
from soccerai.windows.cutter import make_windows_with_stats


@pytest.fixture(scope="module")
def clip(clips_dir):
    return load_lastrow(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv")


def test_keeper_rule_slot_zero_is_the_keeper_or_empty() -> None:
    seen = {"b": 5, "gk": 3, "a": 5, "c": 1}
    assert layout.team_slots(seen, {"gk"}) == ["gk", "a", "b", "c", *[None] * 7]
    # no keeper seen: slot 0 stays empty, no outfielder is moved into it
    assert layout.team_slots({"b": 2, "a": 2}, {"gk"}) == [None, "a", "b", *[None] * 8]
    # two keepers (a keeper substitution): the one seen most is the keeper, the other is not an outfielder
    assert layout.team_slots({"gk1": 2, "gk2": 9, "a": 1}, {"gk1", "gk2"})[:2] == ["gk2", "a"]


def test_keeper_rule_with_more_than_ten_outfielders_keeps_the_ten_seen_most() -> None:
    seen = {f"p{i:02d}": 10 for i in range(10)} | {"sub": 3, "gk": 10}
    slots = layout.team_slots(seen, {"gk"})
    assert slots[0] == "gk" and "sub" not in slots and slots[1:] == sorted(slots[1:])


def test_to_model_rate_keeps_frames_on_the_source_clock(clip) -> None:
    match10 = layout.to_model_rate(clip)
    assert clip.metadata.frame_rate == 20.0 and layout.sample_rate(clip.metadata) == 20.0
    assert match10.metadata.frame_rate == 20.0 and match10.metadata.sample_rate == FPS
    assert layout.sample_rate(match10.metadata) == 10.0
    frames = match10.tracking.get_column("frame").unique().sort().to_numpy()
    assert set(np.diff(frames).tolist()) == {2}  # every second frame of the 20 Hz clock
    assert match10.tracking.get_column("vx").null_count() == 0
    assert layout.to_model_rate(match10) is match10
    assert layout.clock_frames(match10.metadata, 4.0) == 80


def test_frame_tensors_mask_absent_players_never_at_the_origin(clip) -> None:
    match10 = layout.to_model_rate(clip)
    frames = layout.frame_tensors(match10.tracking, match10.players, "home")
    # Last Row knows no attacking keeper: slot 0 is empty and masked; 10 + 10 players are tracked
    assert frames.object_ids[0] is None and not frames.valid[:, 0].any()
    assert frames.object_ids[N_PER_TEAM] is not None and frames.object_ids[BALL_INDEX] == "ball"
    absent = ~frames.valid
    assert frames.positions[absent].isnan().all() and not frames.positions[~absent].isnan().any()


def test_windows_and_frame_tensors_share_the_layout_and_the_orientation(clip) -> None:
    match10 = layout.to_model_rate(clip)
    segments = pl.DataFrame({"period": [1], "start_frame": [0], "end_frame": [10**9], "team": ["away"]},
                            schema={"period": pl.Int64, "start_frame": pl.Int64, "end_frame": pl.Int64,
                                    "team": pl.String})
    windows, _ = make_windows_with_stats(match10, None, 2.0, 4.0, 2.0, segments, 0)
    frames = layout.frame_tensors(match10.tracking, match10.players, "away")
    assert list(windows.meta["object_ids"][0]) == frames.object_ids
    first = int(np.searchsorted(frames.frames, int(windows.meta["start_frame"][0])))
    state, mask = windows.states[0, 0], windows.mask[0, 0]
    np.testing.assert_allclose(state[mask, :2], frames.positions[first].numpy()[mask], atol=1e-5)
    assert windows.is_goalkeeper[0].tolist() == layout.slot_goalkeepers(frames.object_ids, layout.goalkeepers(
        match10.players)).tolist()
    assert not windows.is_goalkeeper[0, [i for i in range(23) if i not in (0, N_PER_TEAM)]].any()


def test_orient_attack() -> None:
    table = tracking.add_velocities(constant_velocity_table())
    home = layout.orient_attack(table, "home")
    away = layout.orient_attack(table, "away")
    assert home.equals(table)
    for col in ("x", "y", "vx", "vy"):
        np.testing.assert_allclose(away.get_column(col), -table.get_column(col))
    per_row = layout.orient_attack(
        table, pl.Series(["away" if i % 2 else "home" for i in range(table.height)])
    )
    np.testing.assert_allclose(per_row.get_column("x")[1::2], -table.get_column("x")[1::2])
    np.testing.assert_allclose(per_row.get_column("x")[::2], table.get_column("x")[::2])
    assert layout.attack_sign("home") == 1.0 and layout.attack_sign("away") == -1.0
    with pytest.raises(InvalidParameterError):
        layout.orient_attack(table, "left")


def test_one_presence_rule_for_frame_tensors_and_windows(clip) -> None:
    """A row whose velocity could not be measured (one isolated broadcast sample) is present with velocity 0, in
    frame tensors as in windows; a speed flagged as a measurement error is absent in both."""
    match10 = layout.to_model_rate(clip)
    frames = layout.frame_tensors(match10.tracking, match10.players, "home")
    player = frames.object_ids[1]
    frame, flagged_frame = int(frames.frames[5]), int(frames.frames[8])
    at = (pl.col("object_id") == player) & (pl.col("frame") == frame)
    blanked = match10.tracking.with_columns(
        pl.when(at).then(None).otherwise(pl.col("vx")).alias("vx"),
        pl.when(at).then(None).otherwise(pl.col("vy")).alias("vy"),
        ((pl.col("object_id") == player) & (pl.col("frame") == flagged_frame)).alias("speed_flag"),
    )
    again = layout.frame_tensors(blanked, match10.players, "home")
    assert again.object_ids == frames.object_ids and len(again) == len(frames)
    assert bool(again.valid[5, 1]) and (again.velocities[5, 1] == 0).all()
    torch.testing.assert_close(again.positions[5, 1], frames.positions[5, 1])
    assert not again.valid[8, 1] and again.positions[8, 1].isnan().all()
    assert bool(again.valid[4, 1]) and bool(again.valid[9, 1])
    windows, _ = make_windows_with_stats(
        dataclasses.replace(match10, tracking=blanked), obs_s=0.5, pred_s=0.5, stride_s=0.1, min_players=0,
        segments=pl.DataFrame({"period": [1], "start_frame": [0], "end_frame": [10**9], "team": ["home"]}))
    row = {int(f): i for i, f in enumerate(frames.frames)}
    assert len(windows) > 5
    for w in range(len(windows)):
        start = row[int(windows.meta.item(w, "start_frame"))]
        slot = windows.meta.item(w, "object_ids").to_list().index(player)
        np.testing.assert_array_equal(windows.mask[w, :, slot], again.valid[start:start + 10, 1].numpy())
    with pytest.raises(InvalidTrackingError, match="no velocities"):
        layout.frame_tensors(match10.tracking.with_columns(pl.lit(None, pl.Float64).alias("vx")),
                             match10.players, "home")
