"""Find the matches in a drop folder and fingerprint them.

A match is either a sub-folder of the drop folder (every file in it), or the top-level files sharing a stem once a
role suffix is removed (``g1_home.csv`` + ``g1_away.csv`` -> ``g1``; ``g1.xml`` + ``g1.txt`` -> ``g1``;
``g1.parquet`` -> ``g1``). Hidden files and ``*.tmp``/``*.part`` files (copies in progress) are ignored.

A match's **source hash** is ``sha256`` over its files' names and content hashes, so renaming, editing, adding or
removing a file changes it, and touching a file does not. File hashes are cached by (path, size, mtime).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from soccerai.errors import InvalidInputError
from soccerai.files import sha256_file

ROLE_SUFFIX = re.compile(
    r"(_RawTrackingData_(Home|Away)_Team|_RawEventsData|_(home|away|tracking|metadata|meta|events|raw|positional))$",
    re.IGNORECASE,
)
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload")

HashCache = Callable[[Path], str]


@dataclass(frozen=True)
class MatchSource:
    """The files of one match in the drop folder and their combined content hash."""

    key: str
    files: tuple[Path, ...]
    source_hash: str


def _wanted(path: Path) -> bool:
    return (
        path.is_file() and not path.name.startswith(".") and not path.name.lower().endswith(IGNORED_SUFFIXES)
    )


def match_key_of(path: Path) -> str:
    """The match a top-level drop file belongs to: its stem without a role suffix."""
    return ROLE_SUFFIX.sub("", path.stem) or path.stem


def group_files(drop_dir: Path) -> dict[str, list[Path]]:
    """Group the drop folder's files into matches (see the module docstring)."""
    if not drop_dir.is_dir():
        raise InvalidInputError("drop folder does not exist", drop_dir)
    groups: dict[str, list[Path]] = {}
    for entry in sorted(drop_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if _wanted(p))
            if files:
                groups.setdefault(entry.name, []).extend(files)
        elif _wanted(entry):
            groups.setdefault(match_key_of(entry), []).append(entry)
    return groups


def discover(drop_dir: str | Path, file_hash: HashCache = sha256_file) -> list[MatchSource]:
    """Every match in ``drop_dir`` with its source hash, sorted by key."""
    drop_dir = Path(drop_dir)
    return [
        MatchSource(key=key, files=tuple(files), source_hash=source_hash(drop_dir, files, file_hash))
        for key, files in sorted(group_files(drop_dir).items())
    ]


def source_hash(drop_dir: Path, files: Sequence[Path], file_hash: HashCache = sha256_file) -> str:
    """sha256 over each file's path relative to ``drop_dir`` and its content hash (the match's identity)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(drop_dir).as_posix()}\0{file_hash(path)}\n".encode())
    return digest.hexdigest()
