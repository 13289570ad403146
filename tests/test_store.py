"""The parquet store: round trip, atomicity, and refusal of foreign files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from soccerai.data import store
from soccerai.errors import InvalidInputError, InvalidTrackingError
from soccerai.match import schema


def _tiny_match() -> schema.Match:
    rows = []
    for frame in range(3):
        rows.append(dict(match_id="m1", period=1, frame=frame, time_s=frame * 0.1, object_id="ball", team="ball",
                         x=0.0 + frame, y=0.0, z=0.1))
        for k, team in enumerate(("home", "away")):
            rows.append(dict(match_id="m1", period=1, frame=frame, time_s=frame * 0.1, object_id=f"{team}_1",
                             team=team, x=-10.0 + 20 * k, y=5.0))
    tracking = schema.conform(pl.DataFrame(rows), schema.TRACKING_SCHEMA)
    players = schema.conform(
        pl.DataFrame({"object_id": ["home_1", "away_1"], "team": ["home", "away"], "jersey": [1, 1],
                      "position": ["GK", "GK"], "name": [None, None], "is_goalkeeper": [True, True]}),
        schema.PLAYERS_SCHEMA,
    )
    events = schema.conform(pl.DataFrame({"match_id": ["m1"], "event_id": ["e1"], "period": [1], "frame": [1],
                                          "type": ["PASS"], "team": ["home"]}), schema.EVENTS_SCHEMA)
    meta = schema.MatchMetadata(match_id="m1", provider="test", frame_rate=10.0,
                                periods=(schema.PeriodInfo(1, 0, 2, True),))
    return schema.Match(tracking=tracking, players=players, metadata=meta, events=events)


def test_round_trip_keeps_every_table(tmp_path: Path) -> None:
    match = _tiny_match()
    path = store.write_match(match, tmp_path / "m1.parquet", source_hash="abc")
    back = store.read_match(path)
    assert back.tracking.equals(match.tracking)
    assert back.players.equals(match.players)
    assert back.events is not None and back.events.equals(match.events)
    assert back.metadata == match.metadata
    assert store.read_source_hash(path) == "abc"
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_failed_write_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = store.write_match(_tiny_match(), tmp_path / "m1.parquet")
    before = path.read_bytes()

    def broken_write(table, where, **kwargs):  # writes half a file, then dies
        Path(where).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(store.pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        store.write_match(_tiny_match(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m1.parquet"]


def test_invalid_match_is_refused_before_writing(tmp_path: Path) -> None:
    match = _tiny_match()
    match.tracking = match.tracking.with_columns(pl.when(pl.col("frame") == 1).then(float("nan"))
                                                 .otherwise(pl.col("x")).alias("x"))
    with pytest.raises(InvalidTrackingError, match="NaN"):
        store.write_match(match, tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


def test_foreign_and_missing_files_raise_clear_errors(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(foreign)
    with pytest.raises(InvalidInputError, match="not written by soccerai"):
        store.read_match(foreign)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInputError, match="not a readable"):
        store.read_match(garbage)
    with pytest.raises(InvalidInputError, match="no such match file"):
        store.read_match(tmp_path / "absent.parquet")


def test_duplicate_rows_are_rejected() -> None:
    match = _tiny_match()
    match.tracking = pl.concat([match.tracking, match.tracking.head(1)])
    with pytest.raises(InvalidTrackingError, match="duplicated"):
        match.validate()


def test_event_columns_null_at_first_survive_the_round_trip(tmp_path: Path) -> None:
    """A column that is null for the first hundreds of events and a string later (shot results) is kept."""
    match = _tiny_match()
    n = 500
    match.events = schema.conform(
        pl.DataFrame({"match_id": ["m1"] * n, "event_id": [str(i) for i in range(n)], "period": [1] * n,
                      "frame": list(range(n)), "type": ["PASS"] * (n - 1) + ["SHOT"],
                      "result": [None] * (n - 1) + ["OFF TARGET"]}),
        schema.EVENTS_SCHEMA,
    )
    back = store.read_match(store.write_match(match, tmp_path / "m1.parquet"))
    assert back.events is not None and back.events["result"].to_list()[-1] == "OFF TARGET"
