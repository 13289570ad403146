"""The forecast table: every model against constant velocity, per data set, scenario and agent set.

One row per ``(data, scenario, agents, model)`` on the 22 players (the ball is not scored here):

* ``data``: the test set's name; ``tracking``: "real" or "simulated" (every figure says which);
* ``scenario``: ``full_scene`` (every present player and the ball predicted) or ``ghosting`` (A1 / D1 / D2 of the
  C-OBSO setup predicted, the other agents given: :func:`soccerai.evaluate.metrics.forecast`);
* ``agents``: ``visible`` (every predicted player, scored on the future frames where it is tracked) or
  ``whole_window`` (only players tracked at every frame of the window; broadcast tracking loses players);
* per-scene ``min_ade_K_<h>s`` / ``min_fde_K_<h>s`` at each horizon (1-4 s), ``ade_1`` (the error of one sample),
  per-agent ``agent_min_ade_K`` (the form published papers use), each mean over scored windows, with ``_lo`` /
  ``_hi`` 95 % block-bootstrap intervals over windows (:func:`soccerai.evaluate.metrics.bootstrap_interval`; windows
  starting within the same minute are resampled together, since overlapping windows are not independent);
* ``win_vs_cv``: the share of windows where the model's per-scene minADE_K at the last horizon is below constant
  velocity's on the same window and agents (paired; ties count half), with its interval;
* ``energy`` (per-window energy score of the joint future, RMS metres: a proper scoring rule),
  ``spread_<h>s`` (mean distance of the sample endpoints to their mean at the last horizon), ``cover90`` (share
  of true endpoints inside the samples' 90 % disc), ``sade_K`` / ``sfde_K`` (joint scene ADE / FDE: the per-scene
  minimum at the last horizon), each with its interval; ``d_min_ade_vs_cv`` / ``d_energy_vs_cv`` and, when the
  models include ``damped_cv`` (:data:`DCV`), ``..._vs_dcv``: paired mean differences per window with intervals
  (below 0 with ``_hi < 0``: clearly better); ``blocks``: independent time blocks among the scored windows;
* ``windows`` (scored), ``unscored_windows`` (no predicted player tracked in the future: counted, left out) and
  ``agent_windows``.

Bad input: a test set without windows, or with no scored window for a scenario, raises
:class:`~soccerai.errors.InvalidInputError` naming the set; the table never holds NaN (a horizon with no scored
frame is an error too).

:data:`PUBLISHED_ANCHORS` are other papers' figures under OTHER protocols (other data, frame rates, horizons,
agent sets); they are printed beside the table as context, never compared as if equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl
import torch

from soccerai.errors import InvalidInputError
from soccerai.evaluate.metrics import (
    DEFAULT_K,
    SCENARIOS,
    WindowErrors,
    agent_group_mask,
    bootstrap_interval,
    forecast,
    time_blocks,
    whole_window_agents,
    window_errors,
)
from soccerai.files import write_parquet_atomic
from soccerai.models.baselines import ConstantVelocity
from soccerai.windows.container import TrajectoryWindows

CV = "constant_velocity"
DCV = "damped_cv"
"""The name under which damped constant velocity (gamma fitted on the training split) is paired against."""
AGENT_SETS = ("visible", "whole_window")

PUBLISHED_ANCHORS = pl.DataFrame(
    {
        "source": ["MART", "JointDiff", "MART", "LED"],
        "data": ["IDSSE Bundesliga (optical, 6.25 fps)", "IDSSE Bundesliga (optical, 6.25 fps)", "NBA (4 s)",
                 "NBA (4 s)"],
        "metric": ["agent minADE_20"] * 4,
        "value_m": [1.41, 1.46, 0.73, 0.81],
        "protocol": ["other protocol: not comparable row for row"] * 4,
    }
)
"""Published per-agent minADE_20 figures (other data and protocols), printed beside our table as context."""


def _row_stats(errors: WindowErrors, cv: WindowErrors, blocks: np.ndarray, k: int, n_boot: int, seed: int,
               label: str, dcv: WindowErrors | None = None) -> dict[str, float | int]:
    """Means, intervals and the paired win share of one model's :class:`WindowErrors` (scored windows only)."""
    scored = errors.scored
    if not scored.any():
        raise InvalidInputError(f"no window of {label} has a scored player")
    row: dict[str, float | int] = {
        "windows": int(scored.sum()),
        "unscored_windows": int((~scored).sum()),
        "agent_windows": int(errors.agent_count.sum()),
    }

    def mean_and_interval(name: str, values: np.ndarray, counts: np.ndarray | None = None) -> None:
        counts = (~np.isnan(values)).astype(np.float64) if counts is None else counts.astype(np.float64)
        sums = np.nan_to_num(values)
        if counts.sum() <= 0:
            raise InvalidInputError(f"{label}: no scored frame for {name}")
        row[name] = float(sums.sum() / counts.sum())
        row[f"{name}_lo"], row[f"{name}_hi"] = bootstrap_interval(sums, counts, blocks, n_boot, seed)

    for j, step in enumerate(errors.horizons):
        seconds = f"{step / 10:g}s"
        mean_and_interval(f"min_ade_{k}_{seconds}", errors.min_ade[:, j])
        mean_and_interval(f"min_fde_{k}_{seconds}", errors.min_fde[:, j])
    mean_and_interval("ade_1", errors.ade_one)
    mean_and_interval(f"agent_min_ade_{k}", errors.agent_min_sum, errors.agent_count)
    model_last, cv_last = errors.min_ade[:, -1], cv.min_ade[:, -1]
    both = ~np.isnan(model_last) & ~np.isnan(cv_last)
    wins = np.where(both, (model_last < cv_last) + 0.5 * (model_last == cv_last), 0.0)
    mean_and_interval("win_vs_cv", wins, both.astype(np.float64))
    row[f"sade_{k}"], row[f"sfde_{k}"] = row[f"min_ade_{k}_{seconds}"], row[f"min_fde_{k}_{seconds}"]
    row["blocks"] = int(len(np.unique(blocks[scored])))
    if errors.energy is not None:
        mean_and_interval("energy", errors.energy)
        mean_and_interval(f"spread_{seconds}", errors.spread_sum, errors.end_count)
        mean_and_interval("cover90", errors.cover_sum, errors.end_count)
    for base_name, base in (("cv", cv), ("dcv", dcv)):
        if base is None:
            continue
        pairs = [(f"d_min_ade_vs_{base_name}", model_last, base.min_ade[:, -1])]
        if errors.energy is not None and base.energy is not None:
            pairs.append((f"d_energy_vs_{base_name}", errors.energy, base.energy))
        for name, mine, theirs in pairs:
            paired = ~np.isnan(mine) & ~np.isnan(theirs)
            mean_and_interval(name, np.where(paired, mine - theirs, 0.0), paired.astype(np.float64))
    return row


def forecast_table(
    models: Mapping[str, torch.nn.Module],
    test_sets: Mapping[str, TrajectoryWindows],
    n_samples: int = DEFAULT_K,
    seed: int = 0,
    n_boot: int = 1000,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> pl.DataFrame:
    """The table of the module docstring; constant velocity is added (and scored first) when not in ``models``."""
    models = {CV: ConstantVelocity(), **{name: m for name, m in models.items() if name != CV}}
    if DCV in models:  # scored second: every model is paired against it too
        models = {CV: models[CV], DCV: models[DCV], **{n: m for n, m in models.items() if n not in (CV, DCV)}}
    rows = []
    for data, windows in test_sets.items():
        if len(windows) == 0:
            raise InvalidInputError(f"test set {data!r} has no valid windows")
        blocks = time_blocks(windows)
        whole = whole_window_agents(windows.mask) & agent_group_mask(windows.mask.shape[-1], "players")
        for scenario in scenarios:
            errors: dict[tuple[str, str], WindowErrors] = {}
            for name, model in models.items():
                samples, truth, valid = forecast(model, windows, scenario, n_samples, seed)
                players = valid & agent_group_mask(valid.shape[-1], "players")
                for agents, selected in (("visible", players), ("whole_window", players & whole[:, None, :])):
                    errors[(name, agents)] = window_errors(samples, truth, selected, n_samples)
            for (name, agents), errs in errors.items():
                label = f"{data} / {scenario} / {agents}"
                rows.append({
                    "data": data, "tracking": windows.tracking_label, "scenario": scenario,
                    "agents": agents, "model": name, "k": n_samples,
                    **_row_stats(errs, errors[(CV, agents)], blocks, n_samples, n_boot, seed, label,
                                 errors.get((DCV, agents))),
                })
    return pl.DataFrame(rows)


def headline(table: pl.DataFrame, data: str, model: str, column: str, scenario: str = "full_scene",
             agents: str = "visible") -> float:
    """One cell of :func:`forecast_table` (raises when the row is missing)."""
    row = table.filter((pl.col("data") == data) & (pl.col("model") == model) & (pl.col("scenario") == scenario)
                       & (pl.col("agents") == agents))
    if row.height != 1:
        raise InvalidInputError(f"the table has {row.height} rows for {data} / {model} / {scenario} / {agents}")
    return float(row[column][0])


def markdown(table: pl.DataFrame, k: int = DEFAULT_K) -> str:
    """A readable markdown table: means with their 95 % intervals at 4 s, the 1-3 s minADE, the anchors below."""
    horizons = sorted({c.rsplit("_", 1)[1] for c in table.columns if c.startswith(f"min_ade_{k}_")
                       and not c.endswith(("_lo", "_hi"))}, key=lambda s: float(s[:-1]))
    last = horizons[-1]

    def cell(row: dict, name: str) -> str:
        return f"{row[name]:.2f} [{row[name + '_lo']:.2f}, {row[name + '_hi']:.2f}]"

    head = (["data", "tracking", "scenario", "agents", "model", "windows", "agent-windows"]
            + [f"minADE_{k} {h}" for h in horizons[:-1]]
            + [f"minADE_{k} {last}", f"minFDE_{k} {last}", "ADE (1 sample)", f"agent minADE_{k}", "wins vs CV"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table.iter_rows(named=True):
        cells = [row["data"], row["tracking"], row["scenario"], row["agents"], row["model"], str(row["windows"]),
                 str(row["agent_windows"])]
        cells += [f"{row[f'min_ade_{k}_{h}']:.2f}" for h in horizons[:-1]]
        cells += [cell(row, f"min_ade_{k}_{last}"), cell(row, f"min_fde_{k}_{last}"), cell(row, "ade_1"),
                  cell(row, f"agent_min_ade_{k}"), cell(row, "win_vs_cv")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Published anchors (OTHER protocols, context only):", "",
              "| source | data | metric | value (m) |", "|---|---|---|---|"]
    lines += [f"| {r['source']} | {r['data']} | {r['metric']} | {r['value_m']:.2f} |"
              for r in PUBLISHED_ANCHORS.iter_rows(named=True)]
    return "\n".join(lines) + "\n"


def save(table: pl.DataFrame, folder: Path, stem: str = "forecast", k: int = DEFAULT_K) -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.parquet`` into ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md, parquet = folder / f"{stem}.md", folder / f"{stem}.parquet"
    md.write_text(markdown(table, k))
    write_parquet_atomic(table, parquet)
    return md, parquet
