"""Where model windows come from, and the Lightning data module that feeds them as torch_geometric batches.

Sources of :class:`~soccerai.windows.TrajectoryWindows`:

* :func:`lastrow_clip_windows`: the real Last Row clip format (20 Hz, 0-100 coordinates, 21 agents a frame);
* :func:`random_walk_windows`: small synthetic scenes for unit tests (smooth random walks, labelled simulated);
* :func:`load_windows`: files given on the command line. Last Row CSVs are read directly; stored canonical parquet
  matches (``soccerai ingest``, ``soccerai synthesize --format parquet``) are brought to 10 Hz with velocities and
  cut by ``soccerai.windowing.make_windows`` inside possession segments (:func:`parquet_windows`);
* :func:`simulated_match_path`: full SIMULATED matches from the real Metrica event timelines, cached as parquet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import lightning as L
import numpy as np
import polars as pl
import torch
from torch.utils.data import DataLoader, Dataset
from torch_geometric.data import Batch, Data

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.graph import EdgeKind, batch_windows, window_graph
from soccerai.schema import Match
from soccerai.windows import N_AGENTS, N_PER_TEAM, TrajectoryWindows

LASTROW_HZ = 20
TARGET_HZ = 10
PITCH = (105.0, 68.0)
LASTROW_COLUMNS = {"player", "frame", "x", "y", "team"}

# The three real full-match Metrica event timelines that drive the match simulator (in the data folder).
METRICA_GAMES = {
    "game1": "Sample_Game_1_RawEventsData.csv",
    "game2": "Sample_Game_2_RawEventsData.csv",
    "game3": "Sample_Game_3_events.json",
}


def match_windows(match: Match, obs_len: int, pred_len: int, stride: int = 10) -> TrajectoryWindows:
    """Windows of one canonical match (any frame rate) inside its possession segments; lengths in 10 Hz frames."""
    import warnings

    from soccerai.scoring import to_model_rate  # resamples to 10 Hz and adds smoothed velocities when needed
    from soccerai.windowing import make_windows

    _check_lengths(obs_len, pred_len, stride)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped windows are expected (ball out of play, substitutions)
        return make_windows(to_model_rate(match), None, obs_len / TARGET_HZ, pred_len / TARGET_HZ, stride / TARGET_HZ)


def parquet_windows(paths: Sequence[Path], obs_len: int, pred_len: int, stride: int) -> TrajectoryWindows:
    """Windows of stored canonical matches (``soccerai.store`` parquet files), concatenated."""
    from soccerai.store import read_match

    parts = []
    for path in paths:
        windows = match_windows(read_match(path), obs_len, pred_len, stride)
        if len(windows) == 0:
            raise InvalidInputError(f"no {obs_len + pred_len}-frame window inside a possession", path)
        parts.append(windows)
    return TrajectoryWindows.concat(parts)


def simulated_match_path(
    game: str, seed: int = 0, cache_dir: str | Path | None = None, duration_s: float | None = None
) -> Path:
    """Parquet file of a SIMULATED match driven by real Metrica game ``game`` (a key of :data:`METRICA_GAMES`).

    Synthesized with :func:`soccerai.synth.synthesize_match` (~15-30 s for a full match) on first use and cached
    under ``cache_dir`` (default ``<out>/simulated``) as ``synth-<game>-seed<seed>[-<duration>s].parquet``.
    """
    from soccerai.config import metrica_events_dir, output_dir
    from soccerai.store import write_match
    from soccerai.synth import synthesize_match

    if game not in METRICA_GAMES:
        raise InvalidParameterError(f"unknown Metrica game {game!r}; choose one of {', '.join(METRICA_GAMES)}")
    folder = Path(cache_dir) if cache_dir is not None else output_dir() / "simulated"
    suffix = "" if duration_s is None else f"-{int(duration_s)}s"
    path = folder / f"synth-{game}-seed{seed}{suffix}.parquet"
    if not path.is_file():
        events = metrica_events_dir() / METRICA_GAMES[game]
        if not events.is_file():
            raise InvalidInputError("real Metrica event timeline not found (check SOCCERAI_DATA_DIR)", events)
        folder.mkdir(parents=True, exist_ok=True)
        write_match(synthesize_match(events, seed=seed, duration_s=duration_s), path)
    return path


# Hook for the canonical-parquet path: (paths, obs_len, pred_len, stride) -> TrajectoryWindows.
MakeWindows = Callable[[Sequence[Path], int, int, int], TrajectoryWindows]
MAKE_WINDOWS: MakeWindows = parquet_windows


def _check_lengths(obs_len: int, pred_len: int, stride: int) -> None:
    if obs_len < 2 or pred_len < 1 or stride < 1:
        raise InvalidParameterError(f"need obs_len >= 2, pred_len >= 1, stride >= 1; got {obs_len}, {pred_len}, {stride}")


def _read_lastrow(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, glob=False)
    except FileNotFoundError as exc:
        raise InvalidInputError("file not found", path) from exc
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"not a readable Last Row CSV ({type(exc).__name__})", path) from exc
    missing = LASTROW_COLUMNS - set(frame.columns)
    if missing:
        raise InvalidInputError(f"not a Last Row CSV: missing columns {', '.join(sorted(missing))}", path)
    if frame.height == 0:
        raise InvalidInputError("Last Row CSV has no rows", path)
    return frame


def _lastrow_tensor(frame: pl.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Positions ``[T, 23, 2]`` (metres, centred) at 20 Hz, mask ``[T, 23]``, goalkeeper flags, object ids."""
    teams = frame.group_by("player").agg(pl.col("team").first()).sort("player")
    attackers = teams.filter(pl.col("team") == "attack")["player"].to_list()
    defenders = teams.filter(pl.col("team") == "defense")["player"].to_list()
    balls = teams.filter(pl.col("team").is_null())["player"].to_list()
    if len(balls) != 1 or not attackers or not defenders:
        raise InvalidInputError("Last Row CSV needs one ball (empty team) and attack / defense players", path)
    if len(attackers) > N_PER_TEAM or len(defenders) > N_PER_TEAM:
        raise InvalidInputError("Last Row CSV has more than 11 players in a team", path)
    frames = np.sort(frame["frame"].unique().to_numpy())
    xy = frame.select("frame", "player", "x", "y")
    if xy.select(pl.col("x").is_nan().any() | pl.col("y").is_nan().any() | pl.col("x").is_null().any()).item():
        raise InvalidInputError("Last Row CSV has missing or NaN coordinates", path)
    positions = np.zeros((len(frames), N_AGENTS, 2), np.float32)
    mask = np.zeros((len(frames), N_AGENTS), bool)
    # Ball goes last; the attackers' direction is set below, then the deepest defender is the goalkeeper.
    slots = {pid: i for i, pid in enumerate(attackers)} | {balls[0]: N_AGENTS - 1}
    frame_index = np.searchsorted(frames, xy["frame"].to_numpy())
    x_m = (xy["x"].to_numpy() / 100.0 - 0.5) * PITCH[0]
    y_m = (0.5 - xy["y"].to_numpy() / 100.0) * PITCH[1]
    attack_direction = _attack_direction(xy, attackers)
    x_m = x_m * attack_direction
    y_m = y_m * attack_direction
    mean_x = {pid: float(x_m[xy["player"].to_numpy() == pid].mean()) for pid in defenders}
    ordered_defenders = sorted(defenders, key=lambda pid: (-mean_x[pid], pid))
    goalkeeper, outfield = ordered_defenders[0], sorted(ordered_defenders[1:])
    slots |= {pid: N_PER_TEAM + i for i, pid in enumerate([goalkeeper, *outfield])}
    agent = np.array([slots[p] for p in xy["player"].to_list()])
    positions[frame_index, agent] = np.stack([x_m, y_m], axis=-1)
    mask[frame_index, agent] = True
    is_goalkeeper = np.zeros(N_AGENTS, bool)
    is_goalkeeper[N_PER_TEAM] = True
    ids = [""] * N_AGENTS
    for pid, slot in slots.items():
        ids[slot] = str(pid)
    return positions, mask, is_goalkeeper, ids


def _attack_direction(xy: pl.DataFrame, attackers: list[int]) -> float:
    """+1 if the attack (mean attacker x at the end versus the start) moves towards larger x, else -1."""
    moving = xy.filter(pl.col("player").is_in(attackers)).group_by("frame").agg(pl.col("x").mean()).sort("frame")
    return 1.0 if moving["x"][-1] >= moving["x"][0] else -1.0


def lastrow_clip_windows(path: str | Path, obs_len: int, pred_len: int, stride: int = 1) -> TrajectoryWindows:
    """Windows of real play from a Last Row / Friends of Tracking CSV clip.

    20 Hz is halved to 10 Hz (every second frame), coordinates (0-100 on each axis) become metres from the centre
    of a 105 x 68 pitch with the attack towards +x, and velocities are central differences of positions
    (``np.gradient``, m/s). The clip has 10 + 10 players: slots 10 and 21 stay masked. The deepest defender is
    flagged as the goalkeeper.
    """
    _check_lengths(obs_len, pred_len, stride)
    path = Path(path)
    positions, mask, is_goalkeeper, ids = _lastrow_tensor(_read_lastrow(path), path)
    positions, mask = positions[:: LASTROW_HZ // TARGET_HZ], mask[:: LASTROW_HZ // TARGET_HZ]
    velocity = np.gradient(positions, 1.0 / TARGET_HZ, axis=0) * mask[..., None]
    states = np.concatenate([positions, velocity], axis=-1).astype(np.float32)
    length = obs_len + pred_len
    starts = list(range(0, states.shape[0] - length + 1, stride))
    if not starts:
        raise InvalidInputError(f"clip has {states.shape[0]} frames at 10 Hz, fewer than a window of {length}", path)
    meta = pl.DataFrame(
        {
            "window_id": [f"{path.stem}:{s}" for s in starts],
            "match_id": [path.stem] * len(starts),
            "period": [1] * len(starts),
            "start_frame": starts,  # in 10 Hz frames of the clip
            "attacking_team": ["attack"] * len(starts),
            "object_ids": [ids] * len(starts),
        }
    )
    return TrajectoryWindows(
        states=np.stack([states[s : s + length] for s in starts]),
        mask=np.stack([mask[s : s + length] for s in starts]),
        is_goalkeeper=np.repeat(is_goalkeeper[None], len(starts), axis=0),
        obs_len=obs_len,
        meta=meta,
    )


def random_walk_windows(n_windows: int, obs_len: int, pred_len: int, seed: int = 0) -> TrajectoryWindows:
    """Synthetic windows: players on a 4-4-2-like spread, velocities following a smooth random walk (m/s).

    For unit tests only (labelled ``simulated=True``); not a model of football.
    """
    _check_lengths(obs_len, pred_len, 1)
    rng = np.random.default_rng(seed)
    length = obs_len + pred_len
    start = rng.uniform([-45.0, -30.0], [45.0, 30.0], size=(n_windows, N_AGENTS, 2))
    accel = rng.normal(0.0, 1.5, size=(n_windows, length, N_AGENTS, 2))
    velocity = np.cumsum(accel / TARGET_HZ, axis=1) + rng.normal(0.0, 1.5, size=(n_windows, 1, N_AGENTS, 2))
    positions = start[:, None] + np.cumsum(velocity / TARGET_HZ, axis=1)
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


class WindowGraphs(Dataset[Data]):
    """Each window as one torch_geometric graph (nodes carry their time series; see :func:`window_graph`)."""

    def __init__(self, windows: TrajectoryWindows, edges: EdgeKind = "complete", k: int = 6) -> None:
        self.windows, self.edges, self.k = windows, edges, k

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> Data:
        return window_graph(self.windows, index, self.edges, self.k)


def split_windows(windows: TrajectoryWindows, val_fraction: float, seed: int = 0) -> tuple[TrajectoryWindows, TrajectoryWindows]:
    """Split into training and validation windows that share no frame.

    With several matches, whole matches go to validation (chosen with ``seed``). With one match, the last
    ``val_fraction`` of the windows (in start order) are validation and training keeps only windows that end
    before the first validation window starts (overlapping windows would leak the test frames into training).
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
        length_frames = windows.states.shape[1]  # start_frame is assumed to count 10 Hz frames
        first_val = starts[is_val].min()
        is_train = ~is_val & ((starts + length_frames <= first_val) | (periods != periods[is_val].min()))
    if not is_val.any() or not is_train.any():
        raise InvalidParameterError(f"cannot split {len(windows)} windows into disjoint train and validation sets")
    return windows.subset(np.flatnonzero(is_train)), windows.subset(np.flatnonzero(is_val))


class WindowDataModule(L.LightningDataModule):
    """Feeds ``torch_geometric.data.Batch`` objects of window graphs to training and validation."""

    def __init__(
        self,
        train: TrajectoryWindows,
        val: TrajectoryWindows | None = None,
        batch_size: int = 32,
        edges: EdgeKind = "complete",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise InvalidParameterError(f"batch_size must be at least 1, got {batch_size}")
        self.train_windows, self.val_windows = train, val
        self.batch_size, self.edges, self.seed = batch_size, edges, seed

    def _loader(self, windows: TrajectoryWindows, shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            WindowGraphs(windows, self.edges),
            batch_size=self.batch_size,
            shuffle=shuffle,
            collate_fn=batch_windows,
            generator=generator,
        )

    def train_dataloader(self) -> DataLoader[Batch]:
        return self._loader(self.train_windows, shuffle=True)

    def val_dataloader(self) -> DataLoader[Batch] | list:
        return [] if self.val_windows is None else self._loader(self.val_windows, shuffle=False)
