"""Benchmark: counterfactual truth. Every model and C-OBSO judged against the synthesizer's re-plays (SIMULATED).

Simulated matches from the real Metrica event timelines (game1-3, seed 0) are re-played at shots and attacks of
both halves with each off-ball attacker A1's run changed to alternatives drawn from the synthesizer's own policy
(:mod:`soccerai.synth.replay`); the models (the shipped GVRNN, constant velocity, damped constant velocity) are
judged on how much they move D1/D2 in answer (ratio to the truth), on the ADE of those responded runs, and the
project's C-OBSO against the true one (Spearman over (moment, A1) pairs). The maths: :mod:`soccerai.bench.counterfactual`.

Run: ``.venv/bin/python benchmarks/counterfactual.py [--quick] [--samples 8] [--out DIR]`` (default: three full
simulated matches, ~10 min on 2 cores; ``--quick``: 10 min of one match, a couple of moments, for tests).
Writes ``counterfactual_responses.parquet``, ``counterfactual_pairs.parquet``, ``counterfactual_summary.parquet``
/ ``.md`` and ``counterfactual_moment.png`` under ``<out>/benchmarks/counterfactual`` and ends with one line
``RESULT sim_cf_moments=N sim_cf_response_ratio_gvrnn=.. sim_cf_response_ratio_cv=.. sim_cf_response_ade_gvrnn=..
sim_cobso_truth_corr_gvrnn=.. sim_cobso_truth_corr_cv=.. data=simulated``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
import torch

from soccerai.bench.counterfactual import markdown_table, moment_figure, run, summarize
from soccerai.config import metrica_events_dir, output_dir
from soccerai.models.baselines import ConstantVelocity, DampedConstantVelocity
from soccerai.synth.cache import METRICA_GAMES
from soccerai.training.pretrained import DEFAULT_MODEL, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short match, a few moments (for tests)")
    parser.add_argument("--samples", type=int, default=None, help="model samples per scene (default 8, quick 3)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default <out>/benchmarks/counterfactual)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    folder = args.out or output_dir() / "benchmarks" / "counterfactual"
    folder.mkdir(parents=True, exist_ok=True)
    events = metrica_events_dir()
    if args.quick:
        matches = [(events / METRICA_GAMES["game1"], 0, 900.0)]
        options = dict(n_samples=args.samples or 3, max_shots=2, max_attacks=1, max_candidates=2)
    else:
        matches = [(events / METRICA_GAMES[g], 0, None) for g in ("game1", "game2", "game3")]
        options = dict(n_samples=args.samples or 6, max_shots=6, max_attacks=2, max_candidates=2)
    gvrnn, _ = load(DEFAULT_MODEL)
    models = {"gvrnn": gvrnn, "cv": ConstantVelocity(), "damped_cv": DampedConstantVelocity()}
    responses, pairs, figure = run(matches, models, progress=lambda s: print(f"[{time.perf_counter() - start:6.1f}s] {s}",
                                                                           flush=True), **options)
    summary = summarize(responses, pairs)
    responses.write_parquet(folder / "counterfactual_responses.parquet")
    pairs.write_parquet(folder / "counterfactual_pairs.parquet")
    summary.write_parquet(folder / "counterfactual_summary.parquet")
    table = markdown_table(summary)
    (folder / "counterfactual_summary.md").write_text(
        "# Counterfactual truth (SIMULATED matches)\n\n" + table + "\n", encoding="utf-8")
    print(table)
    if figure is not None:
        moment_figure(figure, folder / "counterfactual_moment.png", "gvrnn")
    moments = pairs.select("moment").n_unique() if pairs.height else 0

    def stat(model: str, column: str) -> str:
        row = summary.filter(pl.col("model") == model)
        return f"{row[column][0]:.3f}" if row.height and row[column][0] is not None else "nan"

    print(f"wrote {folder} in {time.perf_counter() - start:.0f} s")
    print(f"RESULT sim_cf_moments={moments} sim_cf_response_ratio_gvrnn={stat('gvrnn', 'response_ratio')} "
          f"sim_cf_response_ratio_cv={stat('cv', 'response_ratio')} "
          f"sim_cf_response_ade_gvrnn={stat('gvrnn', 'response_ade_m')} "
          f"sim_cobso_truth_corr_gvrnn={stat('gvrnn', 'cobso_truth_spearman')} "
          f"sim_cobso_truth_corr_cv={stat('cv', 'cobso_truth_spearman')} data=simulated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
