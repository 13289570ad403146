"""GVRNN / VRNN training and sampling speed: the current implementation against the former one, in the same run.

    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/train_speed.py [--threads 2] [--steps 3]

Data: REAL tracking, every 6 s window (2 s observed + 4 s predicted, 10 Hz) of the Last Row clip
``LIV_[2]-1_CHE`` (20 tracked players + ball: two agent slots are absent, so the presence-mask path is exercised);
the first ``--batch-size`` windows form the training batch (default 32, as the trainer uses).

Old = ``tests/reference_gvrnn.py`` (the former code: every network run frame by frame, every message held as one
``[G, N, N, H]`` tensor); new = :mod:`soccerai.models.vrnn` (fused ReLU pool of :mod:`soccerai.models.relu_pool`,
prior and decoder batched over frames, stacked ``h`` products). Both get the same weights (``load_state_dict``).

* Training: ``--steps`` timed steps of loss + backward + Adam per model after one warm-up step, old and new
  alternated ``--rounds`` times so load on a shared machine hits both alike; sequences/s = steps x batch / wall
  seconds (best round), with the process CPU seconds of the same steps (more stable than wall on a loaded machine).
* Matrix-product work: GFLOP of one new training step (``torch.utils.flop_counter``: forward + backward of every
  ``mm`` / ``addmm``), and the GFLOP/s it ran at. The maths fixes this work, so it bounds what any exact
  re-implementation can reach on the same cores.
* Sampling: 20 samples x 23 agents x 40 steps (4 s) after 20 observed frames, batch 1, median of ``--repeats``.
  ``sample_ms`` is the current default (the compiled rollout of :mod:`soccerai.models.rollout_kernel` on a CPU);
  the same model's tensor-loop rollout (``engine="torch"``, the path before issue #31) is timed in the same run,
  the two alternated (``torch_sample_ms``, ``sample_speedup``), and so are the two shipped checkpoints
  (``sim_sample_ms``: ``gvrnn-sim-skillcorner``, the default model; ``skillcorner_sample_ms``), with the largest
  difference of their samples at one seed (``max_sample_diff``, metres).
* Loss: the largest absolute difference of ``loss``, ``nll`` and ``kl`` between old and new on the batch with
  the same seed (the same posterior draws), for GVRNN and VRNN; the maths is the same, so only rounding differs.
* ``--backbone`` (default ``vae``, the best-scoring generator of the equal-steps backbone table): its training
  sequences/s and sampling ms with the current code (its scene encoder's MPNN runs the same fused pool; it has no
  former implementation to compare with).

Ends with ``RESULT old_train_seq_s=.. new_train_seq_s=.. speedup=.. sample_ms=.. max_loss_diff=..`` (GVRNN, the
given thread count) plus CPU seconds, the old sampling time, VRNN's and the backbone's figures, the matrix-product
GFLOP, the thread count and the 1-minute load average of the machine when the run ended.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reference_gvrnn import reference_model  # noqa: E402

from soccerai.config import clips_dir  # noqa: E402
from soccerai.models import TrajectoryBatch, TrajectoryModel, build_model  # noqa: E402
from soccerai.training import pretrained  # noqa: E402
from soccerai.windows.sources import lastrow_clip_windows  # noqa: E402

CLIP = "lastrow/LIV_[2]-1_CHE.csv"
OBS, PRED, SAMPLES = 20, 40, 20
SHIPPED = {"sim": "gvrnn-sim-skillcorner", "skillcorner": "gvrnn-skillcorner"}
"""The shipped checkpoints (hidden 32) whose sampling is timed beside the default config (hidden 64)."""


def train_seconds(model: torch.nn.Module, batch: TrajectoryBatch, steps: int) -> tuple[float, float]:
    """(wall s, CPU s) of ``steps`` Adam steps on ``batch``."""
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        optimiser.zero_grad()
        model.loss(batch)["loss"].backward()
        optimiser.step()
    return time.perf_counter() - wall, time.process_time() - cpu


def sample_ms(model: TrajectoryModel, history: TrajectoryBatch, repeats: int, **options: str) -> tuple[float, float]:
    """Median (wall ms, CPU ms) of one 20-sample rollout (``options``: e.g. the VRNN's ``engine``)."""
    model.sample(history, PRED, SAMPLES, **options)  # warm-up (and the numba kernels' first compile)
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        model.sample(history, PRED, SAMPLES, generator=torch.Generator().manual_seed(0), **options)
        walls.append((time.perf_counter() - wall) * 1e3)
        cpus.append((time.process_time() - cpu) * 1e3)
    return statistics.median(walls), statistics.median(cpus)


def engines_ms(model: TrajectoryModel, history: TrajectoryBatch, repeats: int) -> dict[str, tuple[float, float]]:
    """``{"numba" | "torch": (wall ms, CPU ms)}`` of the rollout engines, alternated ``repeats`` times (best round of
    medians over 3 runs each), and the largest |numba - torch| of their samples at seed 0 (``"diff"``)."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for engine in ("numba", "torch"):
            ms = sample_ms(model, history, 3, engine=engine)
            if engine not in best or ms[0] < best[engine][0]:
                best[engine] = ms
    fast, slow = (model.sample(history, PRED, SAMPLES, generator=torch.Generator().manual_seed(0), engine=engine)
                  for engine in ("numba", "torch"))
    best["diff"] = (float((fast - slow).abs().max()), 0.0)
    return best


def loss_difference(name: str, batch: TrajectoryBatch) -> float:
    """Largest |old - new| over loss / nll / kl with the same weights and seed."""
    torch.manual_seed(0)
    new = build_model(name).train()
    old = reference_model(new.config).train()
    old.load_state_dict(new.state_dict())
    torch.manual_seed(1)
    new_losses = new.loss(batch)
    torch.manual_seed(1)
    old_losses = old.loss(batch)
    return max(abs(float((new_losses[k] - old_losses[k]).detach())) for k in ("loss", "nll", "kl"))


def matmul_gflop(model: TrajectoryModel, batch: TrajectoryBatch) -> float:
    """GFLOP of the matrix products (forward + backward) of one training step of ``model``."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        model.loss(batch)["loss"].backward()
    model.zero_grad()
    return counter.get_total_flops() / 1e9


def paired(name: str, batch: TrajectoryBatch, history: TrajectoryBatch, args: argparse.Namespace) -> dict[str, tuple]:
    """``{"old" | "new": (seq/s, CPU s per step, sample ms, sample CPU ms)}``, old and new alternated."""
    torch.manual_seed(0)
    new = build_model(name).train()
    old = reference_model(new.config).train()
    old.load_state_dict(new.state_dict())
    models = {"old": old, "new": new}
    for model in models.values():
        train_seconds(model, batch, 1)  # warm-up (and the numba kernels' first compile)
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for label, model in models.items():
            wall, cpu = train_seconds(model, batch, args.steps)
            if label not in best or wall < best[label][0]:
                best[label] = (wall, cpu)
    rows = {}
    for label, model in models.items():
        wall, cpu = best[label]
        rows[label] = (args.steps * batch.batch_size / wall, cpu / args.steps, *sample_ms(model, history, args.repeats))
    return rows


def single(name: str, batch: TrajectoryBatch, history: TrajectoryBatch, args: argparse.Namespace) -> tuple:
    """``(seq/s, CPU s per step, sample ms, sample CPU ms)`` of the current ``name`` (no former code to pair)."""
    torch.manual_seed(0)
    model = build_model(name).train()
    train_seconds(model, batch, 1)
    wall, cpu = min((train_seconds(model, batch, args.steps) for _ in range(args.rounds)), key=lambda r: r[0])
    return (args.steps * batch.batch_size / wall, cpu / args.steps, *sample_ms(model, history, args.repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed training steps per model and round")
    parser.add_argument("--rounds", type=int, default=2, help="old / new alternations (best round counts)")
    parser.add_argument("--repeats", type=int, default=5, help="timed sampling runs per model")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backbone", default="vae", help="a generator timed with the current code alone")
    args = parser.parse_args()
    if min(args.threads, args.steps, args.rounds, args.repeats, args.batch_size) < 1:
        parser.error("--threads, --steps, --rounds, --repeats and --batch-size must be >= 1")
    torch.set_num_threads(args.threads)

    windows = lastrow_clip_windows(clips_dir() / CLIP, OBS, PRED, stride=1)
    batch = TrajectoryBatch.from_windows(windows, slice(0, args.batch_size))
    history = TrajectoryBatch.from_windows(windows, slice(0, 1)).history()
    print(f"REAL tracking: {batch.batch_size} windows of the Last Row clip ({OBS} + {PRED} frames, "
          f"{int(batch.mask[0, OBS - 1].sum())} of {batch.n_agents} agents tracked); {args.threads} thread(s); "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: compare old and new of the "
          "same run, CPU seconds beside wall seconds")

    diffs = {name: loss_difference(name, batch) for name in ("gvrnn", "vrnn")}
    torch.manual_seed(0)
    gflop = matmul_gflop(build_model("gvrnn").train(), batch)
    results = {name: paired(name, batch, history, args) for name in ("gvrnn", "vrnn")}
    backbone = single(args.backbone, batch, history, args)
    torch.manual_seed(0)
    rollouts = {"gvrnn": engines_ms(build_model("gvrnn"), history, args.repeats)}
    for label, shipped in SHIPPED.items():
        rollouts[label] = engines_ms(pretrained.load(shipped)[0], history, args.repeats)

    print(f"{'model':6s} {'impl':4s} {'train seq/s':>11s} {'CPU s/step':>10s} {'sample ms':>9s} {'sample CPU ms':>13s}")
    for name, rows in results.items():
        for label, (seq_s, cpu_step, ms, cpu_ms) in rows.items():
            print(f"{name:6s} {label:4s} {seq_s:11.1f} {cpu_step:10.3f} {ms:9.1f} {cpu_ms:13.1f}")
    print(f"{args.backbone:6s} {'new':4s} {backbone[0]:11.1f} {backbone[1]:10.3f} {backbone[2]:9.1f} {backbone[3]:13.1f}")
    for name, rows in results.items():
        old, new = rows["old"], rows["new"]
        print(f"{name}: training {new[0] / old[0]:.2f}x sequences/s ({old[1] / new[1]:.2f}x by CPU s), "
              f"sampling {old[2] / new[2]:.2f}x; largest loss difference old vs new {diffs[name]:.2e}")
    old, new = results["gvrnn"]["old"], results["gvrnn"]["new"]
    step_s = batch.batch_size / new[0]
    print(f"gvrnn matrix products: {gflop:.2f} GFLOP per training step of {batch.batch_size} sequences, run at "
          f"{gflop / step_s:.1f} GFLOP/s of wall time ({gflop / new[1]:.1f} per CPU second); at 100 GFLOP/s they "
          f"alone would cap training at {batch.batch_size * 100 / gflop:.0f} sequences/s")
    print(f"sampling engines ({SAMPLES} samples x {PRED} steps, {args.threads} thread(s), alternated, best round): "
          "numba = the compiled rollout (default), torch = the tensor loop it replaces")
    print(f"{'model':22s} {'numba ms':>8s} {'torch ms':>8s} {'speedup':>7s} {'CPU ms numba/torch':>18s} {'max |diff| m':>12s}")
    for label, row in rollouts.items():
        name = {"gvrnn": "gvrnn (default config)", **{k: v for k, v in SHIPPED.items()}}[label]
        print(f"{name:22s} {row['numba'][0]:8.1f} {row['torch'][0]:8.1f} {row['torch'][0] / row['numba'][0]:7.2f} "
              f"{row['numba'][1]:8.1f}/{row['torch'][1]:<9.1f} {row['diff'][0]:12.1e}")
    vrnn_old, vrnn_new = results["vrnn"]["old"], results["vrnn"]["new"]
    engine_keys = " ".join(
        f"{label}_sample_ms={row['numba'][0]:.1f} {label}_torch_sample_ms={row['torch'][0]:.1f}"
        for label, row in rollouts.items() if label != "gvrnn"
    )
    print(
        f"RESULT old_train_seq_s={old[0]:.1f} new_train_seq_s={new[0]:.1f} speedup={new[0] / old[0]:.2f} "
        f"sample_ms={new[2]:.1f} torch_sample_ms={rollouts['gvrnn']['torch'][0]:.1f} "
        f"sample_speedup={rollouts['gvrnn']['torch'][0] / rollouts['gvrnn']['numba'][0]:.2f} {engine_keys} "
        f"max_sample_diff={max(row['diff'][0] for row in rollouts.values()):.1e} max_loss_diff={max(diffs.values()):.2e} old_sample_ms={old[2]:.1f} "
        f"old_cpu_s_per_step={old[1]:.3f} new_cpu_s_per_step={new[1]:.3f} cpu_speedup={old[1] / new[1]:.2f} "
        f"sample_cpu_ms={new[3]:.1f} vrnn_speedup={vrnn_new[0] / vrnn_old[0]:.2f} "
        f"vrnn_new_train_seq_s={vrnn_new[0]:.1f} {args.backbone}_train_seq_s={backbone[0]:.1f} "
        f"{args.backbone}_sample_ms={backbone[2]:.1f} gflop_per_step={gflop:.2f} threads={args.threads} "
        f"load_avg={os.getloadavg()[0]:.1f} data=real"
    )


if __name__ == "__main__":
    main()
