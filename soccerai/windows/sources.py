"""The forecasting data sets, leak-free: one function builds each (lengths in 10 Hz frames).

* :func:`skillcorner_sets` - the REAL Bundesliga match (SkillCorner broadcast tracking, 10 Hz, players partly out of
  view) split in time: the first half trains, its last ``val_s`` seconds (default 10 min) validate, the second half
  tests. Windows lie inside possession segments and never cross a period or the train/validation cut; a training
  window ends at least one window length before the first validation window starts, and the periods are apart by
  the half-time break (:func:`check_separated` asserts both).
* :func:`hawkeye_test_set` - the REAL Hawk-Eye minutes (optical, 50 Hz, other teams): a second unseen test set,
  resampled to 10 Hz with smoothed velocities.
* :func:`lastrow_test_set` - the REAL Last Row clip (Liverpool goal, 20 Hz): a third test set.
* :func:`simulated_sets` - SIMULATED matches from the three real Metrica event timelines with DIFFERENT seeds
  (Games 1 and 2 train, Game 3 tests), so the test game shares no formation, speed profile or run draw.

Windows are cut by :func:`soccerai.windows.cutter.make_windows_with_stats`; windows where the ball is missing or fewer
than ``min_players`` of the 22 players are tracked at some frame are skipped, counted and reported in one warning
per set. Broadcast tracking keeps the other players masked (absent), never at (0, 0).

Real matches are read once and cached at 10 Hz under ``<out>/real/`` (keyed by the source files' sizes and times).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from soccerai.config import clips_dir, data_dir, output_dir
from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.match.schema import Match
from soccerai.windows.container import FPS, TrajectoryWindows
from soccerai.windows.layout import clock_frames

SKILLCORNER = "real-matches/skillcorner-bayern-dortmund-2019-11-09"
HAWKEYE = "real-matches/hawkeye-two-minutes"
LASTROW = "lastrow/LIV_[2]-1_CHE.csv"
MIN_PLAYERS = 6
"""Windows with fewer tracked players than this at some frame are skipped and counted (broadcast: 12-19 seen)."""
CACHE_VERSION = 3


# -- reading the real matches ------------------------------------------------------------------------------------
def _read_real(folder: Path) -> Match:
    """The provider files of ``folder`` through :func:`soccerai.io.load_match` (provider sniffed from content)."""
    from soccerai.io import load_match

    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".xml" and not p.name.startswith("."))
    if not files:
        raise InvalidInputError("no provider files", folder)
    return load_match(files)


def real_match_10hz(folder: str | Path, cache: bool = True) -> Match:
    """The real match in ``folder`` (SkillCorner or Hawk-Eye files) at 10 Hz with smoothed velocities, cached."""
    from soccerai.data.store import read_match, write_match
    from soccerai.windows.layout import to_model_rate

    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError("real match folder not found (check SOCCERAI_DATA_DIR)", folder)
    sources = sorted(p for p in folder.iterdir() if p.is_file())
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in sources)
    key = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    path = output_dir() / "real" / f"{folder.name}-10hz-{key}-v{CACHE_VERSION}.parquet"
    if cache and path.is_file():
        return read_match(path)
    match = to_model_rate(_read_real(folder))
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_match(match, path)
    return match


# -- windows and splits ----------------------------------------------------------------------------------------
def _windows(match: Match, obs_len: int, pred_len: int, stride: int, min_players: int, label: str,
             periods: Sequence[int] | None = None) -> TrajectoryWindows:
    from soccerai.windows.cutter import make_windows_with_stats

    if obs_len < 2 or pred_len < 1 or stride < 1:
        raise InvalidParameterError(f"need obs_len >= 2, pred_len >= 1, stride >= 1; got {obs_len}, {pred_len}, {stride}")
    windows, stats = make_windows_with_stats(match, None, obs_len / FPS, pred_len / FPS, stride / FPS,
                                             min_players=min_players)
    if periods is not None:
        windows = windows.subset(np.flatnonzero(np.isin(windows.meta["period"].to_numpy(), list(periods))))
    if stats.skipped:
        warnings.warn(f"{label}: {stats.describe()}", stacklevel=3)
    return windows


def window_spans(windows: TrajectoryWindows) -> tuple[np.ndarray, np.ndarray]:
    """First and last source frame of each window (``start_frame`` and ``start + s (T - 1)``, ``s`` source frames
    per 10 Hz step, from ``obs_end_frame``)."""
    from soccerai.training.datamodule import window_last_frames

    return windows.meta["start_frame"].to_numpy(), window_last_frames(windows).astype(np.int64)


def window_frames(windows: TrajectoryWindows) -> set[tuple[str, int, int]]:
    """Every ``(match_id, period, source frame)`` that some window covers (the frames between its 10 Hz steps too)."""
    starts, ends = window_spans(windows)
    meta = windows.meta
    return {
        (match, int(period), frame)
        for match, period, start, end in zip(meta["match_id"], meta["period"], starts, ends, strict=True)
        for frame in range(int(start), int(end) + 1)
    }


def check_separated(first: TrajectoryWindows, second: TrajectoryWindows, gap_frames: int) -> None:
    """Raise unless no window of ``second`` is within ``gap_frames`` source frames of a window of ``first`` in the
    same match and period (so no frame is shared and the sets are at least ``gap_frames`` apart)."""
    a_start, a_end = window_spans(first)
    b_start, b_end = window_spans(second)
    a_key = first.meta.select("match_id", "period").rows()
    b_key = second.meta.select("match_id", "period").rows()
    for key in set(a_key) & set(b_key):
        ia = np.array([k == key for k in a_key])
        ib = np.array([k == key for k in b_key])
        gap_ab = b_start[ib].min() - a_end[ia].max()  # second after first
        gap_ba = a_start[ia].min() - b_end[ib].max()  # first after second
        overlapping = (a_start[ia][:, None] <= b_end[ib][None] + gap_frames) & (
            b_start[ib][None] <= a_end[ia][:, None] + gap_frames)
        if overlapping.any():
            raise InvalidParameterError(
                f"windows of {key} are closer than {gap_frames} frames across sets (gaps {gap_ab}, {gap_ba})")


def skillcorner_sets(
    folder: str | Path | None = None,
    obs_len: int = 20,
    pred_len: int = 40,
    train_stride: int = 5,
    test_stride: int = 20,
    val_s: float = 600.0,
    min_players: int = MIN_PLAYERS,
) -> tuple[TrajectoryWindows, TrajectoryWindows, TrajectoryWindows]:
    """(train, val, test) REAL windows of the SkillCorner match (module docstring); test windows every
    ``test_stride`` frames (default 2 s) of the second half, training windows every ``train_stride``.

    Raises:
        InvalidInputError: the files are missing or unreadable, or a set comes out empty.
    """
    folder = Path(folder) if folder is not None else data_dir() / SKILLCORNER
    match = real_match_10hz(folder)
    periods = sorted({p.id for p in match.metadata.periods})
    if len(periods) < 2:
        raise InvalidInputError(f"need two halves to split in time, found periods {periods}", folder)
    first, second = periods[0], periods[1]
    half = _windows(match, obs_len, pred_len, train_stride, min_players,
                    f"SkillCorner match cut every {train_stride} frames (first half kept)", [first])
    test = _windows(match, obs_len, pred_len, test_stride, min_players,
                    f"SkillCorner match cut every {test_stride} frames (second half kept)", [second])
    gap = clock_frames(match.metadata, (obs_len + pred_len) / FPS)  # one window length on the source clock
    first_end = match.tracking.filter(match.tracking["period"] == first)["frame"].max()
    starts, ends = window_spans(half)
    is_val = starts >= first_end - clock_frames(match.metadata, val_s)
    if not is_val.any():
        raise InvalidInputError(f"no first-half window in the last {val_s:g} s for validation", folder)
    is_train = ~is_val & (ends + gap < starts[is_val].min())
    train, val = half.subset(np.flatnonzero(is_train)), half.subset(np.flatnonzero(is_val))
    for name, part in (("training", train), ("test", test)):
        if len(part) == 0:
            raise InvalidInputError(f"no {name} window of {obs_len + pred_len} frames", folder)
    check_separated(train, val, gap)
    check_separated(train, test, gap)
    return train, val, test


def hawkeye_test_set(folder: str | Path | None = None, obs_len: int = 20, pred_len: int = 40, stride: int = 20,
                     min_players: int = MIN_PLAYERS) -> TrajectoryWindows:
    """REAL Hawk-Eye windows (both minutes, 50 Hz -> 10 Hz), every ``stride`` frames inside possession segments."""
    folder = Path(folder) if folder is not None else data_dir() / HAWKEYE
    windows = _windows(real_match_10hz(folder), obs_len, pred_len, stride, min_players, "Hawk-Eye minutes")
    if len(windows) == 0:
        raise InvalidInputError(f"no Hawk-Eye window of {obs_len + pred_len} frames", folder)
    return windows


def lastrow_test_set(path: str | Path | None = None, obs_len: int = 20, pred_len: int = 40,
                     stride: int = 10) -> TrajectoryWindows:
    """REAL windows of the Last Row clip (:func:`soccerai.training.datamodule.lastrow_clip_windows`) every ``stride``."""
    from soccerai.training.datamodule import lastrow_clip_windows

    return lastrow_clip_windows(Path(path) if path is not None else clips_dir() / LASTROW, obs_len, pred_len, stride)


SIMULATED_SEEDS = {"game1": 1, "game2": 2, "game3": 3}
"""One seed per simulated game: independent draws of formations, speed profiles and runs."""


def simulated_sets(obs_len: int = 20, pred_len: int = 40, stride: int = 10, duration_s: float | None = 900.0,
                   seeds: dict[str, int] | None = None) -> tuple[TrajectoryWindows, TrajectoryWindows]:
    """(train, test) SIMULATED windows: Games 1 + 2 train, Game 3 tests, each with its own seed."""
    from soccerai.synth.cache import simulated_match_path
    from soccerai.training.datamodule import parquet_windows

    seeds = seeds or SIMULATED_SEEDS
    paths = {game: simulated_match_path(game, seed=seed, duration_s=duration_s) for game, seed in seeds.items()}
    if len(set(seeds.values())) != len(seeds):
        raise InvalidParameterError(f"simulated games must use different seeds, got {seeds}")
    train = parquet_windows([paths["game1"], paths["game2"]], obs_len, pred_len, stride)
    test = parquet_windows([paths["game3"]], obs_len, pred_len, stride)
    return train, test
