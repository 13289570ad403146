"""How every command prints its tables: one place, four formats.

``--format table`` (the default) draws a rich table on a terminal; when stdout is not a terminal (a pipe, a log
file) the same table is written as markdown, every cell in full on one line, so a nightly log or ``| cat`` never
cuts (``constant_velocit…``) or wraps (``full_scen`` / ``e``) a cell. ``md`` is that markdown always, ``csv`` one
CSV block per table (blank line between tables) and ``json`` one JSON object per table per line
(``{"title": ..., "rows": [...]}``). With ``csv`` and ``json`` stdout holds only the tables: messages go to stderr.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from soccerai.errors import InvalidParameterError

FORMATS = ("table", "md", "csv", "json")
FormatOption = Annotated[str, typer.Option("--format", help="Output of tables: table, md, csv or json.")]
"""The ``--format`` option every table-printing command takes (its parameter is ``fmt``)."""


def _cell(value: Any, float_format: str) -> str:
    """One cell as text: floats through ``float_format``, None as ``-``, everything else ``str``."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return float_format.format(value)
    return str(value)


def _md_escape(text: str) -> str:
    """A cell safe inside a markdown table row: one line, no column separator."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(frame: pl.DataFrame, title: str | None = None, float_format: str = "{:.2f}") -> str:
    """``frame`` as a markdown table (title as a bold line above), every cell whole on one line."""
    lines = [f"**{_md_escape(title)}**", ""] if title else []
    lines.append("| " + " | ".join(_md_escape(c) for c in frame.columns) + " |")
    lines.append("|" + "|".join("---:" if frame[c].dtype.is_numeric() else "---" for c in frame.columns) + "|")
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(_md_escape(_cell(v, float_format)) for v in row) + " |")
    return "\n".join(lines)


def rich_table(frame: pl.DataFrame, title: str | None = None, float_format: str = "{:.2f}",
               styles: Mapping[str, Mapping[str, str]] | None = None) -> Table:
    """``frame`` as a rich table: numbers right-aligned; ``styles`` maps column -> cell value -> rich style."""
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(column, justify="right" if frame[column].dtype.is_numeric() else "left")
    styles = styles or {}
    for row in frame.iter_rows(named=True):
        table.add_row(*[Text(_cell(v, float_format), style=styles.get(c, {}).get(str(v), ""))
                        for c, v in row.items()])
    return table


def _json_value(value: Any) -> Any:
    """A cell as JSON: numbers and text as they are, NaN / inf as null, anything else as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class Output:
    """Where a command's tables and messages go, in the format its ``--format`` asked for."""

    def __init__(self, fmt: str = "table", console: Console | None = None) -> None:
        if fmt not in FORMATS:
            raise InvalidParameterError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        self.fmt = fmt
        self.console = console or Console()
        self.err = Console(stderr=True)
        """Progress bars and, for csv / json, messages: stderr, never mixed into the tables."""
        self._tables = 0

    @property
    def machine(self) -> bool:
        """True for csv / json: stdout carries only tables."""
        return self.fmt in ("csv", "json")

    def table(self, frame: pl.DataFrame, title: str | None = None, float_format: str = "{:.2f}",
              styles: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """Print ``frame`` (with ``title``) in this output's format; see the module docstring."""
        if self.fmt == "table" and self.console.is_terminal:
            self.console.print(rich_table(frame, title, float_format, styles))
        elif self.fmt in ("table", "md"):
            self._write(("\n" if self._tables else "") + markdown_table(frame, title, float_format) + "\n")
        elif self.fmt == "csv":
            self._write(("\n" if self._tables else "") + _csv(frame))
        else:
            rows = [{k: _json_value(v) for k, v in r.items()} for r in frame.iter_rows(named=True)]
            self._write(json.dumps({"title": title, "rows": rows}, ensure_ascii=False) + "\n")
        self._tables += 1

    def say(self, message: str, markup: bool = True) -> None:
        """A message: stdout for table / md, stderr for csv / json (so stdout parses)."""
        if self.machine:
            self.err.print(message, markup=markup, highlight=False, soft_wrap=True)
        else:
            self.console.print(message, markup=markup, highlight=False, soft_wrap=not self.console.is_terminal)

    def _write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()


def _csv(frame: pl.DataFrame) -> str:
    """``frame`` as CSV text; nested values (lists, structs) as their text."""
    nested = [c for c in frame.columns if frame[c].dtype.is_nested()]
    flat = frame.with_columns(pl.col(c).map_elements(str, return_dtype=pl.String) for c in nested) if nested else frame
    return flat.write_csv()


def rows_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pl.DataFrame:
    """A table from dict rows with these ``columns`` (all text when rows is empty)."""
    if not rows:
        return pl.DataFrame(schema={c: pl.String() for c in columns})
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], infer_schema_length=None)
