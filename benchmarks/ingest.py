"""Ingest benchmark: kloppy (load + ``to_df``) versus soccerai's native Metrica CSV reader on one full match.

Input: a full-length 25 Hz Metrica CSV pair (home + away). With ``--files HOME AWAY`` any pair is used (e.g. the
match synthesizer's output); without it, a **tiled** pair is written to a temporary folder: the 6 real data rows
of ``provider-samples/metrica_{home,away}.csv`` repeated to ``--minutes`` (default 90 = 135,000 frames per file,
two halves), positions jittered by N(0, 0.0005) in normalised units (about 5 cm) so that no two frames are equal.
Its motion is meaningless (it jumps back every 3 frames): it measures parsing, not football; every figure printed
says "tiled/simulated".

Each engine runs in its own child process (``--child ENGINE HOME AWAY``) that times only the load (imports
excluded) and reports its own peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, so the figure
includes the interpreter and imported libraries: what a user's process would need). The parent prints a table and
ends with one line::

    RESULT kloppy_s=.. fast_s=.. speedup=.. fast_peak_mib=.. kloppy_peak_mib=..

Run: ``.venv/bin/python benchmarks/ingest.py`` (about 1.5 minutes: kloppy alone takes about 70 s on a full match);
``--minutes 5`` for a quick check; ``--skip-kloppy`` to time the fast path only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

FRAME_RATE = 25
HEADER_ROWS = 3
JITTER = 0.0005


# ----------------------------------------------------------------------------------------------------------------
# A tiled full-length match (clearly not real motion)
# ----------------------------------------------------------------------------------------------------------------


def _sample_rows(path: Path) -> tuple[list[str], np.ndarray]:
    """Header lines and the data rows' position block (frames x columns, NaN kept) of a real sample file."""
    lines = path.read_text().splitlines()
    rows = [line.split(",")[3:] for line in lines[HEADER_ROWS:] if line.strip()]
    return lines[:HEADER_ROWS], np.array([[float(v) for v in row] for row in rows])


def write_tiled_pair(samples_dir: Path, out_dir: Path, minutes: float, seed: int = 0) -> tuple[Path, Path]:
    """Write ``tiled_home.csv`` / ``tiled_away.csv``: ``minutes`` of 25 Hz frames, two halves, shared ball."""
    rng = np.random.default_rng(seed)
    n_frames = int(round(minutes * 60 * FRAME_RATE))
    period = np.where(np.arange(n_frames) < n_frames // 2, 1, 2)
    frame = np.arange(1, n_frames + 1)
    ball_noise = rng.normal(0.0, JITTER, size=(n_frames, 2))
    paths = []
    for side in ("home", "away"):
        header, block = _sample_rows(samples_dir / f"metrica_{side}.csv")
        tiled = np.resize(block, (n_frames, block.shape[1]))  # repeats the sample rows cyclically
        tiled[:, :-2] += rng.normal(0.0, JITTER, size=(n_frames, block.shape[1] - 2))
        tiled[:, -2:] += ball_noise  # the ball must be identical in both files
        columns = {"period": period, "frame": frame, "time": np.round(frame / FRAME_RATE, 2)}
        columns |= {f"c{i}": np.round(tiled[:, i], 5) for i in range(tiled.shape[1])}
        target = out_dir / f"tiled_{side}.csv"
        with target.open("w") as handle:
            handle.write("\n".join(header) + "\n")
        with target.open("a") as handle:
            pl.DataFrame(columns).write_csv(handle, include_header=False, float_precision=5, null_value="NaN")
        paths.append(target)
    return paths[0], paths[1]


# ----------------------------------------------------------------------------------------------------------------
# Children: one engine each
# ----------------------------------------------------------------------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def run_child(engine: str, home: Path, away: Path) -> dict[str, float]:
    """Load the pair with one engine in this process; return seconds, rows and peak memory."""
    import warnings

    warnings.simplefilter("ignore")
    if engine == "kloppy":
        from kloppy import metrica

        baseline = _peak_mib()
        started = time.perf_counter()
        rows = (
            metrica.load_tracking_csv(home_data=str(home), away_data=str(away)).to_df(engine="polars").height
        )
    else:
        from soccerai.io.metrica_fast import read_metrica_csv

        baseline = _peak_mib()
        started = time.perf_counter()
        rows = read_metrica_csv(home, away).tracking.height
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "peak_mib": _peak_mib(),
        "import_mib": baseline,
    }


def _spawn(engine: str, home: Path, away: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(home), str(away)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{engine} child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------------------------------------------------


def _print_table(label: str, home: Path, frames: int, runs: dict[str, dict[str, float]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Metrica CSV ingest, {frames:,} frames per file ({label})")
    for name in ("engine", "what it produces", "seconds", "rows", "peak MiB", "MiB after imports"):
        table.add_column(name, justify="left" if name in ("engine", "what it produces") else "right")
    produces = {"kloppy": "TrackingDataset + wide to_df(polars)", "fast": "canonical long Match (metres, oriented)"}
    for engine, run in runs.items():
        table.add_row(
            engine,
            produces[engine],
            f"{run['seconds']:.2f}",
            f"{int(run['rows']):,}",
            f"{run['peak_mib']:.0f}",
            f"{run['import_mib']:.0f}",
        )
    Console().print(table)
    print(f"input: {home.parent} ({label})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--files", nargs=2, type=Path, metavar=("HOME", "AWAY"), help="a Metrica CSV pair to use"
    )
    parser.add_argument("--minutes", type=float, default=90.0, help="length of the tiled match (default 90)")
    parser.add_argument("--skip-kloppy", action="store_true", help="time the fast path only")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "HOME", "AWAY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, home, away = args.child
        print(json.dumps(run_child(engine, Path(home), Path(away))))
        return

    with tempfile.TemporaryDirectory(prefix="soccerai-bench-") as tmp:
        if args.files:
            home, away = args.files
            label = "given files: say whether they are simulated or real when you report"
        else:
            samples = Path(os.environ.get("SOCCERAI_DATA_DIR", "../shared/data")) / "provider-samples"
            home, away = write_tiled_pair(samples, Path(tmp), args.minutes)
            label = "tiled/simulated from the real Metrica sample rows, not real motion"
        frames = sum(1 for _ in home.open()) - HEADER_ROWS
        runs = {"fast": _spawn("fast", home, away)}
        if not args.skip_kloppy:
            runs = {"kloppy": _spawn("kloppy", home, away), **runs}
        _print_table(label, home, frames, runs)
    fast = runs["fast"]
    kloppy = runs.get("kloppy")
    if kloppy:
        print(
            f"RESULT kloppy_s={kloppy['seconds']:.2f} fast_s={fast['seconds']:.2f} "
            f"speedup={kloppy['seconds'] / fast['seconds']:.1f} fast_peak_mib={fast['peak_mib']:.0f} "
            f"kloppy_peak_mib={kloppy['peak_mib']:.0f}"
        )
    else:
        print(
            f"RESULT kloppy_s=nan fast_s={fast['seconds']:.2f} speedup=nan fast_peak_mib={fast['peak_mib']:.0f} "
            f"kloppy_peak_mib=nan"
        )


if __name__ == "__main__":
    main()
