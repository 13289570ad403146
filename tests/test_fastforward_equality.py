"""fast-forward-football (PyPI, Rust) against soccerai's kloppy path on every real sample it claims to read.

The rule of issue 13: use it for a provider only where its canonical output equals the kloppy path on every sample
(same frames, same players, coordinates within 1e-3 m, same orientation). :data:`VERDICT` records what
fast-forward-football 0.3.0 does here; this test recomputes it, so a new release that changes the picture fails
the test and the choice gets revisited. With 0.3.0 no provider passes, so soccerai does not use it: the native
readers (Metrica, SkillCorner open data, Hawk-Eye, Tracab .dat) and kloppy serve instead.

Canonical comparison: fast-forward ``layout="long"``, ``coordinates="secondspectrum"`` (metres, centred),
``orientation="static_home_away"`` against soccerai's static orientation (home attacks +x); fast-forward's
tracking ids of the form ``home_<jersey>`` are mapped to its players table's ids by (team, jersey).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from soccerai.io import load_match

fastforward = pytest.importorskip("fastforward", reason="fast-forward-football is in the dev extra")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CASES = {
    "tracab-dat": ("tracab", {"raw_data": "tracab_raw.dat", "meta_data": "tracab_meta.xml"}),
    "tracab-json": ("tracab", {"raw_data": "tracab_raw.json", "meta_data": "tracab_meta.json"}),
    "sportec": ("sportec", {"raw_data": "sportec_positional.xml", "meta_data": "sportec_meta.xml"}),
    "secondspectrum": (
        "secondspectrum",
        {"raw_data": "second_spectrum_fake_data.jsonl", "meta_data": "second_spectrum_fake_metadata.xml"},
    ),
    "pff": (
        "gradientsports",
        {"raw_data": "pff_10517.jsonl", "meta_data": "pff_metadata_10517.json", "roster_data": "pff_rosters_10517.json"},
    ),
    "skillcorner-v3": (
        "skillcorner", {"raw_data": "skillcorner_v3_raw_data.jsonl", "meta_data": "skillcorner_meta_data.json"}
    ),
}

VERDICT = {
    "tracab-dat": "equal",
    "tracab-json": "equal",
    "sportec": "frames differ",
    "secondspectrum": "coordinates differ",
    "pff": "frames differ",
    "skillcorner-v3": "fails",
}
"""fast-forward-football 0.3.0 vs the kloppy path, per sample (frames, players, 1e-3 m, static orientation).
Tracab (.dat and JSON) is equal on frames, ids (after the jersey mapping) and coordinates, but fast-forward only
returns coordinates already rotated to the orientation asked for, so the provider's real direction per period
(``PeriodInfo.home_attacks_positive_x``) cannot be filled as on the kloppy path; soccerai's native Tracab .dat
reader is equal on all of it, so fast-forward is used nowhere. The others differ: Sportec 205 frames vs 202,
Second Spectrum halves mirrored (up to 105 m apart), PFF 148 frames vs 199, SkillCorner v3 fails ("missing field
position_group"; the real SkillCorner open data fails the same way, per the issue)."""


def _ff_tracking(module: str, files: dict[str, Path]) -> pl.DataFrame:
    loader = getattr(fastforward, module).load_tracking
    ds = loader(**{k: str(v) for k, v in files.items()}, layout="long", coordinates="secondspectrum",
                orientation="static_home_away", only_alive=False, lazy=False)
    grounds = dict(zip(ds.teams["team_id"], ds.teams["ground"], strict=True))
    players = ds.players.with_columns(pl.col("team_id").replace_strict(grounds, default=None).alias("ground"))
    by_jersey = {f"{g}_{j}": pid for g, j, pid in players.select("ground", "jersey_number", "player_id").iter_rows()}
    return ds.tracking.select(
        pl.col("period_id").cast(pl.Int8).alias("period"),
        pl.col("frame_id").cast(pl.Int64).alias("frame"),
        pl.col("player_id").replace(by_jersey).alias("object_id"),
        pl.col("x").cast(pl.Float64),
        pl.col("y").cast(pl.Float64),
    )


def compare(samples_dir: Path, case: str) -> str:
    """"equal", or the first criterion that differs."""
    module, names = CASES[case]
    files = {role: samples_dir / name for role, name in names.items()}
    reference = load_match(list(files.values()), engine="kloppy").tracking
    try:
        ff = _ff_tracking(module, files)
    except Exception:  # noqa: BLE001 - fast-forward raises its own errors on formats it cannot read
        return "fails"
    frames = pl.struct("period", "frame")
    if not ff.select(frames.unique()).sort("period").equals(reference.select(frames.unique()).sort("period")):
        return "frames differ"
    keys = ["period", "frame", "object_id"]
    if set(ff.select(keys).iter_rows()) != set(reference.select(keys).iter_rows()):
        return "players differ"
    joined = reference.join(ff, on=keys, suffix="_ff")
    worst = joined.select(
        pl.max_horizontal((pl.col("x") - pl.col("x_ff")).abs().max(), (pl.col("y") - pl.col("y_ff")).abs().max())
    ).item()
    return "equal" if worst <= 1e-3 else "coordinates differ"


@pytest.mark.parametrize("case", list(CASES))
def test_fastforward_verdict_is_the_recorded_one(samples_dir: Path, case: str) -> None:
    assert compare(samples_dir, case) == VERDICT[case]


def test_soccerai_uses_fastforward_nowhere() -> None:
    from soccerai.io import READERS

    assert all(set(engines) <= {"kloppy", "fast"} for engines in READERS.values())
    assert not any("fastforward" in reader.__module__ for engines in READERS.values() for reader in engines.values())
