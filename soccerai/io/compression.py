"""Compressed provider files (``.gz``, ``.xz``, ``.bz2``), recognised by their first bytes, never by their name.

Every reader and the detector open files through :func:`open_binary` / :func:`read_bytes`, so a file compressed
without the matching suffix (``structured_data.json`` holding xz bytes) reads like any other. Magic numbers:
gzip ``1f 8b``, bzip2 ``BZh``, xz ``fd 37 7a 58 5a 00`` (the same signatures kloppy's ``open_as_file`` checks).
A truncated or corrupt compressed file raises :class:`~soccerai.errors.InvalidInputError` naming it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

from soccerai.errors import InvalidInputError

Compression = Literal["gz", "bz2", "xz"]
MAGIC: dict[Compression, bytes] = {"gz": b"\x1f\x8b", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00"}
SUFFIXES = (".gz", ".xz", ".bz2")
CHUNK_BYTES = 1 << 20
LINE_BLOCK_BYTES = 32 << 20
"""Block size of :func:`read_lines_in_blocks`: a few per cent of a match's tracking file."""


def compression_of(path: Path) -> Compression | None:
    """The compression of ``path`` from its first six bytes, or None for a plain file."""
    with Path(path).open("rb") as handle:
        head = handle.read(6)
    for kind, magic in MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _opener(kind: Compression | None, path: Path) -> BinaryIO:
    if kind == "gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    return Path(path).open("rb")


def _corrupt(path: Path, kind: Compression | None, exc: BaseException) -> InvalidInputError:
    what = f"{kind} file" if kind else "file"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InvalidInputError(f"truncated or corrupt {what} ({detail})", path)


DECOMPRESS_ERRORS = (EOFError, lzma.LZMAError, OSError, zlib.error, ValueError)
"""What gzip, bz2 and lzma raise on a cut or damaged stream (``gzip.BadGzipFile`` is an ``OSError``)."""


def open_binary(path: Path) -> BinaryIO:
    """``path`` opened for reading, decompressed when its content is compressed.

    Reading a cut stream later raises ``EOFError``/``LZMAError``; prefer :func:`read_bytes` or :func:`read_head`,
    which turn those into a one-line :class:`InvalidInputError`."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError("no such file", path)
    return _opener(compression_of(path), path)


def read_bytes(path: Path) -> bytes:
    """The whole (decompressed) content of ``path``; a cut or corrupt compressed file is an error naming it."""
    path = Path(path)
    kind = compression_of(path) if path.is_file() else None
    try:
        with open_binary(path) as handle:
            return handle.read()
    except InvalidInputError:
        raise
    except DECOMPRESS_ERRORS as exc:
        raise _corrupt(path, kind, exc) from exc


def read_lines_in_blocks(path: Path, size: int = LINE_BLOCK_BYTES) -> Iterator[bytes]:
    """The (decompressed) content of ``path`` in blocks of whole lines of about ``size`` bytes (the last may lack
    its final newline): a parser fed block by block never holds, nor maps, the whole file. A cut or corrupt
    compressed file is an error naming it."""
    path = Path(path)
    kind = compression_of(path) if path.is_file() else None
    try:
        with open_binary(path) as handle:
            rest = b""
            while block := handle.read(size):
                block = rest + block
                cut = block.rfind(b"\n") + 1
                rest = block[cut:]
                if cut:
                    yield block[:cut]
            if rest:
                yield rest
    except InvalidInputError:
        raise
    except DECOMPRESS_ERRORS as exc:
        raise _corrupt(path, kind, exc) from exc


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` decompressed bytes of ``path`` (fewer when the file is shorter)."""
    path = Path(path)
    kind = compression_of(path) if path.is_file() else None
    try:
        with open_binary(path) as handle:
            return handle.read(size)
    except InvalidInputError:
        raise
    except DECOMPRESS_ERRORS as exc:
        raise _corrupt(path, kind, exc) from exc


def check_stream(path: Path) -> None:
    """Decompress ``path`` to its end (discarding the bytes) so that a cut compressed file fails here, naming it,
    before a slower reader (kloppy) fails on it with a message that may name another file. Plain files pass."""
    path = Path(path)
    kind = compression_of(path)
    if kind is None:
        return
    try:
        with _opener(kind, path) as handle:
            while handle.read(CHUNK_BYTES):
                pass
    except DECOMPRESS_ERRORS as exc:
        raise _corrupt(path, kind, exc) from exc


def plain_name(path: Path) -> str:
    """The file name without a compression suffix (``structured_data.json.xz`` -> ``structured_data.json``)."""
    name = Path(path).name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def source(path: Path) -> Path | io.BytesIO:
    """What to hand a parser that takes a path or a file (polars, ElementTree): the path itself when the file is
    plain (no copy; polars must then be told ``glob=False``), else its decompressed bytes in memory."""
    path = Path(path)
    if path.is_file() and compression_of(path) is not None:
        return io.BytesIO(read_bytes(path))
    return path


@contextmanager
def with_compression_suffixes(paths: Sequence[Path]) -> Iterator[dict[Path, Path]]:
    """``{path: path kloppy can open}``: kloppy 3.19.1 decompresses by file suffix, so a compressed file named
    without one (``tracab_raw.dat`` holding gzip bytes) is handed over as a symbolic link that has it, in a
    temporary folder removed afterwards. Plain files and files with the right suffix map to themselves."""
    mapped: dict[Path, Path] = {}
    folder: Path | None = None
    try:
        for i, path in enumerate(map(Path, paths)):
            kind = compression_of(path) if path.is_file() else None
            if kind is None or path.name.lower().endswith(f".{kind}"):
                mapped[path] = path
                continue
            folder = folder or Path(tempfile.mkdtemp(prefix="soccerai-decompress-"))
            link = folder / str(i) / f"{path.name}.{kind}"
            link.parent.mkdir()
            link.symlink_to(path.resolve())
            mapped[path] = link
        yield mapped
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
