"""Helpers the native JSON-lines / XML readers share (Second Spectrum, PFF, Sportec).

* :func:`read_ndjson`: a JSON-lines file (plain or compressed, UTF-8 BOM allowed) parsed block by block by Arrow's
  JSON reader (C++; polars' for a block Arrow refuses) with a fixed schema; a cut or corrupt line is an
  :class:`~soccerai.errors.InvalidInputError` naming the file.
* :func:`micro_seconds`: seconds rounded to the microsecond, as ``datetime.timedelta(seconds=...)`` stores them
  (kloppy's ``frame.timestamp``), so that ``time_s`` equals the kloppy path's exactly.
* :func:`kloppy_players`: the players table of kloppy ``Team`` objects (the kloppy path's
  :func:`~soccerai.io.providers.kloppy.dataset_to_players`).
* :func:`one_line`: a short one-line description of a parser exception.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from soccerai.errors import InvalidInputError
from soccerai.io import compression
from soccerai.io.canonical import object_key
from soccerai.io.detect import check_not_truncated

BOM = b"\xef\xbb\xbf"
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def read_ndjson(path: Path, schema: dict[str, Any], provider: str) -> pl.DataFrame:
    """``path``'s JSON lines as a table of ``schema`` (fields the lines lack are null, others are ignored).

    Parsed block by block (:func:`~soccerai.io.compression.read_lines_in_blocks`, ~32 MB of lines each): the
    parsed table of a match is a fraction of its text, which is never held (nor memory-mapped) whole."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError("no such file", path)
    if path.stat().st_size == 0:
        raise InvalidInputError("file is empty", path)
    check_not_truncated(path, provider, "raw")
    arrow_schema = pa.schema([(name, _arrow_type(dtype)) for name, dtype in schema.items()])
    parts = []
    for i, block in enumerate(compression.read_lines_in_blocks(path)):
        if i == 0 and block.startswith(BOM):
            block = block[len(BOM):]
        if not block.strip():
            continue
        parts.append(_parse_block(block, schema, arrow_schema, provider, path))
    frames = pl.concat(parts, rechunk=False) if parts else pl.DataFrame(schema=schema)
    if frames.height == 0:
        raise InvalidInputError(f"no {provider} frame in the file", path)
    return frames


def _parse_block(block: bytes, schema: dict[str, Any], arrow_schema: pa.Schema, provider: str, path: Path) -> pl.DataFrame:
    """One block of lines as a table of ``schema`` (see :func:`parse_json`)."""
    return parse_json(block, schema, f"{provider} JSON lines", path, arrow_schema=arrow_schema)


def parse_json(data: bytes, schema: dict[str, Any], what: str, path: Path, *, document: bool = False,
               arrow_schema: pa.Schema | None = None) -> pl.DataFrame:
    """JSON lines (or with ``document`` one JSON document, a one-row table) as a table of ``schema``: Arrow's JSON
    reader (C++, 2-4x faster than polars' or orjson on nested tracking, the same values), polars' for data Arrow
    refuses (polars turns a number into a string where the schema says string); neither: an
    :class:`~soccerai.errors.InvalidInputError` "cannot be read as ``what``" naming ``path``."""
    arrow_schema = arrow_schema or pa.schema([(name, _arrow_type(dtype)) for name, dtype in schema.items()])
    options = pa_json.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="ignore",
                                   newlines_in_values=document)
    read = pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1) if document else _ARROW_READ
    try:
        return pl.from_arrow(pa_json.read_json(io.BytesIO(data), read_options=read, parse_options=options),
                             schema=schema)
    except (pa.ArrowException, pl.exceptions.PolarsError):
        pass
    try:
        reader = pl.read_json if document else pl.read_ndjson
        return reader(io.BytesIO(data), schema=schema)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot be read as {what} ({one_line(exc)})", path) from exc


_ARROW_READ = pa_json.ReadOptions(use_threads=False, block_size=1 << 26)
"""One thread per block (measured faster than Arrow's own threads on 2 cores); blocks are at most 64 MB."""


def _arrow_type(dtype: Any) -> pa.DataType:
    """The Arrow type of a polars schema type (the few a frame schema uses)."""
    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, _arrow_type(f.dtype)) for f in dtype.fields])
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow_type(dtype.inner))
    simple = {pl.Int64: pa.int64(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_(), pl.String: pa.string()}
    base = dtype if isinstance(dtype, type) else type(dtype)
    return simple[base]


def micro_seconds(seconds: pl.Expr) -> pl.Expr:
    """Seconds rounded to whole microseconds (``timedelta(seconds=s).total_seconds()``): the whole microseconds
    divided by 10**6 exactly (:func:`_millionths`)."""
    return (seconds * 1e6).round().map_batches(_millionths, return_dtype=pl.Float64)


def _millionths(micros: pl.Series) -> pl.Series:
    """``micros / 1e6`` correctly rounded, as Python divides: polars multiplies by the reciprocal when dividing by a
    scalar (1 ulp off for ~30% of values), a column divided by a column is a true division."""
    return micros / pl.Series([1e6]).new_from_index(0, micros.len())


def kloppy_players(teams: Sequence[Any]) -> pl.DataFrame:
    """The kloppy path's players table of kloppy ``Team`` objects (home first)."""
    from soccerai.io.providers.kloppy import dataset_to_players

    class _Dataset:
        class metadata:  # noqa: N801 - the attribute kloppy's datasets have
            pass

    _Dataset.metadata.teams = list(teams)
    return dataset_to_players(_Dataset)


def exploded_players(frames: FrameT, column: str, team: str, fields: dict[str, str]) -> FrameT:
    """One row per entry of the list-of-structs ``column`` (``order`` = the frame's row; rows in list order),
    ``fields`` renamed from the struct's fields, with ``team`` set."""
    return (
        frames.select("order", pl.col(column))
        .explode(column)
        .filter(pl.col(column).is_not_null())
        .select(
            "order", pl.lit(team).alias("team"),
            *[pl.col(column).struct.field(src).alias(dst) for src, dst in fields.items()],
        )
    )


JERSEY_LIMIT = 1 << 20


def team_jersey(team: pl.Expr, jersey: pl.Expr) -> pl.Expr:
    """(team, jersey) as one integer, for lookups without joins (jerseys within +-``JERSEY_LIMIT``)."""
    return (team == "away").cast(pl.Int64) * (4 * JERSEY_LIMIT) + jersey


def assemble(parts: list[pl.DataFrame], info: pl.DataFrame, *, ids_by_jersey: bool) -> pl.DataFrame:
    """The long table in file order: the ball's and the people's rows of ``parts`` (``order`` = the frame's row in ``info``,
    ``team``, ``jersey`` (-1 for the ball), ``object_id``, x, y, z; rows in file order) with each
    frame's ``info`` columns gathered by ``order``. An object twice in a frame keeps its last entry (kloppy's
    dict); ``ids_by_jersey`` says that (team, jersey) decides the object id one to one, so duplicates can be found
    on integers (the string check runs only when some exist). ``parts`` is emptied: with the caller holding no
    other reference, the unsorted rows are freed as soon as the sorted ones exist, before ``info`` is gathered."""
    table = pl.concat(parts)
    parts.clear()
    jersey = pl.col("jersey")
    key = (pl.col("order").cast(pl.Int64) * (2 * JERSEY_LIMIT) + (pl.col("team") == "away").cast(pl.Int64)
           * JERSEY_LIMIT + jersey + 1)
    in_range = table.select(((jersey >= -1) & (jersey < JERSEY_LIMIT - 1)).all()).item()
    duplicated = not (ids_by_jersey and in_range) or table.select(key.is_duplicated().any()).item()
    if duplicated:
        table = table.unique(["order", "object_id"], keep="last", maintain_order=True)
    table = table.sort("order", object_key(table))  # file order, each frame's objects in canonical order
    order = table["order"]
    table = table.drop("order", "jersey")
    return pl.concat([table, info.select(pl.all().gather(order))], how="horizontal")
