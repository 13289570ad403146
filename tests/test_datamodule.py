"""Window sources of soccerai.windows.sources on the real Last Row clip: splitting without leaks, mixed inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soccerai.data.store import write_match
from soccerai.errors import InvalidInputError
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.windows.sources import lastrow_clip_windows, load_windows, split_windows, window_last_frames


@pytest.fixture(scope="module")
def clip_path(clips_dir: Path) -> Path:
    return clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv"


def _source_frames(windows, index: np.ndarray) -> set[int]:
    """Every 20 Hz source frame the windows cover (a 10 Hz step is two source frames)."""
    length = windows.states.shape[1]
    starts = windows.meta.get_column("start_frame").to_numpy()[index]
    return {int(s) + 2 * t for s in starts for t in range(length)}


def test_last_frames_count_source_frames(clip_path: Path) -> None:
    windows = lastrow_clip_windows(clip_path, obs_len=5, pred_len=7, stride=3)
    starts = windows.meta.get_column("start_frame").to_numpy()
    assert window_last_frames(windows).tolist() == (starts + 2 * 11).tolist()


@pytest.mark.parametrize("stride", [1, 3])
def test_split_of_one_clip_shares_no_frame(clip_path: Path, stride: int) -> None:
    """Training windows end before the first validation frame, counted on the 20 Hz clock of the clip."""
    windows = lastrow_clip_windows(clip_path, obs_len=5, pred_len=5, stride=stride)
    train, val = split_windows(windows, 0.25)
    assert len(train) > 0 and len(val) == round(0.25 * len(windows))
    shared = _source_frames(train, np.arange(len(train))) & _source_frames(val, np.arange(len(val)))
    assert not shared
    first_val = val.meta.get_column("start_frame").min()
    # the tightest split: the next window would overlap the validation frames
    assert window_last_frames(train).max() >= first_val - 2 * stride


def test_csv_and_parquet_inputs_mix(clip_path: Path, tmp_path: Path) -> None:
    """A Last Row clip and a stored canonical match give windows of the same layout, concatenated."""
    stored = write_match(load_lastrow(clip_path), tmp_path / "clip [stored].parquet")
    clip_only = lastrow_clip_windows(clip_path, 5, 5, 5)
    both = load_windows([clip_path, stored], 5, 5, 5)
    assert len(clip_only) < len(both)
    assert both.meta.columns == clip_only.meta.columns
    assert np.array_equal(both.states[: len(clip_only)], clip_only.states)
    assert both.simulated is False


def test_unknown_suffix_and_missing_file_name_the_file(tmp_path: Path) -> None:
    text = tmp_path / "clip.txt"
    text.write_text("player,frame\n")
    with pytest.raises(InvalidInputError, match="clip.txt"):
        load_windows([text], 5, 5)
    with pytest.raises(InvalidInputError, match=r"gone_\[2\].csv"):
        load_windows([tmp_path / "gone_[2].csv"], 5, 5)
