"""Benchmark: pitch control of a whole 90-minute match at 10 Hz (54,000 frames), new engine vs old vs the loop.

Frames: the first 54,000 10 Hz frames of a full SIMULATED match (Metrica game 1's event timeline through the
synthesizer, cached by :func:`soccerai.synth.cache.simulated_match_path`, ~20 s to synthesize on first use;
resampled to 10 Hz with smoothed velocities as scoring does; home attacks). A shorter match is tiled up to 54,000
frames and the table says so; without the Metrica events, 54,000 seeded synthetic frames (``data=synthetic``).
Grid 50 x 32, 2 CPU threads.

* new engine (the default: numba on CPU) on all 54,000 frames: the whole-match time;
* old engine (``engine="torch"``, the float32 tensor passes) and the new one on the same ``--old-frames`` frames
  spread over the match: frames/s side by side in one run (the machine may be shared: compare within a run);
* the loop reference (tests/reference_pitch_control.py) on ``--loop-frames`` frames: agreement of both engines.

Run: ``.venv/bin/python benchmarks/pitch_control.py [--old-frames 2000] [--loop-frames 3] [--threads 2]``
Ends with one line ``RESULT match_s=.. frames=54000 frames_per_s=.. ... data=simulated|synthetic``.
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

from soccerai.evaluate.pitch_control import Grid, PitchControlParams, frames_from_tracking, pitch_control  # noqa: E402
from soccerai.match.schema import DEFAULT_PITCH  # noqa: E402

MATCH_FRAMES = 54_000  # 90 minutes at 10 Hz


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


def _verdict(met: bool, comparable: bool = True) -> str:
    if not comparable:
        return "n/a (not 2 threads)"
    return "met" if met else "MISSED"


def match_frames(n_frames: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, str, str]:
    """``n_frames`` 10 Hz frames of simulated Metrica game 1 (tiled when shorter), else seeded synthetic frames."""
    from soccerai.data.store import read_match
    from soccerai.errors import InvalidInputError
    from soccerai.synth.cache import simulated_match_path
    from soccerai.windows.layout import to_model_rate

    try:
        path = simulated_match_path("game1")
    except InvalidInputError as exc:
        print(f"no simulated match ({exc}): synthetic frames instead")
        positions, velocities, valid = synthetic_frames(n_frames)
        return (
            positions,
            velocities,
            valid,
            "SYNTHETIC frames (random smooth motion of 22 players + ball)",
            "synthetic",
        )
    match = to_model_rate(read_match(path))
    frames = frames_from_tracking(match.tracking, match.players, "home")
    positions, velocities, valid = frames.positions, frames.velocities, frames.valid
    have = positions.shape[0]
    source = f"SIMULATED match {path.name} ({have} frames at 10 Hz"
    if have < n_frames:
        repeat = -(-n_frames // have)
        positions, velocities, valid = (
            t.repeat(repeat, *([1] * (t.ndim - 1))) for t in (positions, velocities, valid)
        )
        source += f", TILED x{repeat}"
    return (
        positions[:n_frames],
        velocities[:n_frames],
        valid[:n_frames],
        source + f", first {n_frames} used)",
        "simulated",
    )


def _timed(run) -> tuple[torch.Tensor, float, float]:
    start, cpu_start = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - start, time.process_time() - cpu_start


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().nan_to_num(0.0).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frames", type=int, default=MATCH_FRAMES, help="frames of the match run (default 54,000)"
    )
    parser.add_argument(
        "--old-frames", type=int, default=2000, help="frames run by both engines side by side"
    )
    parser.add_argument("--loop-frames", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--device", default="cpu", help="cpu (numba engine) or cuda (torch engine on the GPU)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    grid, params = Grid(50, 32), PitchControlParams()
    positions, velocities, valid, source, data = match_frames(args.frames)
    n = positions.shape[0]
    print(f"data: {source}; grid {grid.nx} x {grid.ny}; {args.threads} threads; device {args.device}")

    def run(index: torch.Tensor | slice, engine: str | None = None, progress=None) -> torch.Tensor:
        out = pitch_control(
            positions[index].to(args.device),
            velocities[index].to(args.device),
            valid[index].to(args.device),
            grid,
            params,
            engine=engine,
            progress=progress,
        )
        if args.device != "cpu":
            torch.cuda.synchronize()
        return out.cpu()

    run(slice(0, 4))  # compile / warm up
    load_before = os.getloadavg()[0]
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn()) as bar:
        task = bar.add_task("new engine, whole match", total=n)
        new_all, match_s, match_cpu_s = _timed(
            lambda: run(slice(None), progress=lambda k: bar.advance(task, k))
        )
    load_match = os.getloadavg()[0]

    subset = torch.from_numpy(np.linspace(0, n - 1, min(args.old_frames, n)).round().astype(np.int64))
    new_sub, new_s, new_cpu_s = _timed(lambda: run(subset))
    old_sub, old_s, old_cpu_s = _timed(lambda: run(subset, engine="torch"))
    load_sub = os.getloadavg()[0]

    sample = torch.from_numpy(np.linspace(0, n - 1, args.loop_frames).round().astype(np.int64))
    loop, loop_s, _ = _timed(
        lambda: torch.tensor(
            reference_pitch_control(positions[sample], velocities[sample], valid[sample], grid, params),
            dtype=torch.float64,
        )
    )
    old_sample = run(sample, engine="torch")
    diff_new, diff_old = _max_diff(new_all[sample], loop), _max_diff(old_sample, loop)
    diff_engines = _max_diff(new_sub, old_sub)

    k = len(subset)
    print(
        f"\nload average: {load_before:.1f} before, {load_match:.1f} after the match run, {load_sub:.1f} after the "
        f"side-by-side run ({os.cpu_count()} CPUs; a shared machine: compare within this run)"
    )
    print(f"{'run':44} {'frames':>7} {'wall s':>8} {'CPU s':>8} {'frames/s':>9}")
    print(f"{'new engine, whole match':44} {n:7d} {match_s:8.1f} {match_cpu_s:8.1f} {n / match_s:9.0f}")
    print(f"{'new engine, side-by-side frames':44} {k:7d} {new_s:8.2f} {new_cpu_s:8.2f} {k / new_s:9.0f}")
    print(f"{'old engine (torch), same frames':44} {k:7d} {old_s:8.2f} {old_cpu_s:8.2f} {k / old_s:9.0f}")
    print(f"{'loop reference':44} {len(sample):7d} {loop_s:8.2f} {'':>8} {len(sample) / loop_s:9.2f}")
    print(
        f"\nnew vs old on the same frames: {old_s / new_s:.1f}x wall, {old_cpu_s / new_cpu_s:.1f}x CPU; "
        f"largest difference between the engines {diff_engines:.1e}"
    )
    match_90 = match_s * MATCH_FRAMES / n
    print(f"{'target':52} {'measured':>10}  verdict")
    if args.device == "cpu":
        print(
            f"{'whole 90-min match (54,000 frames) < 20 s, 2 threads':52} {match_90:9.1f}s  "
            f"{_verdict(match_90 < 20, args.threads == 2)}"
        )
    else:
        print(
            f"{'whole 90-min match (54,000 frames) < 5 s on a GPU':52} {match_90:9.1f}s  {_verdict(match_90 < 5)}"
        )
    print(f"{'new engine matches the loop to 1e-3':52} {diff_new:10.1e}  {_verdict(diff_new < 1e-3)}")
    print(f"{'old engine matches the loop to 1e-3':52} {diff_old:10.1e}  {_verdict(diff_old < 1e-3)}")
    print(
        f"RESULT match_s={match_90:.1f} frames={MATCH_FRAMES} measured_frames={n} frames_per_s={n / match_s:.0f} "
        f"match_cpu_s={match_cpu_s * MATCH_FRAMES / n:.1f} old_frames_per_s={k / old_s:.0f} "
        f"new_frames_per_s_same_frames={k / new_s:.0f} speedup_vs_old={old_s / new_s:.1f} "
        f"max_abs_diff_loop={diff_new:.1e} max_abs_diff_loop_old={diff_old:.1e} max_abs_diff_old={diff_engines:.1e} "
        f"threads={args.threads} load={load_match:.1f} device={args.device} data={data}"
    )


if __name__ == "__main__":
    main()
