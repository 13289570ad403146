"""Ingest benchmark, one row per provider: kloppy (load + ``to_df``) versus soccerai's ``load_match``.

Inputs (every figure says which kind it is)
    * **real**: the SkillCorner match (``real-matches/skillcorner-bayern-dortmund-2019-11-09``, 34,783 frames at
      10 Hz) and the two Hawk-Eye minutes (``real-matches/hawkeye-two-minutes``, 6,000 frames at 50 Hz), as stored.
    * **tiled**: a full match (``--minutes``, default 90, at the provider's rate, two halves) written in the
      provider's format into a temporary folder by repeating the rows of the real provider sample (Metrica CSV,
      Tracab DAT, Second Spectrum JSONL, PFF JSONL, Sportec / DFL positions XML) with renumbered frames; Metrica positions also get ~5 cm
      jitter. Right size and format, meaningless motion: it measures parsing, not football.

Each (provider, engine) runs in its own child process (``--child PROVIDER ENGINE FILE...``) that times only the
load (imports excluded) and reports wall and CPU seconds and its peak resident memory (``ru_maxrss``: interpreter
and libraries included, what a user's process needs). ``kloppy`` = the provider's kloppy loader with
``coordinates="secondspectrum"`` then ``to_df`` (polars engine; pandas where polars fails, see the data README);
``soccerai`` = :func:`soccerai.io.load_match` with the default engine (native reader where one is registered,
else soccerai's kloppy path), which returns the full canonical Match. The parent prints a table and ends with::

    DETAIL skillcorner_s=.. skillcorner_kloppy_s=.. ... tiled_minutes=90
    RESULT skillcorner_speedup=.. hawkeye_speedup=.. secondspectrum_speedup=.. pff_speedup=.. sportec_speedup=..
           tracab_speedup=.. metrica_speedup=.. speedup_min=.. peak_mib_max=.. data=real+tiled

Run: ``.venv/bin/python benchmarks/ingest.py`` (a 90-minute tile per provider: kloppy needs minutes each);
``--minutes 10`` for a quick check; ``--providers tracab metrica`` to choose; ``--skip-kloppy``.
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
from collections.abc import Callable
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
# More tiled providers: the real sample's frames repeated, renumbered from the metadata's period starts
# ----------------------------------------------------------------------------------------------------------------


def _frames_per_half(minutes: float, fps: float) -> int:
    return int(round(minutes * 60 * fps / 2))


def write_tiled_tracab(samples_dir: Path, out_dir: Path, minutes: float) -> list[Path]:
    """Tracab DAT: ``frame:objects:ball:`` lines; frames from each period's ``iStartFrame`` in tracab_meta.xml."""
    import re

    meta = samples_dir / "tracab_meta.xml"
    starts = [int(v) for v in re.findall(r'iStartFrame="(\d+)"', meta.read_text())[:2]]
    bodies = [line.split(":", 1)[1] for line in (samples_dir / "tracab_raw.dat").read_text().splitlines() if line]
    n = _frames_per_half(minutes, 25)
    raw = out_dir / "tiled_tracab_raw.dat"
    with raw.open("w") as handle:
        for start in starts:
            handle.writelines(f"{start + i}:{bodies[i % len(bodies)]}\n" for i in range(n))
    target_meta = out_dir / "tiled_tracab_meta.xml"
    target_meta.write_text(meta.read_text())
    return [target_meta, raw]


def write_tiled_secondspectrum(samples_dir: Path, out_dir: Path, minutes: float) -> list[Path]:
    """Second Spectrum JSONL: each period's sample lines repeated, ``frameIdx`` and ``gameClock`` renumbered from
    the XML metadata's ``iStartFrame``; the metadata's period ends moved to the tiled ends."""
    import re

    xml = (samples_dir / "second_spectrum_fake_metadata.xml").read_text()
    starts = {
        int(m.group("id")): int(m.group("start"))
        for m in re.finditer(r'<period iEndFrame="\d+" iId="(?P<id>\d)" iStartFrame="(?P<start>\d+)"', xml)
    }
    lines = [json.loads(line) for line in (samples_dir / "second_spectrum_fake_data.jsonl").read_text().splitlines()]
    n = _frames_per_half(minutes, 25)
    raw = out_dir / "tiled_second_spectrum_data.jsonl"
    with raw.open("w") as handle:
        for period in (1, 2):
            template = [line for line in lines if line["period"] == period] or lines
            for i in range(n):
                frame = dict(template[i % len(template)])
                frame.update(period=period, frameIdx=starts[period] + i, gameClock=i / 25.0, wallClock=i * 40)
                handle.write(json.dumps(frame) + "\n")
    for period in (1, 2):
        xml = re.sub(
            rf'<period iEndFrame="\d+" iId="{period}" iStartFrame="{starts[period]}"',
            f'<period iEndFrame="{starts[period] + n - 1}" iId="{period}" iStartFrame="{starts[period]}"',
            xml,
        )
    meta = out_dir / "tiled_second_spectrum_metadata.xml"
    meta.write_text(xml)
    return [meta, raw]


def write_tiled_pff(samples_dir: Path, out_dir: Path, minutes: float) -> list[Path]:
    """PFF JSONL (game 10517, 29.97 Hz): each period's sample lines repeated with ``frameNum`` and the period
    clocks renumbered; metadata and rosters copied."""
    fps = 29.97
    lines = [json.loads(line) for line in (samples_dir / "pff_10517.jsonl").read_text().splitlines()]
    n = _frames_per_half(minutes, fps)
    raw = out_dir / "tiled_pff_10517.jsonl"
    first = lines[0]["frameNum"]
    with raw.open("w") as handle:
        for period in (1, 2):
            template = [line for line in lines if line["period"] == period] or lines
            offset = first + (period - 1) * (n + 1000)
            for i in range(n):
                frame = dict(template[i % len(template)])
                frame.update(period=period, frameNum=offset + i, periodElapsedTime=i / fps,
                             periodGameClockTime=i / fps, videoTimeMs=(offset + i) / fps * 1000)
                handle.write(json.dumps(frame) + "\n")
    out = [raw]
    for name in ("pff_metadata_10517.json", "pff_rosters_10517.json"):
        out.append(out_dir / f"tiled_{name}")
        out[-1].write_text((samples_dir / name).read_text())
    return out


def write_tiled_sportec(samples_dir: Path, out_dir: Path, minutes: float) -> list[Path]:
    """Sportec / DFL positions XML, two halves of ``minutes``: per half the sample's ball and referee frame sets and
    one frame set for each of the first 11 players of each team in sportec_meta.xml (the sample tracks only 3 of
    them: their frames serve as templates, cycled), every frame set's sample frames repeated with ``N`` renumbered
    from the half's first frame (10000, 100000 as DFL numbers them). One element a line, as DFL writes them; the
    match information copied."""
    import re

    meta_text = (samples_dir / "sportec_meta.xml").read_text()
    squads = [(team, re.findall(r'<Player PersonId="([^"]+)"', body)[:11]) for team, body in
              re.findall(r'<Team TeamId="([^"]+)"(.*?)</Team>', meta_text, flags=re.S)]
    text = (samples_dir / "sportec_positional_w_referee.xml").read_text()
    head = text[: text.index("<FrameSet ")]
    sets = [(dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))), re.findall(r'<Frame N="(\d+)"([^>]*)/>', m.group(2)))
            for m in re.finditer(r"<FrameSet ([^>]*)>(.*?)</FrameSet>", text, flags=re.S)]
    n = _frames_per_half(minutes, 25)
    raw = out_dir / "tiled_sportec_positional.xml"

    def write(handle, attrs: dict[str, str], frames: list[tuple[str, str]]) -> None:
        handle.write("    <FrameSet " + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + ">\n")
        start, rest = int(frames[0][0]), [rest for _, rest in frames]
        for lo in range(0, n, 20_000):
            handle.write("".join(f'      <Frame N="{start + i}"{rest[i % len(rest)]}/>\n'
                                 for i in range(lo, min(n, lo + 20_000))))
        handle.write("    </FrameSet>\n")

    with raw.open("w") as handle:
        handle.write(head)
        for section in ("firstHalf", "secondHalf"):
            half = [(attrs, frames) for attrs, frames in sets if attrs.get("GameSection") == section]
            templates = [frames for attrs, frames in half if attrs["TeamId"] not in ("BALL", "referee")]
            for attrs, frames in half:
                if attrs["TeamId"] in ("BALL", "referee"):
                    write(handle, attrs, frames)
            k = 0
            for team, people in squads:
                for person in people:
                    attrs = {**half[0][0], "TeamId": team, "PersonId": person}
                    write(handle, attrs, templates[k % len(templates)])
                    k += 1
        handle.write("  </Positions>\n</PutDataRequest>\n")
    meta = out_dir / "tiled_sportec_meta.xml"
    meta.write_text(meta_text)
    return [meta, raw]


# ----------------------------------------------------------------------------------------------------------------
# The providers
# ----------------------------------------------------------------------------------------------------------------


def _real(folder: str) -> Callable[[Path, Path, float], list[Path]]:
    def files(data_dir: Path, tmp: Path, minutes: float) -> list[Path]:
        return sorted((data_dir / "real-matches" / folder).iterdir())

    return files


def _tiled(writer: Callable[[Path, Path, float], list[Path]] | None) -> Callable[[Path, Path, float], list[Path]]:
    def files(data_dir: Path, tmp: Path, minutes: float) -> list[Path]:
        folder = tmp / writer.__name__
        folder.mkdir()
        return writer(data_dir / "provider-samples", folder, minutes)

    return files


def _metrica_pair(samples_dir: Path, out_dir: Path, minutes: float) -> list[Path]:
    return list(write_tiled_pair(samples_dir, out_dir, minutes))


def _by(files: list[Path], *needles: str) -> Path:
    return next(p for p in files if all(n in p.name for n in needles))


def _kloppy(provider: str, files: list[Path]) -> int:
    """kloppy's own load + to_df on the files (rows of its table)."""
    from kloppy import hawkeye, metrica, pff, secondspectrum, skillcorner, sportec, tracab

    ss = "secondspectrum"
    if provider == "skillcorner":
        ds = skillcorner.load(meta_data=str(_by(files, "match_data")), raw_data=str(_by(files, "structured")),
                              include_empty_frames=False, coordinates=ss)
    elif provider == "hawkeye":
        ds = hawkeye.load(ball_feeds=[str(p) for p in files if ".ball" in p.name],
                          player_centroid_feeds=[str(p) for p in files if ".centroids" in p.name],
                          meta_data=str(_by(files, "meta.json")), coordinates=ss)
        return ds.to_df(engine="pandas").shape[0]  # polars engine fails on these files (data README)
    elif provider == "metrica":
        ds = metrica.load_tracking_csv(home_data=str(_by(files, "home")), away_data=str(_by(files, "away")))
    elif provider == "tracab":
        ds = tracab.load(meta_data=str(_by(files, "meta")), raw_data=str(_by(files, "raw")), only_alive=False,
                         coordinates=ss)
    elif provider == "secondspectrum":
        ds = secondspectrum.load(meta_data=str(_by(files, "metadata")), raw_data=str(_by(files, "data.jsonl")),
                                 only_alive=False, coordinates=ss)
    elif provider == "pff":
        ds = pff.load_tracking(meta_data=str(_by(files, "metadata")), roster_meta_data=str(_by(files, "rosters")),
                               raw_data=str(_by(files, ".jsonl")), only_alive=False, coordinates=ss)
    elif provider == "sportec":
        ds = sportec.load_tracking(meta_data=str(_by(files, "meta")), raw_data=str(_by(files, "positional")),
                                   only_alive=False, coordinates=ss)
    else:
        raise SystemExit(f"no kloppy call for {provider}")
    return ds.to_df(engine="polars").height


PROVIDER_INPUTS: dict[str, tuple[str, Callable[[Path, Path, float], list[Path]]]] = {
    "skillcorner": ("real", _real("skillcorner-bayern-dortmund-2019-11-09")),
    "hawkeye": ("real", _real("hawkeye-two-minutes")),
    "metrica": ("tiled", _tiled(_metrica_pair)),
    "tracab": ("tiled", _tiled(write_tiled_tracab)),
    "secondspectrum": ("tiled", _tiled(write_tiled_secondspectrum)),
    "pff": ("tiled", _tiled(write_tiled_pff)),
    "sportec": ("tiled", _tiled(write_tiled_sportec)),
}
"""Provider -> (real or tiled, how its files are found or written)."""
RESULT_ORDER = ("skillcorner", "hawkeye", "secondspectrum", "pff", "sportec", "tracab", "metrica")
"""Providers of the final ``RESULT`` line, in its order."""


# ----------------------------------------------------------------------------------------------------------------
# Children: one (provider, engine) each
# ----------------------------------------------------------------------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def run_child(provider: str, engine: str, files: list[Path]) -> dict[str, float | str]:
    """Load the files with one engine in this process: wall and CPU seconds, rows, frames, peak memory."""
    import warnings

    warnings.simplefilter("ignore")
    if engine == "kloppy":
        import kloppy  # noqa: F401 - imported before the clock starts

        load: Callable[[], tuple[int, int | None, str]] = lambda: (_kloppy(provider, files), None, "kloppy")  # noqa: E731
    else:
        import kloppy  # noqa: F401 - the native readers read small metadata with kloppy's parsers: import excluded too

        from soccerai.io import load_match

        def load() -> tuple[int, int | None, str]:
            match = load_match(files)
            frames = (match.tracking.lazy().select(pl.struct("period", "frame").n_unique())  # streamed: the count
                      .collect(engine="streaming").item())  # adds no copy of the table to the peak measured
            from soccerai.io import READERS

            provider = match.metadata.provider
            native = f"native {provider}" if "fast" in READERS.get(provider, {}) else "soccerai kloppy path"
            return match.tracking.height, frames, str(match.metadata.extra.get("reader", native))

    baseline = _peak_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    rows, frames, reader = load()
    return {"seconds": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "rows": rows,
            "frames": frames if frames is not None else -1, "peak_mib": _peak_mib(), "import_mib": baseline,
            "reader": reader}


def _spawn(provider: str, engine: str, files: list[Path]) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", provider, engine, *map(str, files)],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:160]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------------------------------------------------


def _print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Ingest: kloppy load + to_df vs soccerai load_match (loaded machine: see CPU seconds)")
    for name in ("provider", "input", "engine", "reader", "wall s", "CPU s", "rows", "frames", "peak MiB", "speedup"):
        table.add_column(name, justify="left" if name in ("provider", "input", "engine", "reader") else "right")
    for row in rows:
        for engine in ("kloppy", "soccerai"):
            run = row.get(engine)
            if run is None:
                continue
            if "error" in run:
                table.add_row(row["provider"], row["input"], engine, run["error"], *["-"] * 6)
                continue
            table.add_row(
                row["provider"], row["input"], engine, str(run["reader"]), f"{run['seconds']:.2f}",
                f"{run['cpu_s']:.2f}", f"{int(run['rows']):,}", "-" if run["frames"] < 0 else f"{int(run['frames']):,}",
                f"{run['peak_mib']:.0f}", f"{row['speedup']:.1f}x" if engine == "soccerai" and row.get("speedup") else "",
            )
    Console(width=200).print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=90.0, help="length of each tiled match (default 90)")
    parser.add_argument("--providers", nargs="+", choices=list(PROVIDER_INPUTS), default=list(PROVIDER_INPUTS))
    parser.add_argument("--skip-kloppy", action="store_true", help="time soccerai only")
    parser.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        provider, engine, *files = args.child
        print(json.dumps(run_child(provider, engine, [Path(f) for f in files])))
        return

    data_dir = Path(os.environ.get("SOCCERAI_DATA_DIR", "../shared/data"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="soccerai-bench-") as tmp:
        for provider in args.providers:
            kind, files_of = PROVIDER_INPUTS[provider]
            files = files_of(data_dir, Path(tmp), args.minutes)
            label = "real" if kind == "real" else f"tiled {args.minutes:g} min (simulated)"
            row: dict = {"provider": provider, "input": label, "soccerai": _spawn(provider, "soccerai", files)}
            if not args.skip_kloppy:
                row["kloppy"] = _spawn(provider, "kloppy", files)
                ok = "error" not in row["kloppy"] and "error" not in row["soccerai"]
                row["speedup"] = row["kloppy"]["seconds"] / row["soccerai"]["seconds"] if ok else None
            rows.append(row)
            for path in files:  # tiled inputs are large: free the disk as soon as a provider is done
                if kind == "tiled":
                    path.unlink()
    _print_table(rows)
    by_provider = {row["provider"]: row for row in rows}
    parts, detail, speedups = [], [], []
    for p in [*RESULT_ORDER, *[r["provider"] for r in rows if r["provider"] not in RESULT_ORDER]]:
        row = by_provider.get(p)
        if row is None:
            continue
        fast = row["soccerai"]
        detail.append(f"{p}_s={fast['seconds']:.2f}" if "error" not in fast else f"{p}_s=nan")
        if not args.skip_kloppy:
            slow = row["kloppy"]
            detail.append(f"{p}_kloppy_s={slow['seconds']:.2f}" if "error" not in slow else f"{p}_kloppy_s=nan")
            parts.append(f"{p}_speedup={row['speedup']:.1f}" if row.get("speedup") else f"{p}_speedup=nan")
            if row.get("speedup"):
                speedups.append(row["speedup"])
    print("DETAIL " + " ".join(detail) + f" tiled_minutes={args.minutes:g}")
    if speedups:
        parts.append(f"speedup_min={min(speedups):.1f}")
    peaks = [r["soccerai"]["peak_mib"] for r in rows if "error" not in r["soccerai"]]
    parts.append(f"peak_mib_max={max(peaks):.0f}" if peaks else "peak_mib_max=nan")
    kinds = sorted({PROVIDER_INPUTS[r["provider"]][0] for r in rows}, key=("real", "tiled").index)
    parts.append("data=" + "+".join(kinds))
    print("RESULT " + " ".join(parts))


if __name__ == "__main__":
    main()
