"""Provenance of provider files: the mark soccerai's synthesizer leaves so that simulated tracking never passes as real.

Most provider formats cannot say that their tracking is simulated (a Metrica CSV is a Metrica CSV), so
``soccerai synthesize`` writes a **manifest** beside the files it writes, :data:`MANIFEST_NAME` in the same folder::

    {"generator": "soccerai synthesize", "tracking": "simulated",
     "files": {"<file name>": "<sha256 of its bytes>", ...}}

:func:`load_match <soccerai.io.load_match>` (and so ``soccerai ingest``, ``info``, ``obso``...) marks a match
simulated when any of its files is listed there: by name, or by content (a listed file renamed inside the folder).
EPTS metadata also says ``<TrackingType>Simulated</TrackingType>`` itself (:func:`soccerai.io.detect.declares_simulated`).
A manifest that cannot be read is an error naming it: the mark must not be lost silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from soccerai.errors import InvalidInputError
from soccerai.files import sha256_file, write_json_atomic

MANIFEST_NAME = "soccerai_provenance.json"
GENERATOR = "soccerai synthesize"
def read_manifest(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` of the simulated files the manifest in ``folder`` lists ({} when there is none)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc["files"]
        if doc.get("tracking") != "simulated" or not isinstance(files, dict):
            raise ValueError("no simulated files listed")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"unreadable soccerai provenance manifest ({exc})", path) from exc
    return {str(name): str(digest) for name, digest in files.items()}


def write_manifest(folder: Path, files: Iterable[Path]) -> Path:
    """Add ``files`` (written into ``folder`` by the synthesizer) to the folder's manifest, atomically."""
    folder = Path(folder)
    listed = read_manifest(folder)
    listed.update({Path(p).name: sha256_file(Path(p)) for p in files})
    doc = {"generator": GENERATOR, "tracking": "simulated", "files": dict(sorted(listed.items()))}
    return write_json_atomic(doc, folder / MANIFEST_NAME)


def is_manifest(path: Path) -> bool:
    """True for a provenance manifest (not a tracking file: ``soccerai ingest`` passes over it)."""
    return Path(path).name == MANIFEST_NAME


def declared_simulated(paths: Sequence[Path]) -> bool:
    """True when a manifest beside any of ``paths`` lists it by name or by content."""
    for path in map(Path, paths):
        listed = read_manifest(path.parent)
        if not listed:
            continue
        if path.name in listed or sha256_file(path) in set(listed.values()):
            return True
    return False
