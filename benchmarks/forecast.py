"""Forecasting benchmark: train VRNN and GVRNN on SIMULATED full matches, test on a held-out simulated match and on
REAL tracking, and time GVRNN inference and training.

    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/forecast.py [--budget-s 300] [--threads 1]

Data (C-OBSO setup: 2 s observed, 4 s predicted, 10 Hz):

* SIMULATED: full matches written by ``soccerai.synth`` from the three real Metrica event timelines (cached as
  parquet under ``<out>/simulated``; the first run synthesizes them, ~1-2 min). Train on Games 1 + 2, validate on
  the last 10 % of Game 2 (no frame shared with its training windows), test on Game 3 (split by match).
* REAL: every 6 s window of the Last Row clip (Liverpool goal; 20 agents + ball).

Models: constant velocity, VRNN (no graph), GVRNN (graph prior / posterior / decoder), each trained for
``--budget-s`` seconds of wall time. Honest protocol (``soccerai.evaluate.metrics.compare_models``): the models see
only the observed frames and roll out on their own samples; full scene (all agents predicted) and ghosting (A1,
D1, D2 predicted, the other 20 given). ADE / FDE / minADE_20 / minFDE_20 at 4 s.

Timing: GVRNN inference for 20 samples x 23 agents x 40 steps after 20 observed frames, batch 1, CPU, median of
``--repeats`` runs with 1 and 2 threads (the machine is shared: figures are noisy upper bounds); training
throughput in sequences/s. Ends with one ``RESULT ...`` line (minADE_20 of the ghosting scenario on simulated
Game 3).
"""

from __future__ import annotations

import argparse
import statistics
import time

import polars as pl
import torch

from soccerai.config import clips_dir, output_dir
from soccerai.datamodule import lastrow_clip_windows, parquet_windows, split_windows
from soccerai.evaluate.metrics import compare_models
from soccerai.models import TrajectoryBatch, TrajectoryModel, build_model
from soccerai.synth.cache import simulated_match_path
from soccerai.train import TrainConfig, train_and_save
from soccerai.windows import TrajectoryWindows

CLIP = "lastrow/LIV_[2]-1_CHE.csv"
OBS, PRED = 20, 40  # 2 s observed, 4 s predicted at 10 Hz


def evenly(windows: TrajectoryWindows, n: int) -> TrajectoryWindows:
    """At most ``n`` windows spread evenly over ``windows`` (in their order)."""
    if len(windows) <= n:
        return windows
    step = len(windows) / n
    return windows.subset([int(i * step) for i in range(n)])


def simulated_splits(stride: int, n_val: int, n_test: int) -> tuple[TrajectoryWindows, ...]:
    """(train, val, test) SIMULATED windows: Games 1 + 2 / tail of Game 2 / Game 3."""
    paths = {game: simulated_match_path(game) for game in ("game1", "game2", "game3")}
    game1 = parquet_windows([paths["game1"]], OBS, PRED, stride)
    game2_train, val = split_windows(parquet_windows([paths["game2"]], OBS, PRED, stride), val_fraction=0.1)
    test = parquet_windows([paths["game3"]], OBS, PRED, stride)
    return TrajectoryWindows.concat([game1, game2_train]), evenly(val, n_val), evenly(test, n_test)


def time_inference(model: TrajectoryModel, history: TrajectoryBatch, repeats: int, threads: int) -> float:
    """Median milliseconds of 20 samples x 40 steps of ``history`` (batch of 1) with ``threads`` CPU threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model.sample(history, PRED, 20)  # warm-up
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.sample(history, PRED, 20)
            timings.append((time.perf_counter() - start) * 1e3)
        return statistics.median(timings)
    finally:
        torch.set_num_threads(previous)


def training_throughput(name: str, config: dict, batch: TrajectoryBatch, steps: int) -> float:
    """Sequences per second of loss + backward + Adam step."""
    torch.manual_seed(0)
    model = build_model(name, dict(config)).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(steps):
        optimiser.zero_grad()
        model.loss(batch)["loss"].backward()
        optimiser.step()
    return steps * batch.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=300.0, help="training wall time per model")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for training and evaluation")
    parser.add_argument("--stride-s", type=float, default=1.0, help="seconds between training window starts")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--test-windows", type=int, default=200, help="simulated Game 3 windows scored")
    parser.add_argument("--repeats", type=int, default=10, help="timed inference runs (1 thread)")
    parser.add_argument("--repeats-2threads", type=int, default=10, help="timed inference runs with 2 threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = {"hidden": args.hidden, "latent": args.latent}

    start = time.perf_counter()
    train, val, test = simulated_splits(round(args.stride_s * 10), n_val=256, n_test=args.test_windows)
    real = lastrow_clip_windows(clips_dir() / CLIP, OBS, PRED, stride=1)
    print(f"data ({time.perf_counter() - start:.0f} s): SIMULATED train {len(train)} windows (Games 1 + 2), "
          f"val {len(val)} (end of Game 2), test {len(test)} (Game 3); REAL Last Row clip {len(real)} windows")

    models: dict[str, TrajectoryModel] = {"constant_velocity": build_model("constant_velocity")}
    settings = TrainConfig(epochs=100, batch_size=args.batch_size, learning_rate=args.learning_rate,
                           patience=6, accelerator="cpu", max_time_s=args.budget_s, val_every_steps=100)
    for name in ("vrnn", "gvrnn"):
        target = output_dir() / "models" / f"{name}-sim"
        result = train_and_save(name, dict(config), train, val, settings, target, {"data": "simulated Games 1+2"})
        models[name] = result.model
        first, last = result.history[0], result.history[-1]
        print(f"trained {name} for <= {args.budget_s:.0f} s: {last['step']} steps, val_loss "
              f"{first.get('val_loss', float('nan')):.3f} -> {last.get('val_loss', float('nan')):.3f}; saved {target}")

    history = TrajectoryBatch.from_windows(real, slice(0, 1)).history()
    repeats = {1: args.repeats, 2: args.repeats_2threads}
    infer = {(name, threads): time_inference(models[name], history, repeats[threads], threads)
             for name in ("vrnn", "gvrnn") for threads in (1, 2)}
    print("inference, 20 samples x 23 agents x 4 s, batch 1, CPU (shared, loaded machine), median ms:")
    for (name, threads), ms in infer.items():
        print(f"  {name:6s} {threads} thread(s) {ms:8.1f} ms (median of {repeats[threads]})")
    throughput = training_throughput("gvrnn", config, TrajectoryBatch.from_windows(train, slice(0, 32)), steps=3)
    print(f"gvrnn training throughput: {throughput:.1f} sequences/s (6 s windows, batch 32, CPU)")

    pl.Config.set_tbl_rows(30)
    pl.Config.set_tbl_width_chars(160)
    tables = {}
    for label, windows in (("SIMULATED Game 3", test), ("REAL Last Row clip", real)):
        tables[label] = compare_models(models, windows, n_samples=20).with_columns(pl.col(pl.Float64).round(3))
        print(f"honest forecast error (m), {label}, {len(windows)} windows, 2 s observed, 4 s predicted:")
        print(tables[label])

    def min_ade(label: str, model: str, scenario: str) -> float:
        table = tables[label]
        row = table.filter((pl.col("model") == model) & (pl.col("scenario") == scenario) & (pl.col("agents") == "players"))
        return float(row["min_ade_20"][0])

    sim, clip = "SIMULATED Game 3", "REAL Last Row clip"
    print(
        f"RESULT cv_minade20={min_ade(sim, 'constant_velocity', 'ghosting'):.2f} "
        f"vrnn_minade20={min_ade(sim, 'vrnn', 'ghosting'):.2f} gvrnn_minade20={min_ade(sim, 'gvrnn', 'ghosting'):.2f} "
        f"gvrnn_infer_ms={infer[('gvrnn', 2)]:.1f} gvrnn_infer_ms_1thread={infer[('gvrnn', 1)]:.1f} "
        f"gvrnn_train_seq_s={throughput:.1f} data=simulated "
        f"full_scene_minade20 cv={min_ade(sim, 'constant_velocity', 'full_scene'):.2f} "
        f"vrnn={min_ade(sim, 'vrnn', 'full_scene'):.2f} gvrnn={min_ade(sim, 'gvrnn', 'full_scene'):.2f} "
        f"real_clip_ghosting_minade20 cv={min_ade(clip, 'constant_velocity', 'ghosting'):.2f} "
        f"vrnn={min_ade(clip, 'vrnn', 'ghosting'):.2f} gvrnn={min_ade(clip, 'gvrnn', 'ghosting'):.2f}"
    )


if __name__ == "__main__":
    main()
