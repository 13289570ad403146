"""Forecasting benchmark: GVRNN inference time, training throughput, and an honest accuracy table.

    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/forecast.py [--epochs 10] [--threads 2]

1. Inference: 20 samples x 23 agents x 4 s (40 steps at 10 Hz) after 2 s observed, batch of 1, CPU, default
   GVRNN config (hidden 64, latent 16); median of repeated runs, with VRNN and constant velocity as baselines
   timed in the same process (target: GVRNN < 100 ms).
2. Training throughput (CPU): sequences/s of loss + backward + Adam step on batches of 16 six-second windows.
3. Accuracy: train VRNN and GVRNN on the early windows of the real Last Row clip and test on its late windows
   (no shared frame), 1 s observed / 2 s predicted (the clip is 9.7 s long), K = 20 samples; full scene and A1/D1/D2
   ghosting. The data are REAL tracking (one clip: small, so accuracy figures are indicative only).

Ends with one ``RESULT ...`` line.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import polars as pl
import torch

from soccerai.config import clips_dir
from soccerai.datamodule import lastrow_clip_windows, split_windows
from soccerai.evaluate.metrics import compare_models
from soccerai.models import TrajectoryBatch, build_model
from soccerai.train import TrainConfig, fit_model

CLIP = "lastrow/LIV_[2]-1_CHE.csv"


def time_inference(name: str, history: TrajectoryBatch, repeats: int) -> float:
    """Median milliseconds for 20 samples x 40 steps of ``history`` (batch of 1)."""
    torch.manual_seed(0)
    model = build_model(name).eval()
    model.sample(history, 40, 20)  # warm-up
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(history, 40, 20)
        timings.append((time.perf_counter() - start) * 1e3)
    return statistics.median(timings)


def training_throughput(name: str, batch: TrajectoryBatch, steps: int) -> float:
    """Sequences per second of loss + backward + Adam step (default config)."""
    torch.manual_seed(0)
    model = build_model(name).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(steps):
        optimiser.zero_grad()
        model.loss(batch)["loss"].backward()
        optimiser.step()
    return steps * batch.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path: Path = clips_dir() / CLIP

    long_windows = lastrow_clip_windows(path, obs_len=20, pred_len=40, stride=1)
    history = TrajectoryBatch.from_windows(long_windows, slice(0, 1)).history()
    infer = {name: time_inference(name, history, args.repeats) for name in ("constant_velocity", "vrnn", "gvrnn")}
    print("inference, 20 samples x 23 agents x 4 s, batch 1, CPU (real clip history):")
    for name, ms in infer.items():
        print(f"  {name:18s} {ms:8.1f} ms")
    print(f"  gvrnn / vrnn = {infer['gvrnn'] / infer['vrnn']:.2f}x; target gvrnn < 100 ms: "
          f"{'met' if infer['gvrnn'] < 100 else 'NOT met'}")

    train_batch = TrajectoryBatch.from_windows(long_windows, slice(0, 16))
    throughput = {name: training_throughput(name, train_batch, steps=3) for name in ("vrnn", "gvrnn")}
    print("training throughput, 6 s windows, batch 16, CPU (real clip):")
    for name, rate in throughput.items():
        print(f"  {name:18s} {rate:8.1f} sequences/s")

    windows = lastrow_clip_windows(path, obs_len=10, pred_len=20, stride=1)
    train, test = split_windows(windows, val_fraction=0.3)
    models = {"constant_velocity": build_model("constant_velocity")}
    for name in ("vrnn", "gvrnn"):
        result = fit_model(name, {"hidden": 32, "latent": 8}, train, None,
                           TrainConfig(epochs=args.epochs, batch_size=8, learning_rate=3e-3))
        models[name] = result.model
        print(f"  trained {name}: loss {result.history[0]['train_loss']:.3f} -> {result.history[-1]['train_loss']:.3f}")
    table = compare_models(models, test, n_samples=20)
    pl.Config.set_tbl_rows(20)
    pl.Config.set_tbl_width_chars(140)
    print(f"accuracy (m), {len(train)} train / {len(test)} test windows, 1 s observed, 2 s predicted, REAL tracking:")
    print(table.with_columns(pl.col(pl.Float64).round(3)))

    def ade(model: str, scenario: str) -> float:
        row = table.filter((pl.col("model") == model) & (pl.col("scenario") == scenario) & (pl.col("agents") == "players"))
        return float(row["ade"][0])

    print(
        f"RESULT gvrnn_infer_ms={infer['gvrnn']:.1f} (target<100) vrnn_infer_ms={infer['vrnn']:.1f} "
        f"train_seq_per_s_gvrnn={throughput['gvrnn']:.1f} train_seq_per_s_vrnn={throughput['vrnn']:.1f} "
        f"players_ade_2s cv={ade('constant_velocity', 'full_scene'):.2f} vrnn={ade('vrnn', 'full_scene'):.2f} "
        f"gvrnn={ade('gvrnn', 'full_scene'):.2f} ghosting_ade_2s cv={ade('constant_velocity', 'ghosting'):.2f} "
        f"vrnn={ade('vrnn', 'ghosting'):.2f} gvrnn={ade('gvrnn', 'ghosting'):.2f} data=real(lastrow clip)"
    )


if __name__ == "__main__":
    main()
