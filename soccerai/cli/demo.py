"""The end-to-end demo, offline: on the REAL SkillCorner match by default (:func:`run_real_demo`), or on matches
soccerai synthesizes itself with no data at all (:func:`run_demo`, ``soccerai demo --simulated``).

Real path (:func:`run_real_demo`): the SkillCorner open-data match FC Bayern v Borussia Dortmund (2019-11-09, broadcast
tracking at 10 Hz: players out of camera view are absent, never placed) from ``$SOCCERAI_DATA_DIR/real-matches`` or,
without a data folder, from the installed kloppy package's ``kloppy/tests/files`` (the same files):

1. ingest it into the parquet store (native reader) and print its data quality;
2. forecast: windows of the first half train a small GVRNN briefly (to show training); the shipped pretrained real
   GVRNN (``soccerai.training.pretrained``, ``gvrnn-sim-skillcorner``) forecasts when this checkout has it; they and constant
   velocity are compared on second-half windows (a time split of the same match);
3. shots found in the tracking (:mod:`soccerai.match.shots`: the match has no events), OBSO at the frame before each, C-OBSO
   of the off-ball attackers with the GVRNN and with constant velocity beside it (shots or pairs whose shooter, A1, D1
   or D2 is out of camera view are skipped and counted);
4. the figure (README's ``docs/demo.png``) of one of the match's GOALS: its OBSO and the C-OBSO of the shot's A1
   (the shot's one role assignment, :func:`soccerai.evaluate.match_obso.scene_roles`), labelled real; C-OBSO is
   computed for the goals first, then the other chances, up to ``max_shots``.

Simulated path (:func:`run_demo`):

1. synthesize two matches from soccerai's own stochastic possession model (SIMULATED tracking) and write them as
   Metrica CSV + event files into a drop folder;
2. ingest them (native Metrica reader, content-hash cache) into the parquet store and print their data quality;
3. cut 10 Hz windows (2 s observed, 4 s predicted), train GVRNN on match A within a time budget, and compare it
   with constant velocity on match B (honest rollout: the model sees only its own samples);
4. OBSO at every shot of match B and C-OBSO of the off-ball attackers with the trained GVRNN;
5. a figure: the OBSO surface at the frame before the shot with the largest C-OBSO, with the real and predicted
   runs of A1, D1 and D2.

Every output lives under one folder (default ``$SOCCERAI_OUT_DIR/demo``) and says whether its tracking is real or
simulated.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from soccerai.errors import InvalidParameterError
from soccerai.match.names import with_player_names

Log = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo produced (paths) and measured (tables)."""

    out_dir: Path
    stored: list[Path] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    forecast_table: pl.DataFrame | None = None
    shot_obso: pl.DataFrame | None = None
    cobso_players: pl.DataFrame | None = None
    checkpoint: Path | None = None
    figure: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    tracking: str = "simulated"
    shots: pl.DataFrame | None = None
    shot_notes: list[str] = field(default_factory=list)
    cobso_baseline_players: pl.DataFrame | None = None
    forecaster: str = "gvrnn"


def _timed(result: DemoResult, stage: str, started: float) -> None:
    result.seconds[stage] = round(time.perf_counter() - started, 1)


def synthesize_drop(drop: Path, minutes: float, seeds: tuple[int, ...]) -> None:
    """Write one simulated match per seed (generated timeline) as Metrica CSV + events into ``drop/<id>/``."""
    from soccerai.synth import synthesize_match, write_match_files

    for seed in seeds:
        match = synthesize_match(None, seed=seed, duration_s=minutes * 60.0)
        write_match_files(match, drop / match.match_id, formats=("metrica-csv",))


def ingest_drop(drop: Path, store: Path) -> list[Path]:
    """Ingest every match of the drop folder; return the stored parquet files (errors are raised, not hidden)."""
    from soccerai.data.ingest import ingest_paths
    from soccerai.errors import InvalidInputError
    from soccerai.io.grouping import group_match_files

    results = ingest_paths(group_match_files([drop]), store, simulated=True)
    failed = [r for r in results if not r.ok]
    if failed:
        raise InvalidInputError(f"demo ingest failed: {failed[0].error}", failed[0].sources[0])
    return [r.path for r in results if r.path is not None]


def train_and_compare(train_match, test_match, budget_s: float, checkpoint_dir: Path, seed: int = 0,
                      max_test_windows: int = 32):
    """Train GVRNN on ``train_match`` for about ``budget_s`` seconds; compare with constant velocity on ``test_match``."""
    from soccerai.evaluate.match_obso import to_model_rate
    from soccerai.evaluate.metrics import compare_models
    from soccerai.models import build_model
    from soccerai.training.loop import TrainConfig, train_and_save
    from soccerai.windows.cutter import make_windows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped-window counts are reported by make_windows_with_stats users
        train = make_windows(to_model_rate(train_match), obs_s=2.0, pred_s=4.0, stride_s=1.0)
        test = make_windows(to_model_rate(test_match), obs_s=2.0, pred_s=4.0, stride_s=2.0)
    config = TrainConfig(epochs=1000, max_time_s=budget_s, batch_size=16, learning_rate=2e-3, seed=seed,
                         accelerator="cpu")
    trained = train_and_save("gvrnn", {"hidden": 32, "latent": 8}, train, None, config, checkpoint_dir,
                             {"data": "simulated", "train_match": train_match.match_id}).model
    models = {"constant_velocity": build_model("constant_velocity"), "gvrnn": trained}
    every = max(1, len(test) // max_test_windows)  # evenly spread over the match, for a quick demo
    return trained, compare_models(models, test.subset(list(range(0, len(test), every))), n_samples=20, seed=seed)


def run_demo(out_dir: Path, minutes: float = 20.0, train_budget_s: float = 60.0, max_shots: int = 4,
             n_samples: int = 10, log: Log = print, store: Path | None = None) -> DemoResult:
    """Run every stage (see the module docstring) and return what was made.

    The matches go into ``store`` (default: soccerai's store folder, where ``soccerai dashboard`` looks)."""
    from soccerai.config import store_dir

    store = store or store_dir()
    if not 4.0 <= minutes <= 90.0:
        raise InvalidParameterError(f"minutes must be between 4 and 90, got {minutes}")
    if not 5.0 <= train_budget_s <= 3600.0:
        raise InvalidParameterError(f"train budget must be between 5 and 3600 s, got {train_budget_s}")
    from soccerai.data.store import read_match
    from soccerai.evaluate.match_obso import scenes_cobso, scenes_obso, shot_scenes, to_model_rate
    from soccerai.match.quality import quality_summary

    result = DemoResult(out_dir)
    started = time.perf_counter()
    log(f"1/5 synthesizing 2 matches of {minutes:g} minutes (SIMULATED tracking, generated timelines)")
    synthesize_drop(out_dir / "drop", minutes, seeds=(0, 1))
    _timed(result, "synthesize", started)

    started = time.perf_counter()
    log("2/5 ingesting the Metrica CSV files into the parquet store")
    result.stored = ingest_drop(out_dir / "drop", store)
    matches = [read_match(p) for p in result.stored]
    result.quality = [quality_summary(m) for m in matches]
    _timed(result, "ingest", started)

    started = time.perf_counter()
    log(f"3/5 training GVRNN on {matches[0].match_id} for ~{train_budget_s:g} s, testing on {matches[1].match_id}")
    model, result.forecast_table = train_and_compare(matches[0], matches[1], train_budget_s,
                                                     out_dir / "models" / "gvrnn-demo")
    result.checkpoint = out_dir / "models" / "gvrnn-demo"
    _timed(result, "train_and_evaluate", started)

    started = time.perf_counter()
    test = matches[1]
    log(f"4/5 OBSO at the shots of {test.match_id}, C-OBSO of off-ball attackers at up to {max_shots} shots")
    scenes, _ = shot_scenes(to_model_rate(test))  # 10 Hz once, every shot's window cut from one match cube
    result.shot_obso = scenes_obso(scenes, players=test.players)
    first_scenes = scenes[:max_shots]  # C-OBSO is the slow stage: the first shots that have a scene
    pairs, result.cobso_players = scenes_cobso(first_scenes, model, n_samples=n_samples, players=test.players)
    _write_tables(out_dir, result, pairs)
    _timed(result, "obso_cobso", started)

    started = time.perf_counter()
    log("5/5 drawing the shot with the largest C-OBSO")
    from soccerai.evaluate.match_obso import cobso_shot_view
    from soccerai.viz import cobso_shot_figure

    view = cobso_shot_view(first_scenes, model, pairs, n_samples)
    result.figure = None if view is None else cobso_shot_figure(view, out_dir / "demo.png")
    _timed(result, "figure", started)
    return result


def _write_tables(out_dir: Path, result: DemoResult, pairs: pl.DataFrame,
                  extra: dict[str, pl.DataFrame] | None = None) -> None:
    """The demo's tables as parquet, each with a ``tracking`` column saying real or simulated."""
    from soccerai.files import write_parquet_atomic

    tables = {"forecast.parquet": result.forecast_table, "shot_obso.parquet": result.shot_obso,
              "cobso_pairs.parquet": pairs, "cobso_players.parquet": result.cobso_players, **(extra or {})}
    for name, table in tables.items():
        if "tracking" not in table.columns:
            table = table.with_columns(tracking=pl.lit(result.tracking))
        write_parquet_atomic(table, out_dir / name)


REAL_MATCH = "skillcorner-bayern-dortmund-2019-11-09"
REAL_SOURCE = "real — SkillCorner broadcast tracking (players out of camera view are not shown)"
KLOPPY_NAMES = ("skillcorner_match_data.json", "skillcorner_structured_data.json")


def pretrained_forecaster():
    """The shipped pretrained real GVRNN (:mod:`soccerai.training.pretrained`), or None when this checkout has none."""
    from soccerai.training import pretrained

    if pretrained.DEFAULT_MODEL not in pretrained.available():
        return None
    return pretrained.load(pretrained.DEFAULT_MODEL)[0]


def real_match_files() -> list[Path]:
    """The real SkillCorner match's two files: from the data folder, else from the installed kloppy package."""
    from soccerai.config import data_dir
    from soccerai.data.catalog import kloppy_files_dir
    from soccerai.errors import InvalidInputError

    folder = data_dir() / "real-matches" / REAL_MATCH
    if folder.is_dir():
        return sorted(p for p in folder.iterdir() if p.name.startswith(("match_data", "structured_data")))
    shipped = kloppy_files_dir()
    if shipped is not None:
        files = [shipped / name for name in KLOPPY_NAMES]
        if all(p.is_file() for p in files):
            return files
    raise InvalidInputError("the real SkillCorner match was found neither in the data folder nor in kloppy's "
                            "tests/files (set SOCCERAI_DATA_DIR, or run with --simulated)", folder)


def ingest_real(drop: Path, store: Path) -> Path:
    """Link the real match's files into ``drop/<match>/`` under their provider names and ingest that folder."""
    from soccerai.data.ingest import ingest_paths
    from soccerai.errors import InvalidInputError
    from soccerai.io.grouping import group_match_files

    folder = drop / REAL_MATCH
    folder.mkdir(parents=True, exist_ok=True)
    for source in real_match_files():
        link = folder / source.name.removeprefix("skillcorner_")
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source.resolve())
    results = ingest_paths(group_match_files([folder]), store)
    failed = [r for r in results if not r.ok]
    if failed or not results:
        raise InvalidInputError(f"demo ingest of the real match failed: {failed[0].error if failed else 'no match'}",
                                folder)
    return results[0].path


def real_windows(match10, obs_s: float = 2.0, pred_s: float = 4.0):
    """First-half windows (train) and second-half windows (test) of a 10 Hz real match: a time split, no window
    crosses the half-time boundary. Broadcast frames show 12 to 19 players: absent agents are masked."""
    import dataclasses

    from soccerai.windows.cutter import make_windows
    from soccerai.windows.sources import MIN_PLAYERS

    halves = []
    for period in (1, 2):
        part = dataclasses.replace(match10, tracking=match10.tracking.filter(pl.col("period") == period))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # broadcast windows without the ball are skipped by design
            halves.append(make_windows(part, obs_s=obs_s, pred_s=pred_s, stride_s=1.0 if period == 1 else 4.0,
                                       min_players=MIN_PLAYERS))
    return halves[0], halves[1]


def run_real_demo(out_dir: Path, train_budget_s: float = 30.0, max_shots: int = 4, n_samples: int = 10,
                  log: Log = print, store: Path | None = None, max_test_windows: int = 16) -> DemoResult:
    """The demo on the real SkillCorner match (see the module docstring); returns what was made."""
    from soccerai.config import store_dir
    from soccerai.data.store import read_match
    from soccerai.evaluate.match_obso import (
        SKIP_REASONS,
        scenes_cobso,
        scenes_obso,
        shot_scenes_listed,
        to_model_rate,
    )
    from soccerai.evaluate.metrics import compare_models
    from soccerai.match.quality import quality_summary
    from soccerai.match.shots import match_shots
    from soccerai.models import build_model
    from soccerai.training.loop import TrainConfig, train_and_save

    if not 5.0 <= train_budget_s <= 3600.0:
        raise InvalidParameterError(f"train budget must be between 5 and 3600 s, got {train_budget_s}")
    store = store or store_dir()
    result = DemoResult(out_dir, tracking="real")
    started = time.perf_counter()
    log(f"1/5 ingesting the real match ({REAL_SOURCE})")
    path = ingest_real(out_dir / "drop", store)
    result.stored = [path]
    match = read_match(path)
    result.quality = [quality_summary(match)]
    match10 = to_model_rate(match)
    _timed(result, "ingest", started)

    started = time.perf_counter()
    train, test = real_windows(match10)
    log(f"2/5 training a small GVRNN on {len(train)} first-half windows for ~{train_budget_s:g} s; testing on "
        f"{len(test)} second-half windows")
    config = TrainConfig(epochs=1000, max_time_s=train_budget_s, batch_size=16, learning_rate=2e-3, seed=0,
                         accelerator="cpu")
    trained = train_and_save("gvrnn", {"hidden": 32, "latent": 8}, train, None, config,
                             out_dir / "models" / "gvrnn-demo", {"data": "real", "train_match": match.match_id,
                                                                 "train_split": "period 1"}).model
    result.checkpoint = out_dir / "models" / "gvrnn-demo"
    models = {"constant_velocity": build_model("constant_velocity"), "gvrnn_demo": trained}
    forecaster, result.forecaster = trained, "gvrnn_demo"
    shipped = pretrained_forecaster()
    if shipped is not None:
        forecaster = models["gvrnn_pretrained"] = shipped
        result.forecaster = "gvrnn_pretrained"
    every = max(1, len(test) // max_test_windows)
    result.forecast_table = compare_models(models, test.subset(list(range(0, len(test), every))), n_samples=20)
    _timed(result, "train_and_evaluate", started)

    started = time.perf_counter()
    found = match_shots(match)
    result.shots = with_player_names(found.shots, match.players).with_columns(shot_source=pl.lit(found.source),
                                                                               tracking=pl.lit("real"))
    scenes, skipped = shot_scenes_listed(match10, found=found)  # skipped shots are listed with their reason
    skips = skipped.group_by("reason_key", maintain_order=True).len().iter_rows()
    result.shot_notes = [found.describe()] + [f"{n} shots skipped: {SKIP_REASONS[k]}" for k, n in skips]
    log(f"3/5 {found.describe()}; OBSO at the {len(scenes)} shots with a scene, C-OBSO at up to {max_shots}")
    result.shot_obso = scenes_obso(scenes, players=match.players)
    goals_first = sorted(scenes, key=lambda s: ((s.result or "").upper() != "GOAL", s.period, s.shot_frame))
    first = sorted(goals_first[:max_shots], key=lambda s: (s.period, s.shot_frame))  # the goals, then chances
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs, result.cobso_players = scenes_cobso(first, forecaster, n_samples=n_samples, players=match.players)
        baseline_pairs, result.cobso_baseline_players = scenes_cobso(first, build_model("constant_velocity"),
                                                                     n_samples=1, players=match.players)
    result.shot_notes += sorted({str(w.message) for w in caught})
    from soccerai.evaluate.match_obso import shot_roles

    _write_tables(out_dir, result, pairs, {"shots.parquet": result.shots,
                                           "shot_roles.parquet": shot_roles(scenes, match.players, skipped),
                                           "cobso_pairs_constant_velocity.parquet": baseline_pairs,
                                           "cobso_players_constant_velocity.parquet": result.cobso_baseline_players})
    _timed(result, "obso_cobso", started)

    started = time.perf_counter()
    log("4/5 drawing a goal (its OBSO and C-OBSO) or, without one, the shot with the largest C-OBSO")
    from soccerai.evaluate.match_obso import cobso_shot_view
    from soccerai.viz import cobso_shot_figure

    view = cobso_shot_view(first, forecaster, pairs, n_samples)
    result.figure = None if view is None else cobso_shot_figure(view, out_dir / "demo.png", "real")
    _timed(result, "figure", started)
    log(f"5/5 done: tables and figure in {out_dir}")
    return result
