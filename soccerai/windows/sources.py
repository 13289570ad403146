"""Where model windows come from: the forecasting data sets, window sources, splits and the mirror augmentation.

Lengths here are in 10 Hz frames (``obs_len``, ``pred_len``, ``stride``), never seconds; the cutter
(:mod:`soccerai.windows.cutter`) takes seconds and is called with ``frames / FPS``.

The data sets, leak-free (one function builds each):

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

Window sources for training (:mod:`soccerai.training.datamodule` feeds them to the models):

* :func:`lastrow_clip_windows`: the real Last Row clips (read by :func:`soccerai.io.providers.lastrow.load_lastrow`, then
  the same 10 Hz / velocity / windowing steps as stored matches, a window at every stride over the whole clip);
* :func:`random_walk_windows`: small synthetic scenes for unit tests (smooth random walks, labelled simulated);
* :func:`load_windows`: files given on the command line. Last Row CSVs go through :func:`lastrow_clip_windows`;
  stored canonical parquet matches (``soccerai ingest``, ``soccerai synthesize --format parquet``) are brought to
  10 Hz with velocities and cut by :func:`soccerai.windows.cutter.make_windows` inside possession segments
  (:func:`parquet_windows`).

Splits: :func:`split_windows` (training / validation sharing no frame). Augmentation that respects the pitch:
:func:`mirror_left_right` reflects windows across the long axis (``y -> -y``, ``vy -> -vy``; ``x`` and so the attack
towards ``+x`` are kept, as is every mask), which maps a legal scene onto a legal scene.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.config import clips_dir, data_dir, output_dir
from soccerai.data.store import read_match, write_match
from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.io import load_match
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.match.possession import SEGMENT_SCHEMA
from soccerai.match.schema import Match
from soccerai.synth.cache import simulated_match_path
from soccerai.windows.container import FPS, MIN_PLAYERS, N_AGENTS, N_PER_TEAM, TrajectoryWindows
from soccerai.windows.cutter import make_windows_with_stats
from soccerai.windows.layout import clock_frames, to_model_rate

SKILLCORNER = "real-matches/skillcorner-bayern-dortmund-2019-11-09"
HAWKEYE = "real-matches/hawkeye-two-minutes"
LASTROW = "lastrow/LIV_[2]-1_CHE.csv"
CACHE_VERSION = 3


# -- reading the real matches ------------------------------------------------------------------------------------
def _read_real(folder: Path) -> Match:
    """The provider files of ``folder`` through :func:`soccerai.io.load_match` (provider sniffed from content)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".xml" and not p.name.startswith("."))
    if not files:
        raise InvalidInputError("no provider files", folder)
    return load_match(files)


def real_match_10hz(folder: str | Path, cache: bool = True) -> Match:
    """The real match in ``folder`` (SkillCorner or Hawk-Eye files) at 10 Hz with smoothed velocities, cached."""
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


# -- window sources ---------------------------------------------------------------------------------------------
def match_windows(match: Match, obs_len: int, pred_len: int, stride: int = 10,
                  min_players: int = MIN_PLAYERS) -> TrajectoryWindows:
    """Windows of one canonical match (any frame rate) inside its possession segments; lengths in 10 Hz frames.

    Partial visibility (broadcast tracking shows 12-19 players) is kept: absent agents are masked, and only windows
    with fewer than ``min_players`` tracked players at some frame are skipped."""
    return _match_windows_with_stats(match, obs_len, pred_len, stride, min_players)[0]


def _match_windows_with_stats(match: Match, obs_len: int, pred_len: int, stride: int, min_players: int):
    _check_lengths(obs_len, pred_len, stride)
    return make_windows_with_stats(to_model_rate(match), None, obs_len / FPS, pred_len / FPS, stride / FPS,
                                   min_players=min_players)


def parquet_windows(paths: Sequence[Path], obs_len: int, pred_len: int, stride: int,
                    min_players: int = MIN_PLAYERS) -> TrajectoryWindows:
    """Windows of stored canonical matches (``soccerai.data.store`` parquet files), concatenated.

    Each file's windows made and skipped are reported in one ``warnings.warn`` (the CLI prints it as a line)."""
    parts = []
    for path in paths:
        windows, stats = _match_windows_with_stats(read_match(path), obs_len, pred_len, stride, min_players)
        if len(windows) == 0:
            raise InvalidInputError(f"no {obs_len + pred_len}-frame window inside a possession with at least "
                                    f"{min_players} tracked players ({stats.describe()})", path)
        if stats.skipped:
            warnings.warn(f"{Path(path).name}: {stats.describe()}", stacklevel=2)
        parts.append(windows)
    return TrajectoryWindows.concat(parts)


# Hook for the canonical-parquet path: (paths, obs_len, pred_len, stride) -> TrajectoryWindows.
MakeWindows = Callable[[Sequence[Path], int, int, int], TrajectoryWindows]
MAKE_WINDOWS: MakeWindows = parquet_windows


def _check_lengths(obs_len: int, pred_len: int, stride: int) -> None:
    if obs_len < 2 or pred_len < 1 or stride < 1:
        raise InvalidParameterError(f"need obs_len >= 2, pred_len >= 1, stride >= 1; got {obs_len}, {pred_len}, {stride}")


def lastrow_clip_windows(
    path: str | Path, obs_len: int, pred_len: int, stride: int = 1, play: str | None = None
) -> TrajectoryWindows:
    """Windows of real play from a Last Row / Friends of Tracking CSV clip; lengths in 10 Hz frames.

    The clip is read by :func:`soccerai.io.providers.lastrow.load_lastrow` (metres on a 105 x 68 pitch, the attacking team
    as ``home`` towards +x, the defending goalkeeper guessed from depth), brought to 10 Hz with smoothed velocities
    (:func:`soccerai.windows.layout.to_model_rate`), then cut by :func:`soccerai.windows.cutter.make_windows` with the whole
    clip as one ``home`` possession: a window starts at every ``stride``-th 10 Hz frame (not only inside inferred
    possession segments, which :func:`match_windows` would use). Only the players Last Row tracked are there
    (10 + 10 on ``LIV_[2]-1_CHE``), the other slots stay masked; no minimum player count is applied.

    Raises:
        InvalidInputError: the file is not a readable Last Row clip, or is shorter than one window.
        InvalidParameterError: non-positive lengths or stride.
    """
    _check_lengths(obs_len, pred_len, stride)
    path = Path(path)
    match = to_model_rate(load_lastrow(path, play=play))
    windows = _windows_of_whole_clip(match, obs_len, pred_len, stride)
    if len(windows) == 0:
        n_frames = match.tracking.get_column("frame").n_unique()
        raise InvalidInputError(
            f"clip has {n_frames} frames at 10 Hz, fewer than a window of {obs_len + pred_len}", path
        )
    return windows


def _windows_of_whole_clip(match_10hz: Match, obs_len: int, pred_len: int, stride: int) -> TrajectoryWindows:
    """Windows every ``stride`` frames over the whole 10 Hz clip, its ``home`` team attacking throughout."""
    whole_clip = (
        match_10hz.tracking.group_by("period")
        .agg(
            pl.col("frame").min().alias("start_frame"),
            pl.col("frame").max().alias("end_frame"),
            pl.lit("home").alias("team"),
            (pl.col("time_s").max() - pl.col("time_s").min()).alias("duration"),
            pl.lit("whole clip").alias("source"),
        )
        .select(SEGMENT_SCHEMA.keys())
        .cast(SEGMENT_SCHEMA)
    )
    seconds = [frames / FPS for frames in (obs_len, pred_len, stride)]
    windows, _ = make_windows_with_stats(match_10hz, None, *seconds, segments=whole_clip, min_players=0)
    return windows


def random_walk_windows(n_windows: int, obs_len: int, pred_len: int, seed: int = 0) -> TrajectoryWindows:
    """Synthetic windows: players on a 4-4-2-like spread, velocities following a smooth random walk (m/s).

    For unit tests only (labelled ``simulated=True``); not a model of football.
    """
    _check_lengths(obs_len, pred_len, 1)
    rng = np.random.default_rng(seed)
    length = obs_len + pred_len
    start = rng.uniform([-45.0, -30.0], [45.0, 30.0], size=(n_windows, N_AGENTS, 2))
    accel = rng.normal(0.0, 1.5, size=(n_windows, length, N_AGENTS, 2))
    velocity = np.cumsum(accel / FPS, axis=1) + rng.normal(0.0, 1.5, size=(n_windows, 1, N_AGENTS, 2))
    positions = start[:, None] + np.cumsum(velocity / FPS, axis=1)
    states = np.concatenate([positions, velocity], axis=-1).astype(np.float32)
    is_goalkeeper = np.zeros((n_windows, N_AGENTS), bool)
    is_goalkeeper[:, [0, N_PER_TEAM]] = True
    meta = pl.DataFrame(
        {
            "window_id": [f"random-walk:{i}" for i in range(n_windows)],
            "match_id": [f"random-walk-{i}" for i in range(n_windows)],  # independent scenes
            "period": [1] * n_windows,
            "start_frame": [0] * n_windows,
            "attacking_team": ["home"] * n_windows,
            "object_ids": [[str(k) for k in range(N_AGENTS)]] * n_windows,
        }
    )
    return TrajectoryWindows(states, np.ones(states.shape[:3], bool), is_goalkeeper, obs_len, meta, simulated=True)


def load_windows(paths: Sequence[str | Path], obs_len: int, pred_len: int, stride: int = 1) -> TrajectoryWindows:
    """Windows from files: Last Row ``.csv`` clips directly, canonical ``.parquet`` matches via ``MAKE_WINDOWS``."""
    if not paths:
        raise InvalidParameterError("no input files given")
    parts, parquet = [], []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InvalidInputError("file not found", path)
        if path.suffix == ".csv":
            parts.append(lastrow_clip_windows(path, obs_len, pred_len, stride))
        elif path.suffix == ".parquet":
            parquet.append(path)
        else:
            raise InvalidInputError("expected a canonical .parquet match or a Last Row .csv clip", path)
    if parquet:
        parts.append(MAKE_WINDOWS(parquet, obs_len, pred_len, stride))
    return TrajectoryWindows.concat(parts)


def mirror_left_right(windows: TrajectoryWindows) -> TrajectoryWindows:
    """The windows reflected across the pitch's long axis: ``(x, y, vx, vy) -> (x, -y, vx, -vy)``.

    The attack direction (``+x``), the masks, goalkeepers and metadata are unchanged, so a mirrored scene is as
    legal as the original (left and right wings swap); untracked slots stay zero. An involution: mirroring twice
    gives the original windows back exactly.
    """
    flip = np.array([1.0, -1.0, 1.0, -1.0], dtype=windows.states.dtype)
    states = windows.states * flip
    states[~windows.mask] = 0.0  # no -0.0 in untracked slots
    return TrajectoryWindows(states, windows.mask.copy(), windows.is_goalkeeper.copy(), windows.obs_len,
                             windows.meta, simulated=windows.simulated)


def split_windows(windows: TrajectoryWindows, val_fraction: float, seed: int = 0) -> tuple[TrajectoryWindows, TrajectoryWindows]:
    """Split into training and validation windows that share no frame.

    With several matches, whole matches go to validation (chosen with ``seed``). With one match, the last
    ``val_fraction`` of the windows (in start order) are validation and training keeps only windows that end
    (:func:`window_last_frames`) before the first validation window starts (overlapping windows would leak the
    test frames into training).
    """
    if not 0.0 < val_fraction < 1.0:
        raise InvalidParameterError(f"val_fraction must be in (0, 1), got {val_fraction}")
    matches = windows.meta["match_id"].unique(maintain_order=True).to_list()
    if len(matches) > 1:
        rng = np.random.default_rng(seed)
        n_val = max(1, round(len(matches) * val_fraction))
        val_matches = set(rng.permutation(matches)[:n_val].tolist())
        is_val = windows.meta["match_id"].is_in(list(val_matches)).to_numpy()
        is_train = ~is_val
    else:
        order = np.argsort(windows.meta["start_frame"].to_numpy(), kind="stable")
        n_val = max(1, round(len(windows) * val_fraction))
        is_val = np.zeros(len(windows), bool)
        is_val[order[-n_val:]] = True
        starts = windows.meta["start_frame"].to_numpy()
        periods = windows.meta["period"].to_numpy()
        first_val = starts[is_val].min()
        is_train = ~is_val & ((window_last_frames(windows) < first_val) | (periods != periods[is_val].min()))
    if not is_val.any() or not is_train.any():
        raise InvalidParameterError(f"cannot split {len(windows)} windows into disjoint train and validation sets")
    return windows.subset(np.flatnonzero(is_train)), windows.subset(np.flatnonzero(is_val))


def window_last_frames(windows: TrajectoryWindows) -> np.ndarray:
    """The source frame number of each window's last frame.

    ``start_frame`` and ``obs_end_frame`` count frames of the source clock (20 Hz for Last Row, 25 Hz for the
    simulator), not 10 Hz steps. With ``s`` source frames per 10 Hz step, ``s = (obs_end - start) / (T_obs - 1)``,
    the window's ``T`` frames end at ``start + s (T - 1)``, rounded up (a resampled clock's frame numbers are
    rounded, so this errs on the side of a later end). Windows without ``obs_end_frame`` count 10 Hz frames.
    """
    starts = windows.meta["start_frame"].to_numpy().astype(np.float64)
    length = windows.states.shape[1]
    if "obs_end_frame" not in windows.meta.columns or windows.obs_len < 2:
        return starts + length - 1
    obs_ends = windows.meta["obs_end_frame"].to_numpy().astype(np.float64)
    per_step = (obs_ends - starts) / (windows.obs_len - 1)
    return np.ceil(starts + per_step * (length - 1) - 1e-9)


# -- windows and splits ----------------------------------------------------------------------------------------
def _windows(match: Match, obs_len: int, pred_len: int, stride: int, min_players: int, label: str,
             periods: Sequence[int] | None = None) -> TrajectoryWindows:
    _check_lengths(obs_len, pred_len, stride)
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
    """REAL windows of the Last Row clip (:func:`lastrow_clip_windows`) every ``stride``."""
    return lastrow_clip_windows(Path(path) if path is not None else clips_dir() / LASTROW, obs_len, pred_len, stride)


SIMULATED_SEEDS = {"game1": 1, "game2": 2, "game3": 3}
"""One seed per simulated game: independent draws of formations, speed profiles and runs."""


def simulated_sets(obs_len: int = 20, pred_len: int = 40, stride: int = 10, duration_s: float | None = 900.0,
                   seeds: dict[str, int] | None = None) -> tuple[TrajectoryWindows, TrajectoryWindows]:
    """(train, test) SIMULATED windows: Games 1 + 2 train, Game 3 tests, each with its own seed."""
    seeds = seeds or SIMULATED_SEEDS
    paths = {game: simulated_match_path(game, seed=seed, duration_s=duration_s) for game, seed in seeds.items()}
    if len(set(seeds.values())) != len(seeds):
        raise InvalidParameterError(f"simulated games must use different seeds, got {seeds}")
    train = parquet_windows([paths["game1"], paths["game2"]], obs_len, pred_len, stride)
    test = parquet_windows([paths["game3"]], obs_len, pred_len, stride)
    return train, test
