"""Generic file plumbing every layer shares: atomic writes (a file is complete or absent) and streamed content hashes.

Atomic writes go to a temporary file in the target's folder and are renamed into place (``os.replace``, atomic on
POSIX within one file system); a failure deletes the temporary file, so a crash never leaves a half-written output.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

CHUNK_BYTES = 1 << 20
"""Bytes read per step: a file of any size is hashed in constant memory."""


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, streamed in :data:`CHUNK_BYTES` chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``, on failure delete it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_current_umask())  # mkstemp makes 0600; outputs should be as readable as any file
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_parquet_atomic(df: pl.DataFrame, path: str | Path) -> Path:
    """Write a table as zstd parquet, atomically."""
    path = Path(path)
    with atomic_path(path, ".parquet") as tmp:
        df.write_parquet(tmp, compression="zstd")
    return path


def write_json_atomic(obj: object, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=str))
    return Path(path)
