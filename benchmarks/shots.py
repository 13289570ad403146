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

    .venv/bin/python benchmarks/shots.py [--games game1 game2 game3] [--seed 0] [--tolerance-s 1.0] [--no-real]

Last line: ``RESULT precision=.. recall=.. true_shots=.. detected=.. matched=.. team_agreement=..
shooter_agreement=.. provider_sample_false_positives=.. real_goals_detected=.. real_goals_scored=.. source=detected``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", nargs="+", default=list(METRICA_GAMES), choices=list(METRICA_GAMES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance-s", type=float, default=1.0)
    parser.add_argument("--no-real", action="store_true", help="skip the real SkillCorner match (70 s to read)")
    args = parser.parse_args()
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    wall, cpu = time.perf_counter(), time.process_time()

    rows = simulated_rows(args.games, args.seed, args.tolerance_s)
    sample = provider_sample_row(args.tolerance_s)
    if sample is not None:
        rows.append(sample)
    table = pl.DataFrame(rows)
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=200, float_precision=2):
        print(f"Shot detection from tracking alone vs event shots (found within +-{args.tolerance_s:g} s)")
        print(table)
    sim = table.filter(pl.col("data") == "simulated")
    true_shots, detected, matched = (int(sim[c].sum()) for c in ("true_shots", "detected", "matched"))
    precision = matched / detected if detected else float("nan")
    recall = matched / true_shots if true_shots else float("nan")
    team = int(sim["team_agrees"].sum()) / matched if matched else float("nan")
    shooter = int(sim["shooter_agrees"].sum()) / matched if matched else float("nan")
    print(f"simulated, all games: precision {precision:.2f}, recall {recall:.2f} ({matched} of {true_shots} true "
          f"shots found, {detected} detected); matched shots with the right team {team:.2f}, right shooter "
          f"{shooter:.2f}")
    sample_fp = int(sample["detected"] - sample["matched"]) if sample is not None else -1
    if sample is not None:
        print(f"real provider sample: {sample['true_shots']} true shots in its tracking, {sample['detected']} detected")

    goals_found = scored = -1
    if not args.no_real:
        real = real_match_goals()
        if real is not None:
            shots, home, away = real
            goals = shots.filter(pl.col("result") == "GOAL")
            goals_found, scored = goals.height, home + away
            with pl.Config(tbl_rows=60, tbl_cols=12, tbl_width_chars=200, float_precision=1):
                print("Detected shots of the REAL SkillCorner match (source: detected, no events exist)")
                print(shots.select("period", "frame", "time_s", "team", "player_id", "result", "start_x", "start_y"))
            print(f"final score {home}-{away} ({scored} goals); detected shots with outcome GOAL: {goals_found} "
                  f"(home {goals.filter(pl.col('team') == 'home').height}, away "
                  f"{goals.filter(pl.col('team') == 'away').height}); broadcast tracking misses play off camera")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall {time.perf_counter() - wall:.1f} s, cpu {time.process_time() - cpu:.1f} s, peak {peak:.0f} MiB "
          "(shared 2-core machine: timings are loaded)")
    print(f"RESULT precision={precision:.3f} recall={recall:.3f} true_shots={true_shots} detected={detected} "
          f"matched={matched} team_agreement={team:.3f} shooter_agreement={shooter:.3f} "
          f"provider_sample_false_positives={sample_fp} real_goals_detected={goals_found} real_goals_scored={scored} "
          "source=detected data=simulated+real")


if __name__ == "__main__":
    main()
