"""Realism benchmark: the v3 and the calibrated synthesizer against REAL play, and the calibration search.

    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/realism.py [--minutes 90] [--seed 0]
    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/realism.py --search [--candidates 16]

Report (default): a SIMULATED match driven by the real Metrica Game 1 timeline, synthesized twice with one seed, by
the version-3 synthesizer (``Behaviour.v3()``) and the calibrated one (``behaviour.CALIBRATED``), each seen through
the broadcast measurement model against the REAL SkillCorner match and through the optical model against the REAL
Hawk-Eye minutes (:mod:`soccerai.synth.realism`: same statistics, same code, visible tracks only). One table with
ratios to real; the last line:
``RESULT v3_objective=.. calibrated_objective=.. within10_skillcorner=k/n within10_hawkeye=k/n
cv_ade4_skillcorner=.. cv_ade4_hawkeye=.. synth_s=.. synth_cpu_s=..`` (``objective`` = mean |ln(sim / real)| over
all statistics, :func:`soccerai.synth.realism.realism_objective`; ``within10`` counts statistics of the calibrated
synthesizer within 10 % of real; ``cv_ade4`` its constant-velocity ADE at 4 s over real's; the timing is the
calibrated synthesis of the whole simulated span, wall and CPU seconds, on a shared machine).

Calibration search (``--search``), documented here because ``behaviour.CALIBRATED`` and ``measurement.MODELS`` hold
its result:

* data: Game 1 timeline, seed 0, ``--search-minutes`` (default 10) simulated minutes split over the halves (a
  10-minute simulation plus its two measurements and statistics takes ~12 s on the shared machine);
* objective: :func:`~soccerai.synth.realism.realism_objective`, the mean |ln(simulated / real)| over every statistic
  of both real sources (SkillCorner through the broadcast model, Hawk-Eye through the optical one), except the
  sample size and Hawk-Eye's sprint rate (its two minutes hold a single sprint: :data:`EXCLUDE`);
* every parameter is searched on the unit cube mapped linearly onto its bounds (:data:`MOTION_SPACE`,
  :data:`NOISE_SPACE`); the optimiser is :func:`scipy.optimize.minimize` (bounded Nelder-Mead, initial simplex
  +-0.15 per coordinate) and the design :class:`scipy.stats.qmc.LatinHypercube` (seeded by ``--seed``);
* stage 1, measurement: Nelder-Mead over the broadcast parameters (scored against SkillCorner only) and the optical
  ones (against Hawk-Eye only) on the current CALIBRATED motion's match (no re-simulation),
  ``--noise-evaluations`` evaluations per six parameters;
* stage 2, motion: the current CALIBRATED plus ``--candidates`` Latin-hypercube points over ``--params`` (default:
  every :data:`MOTION_SPACE` key), each a fresh simulation with the measurement models fixed; then Nelder-Mead from
  the best of them for ``--steps`` more simulations;
* stage 3, measurement again on the best motion's match.
It prints every evaluation and the winner as Python literals to paste into ``behaviour.CALIBRATED`` and
``measurement.MODELS``; ``RESULT search_objective=.. v3_objective=.. motion_evaluations=.. measurement_evaluations=..``.

Proof (``--proof``): does simulated pre-training help on REAL play? GVRNN forecasts (2 s observed, 4 s predicted,
10 Hz) scored on the REAL SkillCorner second half (:func:`soccerai.windows.sources.skillcorner_sets`, the forecasting
benchmark's split; absent players masked), trained (a) on the REAL first half only (its last 10 minutes for
validation), (b) on SIMULATED Games 1 + 2 only, (c) pre-trained as (b) and fine-tuned as (a); (b) and (c) with the
v3 synthesizer (perfect tracking, as before) and with the calibrated one seen through the broadcast measurement
model (the test data's provider type). Every fit is :func:`soccerai.training.loop.fit` for at most ``--train-steps``
optimiser steps (early stopping on validation every ``--val-every`` steps, a ``--budget-s`` wall cap). Scored by
:func:`soccerai.evaluate.forecast_table.forecast_table` (honest rollout, full scene): single-sample ADE and
minADE_K with 95 % block-bootstrap intervals, and ``win_vs_cv``, the share of windows where the model beats
constant velocity on the same window (paired). ``RESULT proof_ade_cv=.. proof_ade_a=.. ... win_vs_cv_a=.. ...``
(single-sample player ADE over 4 s, metres, REAL second half).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import time

import numpy as np
import polars as pl

from soccerai.config import data_dir, metrica_events_dir
from soccerai.synth import synthesize_match
from soccerai.synth.behaviour import CALIBRATED, Behaviour
from soccerai.synth.measurement import MODELS, MeasurementModel
from soccerai.synth.realism import (
    DIAGNOSTIC_ROWS,
    REAL_SOURCES,
    grid_wide,
    real_statistics,
    realism_objective,
    realism_report,
    report_statistics,
    simulated_statistics,
)

GAME = "Sample_Game_1_RawEventsData.csv"
SKILLCORNER, HAWKEYE = list(REAL_SOURCES)
EXCLUDE = {HAWKEYE: ("sprints /player-minute",)}
MOTION_SPACE: dict[str, tuple[float, float]] = {
    "decision_mean_s": (0.1, 1.2),
    "intention_rate_per_s": (0.02, 0.4),
    "intention_sigma_m": (0.5, 8.0),
    "intention_urgency_sigma": (0.0, 0.6),
    "style_sigma": (0.0, 0.4),
    "foresight_s": (0.8, 4.0),
    "drift_sigma_m": (0.5, 5.0),
    "block_length_scale": (0.45, 1.05),
    "block_width_scale": (0.7, 1.1),
    "block_tau_s": (0.3, 3.0),
    "block_follow_x": (0.4, 0.95),
    "block_follow_y": (0.2, 0.7),
    "formation_urgency_scale": (0.7, 2.5),
    "defending_roam": (0.0, 0.6),
    "team_shift_sigma_m": (0.0, 6.0),
    "team_shift_tau_s": (1.0, 8.0),
    "shift_mirror": (0.0, 1.0),
    "run_rate_scale": (0.5, 2.0),
    "accel_scale": (0.9, 1.4),
}
"""Bounds of the motion parameters the search fits (:class:`soccerai.synth.behaviour.Behaviour` fields)."""
NOISE_SPACE: dict[str, dict[str, tuple[float, float]]] = {
    "broadcast": {
        "view_half_length_m": (10.0, 26.0),
        "camera_tau_s": (0.3, 3.0),
        "sigma_m": (0.0, 0.4),
        "tau_s": (0.1, 2.0),
        "jitter_m": (0.0, 0.05),
        "tail_dof": (1.2, 30.0),
    },
    "optical": {"sigma_m": (0.0, 0.06), "tau_s": (0.05, 0.5), "jitter_m": (0.0, 0.02)},
}
"""Bounds of the measurement parameters (:class:`soccerai.synth.measurement.MeasurementModel` fields)."""
SOURCE_OF = {"broadcast": SKILLCORNER, "optical": HAWKEYE}


def simulate(behaviour: Behaviour, seed: int, minutes: float | None):
    events = metrica_events_dir() / GAME
    return synthesize_match(events, seed=seed, duration_s=None if minutes is None else minutes * 60, behaviour=behaviour)


def observed(match, models: dict[str, MeasurementModel], seed: int) -> dict[str, dict[str, float]]:
    from soccerai.synth.measurement import observe

    return {SOURCE_OF[k]: report_statistics(grid_wide(observe(match, m, seed))) for k, m in models.items()}


def within(sim: dict[str, float], real: dict[str, float], tol: float = 0.10) -> tuple[int, int]:
    keys = [k for k in real if k not in DIAGNOSTIC_ROWS and real[k] > 0]
    return sum(abs(sim[k] / real[k] - 1.0) <= tol for k in keys), len(keys)


def report(args: argparse.Namespace) -> None:
    real = real_statistics(data_dir())
    minutes = None if args.minutes >= 90 else args.minutes
    v3 = simulated_statistics(simulate(Behaviour.v3(), args.seed, minutes), args.seed)
    start, cpu = time.perf_counter(), time.process_time()
    match = simulate(CALIBRATED, args.seed, minutes)
    synth_s, synth_cpu = time.perf_counter() - start, time.process_time() - cpu
    calibrated = simulated_statistics(match, args.seed)
    table = realism_report({"v3 (SIMULATED)": v3, "calibrated (SIMULATED)": calibrated}, real)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=260, fmt_str_lengths=40):
        for source in real:
            short = source.split(" (")[0]
            cols = ["statistic", *[c for c in table.columns if short in c]]
            print(f"\n{source} vs SIMULATED Game 1 seed {args.seed} ({args.minutes:g} min), seen through its model")
            print(table.select(cols))
    k_sc, n_sc = within(calibrated[SKILLCORNER], real[SKILLCORNER])
    k_he, n_he = within(calibrated[HAWKEYE], real[HAWKEYE])
    extra = match.metadata.extra
    print(f"\nevent alignment (calibrated): worst reachable event {extra['max_event_error_m']:.2f} m, "
          f"{len(extra['unreachable_events'])} unreachable; synthesis {synth_s:.1f} s wall, {synth_cpu:.1f} s CPU")
    ade = "CV ADE 4 s (m)"
    print(
        f"RESULT v3_objective={realism_objective(v3, real, EXCLUDE):.3f} "
        f"calibrated_objective={realism_objective(calibrated, real, EXCLUDE):.3f} "
        f"within10_skillcorner={k_sc}/{n_sc} within10_hawkeye={k_he}/{n_he} "
        f"cv_ade4_skillcorner={calibrated[SKILLCORNER][ade] / real[SKILLCORNER][ade]:.3f} "
        f"cv_ade4_hawkeye={calibrated[HAWKEYE][ade] / real[HAWKEYE][ade]:.3f} "
        f"max_event_error_m={extra['max_event_error_m']:.3f} synth_s={synth_s:.1f} synth_cpu_s={synth_cpu:.1f}"
    )


def _to_unit(values: dict[str, float], space: dict[str, tuple[float, float]]) -> np.ndarray:
    return np.array([np.clip((values[k] - lo) / (hi - lo), 0.0, 1.0) for k, (lo, hi) in space.items()])


def _from_unit(u: np.ndarray, space: dict[str, tuple[float, float]]) -> dict[str, float]:
    return {k: float(lo + np.clip(x, 0.0, 1.0) * (hi - lo)) for x, (k, (lo, hi)) in zip(u, space.items(), strict=True)}


def nelder_mead(score, x0: np.ndarray, max_evaluations: int, step: float = 0.15):
    """Bounded Nelder-Mead (:func:`scipy.optimize.minimize`) on the unit cube from ``x0``, initial simplex ``x0 +
    step e_i`` (reflected inside the cube); returns (best point, best score)."""
    from scipy.optimize import minimize

    simplex = [x0]
    for i in range(x0.size):
        x = x0.copy()
        x[i] = x[i] + step if x[i] + step <= 1.0 else x[i] - step
        simplex.append(x)
    result = minimize(score, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * x0.size,
                      options={"initial_simplex": np.array(simplex), "maxfev": max_evaluations, "xatol": 1e-3,
                               "fatol": 1e-4})
    return result.x, float(result.fun)


def search(args: argparse.Namespace) -> None:
    """The calibration search (see the module docstring)."""
    from scipy.stats import qmc

    real = real_statistics(data_dir())
    models = dict(MODELS)
    evaluations = {"motion": 0, "measurement": 0}
    trace: list[tuple[float, Behaviour]] = []
    space = {k: MOTION_SPACE[k] for k in (args.params.split(",") if args.params else MOTION_SPACE)}

    def motion_score(u: np.ndarray) -> float:
        b = CALIBRATED.with_(**_from_unit(u, space))
        evaluations["motion"] += 1
        score = realism_objective(observed(simulate(b, 0, args.search_minutes), models, 0), real, EXCLUDE)
        trace.append((score, b))
        print(f"motion {evaluations['motion']:4d} objective={score:.4f} "
              f"{ {k: round(getattr(b, k), 3) for k in space} }", flush=True)
        return score

    def fit_measurement(b: Behaviour, sweep: int) -> None:
        match = simulate(b, 0, args.search_minutes)
        for kind, space in NOISE_SPACE.items():
            source = SOURCE_OF[kind]

            def score(u: np.ndarray, kind=kind, space=space, source=source) -> float:
                evaluations["measurement"] += 1
                stats = observed(match, {kind: models[kind].with_(**_from_unit(u, space))}, 0)
                return realism_objective(stats, {source: real[source]}, EXCLUDE)

            u, best = nelder_mead(score, _to_unit(dataclasses.asdict(models[kind]), space),
                                  args.noise_evaluations * len(space) // 6)
            models[kind] = models[kind].with_(**_from_unit(u, space))
            print(f"measurement sweep {sweep} {kind}: {dataclasses.asdict(models[kind])} "
                  f"objective({source})={best:.4f}", flush=True)

    start, cpu = time.perf_counter(), time.process_time()
    fit_measurement(CALIBRATED, 0)
    v3_score = realism_objective(observed(simulate(Behaviour.v3(), 0, args.search_minutes), models, 0), real, EXCLUDE)
    print(f"v3 objective={v3_score:.4f} (same measurement models)")
    x0 = _to_unit(dataclasses.asdict(CALIBRATED), space)
    design = [x0, *qmc.LatinHypercube(d=x0.size, seed=args.seed).random(args.candidates)]
    scores = [motion_score(u) for u in design]
    best_u, best = nelder_mead(motion_score, design[int(np.argmin(scores))], args.steps)
    best_b = min(trace, key=lambda t: t[0])[1]
    fit_measurement(best_b, 1)
    final = realism_objective(observed(simulate(best_b, 0, args.search_minutes), models, 0), real, EXCLUDE)
    print("\nbehaviour.CALIBRATED =", best_b)
    print("measurement.MODELS =", models)
    print(f"search {time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU (shared machine)")
    print(f"RESULT search_objective={final:.4f} v3_objective={v3_score:.4f} "
          f"motion_evaluations={evaluations['motion']} measurement_evaluations={evaluations['measurement']} "
          f"search_minutes={args.search_minutes:g} data=simulated_vs_real")


def windows_of(match, period: int | None, min_players: int, stride: int):
    """Possession windows of one period (None: all) at 10 Hz, 2 s + 4 s, absent players masked."""
    import warnings

    from soccerai.match.schema import Match
    from soccerai.windows.cutter import make_windows
    from soccerai.windows.layout import to_model_rate

    tracking = match.tracking if period is None else match.tracking.filter(pl.col("period") == period)
    part = Match(tracking=tracking, players=match.players, metadata=match.metadata, events=match.events)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_windows(to_model_rate(part), None, 2.0, 4.0, stride / 10.0, min_players=min_players)


def simulated_windows(behaviour: Behaviour, measurement: str | None, min_players: int, stride: int):
    """(train, val) SIMULATED windows of Games 1 and 2 (seed 0), val = the last 10 % of each (no frame shared with
    its training windows); the matches are cached under <out>/realism."""
    from soccerai.config import output_dir
    from soccerai.data.store import read_match, write_match
    from soccerai.synth.match import SYNTH_VERSION
    from soccerai.windows.container import TrajectoryWindows
    from soccerai.windows.sources import split_windows

    parts = []
    digest = hashlib.sha1(repr((behaviour, MODELS.get(measurement or ""))).encode()).hexdigest()[:8]
    for game in ("Sample_Game_1_RawEventsData.csv", "Sample_Game_2_RawEventsData.csv"):
        tag = "v3" if behaviour.is_v3 else f"v{SYNTH_VERSION}"
        name = f"sim-{game.split('_Raw')[0]}-{tag}-{measurement or 'perfect'}-{digest}.parquet"
        cache = output_dir() / "realism" / name
        if not cache.is_file():
            cache.parent.mkdir(parents=True, exist_ok=True)
            match = synthesize_match(metrica_events_dir() / game, seed=0, behaviour=behaviour, measurement=measurement)
            write_match(match, cache)
        parts.append(split_windows(windows_of(read_match(cache), None, min_players, stride), val_fraction=0.1))
    return TrajectoryWindows.concat([t for t, _ in parts]), TrajectoryWindows.concat([v for _, v in parts])


PROOF_ROWS = {"constant_velocity": "cv", "(a) real first half": "a", "(b) sim v3": "b_v3",
              "(b) sim calibrated": "b_cal", "(c) sim v3 + real": "c_v3", "(c) sim calibrated + real": "c_cal"}


def proof(args: argparse.Namespace) -> None:
    """(a)/(b)/(c) on the REAL SkillCorner second half (see the module docstring)."""
    import torch

    from soccerai.evaluate.forecast_table import forecast_table
    from soccerai.models import build_model
    from soccerai.training.loop import TrainConfig
    from soccerai.training.loop import fit as fit_windows
    from soccerai.windows import sources as datasets

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    real_train, real_val, real_test = datasets.skillcorner_sets(train_stride=args.stride, min_players=args.min_players)
    sims = {
        "v3": simulated_windows(Behaviour.v3(), None, args.min_players, args.stride),
        "calibrated": simulated_windows(CALIBRATED, "broadcast", args.min_players, args.stride),
    }
    print(f"data ({time.perf_counter() - start:.0f} s): REAL SkillCorner first half {len(real_train)} train / "
          f"{len(real_val)} val windows, second half {len(real_test)} test windows; SIMULATED Games 1 + 2 "
          + ", ".join(f"{k} {len(t)} train / {len(v)} val" for k, (t, v) in sims.items()), flush=True)
    config = {"hidden": args.hidden, "latent": args.latent}
    settings = TrainConfig(epochs=-1, batch_size=32, learning_rate=2e-3, patience=args.patience, accelerator="cpu",
                           max_steps=args.train_steps, max_time_s=args.budget_s, val_every_steps=args.val_every)
    log: dict[str, str] = {}

    def fit(tag: str, train, val, model=None):
        torch.manual_seed(0)
        model = model if model is not None else build_model("gvrnn", dict(config))
        wall, cpu = time.perf_counter(), time.process_time()
        result = fit_windows(model, train, val, settings)
        log[tag] = f"{result.steps} steps {time.perf_counter() - wall:.0f} s wall {time.process_time() - cpu:.0f} s CPU"
        print(f"  fit {tag}: {log[tag]}", flush=True)
        return result.model.eval()

    models = {"(a) real first half": fit("(a)", real_train, real_val)}
    for name, (train, val) in sims.items():
        pre = fit(f"(b) {name}", train, val)
        models[f"(b) sim {name}"] = pre
        models[f"(c) sim {name} + real"] = fit(f"(c) {name}", real_train, real_val, copy.deepcopy(pre).train())
    test = evenly(real_test, args.test_windows)
    table = forecast_table(models, {"skillcorner_test (REAL 2nd half)": test}, n_samples=args.samples,
                           n_boot=1000, scenarios=("full_scene",))
    k = args.samples
    cols = ["model", "agents", "windows", "ade_1", "ade_1_lo", "ade_1_hi", f"min_ade_{k}_4s", f"min_ade_{k}_4s_lo",
            f"min_ade_{k}_4s_hi", "win_vs_cv", "win_vs_cv_lo", "win_vs_cv_hi"]
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250):
        print(f"GVRNN (hidden {args.hidden}, latent {args.latent}), at most {args.train_steps} optimiser steps or "
              f"{args.budget_s:g} s per fit on a loaded 2-core CPU: {log}")
        print(f"REAL SkillCorner second half, {len(test)} windows, 2 s observed, 4 s predicted, honest rollout, "
              f"full scene, 95 % block-bootstrap intervals, win_vs_cv paired on the same windows:")
        print(table.select(cols).with_columns(pl.col(pl.Float64).round(3)))
    rows = table.filter(pl.col("agents") == "visible")
    ade = dict(zip(rows["model"], rows["ade_1"], strict=True))
    win = dict(zip(rows["model"], rows["win_vs_cv"], strict=True))
    print("RESULT " + " ".join(f"proof_ade_{v}={ade[key]:.3f}" for key, v in PROOF_ROWS.items())
          + " " + " ".join(f"win_vs_cv_{v}={win[key]:.3f}" for key, v in PROOF_ROWS.items() if v != "cv")
          + f" train_steps={args.train_steps} test_windows={len(test)} data=real_test")


def evenly(windows, n: int):
    """At most ``n`` windows spread evenly over ``windows``."""
    if len(windows) <= n:
        return windows
    return windows.subset([int(i * len(windows) / n) for i in range(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=90.0, help="simulated minutes for the report (90: full)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--search", action="store_true", help="run the calibration search instead")
    parser.add_argument("--candidates", type=int, default=16, help="--search: Latin-hypercube motion points")
    parser.add_argument("--steps", type=int, default=60, help="--search: Nelder-Mead motion evaluations")
    parser.add_argument("--noise-evaluations", type=int, default=40,
                        help="--search: Nelder-Mead evaluations per measurement fit (per 6 parameters)")
    parser.add_argument("--search-minutes", type=float, default=10.0)
    parser.add_argument("--params", default="", help="--search: comma-separated MOTION_SPACE keys (default: all)")
    parser.add_argument("--proof", action="store_true", help="run the (a)/(b)/(c) pre-training proof instead")
    parser.add_argument("--train-steps", type=int, default=300, help="--proof: optimiser steps per fit")
    parser.add_argument("--budget-s", type=float, default=900.0, help="--proof: wall-second cap per fit")
    parser.add_argument("--patience", type=int, default=6, help="--proof: validations without improvement")
    parser.add_argument("--val-every", type=int, default=50, help="--proof: optimiser steps between validations")
    parser.add_argument("--min-players", type=int, default=6, help="--proof: players tracked in every frame")
    parser.add_argument("--stride", type=int, default=10, help="--proof: 10 Hz frames between window starts")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--latent", type=int, default=8)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--test-windows", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.proof:
        proof(args)
    elif args.search:
        search(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
