"""Shots from tracking alone (soccerai.match.shots): against event truth on a simulated slice, on a real goal, bad input."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.match_obso import shot_scenes_counted, to_model_rate
from soccerai.match.schema import Match
from soccerai.match.shots import ShotRules, detect_shots, goal_angle_deg, match_shots, score_detection
from soccerai.synth import synthesize_match


@pytest.fixture(scope="module")
def match() -> Match:
    """Twelve simulated minutes of the real Game 2 timeline (shots with real event frames are the truth)."""
    from soccerai.config import metrica_events_dir

    return synthesize_match(metrica_events_dir() / "Sample_Game_2_RawEventsData.csv", seed=0, duration_s=1500)


def _truth(match: Match) -> pl.DataFrame:
    return match.events.filter(pl.col("type") == "SHOT")


def _without_events(match: Match) -> Match:
    return dataclasses.replace(match, events=None)


def test_detected_shots_match_the_event_shots_within_a_second(match) -> None:
    detection = detect_shots(match)
    score = score_detection(detection.shots, _truth(match), match.metadata.frame_rate)
    assert score.true_shots >= 5
    assert score.recall >= 0.6 and score.precision >= 0.4, score
    assert score.team_agrees == score.matched  # the goal the ball heads to names the right team
    assert set(detection.shots["result"]) <= {"GOAL", "OUT", "SAVED", "BLOCKED", "UNKNOWN"}
    assert detection.counts["shots"] == detection.shots.height and detection.counts["ball_flights"] > 100


def test_events_always_win_and_the_source_is_named(match) -> None:
    from_events = match_shots(match)
    assert from_events.source == "events" and from_events.detection is None
    assert from_events.shots.height == _truth(match).filter(pl.col("player_id").is_not_null()).height
    detected = match_shots(_without_events(match))
    assert detected.source == "detected" and set(detected.shots["subtype"]) == {"DETECTED"}
    assert "detected from tracking" in detected.describe()


def test_a_real_goal_is_found_with_its_outcome() -> None:
    """The Last Row clip is one real Liverpool goal: one shot, by an attacker, into the goal."""
    from soccerai.config import data_dir
    from soccerai.io.providers.lastrow import load_lastrow

    clip = load_lastrow(data_dir() / "clips" / "lastrow" / "LIV_[2]-1_CHE.csv")
    shots = detect_shots(clip).shots
    assert shots.height == 1 and shots["result"][0] == "GOAL"
    attackers = set(clip.players.filter(pl.col("team") == shots["team"][0])["object_id"])
    assert shots["player_id"][0] in attackers


def test_no_detectable_shot_is_an_empty_table_with_counts(match) -> None:
    """A ball that never moves fast (first 60 s, then slowed down 5x) gives no shot, counted, no crash."""
    slow = match.tracking.filter(pl.col("time_s") < 60).with_columns(time_s=pl.col("time_s") * 5)
    detection = detect_shots(dataclasses.replace(match, tracking=slow, events=None))
    assert detection.shots.height == 0 and detection.counts["shots"] == 0
    assert list(detection.shots.columns) == list(match.events.columns)


def test_missing_ball_and_unseen_shooter_are_counted_not_invented(match) -> None:
    truth = _truth(match).sort("frame")
    shot = truth.row(0, named=True)
    fps = match.metadata.frame_rate
    around = pl.col("frame").is_between(shot["frame"] - 2 * fps, shot["frame"] + 3 * fps) & (
        pl.col("period") == shot["period"])
    no_ball = match.tracking.filter(~(around & (pl.col("object_id") == "ball")))
    found = detect_shots(dataclasses.replace(match, tracking=no_ball, events=None)).shots
    assert found.filter((pl.col("frame") - shot["frame"]).abs() <= 2 * fps).height == 0
    # with the events kept, the same shot has no window (ball missing) and is counted, not scored
    cut = dataclasses.replace(match, tracking=no_ball)
    scenes, skips = shot_scenes_counted(to_model_rate(cut))
    assert skips["no_window"] >= 1 and shot["event_id"] not in {s.shot_id for s in scenes}

    unseen = match.tracking.filter(~(around & (pl.col("object_id") == shot["player_id"])))
    detection = detect_shots(dataclasses.replace(match, tracking=unseen, events=None))
    near = detection.shots.filter((pl.col("frame") - shot["frame"]).abs() <= fps)
    assert shot["player_id"] not in near["player_id"].to_list()  # the unseen shooter is never named
    assert detection.counts["shooter_not_visible"] == detection.shots["player_id"].null_count()


def test_rules_are_checked_and_the_goal_angle_is_geometry() -> None:
    with pytest.raises(InvalidParameterError, match="positive"):
        ShotRules(min_peak_speed=-1)
    assert goal_angle_deg(11.0, 0.0) == pytest.approx(2 * 18.4, abs=0.2)  # the penalty spot sees ~37 degrees
    assert goal_angle_deg(2.0, 20.0) < 5.0 < goal_angle_deg(16.5, 0.0)
