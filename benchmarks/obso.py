"""Benchmark: OBSO (pitch control x transition x potential score) on N frames, fast vs dense score model.

Frames: the first readable full simulated match under ``$SOCCERAI_OUT_DIR/simulated`` (SIMULATED tracking), evenly
spaced over the whole match; otherwise seeded synthetic frames (random smooth motion, see
``benchmarks/pitch_control.py``). Grid 50 x 32. Pitch control is computed once and shared; the two potential score
models are timed separately (the dense one, ``tests/reference_score.py``, on a subset of frames and extrapolated,
as it costs ~0.2 s of CPU a frame), then OBSO is assembled with each and compared on the common frames.

Run: ``.venv/bin/python benchmarks/obso.py [--frames 2000] [--dense-frames 40] [--threads 1]``
Ends with one line ``RESULT frames=.. control_s=.. score_fast_s=.. score_dense_s_extrapolated=.. speedup=..
... max_abs_diff_score=.. max_abs_diff_obso=.. data=..``; every time is given in wall and in process CPU seconds
(CPU seconds stay meaningful on a shared, overloaded machine where wall seconds do not).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from rich.progress import Progress, TimeElapsedColumn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pitch_control import simulated_match_frames, synthetic_frames  # noqa: E402
from reference_score import reference_potential_score  # noqa: E402

from soccerai.evaluate.obso import obso  # noqa: E402
from soccerai.evaluate.pitch_control import Grid, control_surfaces  # noqa: E402
from soccerai.evaluate.score_model import distance_score, potential_score  # noqa: E402


def timed(label: str, n_frames: int, run: Callable[[Callable[[int], None]], torch.Tensor]):
    """``run(progress)`` under a progress bar; returns (result, wall seconds, CPU seconds)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn()) as bar:
        task = bar.add_task(label, total=n_frames)
        result = run(lambda n: bar.advance(task, n))
    return result, time.perf_counter() - start, time.process_time() - cpu_start


def dense_in_chunks(
    positions: torch.Tensor, valid: torch.Tensor, grid: Grid, progress: Callable[[int], None]
):
    """The dense reference, 4 frames at a time so the progress bar moves."""
    parts = []
    for start in range(0, positions.shape[0], 4):
        parts.append(reference_potential_score(positions[start : start + 4], valid[start : start + 4], grid))
        progress(parts[-1].shape[0])
    return torch.cat(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="frames, evenly spaced over the match")
    parser.add_argument(
        "--dense-frames", type=int, default=40, help="frames the dense score model is timed on"
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    grid = Grid(50, 32)

    found = simulated_match_frames()
    if found is not None:
        positions, velocities, valid, source = found
        data = "simulated"
        source = f"SIMULATED tracking, {source}"
    else:
        positions, velocities, valid = synthetic_frames(max(args.frames, 1) * 10)
        data, source = (
            "synthetic",
            "SYNTHETIC frames (random smooth motion; no simulated match under out/simulated)",
        )
    pick = torch.linspace(0, positions.shape[0] - 1, min(args.frames, positions.shape[0])).round().long()
    positions, velocities, valid = positions[pick], velocities[pick], valid[pick]
    n = positions.shape[0]
    dense_pick = torch.linspace(0, n - 1, min(args.dense_frames, n)).round().long()
    print(f"frames: {n} of {source}; grid {grid.nx} x {grid.ny}; threads {args.threads}")
    print(
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: timings scale)"
    )

    control, control_s, control_cpu = timed(
        "pitch control", n, lambda p: control_surfaces(positions, velocities, valid, grid, progress=p)
    )
    fast, fast_s, fast_cpu = timed(
        "potential score (fast)", n, lambda p: potential_score(positions, valid, grid, progress=p)
    )
    dense, dense_s, dense_cpu = timed(
        "potential score (dense)",
        len(dense_pick),
        lambda p: dense_in_chunks(positions[dense_pick], valid[dense_pick], grid, p),
    )
    scale = n / len(dense_pick)
    dense_s, dense_cpu = dense_s * scale, dense_cpu * scale

    start, cpu_start = time.perf_counter(), time.process_time()
    with_fast = obso(positions, velocities, valid, grid, score_model=fast, control=control)
    assemble_s, assemble_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    control_at = type(control)(
        control.attack[dense_pick], control.defence[dense_pick], control.usable[dense_pick]
    )
    sub = (positions[dense_pick], velocities[dense_pick], valid[dense_pick])
    with_dense = obso(*sub, grid, score_model=dense, control=control_at)
    diff_score = float((fast[dense_pick] - dense).abs().max())
    diff_obso = float((with_fast.surface[dense_pick] - with_dense.surface).nan_to_num(0.0).abs().max())
    distance_cpu = time.process_time()
    distance_score(grid)
    distance_cpu = time.process_time() - distance_cpu

    obso_fast_cpu = control_cpu + fast_cpu + assemble_cpu
    obso_dense_cpu = control_cpu + dense_cpu + assemble_cpu
    per = 1e3 / n
    print(f"data: {data} tracking; load average after: {os.getloadavg()[0]:.1f}")
    print("stage                              wall s     CPU s   CPU ms/frame")
    print(f"pitch control                    {control_s:8.1f}  {control_cpu:8.1f}  {control_cpu * per:10.2f}")
    print(f"potential score, fast            {fast_s:8.1f}  {fast_cpu:8.1f}  {fast_cpu * per:10.2f}")
    print(f"potential score, dense (extrap.) {dense_s:8.0f}  {dense_cpu:8.0f}  {dense_cpu * per:10.1f}")
    print(
        f"transition x product             {assemble_s:8.1f}  {assemble_cpu:8.1f}  {assemble_cpu * per:10.2f}"
    )
    print(f"OBSO with fast score             {control_s + fast_s + assemble_s:8.1f}  {obso_fast_cpu:8.1f}")
    print(f"OBSO with dense score            {control_s + dense_s + assemble_s:8.0f}  {obso_dense_cpu:8.0f}")
    print(f"distance score (static, once)                {distance_cpu:8.3f}")
    print(
        f"score speedup {dense_s / fast_s:.0f}x wall, {dense_cpu / fast_cpu:.0f}x CPU; OBSO speedup "
        f"{obso_dense_cpu / obso_fast_cpu:.1f}x CPU; max |fast - dense| score {diff_score:.1e}, OBSO {diff_obso:.1e} "
        f"(target 1e-5: {'met' if max(diff_score, diff_obso) < 1e-5 else 'MISSED'})"
    )
    print(
        f"RESULT frames={n} control_s={control_s:.1f} control_cpu_s={control_cpu:.1f} score_fast_s={fast_s:.2f} "
        f"score_fast_cpu_s={fast_cpu:.2f} score_dense_s_extrapolated={dense_s:.0f} "
        f"score_dense_cpu_s_extrapolated={dense_cpu:.0f} speedup={dense_s / fast_s:.0f} "
        f"speedup_cpu={dense_cpu / fast_cpu:.0f} obso_fast_cpu_s={obso_fast_cpu:.1f} "
        f"obso_dense_cpu_s_extrapolated={obso_dense_cpu:.0f} max_abs_diff_score={diff_score:.2e} "
        f"max_abs_diff_obso={diff_obso:.2e} threads={args.threads} data={data}"
    )


if __name__ == "__main__":
    main()
