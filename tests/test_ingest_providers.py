"""Every real provider sample through kloppy into one canonical Match; the three real Metrica event timelines."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from kloppy import tracab as kloppy_tracab

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.io import READERS, detect_provider, load_match
from soccerai.io.detect import NATIVE_ONLY, PROVIDERS, REQUIRED_ROLES
from soccerai.io.events import load_events, shot_result
from soccerai.io.providers.kloppy import KLOPPY_PROVIDERS, KloppyProvider, load_provider
from soccerai.match.schema import BALL_ID, EVENTS_SCHEMA, PLAYERS_SCHEMA, TRACKING_SCHEMA

# provider, files, frames and fps from the data README's table, the fewest players seen in a frame with any player
SAMPLES = [
    ("metrica-csv", ["metrica_home.csv", "metrica_away.csv"], 6, 25.0, 22),
    ("metrica-epts", ["epts_metrica_metadata.xml", "epts_metrica_tracking.txt"], 100, 25.0, 19),
    (
        "metrica-epts",
        ["epts_metrica_metadata.xml", "epts_metrica_tracking_with_empty_values.txt"],
        100,
        25.0,
        18,
    ),
    ("tracab", ["tracab_meta.xml", "tracab_raw.dat"], 7, 25.0, 22),
    ("tracab", ["tracab_meta.json", "tracab_raw.json"], 7, 25.0, 22),
    ("sportec", ["sportec_meta.xml", "sportec_positional.xml"], 202, 25.0, 1),
    (
        "secondspectrum",
        [
            "second_spectrum_fake_metadata.xml",
            "second_spectrum_fake_data.jsonl",
            "second_spectrum_fake_metadata.json",
        ],
        376,
        25.0,
        22,
    ),
    ("statsperform", ["statsperform_tracking_ma1.json", "statsperform_tracking_ma25.txt"], 92, 10.0, 22),
    ("pff", ["pff_metadata_10517.json", "pff_rosters_10517.json", "pff_10517.jsonl"], 200, 29.97, 21),
    ("pff", ["pff_metadata_3812.json", "pff_rosters_3812.json", "pff_3812.jsonl"], 100, 29.97, 22),
    ("skillcorner", ["skillcorner_meta_data.json", "skillcorner_v3_raw_data.jsonl"], 27, 10.0, 22),
    (
        "signality",
        [
            "signality_meta_data.json",
            "signality_p1_raw_data_subset.json",
            "signality_p2_raw_data_subset.json",
            "signality_venue_information.json",
        ],
        10,
        25.0,
        21,
    ),
]
IDS = [
    f"{provider}:{files[-1] if provider != 'secondspectrum' else files[1]}" for provider, files, *_ in SAMPLES
]
MARGIN_M = 5.0


@pytest.fixture(scope="module", params=SAMPLES, ids=IDS)
def loaded(request: pytest.FixtureRequest, samples_dir: Path):
    provider, files, frames, fps, min_players = request.param
    paths = [samples_dir / name for name in reversed(files)]  # any order: roles come from content
    return provider, paths, frames, fps, min_players, load_match(paths, engine="kloppy")


def test_provider_is_detected_from_content(loaded) -> None:
    provider, paths, *_, match = loaded
    assert detect_provider(paths) == provider
    assert match.metadata.provider == provider


def test_tables_follow_the_schema(loaded) -> None:
    *_, match = loaded
    match.validate()
    assert dict(match.tracking.schema) == TRACKING_SCHEMA
    assert dict(match.players.schema) == PLAYERS_SCHEMA
    assert match.tracking.select(pl.col("vx").is_null().all() & pl.col("vy").is_null().all()).item()
    assert set(match.tracking["team"].unique()) == {"home", "away", BALL_ID}
    assert set(match.tracking["ball_state"].drop_nulls().unique()) <= {"alive", "dead"}
    assert set(match.tracking["ball_owning_team"].drop_nulls().unique()) <= {"home", "away"}
    tracked = set(match.tracking.filter(pl.col("team") != BALL_ID)["object_id"].unique())
    assert tracked <= set(match.players["object_id"]), "every tracked player is in the players table"


def test_frame_rate_and_frame_count_match_the_readme(loaded) -> None:
    _, _, frames, fps, _, match = loaded
    assert match.metadata.frame_rate == pytest.approx(fps)
    assert match.metadata.extra["source_frames"] == frames
    in_table = match.tracking.select(pl.struct("period", "frame").n_unique()).item()
    assert 0 < in_table <= frames  # frames without any position have no rows


def test_players_per_frame_and_ball(loaded) -> None:
    *_, min_players, match = loaded
    per_frame = match.tracking.group_by("period", "frame").agg(
        (pl.col("team") != BALL_ID).sum().alias("players"), (pl.col("team") == BALL_ID).sum().alias("balls")
    )
    with_players = per_frame.filter(pl.col("players") > 0)
    assert with_players["players"].min() >= min_players
    assert per_frame["players"].max() <= 22
    assert per_frame["balls"].max() == 1
    assert per_frame["balls"].sum() > 0


def test_coordinates_are_centred_metres_inside_the_pitch(loaded) -> None:
    *_, match = loaded
    half_length = match.metadata.pitch_length / 2 + MARGIN_M
    half_width = match.metadata.pitch_width / 2 + MARGIN_M
    xy = match.tracking.select(pl.col("x").abs().max().alias("x"), pl.col("y").abs().max().alias("y")).row(0)
    assert xy[0] <= half_length and xy[1] <= half_width
    assert xy[0] > 10.0, "coordinates are metres, not 0-1"


def test_home_attacks_positive_x_in_every_period(loaded) -> None:
    *_, match = loaded
    keepers = match.players.filter(pl.col("is_goalkeeper") & (pl.col("team") == "home"))["object_id"]
    home = match.tracking.filter(pl.col("team") == "home")
    reference = home.filter(pl.col("object_id").is_in(keepers.implode()))
    reference = reference if reference.height else home
    for (period,), part in reference.group_by("period"):
        assert part["x"].mean() < 0, f"home defends x<0 in period {period}"
    assert all(p.home_attacks_positive_x is not None for p in match.metadata.periods)
    assert {p.id for p in match.metadata.periods} == set(match.tracking["period"].unique())


def test_rows_are_sorted_ball_home_away(loaded) -> None:
    *_, match = loaded
    rank = match.tracking.select(
        "period",
        "frame",
        pl.col("team").replace_strict({"ball": 0, "home": 1, "away": 2}).alias("r"),
        "object_id",
    )
    assert rank.equals(rank.sort("period", "frame", "r", "object_id"))


def test_every_provider_has_a_kloppy_reader() -> None:
    # Hawk-Eye's centroid feeds live in real-matches/ (tests/test_ingest_real.py reads them through both engines)
    assert {provider for provider, *_ in SAMPLES} | {"hawkeye", "lastrow"} == set(READERS)
    assert all("kloppy" in engines for name, engines in READERS.items() if name not in NATIVE_ONLY)
    assert list(READERS["lastrow"]) == ["fast"]  # kloppy does not read Last Row clips


def test_the_kloppy_table_has_one_entry_per_detected_provider() -> None:
    assert list(KLOPPY_PROVIDERS) == [p for p in PROVIDERS if p not in NATIVE_ONLY]
    for name, spec in KLOPPY_PROVIDERS.items():
        assert spec.name == name
        assert set(spec.arguments) - set(spec.optional) == set(REQUIRED_ROLES[name]), name
        assert spec.blame in spec.arguments and callable(spec.load), name


def test_a_new_provider_is_one_entry(samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry alone (here: Tracab under another name, raw data first) is enough for :func:`load_provider`."""
    spec = KloppyProvider(
        "tracab-copy",
        kloppy_tracab.load,
        {"raw": "raw_data", "meta": "meta_data"},
        options={"only_alive": False},
    )
    monkeypatch.setitem(KLOPPY_PROVIDERS, spec.name, spec)
    files = {"meta": samples_dir / "tracab_meta.xml", "raw": samples_dir / "tracab_raw.dat"}
    match = load_provider("tracab-copy", files)
    reference = load_match(list(files.values()), provider="tracab", engine="kloppy")
    assert match.metadata.provider == "tracab-copy"
    assert match.metadata.source_files == (str(files["raw"]), str(files["meta"]))
    assert match.tracking.drop("match_id").equals(reference.tracking.drop("match_id"))


def test_load_provider_refuses_what_it_cannot_read(samples_dir: Path) -> None:
    with pytest.raises(InvalidParameterError, match="unknown provider 'kinexon'"):
        load_provider("kinexon", {"meta": samples_dir / "hawkeye_meta.json"})
    with pytest.raises(InvalidInputError, match="hawkeye needs a centroids file"):
        load_provider("hawkeye", {"meta": samples_dir / "hawkeye_meta.json", "ball": [samples_dir / "hawkeye_1_1.football.samples.ball"]})
    with pytest.raises(InvalidInputError, match="pff needs a rosters file"):
        load_provider(
            "pff", {"meta": samples_dir / "pff_metadata_3812.json", "raw": samples_dir / "pff_3812.jsonl"}
        )
    with pytest.raises(InvalidParameterError, match="tracab has no file role metadata"):
        load_provider(
            "tracab", {"metadata": samples_dir / "tracab_meta.xml", "raw": samples_dir / "tracab_raw.dat"}
        )
    two = [samples_dir / "tracab_raw.dat", samples_dir / "tracab_raw.json"]
    with pytest.raises(InvalidInputError, match="tracab_raw.json: 2 tracab raw files given, expected one"):
        load_provider("tracab", {"meta": samples_dir / "tracab_meta.xml", "raw": two})
    with pytest.raises(InvalidInputError, match="cannot be read as tracab"):
        load_provider(
            "tracab", {"meta": samples_dir / "sportec_meta.xml", "raw": samples_dir / "tracab_raw.dat"}
        )


def test_metrica_csv_mapping_is_the_documented_one(samples_dir: Path) -> None:
    """x_m = (x - 0.5) * 105, y_m = (0.5 - y) * 68 from the raw file, before the static orientation."""
    match = load_match([samples_dir / "metrica_home.csv", samples_dir / "metrica_away.csv"], engine="kloppy")
    raw = (samples_dir / "metrica_home.csv").read_text().splitlines()[3].split(",")
    first = match.tracking.filter((pl.col("frame") == int(raw[1])) & (pl.col("object_id") == "home_11")).row(
        0, named=True
    )
    sign = 1.0 if match.metadata.periods[0].home_attacks_positive_x else -1.0
    assert first["x"] == pytest.approx(sign * (float(raw[3]) - 0.5) * 105.0)
    assert first["y"] == pytest.approx(sign * (0.5 - float(raw[4])) * 68.0)
    assert first["time_s"] == pytest.approx(float(raw[2]))
    assert match.match_id == "metrica"


EVENT_FILES = [
    ("Sample_Game_1_RawEventsData.csv", "metrica-csv", 1745, 24),
    ("Sample_Game_2_RawEventsData.csv", "metrica-csv", 1935, 24),
    ("Sample_Game_3_events.json", "metrica-json", 3620, 20),
]


@pytest.mark.parametrize(("name", "provider", "count", "shots"), EVENT_FILES, ids=[e[0] for e in EVENT_FILES])
def test_real_metrica_events(events_dir: Path, name: str, provider: str, count: int, shots: int) -> None:
    events = load_events(events_dir / name)
    assert dict(events.schema) == EVENTS_SCHEMA
    assert events.height == count
    shot_rows = events.filter(pl.col("type") == "SHOT")
    assert shot_rows.height == shots
    assert shot_rows["result"].null_count() == 0
    assert "GOAL" in set(shot_rows["result"])
    assert {"PASS", "SET PIECE", "BALL LOST", "RECOVERY"} <= set(events["type"])
    assert set(events["team"].unique()) == {"home", "away"}
    # home attacks +x: its shots are taken in the +x half, the away team's in the -x half
    mean_x = dict(shot_rows.group_by("team").agg(pl.col("start_x").mean()).iter_rows())
    assert mean_x["home"] > 15 and mean_x["away"] < -15
    assert events.select(pl.col("start_x").abs().max()).item() <= 52.5 + MARGIN_M


def test_csv_event_player_ids_match_the_csv_tracking_ids(events_dir: Path, samples_dir: Path) -> None:
    match = load_match([samples_dir / "metrica_home.csv", samples_dir / "metrica_away.csv"], engine="kloppy")
    events = load_events(events_dir / "Sample_Game_1_RawEventsData.csv", match=match)
    ids = set(events["player_id"].drop_nulls())
    assert {"home_11", "away_25"} & ids and ids <= set(match.players["object_id"])
    assert events.filter(pl.col("team") == "home")["player_id"].drop_nulls().str.starts_with("home_").all()


def test_json_event_player_ids_are_the_epts_ids(events_dir: Path) -> None:
    from kloppy import metrica

    meta = metrica.load_event(
        event_data=events_dir / "Sample_Game_3_events.json",
        meta_data=events_dir / "Sample_Game_3_metadata.xml",
    ).metadata
    roster = {p.player_id for team in meta.teams for p in team.players}
    events = load_events(events_dir / "Sample_Game_3_events.json")
    assert set(events["player_id"].drop_nulls()) <= roster


@pytest.mark.parametrize(
    ("subtype", "result"),
    [
        ("HEAD-ON TARGET-GOAL", "GOAL"),
        ("ON TARGET-SAVED", "SAVED"),
        ("OFF TARGET-OUT", "OFF TARGET"),
        ("BLOCKED", "BLOCKED"),
        ("HEAD-WOODWORK-OUT", "WOODWORK"),
        ("WOODWORK-GOAL", "GOAL"),
        (None, None),
    ],
)
def test_shot_result_from_subtype(subtype: str | None, result: str | None) -> None:
    assert shot_result(subtype) == result
