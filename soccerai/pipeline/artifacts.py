"""Step outputs on disk, each written atomically (temporary file + rename, :func:`soccerai.files.atomic_path`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.files import atomic_path, write_json_atomic, write_parquet_atomic
from soccerai.windows.container import TrajectoryWindows

__all__ = ["write_json_atomic", "write_parquet_atomic", "save_windows", "load_windows_file", "read_json"]


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"not a readable JSON output ({exc})", path) from exc


def save_windows(windows: TrajectoryWindows, path: Path) -> Path:
    """Save windows as one ``.npz`` (arrays + the meta table as JSON), atomically."""
    meta = io.StringIO()
    windows.meta.write_json(meta)
    with atomic_path(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                states=windows.states,
                mask=windows.mask,
                is_goalkeeper=windows.is_goalkeeper,
                obs_len=np.int64(windows.obs_len),
                simulated=np.bool_(windows.simulated),
                meta=np.frombuffer(meta.getvalue().encode(), dtype=np.uint8),
            )
    return path


def load_windows_file(path: Path) -> TrajectoryWindows:
    """Read windows written by :func:`save_windows`."""
    try:
        with np.load(path) as z:
            meta = pl.read_json(io.BytesIO(z["meta"].tobytes())) if z["meta"].size else pl.DataFrame()
            return TrajectoryWindows(
                states=z["states"],
                mask=z["mask"],
                is_goalkeeper=z["is_goalkeeper"],
                obs_len=int(z["obs_len"]),
                meta=meta,
                simulated=bool(z["simulated"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidInputError(f"not a readable windows file ({exc})", path) from exc
