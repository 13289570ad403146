"""Shots from tracking alone (soccerai.match.shots.detect_shots) against event shots: precision and recall within +-1 s.

Truth exists where a match has both tracking and events:

* SIMULATED: matches written by soccerai's synthesizer from the three real Metrica event timelines (their shots,
  with the frames of the real events, are the truth; cached under ``$SOCCERAI_OUT_DIR/simulated``);
* REAL provider sample: Metrica's EPTS tracking sample (the first 100 frames of Sample Game 3) with the real
  ``metrica_events.json`` of the same game (its shots inside those frames are the truth).

The REAL SkillCorner match has no events; its detected shots are printed with the final score in its
``match_data.json`` beside the goals found (a check of the goal outcome on real broadcast tracking).

A detected shot counts as found when a true shot of the same period lies within ``--tolerance-s`` (1 s); pairs are
matched one to one, nearest first. Also reported: how often the matched shot's team and shooter agree.

Broadcast degradation: each simulated match is also written through the fitted broadcast measurement model
(:func:`soccerai.synth.measurement.observe`: 10 Hz, camera window, noise) and then through :func:`cut_aways`, defined
here because the measurement model has none: the camera cuts away after every true goal (from 0.5 s before the ball
reaches the line to 3 s after it, for 30-120 s: celebration and replays), after 30 % of the other shots (20-40 s)
and at random (one cut of 20-45 s per 5 minutes of play); nothing is tracked during a cut. Goals are scored per
match against the true goal events: a goal found by the same team in the same period within 20 s of a true goal.

    .venv/bin/python benchmarks/shots.py [--games game1 game2 game3] [--seed 0] [--tolerance-s 1.0] [--no-real]
                                         [--quick]

Last line: ``RESULT sim_precision=.. sim_recall=.. sim_broadcast_precision=.. sim_broadcast_recall=..
sim_goal_f1=.. real_goals_home=.. real_goals_away=.. real_shots=.. data=simulated+real``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import polars as pl

from soccerai.config import data_dir
from soccerai.data.store import read_match
from soccerai.match.schema import SHOT
from soccerai.match.shots import detect_shots, score_detection
from soccerai.synth.cache import METRICA_GAMES, simulated_match_path

REAL_FOLDER = "real-matches/skillcorner-bayern-dortmund-2019-11-09"


def _row(data: str, name: str, truth: pl.DataFrame, detection, frame_rate: float, tolerance_s: float,
         seconds: float) -> dict:
    score = score_detection(detection.shots, truth, frame_rate, tolerance_s)
    return {"data": data, "match": name, "true_shots": score.true_shots, "detected": score.detected,
            "matched": score.matched, "precision": score.precision, "recall": score.recall,
            "team_agrees": score.team_agrees, "shooter_agrees": score.shooter_agrees,
            "shooter_not_visible": detection.counts["shooter_not_visible"],
            "ball_lost": detection.counts["ball_lost"], "detect_s": round(seconds, 2)}


def simulated_rows(games: list[str], seed: int, tolerance_s: float) -> list[dict]:
    rows = []
    for game in games:
        match = read_match(simulated_match_path(game, seed=seed))
        truth = match.events.filter(pl.col("type") == SHOT)
        started = time.perf_counter()
        detection = detect_shots(match)
        rows.append(_row("simulated", f"{game} seed {seed}", truth, detection, match.metadata.frame_rate,
                         tolerance_s, time.perf_counter() - started))
    return rows


def provider_sample_row(tolerance_s: float) -> dict | None:
    from soccerai.io import load_match
    from soccerai.io.events import load_events

    samples = data_dir() / "provider-samples"
    tracking = [samples / "epts_metrica_metadata.xml", samples / "epts_metrica_tracking.txt"]
    if not all(p.is_file() for p in tracking):
        return None
    match = load_match(tracking)
    frames = match.tracking.get_column("frame")
    events = load_events(samples / "metrica_events.json", match=match, meta=samples / "epts_metrica_metadata.xml")
    truth = events.filter((pl.col("type") == SHOT) & pl.col("frame").is_between(frames.min(), frames.max()))
    started = time.perf_counter()
    detection = detect_shots(match)
    return _row("real", "Metrica EPTS sample + events", truth, detection, match.metadata.frame_rate, tolerance_s,
                time.perf_counter() - started)


def _load_real(folder: Path):
    """The real SkillCorner match through soccerai's reader (``load_match(folder)``), else kloppy's loader."""
    from soccerai.errors import SoccerAIError
    from soccerai.io import load_match

    try:
        return load_match(folder)
    except (SoccerAIError, IsADirectoryError, PermissionError):
        from soccerai.io.providers.kloppy import load_provider

        return load_provider("skillcorner", {"meta": folder / "match_data.json",
                                             "raw": folder / "structured_data.json.xz"})


def real_match_goals() -> tuple[pl.DataFrame, int, int] | None:
    """Detected shots of the real SkillCorner match and its final score (home, away) from match_data.json."""
    folder = data_dir() / REAL_FOLDER
    if not folder.is_dir():
        return None
    meta = json.loads((folder / "match_data.json").read_text())
    match = _load_real(folder)
    detection = detect_shots(match)
    print(f"real SkillCorner match {match.match_id}: {detection.describe()}")
    return detection.shots, int(meta["home_team_score"]), int(meta["away_team_score"])


GOAL_TOLERANCE_S = 20.0


def cut_aways(match, seed: int = 0):
    """The match with broadcast cut-aways (see the module docstring): all tracking rows inside a cut are removed."""
    import dataclasses

    import numpy as np

    rng = np.random.default_rng([seed, 29])
    shots = match.events.filter(pl.col("type") == SHOT) if match.events is not None else pl.DataFrame()
    cuts: list[tuple[int, float, float]] = []
    for row in shots.iter_rows(named=True):
        end_s = row["time_s"] + 0.8  # the ball's flight: it reaches the line within about a second
        if row["result"] == "GOAL":
            start = end_s + rng.uniform(-0.5, 3.0)
            cuts.append((row["period"], start, start + rng.uniform(30.0, 120.0)))
        elif rng.random() < 0.3:
            start = end_s + rng.uniform(0.5, 3.0)
            cuts.append((row["period"], start, start + rng.uniform(20.0, 40.0)))
    for (period,), part in match.tracking.group_by("period"):
        t0, t1 = float(part["time_s"].min()), float(part["time_s"].max())
        for _ in range(rng.poisson((t1 - t0) / 300.0)):
            start = rng.uniform(t0, t1)
            cuts.append((int(period), start, start + rng.uniform(20.0, 45.0)))
    inside = pl.lit(False)
    for period, a, b in cuts:
        inside = inside | ((pl.col("period") == period) & pl.col("time_s").is_between(a, b))
    return dataclasses.replace(match, tracking=match.tracking.filter(~inside), events=None), len(cuts)


def _on_time_clock(table: pl.DataFrame) -> pl.DataFrame:
    """Frames replaced by the time on a 10 Hz clock, so truth and a resampled recording compare."""
    return table.with_columns(frame=(pl.col("time_s") * 10).round().cast(pl.Int64))


def goal_counts(found: pl.DataFrame, truth: pl.DataFrame) -> tuple[int, int, int]:
    """(true goals, goals found, matched): same team and period within ``GOAL_TOLERANCE_S``, one to one."""
    true_rows = truth.filter(pl.col("result") == "GOAL").select("period", "team", "time_s").rows()
    found_rows = found.filter(pl.col("result") == "GOAL").select("period", "team", "time_s").rows()
    used: set[int] = set()
    matched = 0
    for p, team, t in true_rows:
        best = [j for j, (q, side, u) in enumerate(found_rows)
                if j not in used and q == p and side == team and abs(u - t) <= GOAL_TOLERANCE_S]
        if best:
            used.add(min(best, key=lambda j: abs(found_rows[j][2] - t)))
            matched += 1
    return len(true_rows), len(found_rows), matched


def simulated_broadcast_rows(games: list[str], seed: int, tolerance_s: float, quick: bool) -> list[dict]:
    """Per game: shots and goals found on the clean simulated match and on its broadcast recording with cut-aways."""
    import dataclasses

    from soccerai.match.shots import shot_report
    from soccerai.synth.measurement import MODELS, observe

    rows = []
    for game in games:
        match = read_match(simulated_match_path(game, seed=seed, duration_s=1800 if quick else None))
        truth = match.events.filter(pl.col("type") == SHOT)
        versions = {"clean": dataclasses.replace(match, events=None)}
        started = time.perf_counter()
        broadcast, n_cuts = cut_aways(observe(match, MODELS["broadcast"], seed=seed), seed)
        observe_s = time.perf_counter() - started
        versions["broadcast"] = broadcast
        for kind, version in versions.items():
            started = time.perf_counter()
            report = shot_report(version)
            score = score_detection(_on_time_clock(report.table), _on_time_clock(truth), 10.0, tolerance_s)
            true_goals, found_goals, matched_goals = goal_counts(report.table, truth)
            rows.append({"data": f"simulated {kind}", "match": f"{game} seed {seed}", "true_shots": score.true_shots,
                         "detected": score.detected, "matched": score.matched, "precision": score.precision,
                         "recall": score.recall, "true_goals": true_goals, "found_goals": found_goals,
                         "matched_goals": matched_goals, "cuts": n_cuts if kind == "broadcast" else 0,
                         "seconds": round(time.perf_counter() - started + (observe_s if kind == "broadcast" else 0), 1)})
    return rows


def _rates(table: pl.DataFrame, kind: str) -> tuple[float, float]:
    part = table.filter(pl.col("data") == f"simulated {kind}")
    true_shots, detected, matched = (int(part[c].sum()) for c in ("true_shots", "detected", "matched"))
    return (matched / detected if detected else float("nan"), matched / true_shots if true_shots else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", nargs="+", default=list(METRICA_GAMES), choices=list(METRICA_GAMES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance-s", type=float, default=1.0)
    parser.add_argument("--no-real", action="store_true", help="skip the real SkillCorner match")
    parser.add_argument("--quick", action="store_true", help="the first 30 minutes of game1 and game2 only")
    args = parser.parse_args()
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    wall, cpu = time.perf_counter(), time.process_time()
    games = args.games if not args.quick else [g for g in args.games if g != "game3"][:2]

    table = pl.DataFrame(simulated_broadcast_rows(games, args.seed, args.tolerance_s, args.quick))
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=220, float_precision=2):
        print(f"SIMULATED shots and goals from tracking alone vs the true events (shots within +-{args.tolerance_s:g} s,"
              f" goals within {GOAL_TOLERANCE_S:g} s)")
        print(table)
    precision, recall = _rates(table, "clean")
    b_precision, b_recall = _rates(table, "broadcast")
    true_goals, found_goals, matched_goals = (int(table[c].sum()) for c in ("true_goals", "found_goals",
                                                                           "matched_goals"))
    goal_p = matched_goals / found_goals if found_goals else float("nan")
    goal_r = matched_goals / true_goals if true_goals else float("nan")
    goal_f1 = 2 * goal_p * goal_r / (goal_p + goal_r) if goal_p + goal_r > 0 else 0.0
    print(f"simulated clean: shot precision {precision:.2f}, recall {recall:.2f}; broadcast with cut-aways: "
          f"precision {b_precision:.2f}, recall {b_recall:.2f}; goals (clean + broadcast): {matched_goals} of "
          f"{true_goals} found, {found_goals} claimed, F1 {goal_f1:.2f}")

    home = away = shots_n = -1
    if not args.no_real:
        folder = data_dir() / REAL_FOLDER
        if folder.is_dir():
            from soccerai.match.clock import match_clock
            from soccerai.match.shots import shot_report

            match = _load_real(folder)
            report = shot_report(match)
            home, away, shots_n = report.goals["home"], report.goals["away"], report.table.height
            goals = report.table.filter(pl.col("result") == "GOAL").with_columns(
                clock=pl.struct("period", "time_s").map_elements(lambda r: match_clock(r["period"], r["time_s"]),
                                                                 return_dtype=pl.String))
            with pl.Config(tbl_rows=20, tbl_width_chars=220, fmt_str_lengths=100):
                print("REAL SkillCorner match (broadcast tracking, no events): goals and their evidence")
                print(goals.select("clock", "team", "player_id", "evidence"))
            print(f"real: {shots_n} shots; {report.score_line(match.metadata.home_team, match.metadata.away_team)}")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall {time.perf_counter() - wall:.1f} s, cpu {time.process_time() - cpu:.1f} s, peak {peak:.0f} MiB "
          "(shared 2-core machine: timings are loaded)")
    print(f"RESULT sim_precision={precision:.3f} sim_recall={recall:.3f} sim_broadcast_precision={b_precision:.3f} "
          f"sim_broadcast_recall={b_recall:.3f} sim_goal_f1={goal_f1:.3f} real_goals_home={home} "
          f"real_goals_away={away} real_shots={shots_n} data=simulated+real")


if __name__ == "__main__":
    main()
