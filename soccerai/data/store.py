"""The match store: one zstd parquet file per match, written atomically (:func:`soccerai.files.atomic_path`).

The tracking table is the parquet table; players, events and metadata travel in the file's key-value metadata
(JSON), so a match is one self-contained file. Writes go to a temporary file in the same folder and are renamed
into place, so a crash never leaves a half-written match.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from soccerai.errors import InvalidInputError
from soccerai.files import atomic_path
from soccerai.match.schema import (
    EVENTS_SCHEMA,
    PLAYERS_SCHEMA,
    TRACKING_SCHEMA,
    Match,
    MatchMetadata,
    conform,
)

_KEY_META = b"soccerai.metadata"
_KEY_PLAYERS = b"soccerai.players"
_KEY_EVENTS = b"soccerai.events"
_KEY_SOURCE_HASH = b"soccerai.source_hash"

MAX_ROWS = 50_000_000
"""Rows a stored match may have: a 2-hour match at 50 Hz with 23 objects is about 8 million."""
MAX_DECODED_BYTES = 8 * 2**30
MAX_FOOTER_BYTES = 256 * 2**20
MAX_COMPRESSION_RATIO = 200.0
"""Real tracking compresses about 5x with zstd; a file claiming far more is a decompression bomb."""


def _frame_to_json(df: pl.DataFrame) -> bytes:
    buffer = io.StringIO()
    df.write_json(buffer)
    return buffer.getvalue().encode()


def _frame_from_json(raw: bytes, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if raw.strip() in (b"", b"[]"):
        return pl.DataFrame(schema=schema)
    # every row read for the schema: a column null in the first rows and a string later must stay a string
    df = pl.read_json(io.BytesIO(raw), infer_schema_length=None, schema_overrides=schema)
    return conform(df, schema)


def write_match(match: Match, path: str | Path, source_hash: str | None = None) -> Path:
    """Validate and write ``match`` to ``path`` (zstd parquet) atomically. Returns the path."""
    match.validate()
    table = match.tracking.to_arrow()
    meta = dict(table.schema.metadata or {})
    meta[_KEY_META] = match.metadata.to_json().encode()
    meta[_KEY_PLAYERS] = _frame_to_json(match.players)
    if match.events is not None:
        meta[_KEY_EVENTS] = _frame_to_json(match.events)
    if source_hash is not None:
        meta[_KEY_SOURCE_HASH] = source_hash.encode()
    table = table.replace_schema_metadata(meta)
    path = Path(path)
    with atomic_path(path, ".parquet") as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def check_parquet_budget(
    path: str | Path, max_rows: int = MAX_ROWS, max_bytes: int = MAX_DECODED_BYTES
) -> pq.FileMetaData:
    """Refuse a parquet file by its footer alone, before any page is decoded; returns the footer metadata.

    Refused: a footer over ``MAX_FOOTER_BYTES``; more than ``max_rows`` rows (or row groups that do not add up to
    the stated count); a decoded size (:func:`decoded_bytes`) over ``max_bytes`` or over ``MAX_COMPRESSION_RATIO``
    times the file size.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            handle.seek(max(size - 8, 0))
            tail = handle.read(8)
        if len(tail) < 8 or tail[4:] != b"PAR1":
            raise InvalidInputError("not a parquet file (no PAR1 footer): not a readable match", path)
        footer = int.from_bytes(tail[:4], "little")
        if footer > min(MAX_FOOTER_BYTES, size):
            raise InvalidInputError(f"parquet footer claims {footer} bytes (limit {MAX_FOOTER_BYTES})", path)
        meta = pq.read_metadata(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"not a readable parquet file ({str(exc).splitlines()[0][:120]})", path) from exc
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    if meta.num_rows > max_rows or meta.num_rows < 0 or sum(g.num_rows for g in groups) != meta.num_rows:
        raise InvalidInputError(f"parquet file claims {meta.num_rows} rows in {len(groups)} row groups "
                                f"(limit {max_rows})", path)
    decoded = decoded_bytes(meta)
    if decoded > max_bytes or decoded > MAX_COMPRESSION_RATIO * max(size, 1):
        raise InvalidInputError(f"parquet file would decode to {decoded / 2**20:.0f} MiB from {size / 2**20:.1f} "
                                f"MiB (limit {max_bytes / 2**20:.0f} MiB, {MAX_COMPRESSION_RATIO:.0f}x)", path)
    return meta


_WIDTHS = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 12, "FLOAT": 4, "DOUBLE": 8}


def decoded_bytes(meta: pq.FileMetaData) -> int:
    """Memory the table takes once decoded, from the footer: ``rows x width`` for fixed-width leaf columns (run-length
    and dictionary encodings hide that from the stored sizes), and for byte-array columns the larger of their
    uncompressed pages and ``rows x 20`` bytes (offsets plus a short string)."""
    total = 0
    for c in range(meta.num_columns):
        column = meta.schema.column(c)
        width = _WIDTHS.get(column.physical_type) or (column.length if column.physical_type == "FIXED_LEN_BYTE_ARRAY"
                                                       else 0)
        if width:
            total += meta.num_rows * width
        else:
            pages = sum(meta.row_group(g).column(c).total_uncompressed_size for g in range(meta.num_row_groups))
            total += max(pages, meta.num_rows * 20)
    return total


def _read_kv(path: Path) -> dict[bytes, bytes]:
    try:
        return dict(pq.read_schema(path).metadata or {})
    except (OSError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"not a readable soccerai parquet file ({exc})", path) from exc


def read_match(path: str | Path) -> Match:
    """Read a match written by :func:`write_match`."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError("no such match file", path)
    check_parquet_budget(path)
    kv = _read_kv(path)
    if _KEY_META not in kv:
        raise InvalidInputError("parquet file was not written by soccerai (no match metadata)", path)
    tracking = conform(pl.from_arrow(pq.read_table(path)), TRACKING_SCHEMA)
    players = _frame_from_json(kv.get(_KEY_PLAYERS, b""), PLAYERS_SCHEMA)
    events = _frame_from_json(kv[_KEY_EVENTS], EVENTS_SCHEMA) if _KEY_EVENTS in kv else None
    metadata = MatchMetadata.from_json(kv[_KEY_META].decode())
    return Match(tracking=tracking, players=players, metadata=metadata, events=events)


def read_source_hash(path: str | Path) -> str | None:
    """The content hash of the source files a stored match was ingested from, or None."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        kv = dict(pq.read_schema(path).metadata or {})
    except (OSError, pa.ArrowInvalid):
        return None
    raw = kv.get(_KEY_SOURCE_HASH)
    return raw.decode() if raw else None


def read_metadata(path: str | Path) -> MatchMetadata:
    """Only the metadata of a stored match (cheap: no frames are read)."""
    kv = _read_kv(Path(path))
    if _KEY_META not in kv:
        raise InvalidInputError("parquet file was not written by soccerai (no match metadata)", path)
    return MatchMetadata.from_json(kv[_KEY_META].decode())
