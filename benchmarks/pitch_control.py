"""Benchmark: vectorised pitch control on every frame of a full match versus the per-cell loop reference.

Frames: every 10 Hz frame of a full simulated match from ``$SOCCERAI_OUT_DIR/simulated`` (canonical parquet,
resampled to 10 Hz with smoothed velocities) when one exists, otherwise 54,000 synthetic frames (22 players + ball moving with random smooth motion, seeded). Grid 50 x 32,
2 CPU threads. The loop reference (tests/reference_pitch_control.py) is timed on a sample of frames and extrapolated.

Run: ``.venv/bin/python benchmarks/pitch_control.py [--frames N] [--loop-frames 3]``
Ends with one line ``RESULT fast_s=.. loop_s_extrapolated=.. speedup=.. max_abs_diff=.. frames=..`` (plus the same
in process CPU seconds, which stay meaningful on a shared, overloaded machine where wall seconds do not).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress, TimeElapsedColumn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reference_pitch_control import reference_pitch_control  # noqa: E402

from soccerai.config import output_dir  # noqa: E402
from soccerai.evaluate.pitch_control import Grid, PitchControlParams, frames_from_tracking, pitch_control  # noqa: E402
from soccerai.match.schema import DEFAULT_PITCH  # noqa: E402


def synthetic_frames(
    n_frames: int, seed: int = 0, fps: float = 10.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """22 players + ball with random smooth motion (an Ornstein-Uhlenbeck velocity around home positions).

    Players drift around formation spots that slide with a slowly moving team block; speeds are capped at 8 m/s
    (ball 25 m/s); positions stay on the 105 x 68 pitch. Not football, but realistic spacing and speeds.
    """
    rng = np.random.default_rng(seed)
    dt = 1.0 / fps
    home = np.concatenate(
        [
            np.c_[-45.0, 0.0],
            np.c_[rng.uniform(-35, 10, 10), rng.uniform(-30, 30, 10)],
            np.c_[45.0, 0.0],
            np.c_[rng.uniform(-10, 35, 10), rng.uniform(-30, 30, 10)],
            np.c_[0.0, 0.0],
        ],
        axis=0,
    )  # [23, 2]
    t = np.arange(n_frames) * dt
    block = np.c_[20 * np.sin(t / 47.0), 8 * np.sin(t / 31.0)]  # [F, 2] team block shift
    pos = np.empty((n_frames, 23, 2))
    vel = np.empty((n_frames, 23, 2))
    p = home.copy()
    v = np.zeros((23, 2))
    cap = np.r_[np.full(22, 8.0), 25.0][:, None]
    half = np.array(DEFAULT_PITCH) / 2
    for f in range(n_frames):
        target = home + block[f]
        target[22] = (
            pos[f - 1, rng.integers(0, 22)]
            if f and rng.random() < 0.02
            else (target[22] if f == 0 else p[22])
        )
        v = 0.9 * v + 0.1 * (target - p) * 0.5 + rng.normal(0, 0.6, (23, 2))
        speed = np.linalg.norm(v, axis=1, keepdims=True)
        v = np.where(speed > cap, v * cap / np.maximum(speed, 1e-9), v)
        p = np.clip(p + v * dt, -half, half)
        pos[f], vel[f] = p, v
    valid = torch.ones(n_frames, 23, dtype=torch.bool)
    return torch.from_numpy(pos).float(), torch.from_numpy(vel).float(), valid


def simulated_match_frames() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, str] | None:
    """Every 10 Hz frame of the first readable full simulated match under ``out/simulated``, or None.

    The match is resampled to 10 Hz with smoothed velocities (:func:`soccerai.windows.layout.to_model_rate`), as scoring
    does; home attacks.
    """
    from soccerai.data.store import read_match
    from soccerai.windows.layout import to_model_rate

    for path in sorted((output_dir() / "simulated").glob("*.parquet")):
        try:
            match = to_model_rate(read_match(path))
            frames = frames_from_tracking(match.tracking, match.players, "home")
        except Exception as exc:  # noqa: BLE001 - any unreadable cache file just means "synthesise instead"
            print(f"skipping {path}: {exc}")
            continue
        return frames.positions, frames.velocities, frames.valid, f"simulated match {path.name}"
    return None


def _verdict(met: bool, comparable: bool = True) -> str:
    if not comparable:
        return "n/a (not 2 threads)"
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=None, help="first N frames only (default: the whole match)")
    parser.add_argument("--loop-frames", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    grid, params = Grid(50, 32), PitchControlParams()

    found = simulated_match_frames()
    if found is not None:
        positions, velocities, valid, source = found
        positions, velocities, valid = (
            positions[: args.frames],
            velocities[: args.frames],
            valid[: args.frames],
        )
    else:
        positions, velocities, valid = synthetic_frames(args.frames or 54_000)
        source = "SYNTHETIC frames (no simulated match under out/simulated): random smooth motion of 22 players + ball"
    print(
        f"frames: {positions.shape[0]} from {source}; grid {grid.nx} x {grid.ny}; threads {args.threads}; "
        f"device {args.device}"
    )

    print(
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: timings scale)"
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn()) as bar:
        task = bar.add_task("pitch control", total=positions.shape[0])
        fast = pitch_control(
            positions.to(args.device),
            velocities.to(args.device),
            valid.to(args.device),
            grid,
            params,
            progress=lambda n: bar.advance(task, n),
        )
    if args.device != "cpu":
        torch.cuda.synchronize()
    fast_s, fast_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    fast = fast.cpu()
    print(
        f"fast: {fast_s:.1f} s wall, {fast_cpu_s:.1f} s CPU for {positions.shape[0]} frames "
        f"({positions.shape[0] / fast_s:.0f} frames/s); load average after: {os.getloadavg()[0]:.1f}"
    )

    sample = np.linspace(0, positions.shape[0] - 1, args.loop_frames).round().astype(int)
    start, cpu_start = time.perf_counter(), time.process_time()
    loop = reference_pitch_control(positions[sample], velocities[sample], valid[sample], grid, params)
    loop_per_frame = (time.perf_counter() - start) / len(sample)
    loop_cpu_per_frame = (time.process_time() - cpu_start) / len(sample)
    loop_s, loop_cpu_s = loop_per_frame * positions.shape[0], loop_cpu_per_frame * positions.shape[0]
    max_abs_diff = float((fast[sample].double() - torch.tensor(loop, dtype=torch.float64)).abs().max())
    print(
        f"loop: {loop_per_frame:.2f} s wall ({loop_cpu_per_frame:.2f} s CPU) per frame on {len(sample)} frames "
        f"-> {loop_s:.0f} s wall ({loop_cpu_s:.0f} s CPU) extrapolated"
    )
    full_match = max(1.0, 54_000 / positions.shape[0])  # a slice is scaled up to a 90-minute match at 10 Hz
    print("target                                   measured        verdict")
    print(f"fast >= 100x the loop (wall)             {loop_s / fast_s:8.0f}x      {_verdict(loop_s / fast_s >= 100)}")
    if args.device == "cpu":
        match_s = fast_s * full_match
        print(f"whole match < 60 s on 2 CPU threads      {match_s:8.1f} s     {_verdict(match_s < 60, args.threads == 2)}")
    else:
        match_s = fast_s * full_match
        print(f"whole match < 5 s on a GPU               {match_s:8.1f} s     {_verdict(match_s < 5)}")
    print(f"matches the loop to 1e-3                 {max_abs_diff:8.1e}       {_verdict(max_abs_diff < 1e-3)}")
    print(
        f"RESULT fast_s={fast_s:.1f} fast_cpu_s={fast_cpu_s:.1f} loop_s_extrapolated={loop_s:.0f} "
        f"loop_cpu_s_extrapolated={loop_cpu_s:.0f} speedup={loop_s / fast_s:.0f} "
        f"speedup_cpu={loop_cpu_s / fast_cpu_s:.0f} max_abs_diff={max_abs_diff:.2e} frames={positions.shape[0]}"
    )


if __name__ == "__main__":
    main()
