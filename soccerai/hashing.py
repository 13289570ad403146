"""Content hashes of files: the one streamed sha256 that ingest provenance, the pipeline, checkpoints and the data
catalog share."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20
"""Bytes read per step: a file of any size is hashed in constant memory."""


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, streamed in :data:`CHUNK_BYTES` chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
