"""One number format for everything the dashboard and the exports show (:func:`format_value`)."""

from __future__ import annotations

import math
from typing import Literal

import polars as pl

ValueKind = Literal["probability", "distance", "speed", "seconds", "count", "number"]

UNITS: dict[str, str] = {"probability": "%", "distance": "m", "speed": "km/h", "seconds": "s", "count": "",
                         "number": ""}
DECIMALS: dict[str, int] = {"probability": 2, "distance": 1, "speed": 1, "seconds": 1, "count": 0, "number": 2}
"""Fixed decimals per kind: probabilities ``12.34 %`` (so 3e-13 reads ``0.00 %``), distances ``12.3 m``."""


def format_value(value: float | None, kind: ValueKind = "probability", unit: bool = True) -> str:
    """``value`` in the one format of its ``kind``: probabilities (0..1) as percent with 2 decimals, distances in
    m and speeds in km/h with 1 decimal, counts whole; ``"-"`` for a missing or non-finite value.

    >>> format_value(0.0168, "probability"), format_value(3e-13, "probability"), format_value(31.04, "speed")
    ('1.68 %', '0.00 %', '31.0 km/h')
    """
    if kind not in DECIMALS:
        raise ValueError(f"unknown value kind {kind!r} (one of {sorted(DECIMALS)})")
    if value is None or not math.isfinite(float(value)):
        return "-"
    shown = float(value) * 100.0 if kind == "probability" else float(value)
    text = f"{shown:.{DECIMALS[kind]}f}"
    if text.startswith("-") and float(text) == 0.0:  # -0.00 reads as a value; it is zero
        text = text[1:]
    return f"{text} {UNITS[kind]}" if unit and UNITS[kind] else text


def format_columns(table: pl.DataFrame, kinds: dict[str, ValueKind]) -> pl.DataFrame:
    """``table`` with each column of ``kinds`` replaced by its :func:`format_value` text (for display only)."""
    return table.with_columns(
        pl.col(name).map_elements(lambda v, k=kind: format_value(v, k), return_dtype=pl.String).fill_null("-")
        for name, kind in kinds.items() if name in table.columns
    )
