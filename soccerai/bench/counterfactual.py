"""Counterfactual truth: models and C-OBSO judged against the synthesizer's re-plays (SIMULATED data).

A simulated match can be re-played from any moment with one run changed (:mod:`soccerai.synth.replay`), so the
question C-OBSO asks a forecaster, "what would the defenders have done had A1 run elsewhere", has a true answer.

**Moments** (:func:`find_moments`). ``shot``: a SHOT event at frame ``f``; ``f0 = f - 1`` (the frame C-OBSO reads,
as :mod:`soccerai.evaluate.match_obso`). ``attack``: a pass or carry starting in the attacking third (``f0`` = its frame, the
"shooter" A2 its player). The moment is ``m = f0 - 4 s`` (the end of the C-OBSO window's observation; 2 s are
observed before it). Candidates A1 are the project's (:func:`soccerai.evaluate.cobso.select_cobso_agents` at
``f0`` of the actual play: off-ball attackers in the attacking third, D1 = A1's nearest defender, D2 = A2's) that
stay off the ball over ``m .. f0`` (their run can change without contradicting the fixed ball).

**Alternatives**: for each A1, runs drawn from the synthesizer's own policy (stay, check back, run in behind,
drift; :meth:`soccerai.synth.replay.MatchReplay.alternatives`), each imposed on a re-play: ``X_j`` (j = 1..K) the
true scene at 25 Hz, ``X_0`` the actual play. Everything is laid out in the 23-agent model order (attack towards
+x, keeper first) and resampled to 10 Hz by linear interpolation at ``m + 0.1 k`` s (the formula of
:func:`soccerai.match.tracking.resample`; velocities: central differences of the 25 Hz tracks, interpolated likewise).

**Response** (per model M, per alternative j, per D in {D1, D2}): the model gets A1's run of ``X_j`` and every
other agent's replayed truth as known future and predicts D1, D2 (``S`` samples, the same random numbers for
every j: common random numbers, so a change between j and 0 is the model's answer to the changed run, not noise);
``mu_j`` = the mean over samples of D's predicted end position. True displacement ``t_j = |X_j(f0, D) - X_0(f0, D)|``,
model displacement ``d_j = |mu_j - mu_0|``. Ratio = ``mean(d) / mean(t)`` (1: the model moves D1/D2 as much as
the truth does; 0: it ignores A1, as constant velocity and damped constant velocity do by construction).
ADE of the responded runs: ``mean_s mean_t |Y_j,s(t, D) - X_j(t, D)|`` over the alternatives.

**C-OBSO truth**: ``v(X)`` = OBSO at A2's cell at ``f0`` (:func:`soccerai.evaluate.obso.obso`, the C-OBSO
defaults). True C-OBSO = ``v(X_0) - mean_j v(X_j)``: how much better A2's chance was because A1 did what he did
rather than what the synthesizer's policy might have had him do. Model C-OBSO = the project's
(:func:`soccerai.evaluate.match_obso.ghost_cobso`: A1, D1, D2 predicted from the actual history, every other agent given
the actual future, ``mean_s max(v(X_0) - v(Y_s), 0)``). Per model: Spearman rank correlation over (moment, A1)
pairs and mean absolute difference.

Limits: the truth is the synthesizer's (a small tactical model); the alternatives are the policy's own options,
not every run a player could make; the model C-OBSO clamps per sample at 0 (the project's definition) while the
truth is a signed difference of means, so the mean absolute difference mixes the two conventions (the rank
correlation does not care); the models were trained on real tracking, the scenes are simulated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch
from scipy.stats import spearmanr

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.cobso import select_cobso_agents
from soccerai.evaluate.match_obso import ghost_cobso
from soccerai.evaluate.obso import obso
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.synth.replay import ALTERNATIVE_KINDS, MatchReplay
from soccerai.synth.timeline import FRAME_RATE
from soccerai.windows.container import FPS, N_AGENTS, N_PER_TEAM
from soccerai.windows.cutter import array_windows

OBS_S, HORIZON_S = 2.0, 4.0
STEP = FRAME_RATE / FPS  # 25 Hz frames per 10 Hz frame (2.5)
OBS_10 = int(round(OBS_S * FPS))  # 20
PRED_10 = int(round(HORIZON_S * FPS))  # 40
HORIZON_25 = int(round(HORIZON_S * FRAME_RATE))  # 100
BEFORE_25 = int(math.ceil((OBS_10 - 1) * STEP)) + 2  # 25 Hz frames kept before the moment (history + gradient)


# ------------------------------------------------------------------------------------------------ statistics


def response_ratio(model_displacement: Sequence[float], true_displacement: Sequence[float]) -> float:
    """``mean(model) / mean(truth)`` of the response displacements (NaN without any true response)."""
    model, truth = np.asarray(model_displacement, float), np.asarray(true_displacement, float)
    if model.shape != truth.shape:
        raise InvalidParameterError(f"displacements differ in shape: {model.shape} vs {truth.shape}")
    denominator = float(truth.mean()) if truth.size else 0.0
    return float(model.mean()) / denominator if denominator > 0 else math.nan


def rank_correlation(model: Sequence[float], truth: Sequence[float]) -> float:
    """Spearman rank correlation (ties ranked by their mean rank); NaN with fewer than 3 pairs or a constant side."""
    a, b = np.asarray(model, float), np.asarray(truth, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(spearmanr(a, b).statistic)


def mean_abs_difference(model: Sequence[float], truth: Sequence[float]) -> float:
    a, b = np.asarray(model, float), np.asarray(truth, float)
    keep = np.isfinite(a) & np.isfinite(b)
    return float(np.abs(a[keep] - b[keep]).mean()) if keep.any() else math.nan


# ------------------------------------------------------------------------------------------------- baselines


# ---------------------------------------------------------------------------------------------------- moments


@dataclass(frozen=True)
class Moment:
    """A moment to re-play: match frame ``frame`` (= ``f0 - HORIZON_25``) of ``period``; ``team`` 0 home / 1 away
    attacks; ``shooter`` the slot of A2; ``kind`` "shot" or "attack"."""

    period: int
    frame: int
    team: int
    shooter: int
    kind: str

    @property
    def f0(self) -> int:
        return self.frame + HORIZON_25


def find_moments(mr: MatchReplay, max_shots: int | None = None, max_attacks: int = 0,
                 min_gap_s: float = 10.0) -> list[Moment]:
    """Shots (every SHOT event whose window fits) and attacks (passes or carries starting in the attacking third,
    at least ``min_gap_s`` from every other moment), in time order per period, both periods."""
    shots, attacks = [], []
    for period, tr in mr.traces.items():
        first, n = tr.result.first_frame, tr.result.pos.shape[0]
        ev = tr.events.filter(pl.col("team").is_in(["home", "away"]))
        for row in ev.iter_rows(named=True):
            f0 = int(row["start_frame"]) - (1 if row["type"] == "SHOT" else 0)
            m = f0 - HORIZON_25
            if m - BEFORE_25 < first or f0 >= first + n - 1:
                continue
            team = 0 if row["team"] == "home" else 1
            shooter = tr.occ.slot_of(row["player"], int(row["start_frame"]))
            if shooter < 0 or shooter % N_PER_TEAM == 0:
                continue
            moment = Moment(period, m, team, shooter, "shot" if row["type"] == "SHOT" else "attack")
            if row["type"] == "SHOT":
                shots.append(moment)
            elif row["type"] in ("PASS", "CARRY") and np.isfinite(row["sx"]):
                sign = tr.result.home_sign * (1.0 if team == 0 else -1.0)
                if sign * row["sx"] > 105.0 / 6.0:
                    attacks.append(moment)
    shots = shots[:max_shots] if max_shots is not None else shots
    gap = min_gap_s * FRAME_RATE
    kept_attacks: list[Moment] = []
    for a in attacks:
        if len(kept_attacks) >= max_attacks:
            break
        if all(o.period != a.period or abs(o.frame - a.frame) >= gap for o in shots + kept_attacks):
            kept_attacks.append(a)
    return sorted(shots + kept_attacks, key=lambda m: (m.period, m.frame))


# ----------------------------------------------------------------------------------------------------- layout


def _order(team: int) -> np.ndarray:
    return np.concatenate([team * 11 + np.arange(11), (1 - team) * 11 + np.arange(11)])


def layout(pos22: np.ndarray, ball: np.ndarray, team: int, home_sign: float) -> np.ndarray:
    """Provider slots ``[T, 22, 2]`` and ball ``[T, 2]`` -> model order ``[T, 23, 2]`` attacking towards +x."""
    sign = home_sign * (1.0 if team == 0 else -1.0)
    return np.concatenate([pos22[:, _order(team)], ball[:, None]], axis=1) * sign


def to_10hz(track25: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities at 10 Hz, frames ``k = -(OBS_10 - 1) .. PRED_10`` around the moment at index
    ``offset`` of the 25 Hz ``track25 [T, 23, 2]`` (linear interpolation at 25 Hz index ``offset + 2.5 k``)."""
    vel25 = np.gradient(track25, axis=0) * FRAME_RATE
    where = offset + STEP * np.arange(-(OBS_10 - 1), PRED_10 + 1)
    lo = np.floor(where).astype(int)
    hi = np.minimum(lo + 1, track25.shape[0] - 1)
    w = (where - lo)[:, None, None]
    return (1 - w) * track25[lo] + w * track25[hi], (1 - w) * vel25[lo] + w * vel25[hi]


# --------------------------------------------------------------------------------------------------- one moment

RESPONSE_SCHEMA = {
    "moment": pl.String(), "kind": pl.String(), "period": pl.Int64(), "frame": pl.Int64(), "a1": pl.Int64(),
    "alternative": pl.String(), "defender": pl.String(), "agent": pl.Int64(), "model": pl.String(),
    "true_displacement": pl.Float64(), "model_displacement": pl.Float64(), "ade": pl.Float64(),
}
PAIR_SCHEMA = {
    "moment": pl.String(), "kind": pl.String(), "period": pl.Int64(), "frame": pl.Int64(), "a1": pl.Int64(),
    "d1": pl.Int64(), "d2": pl.Int64(), "model": pl.String(), "obso_actual": pl.Float64(),
    "obso_alternatives_mean": pl.Float64(), "true_cobso": pl.Float64(), "model_cobso": pl.Float64(),
    "model_cobso_signed": pl.Float64(),
}


@dataclass
class MomentResult:
    responses: list[tuple]
    pairs: list[tuple]
    figure_data: dict | None


def _sample(model: TrajectoryModel, states: np.ndarray, replaced: list[list[int]], n_samples: int,
            seed: int, is_goalkeeper: np.ndarray) -> torch.Tensor:
    """``[S, B, PRED_10, 23, 2]`` samples: row b predicts ``replaced[b]``, every other agent follows its future."""
    b = states.shape[0]
    windows = array_windows(states[..., :2].reshape(-1, N_AGENTS, 2), states[..., 2:].reshape(-1, N_AGENTS, 2),
                            np.ones((b * states.shape[1], N_AGENTS), bool),
                            [i * states.shape[1] for i in range(b)], OBS_10, OBS_10 + PRED_10, is_goalkeeper, True)
    batch = TrajectoryBatch.from_windows(windows)
    mask = torch.zeros(b, N_AGENTS, dtype=torch.bool)
    for row, agents in enumerate(replaced):
        mask[row, agents] = True
    with torch.no_grad():
        return model.sample(batch.history(), PRED_10, n_samples, mask, batch.given_future(),
                            generator=torch.Generator().manual_seed(seed))


def evaluate_moment(mr: MatchReplay, moment: Moment, models: dict[str, TrajectoryModel], n_samples: int = 8,
                    kinds: Sequence[str] = ALTERNATIVE_KINDS, seed: int = 0, label: str = "",
                    max_candidates: int | None = None) -> MomentResult:
    """Responses and C-OBSO (truth and models) of every A1 candidate of one moment (see the module docstring)."""
    p, m = moment.period, moment.frame
    hs = mr.home_sign(p)
    lo = m - BEFORE_25
    actual25 = layout(mr.original(p, lo, moment.f0), mr.ball(p, lo, moment.f0), moment.team, hs)
    pos0, vel0 = to_10hz(actual25, BEFORE_25)
    shooter = moment.shooter - moment.team * 11
    f0_pos = torch.as_tensor(pos0[-1])
    valid = torch.ones(N_AGENTS, dtype=torch.bool)
    order = _order(moment.team)
    candidates = [c for c in select_cobso_agents(f0_pos, valid, shooter)
                  if mr.off_ball(int(order[c.attacker]), m, HORIZON_25)]
    if max_candidates is not None:
        candidates = candidates[:max_candidates]
    if not candidates:
        return MomentResult([], [], None)
    gk = np.zeros(N_AGENTS, bool)
    gk[[0, N_PER_TEAM]] = True
    # true scenes: [cand, 1 + K, T10, 23, 4]
    scenes = []
    for c in candidates:
        rows = [np.concatenate([pos0, vel0], -1)]
        for _, rep in mr.alternatives(m, HORIZON_25, int(order[c.attacker]), kinds, seed):
            track = np.concatenate([actual25[: BEFORE_25 + 1], layout(rep.pos, rep.ball, moment.team, hs)])
            rows.append(np.concatenate(to_10hz(track, BEFORE_25), -1))
        scenes.append(np.stack(rows))
    scenes = np.stack(scenes)
    n_c, n_j = scenes.shape[:2]
    # truth OBSO of A2 at f0 for the actual play and every alternative
    last = torch.as_tensor(scenes[:, :, -1].reshape(-1, N_AGENTS, 4), dtype=torch.float32)
    values = obso(last[..., :2], last[..., 2:], torch.ones(last.shape[:2], dtype=torch.bool)).player_values
    values = values[:, shooter].double().numpy().reshape(n_c, n_j)
    responses, pairs = [], []
    name = f"{label}p{p}f{m}"
    figure: dict = {"moment": moment, "scenes": scenes[0], "agents": candidates[0], "kinds": list(kinds),
                    "predicted": {}}
    for model_name, model in models.items():
        model.eval()
        means = []
        predicted = []
        for j in range(n_j):
            replaced = [[c.attacker_defender, c.shooter_defender] for c in candidates]
            samples = _sample(model, scenes[:, j], replaced, n_samples, seed, gk).double().numpy()
            predicted.append(samples)
            means.append(samples[:, :, -1].mean(0))  # [cand, 23, 2]
        figure["predicted"][model_name] = np.stack([s[:, 0] for s in predicted])  # [J, S, H, 23, 2]
        for ci, c in enumerate(candidates):
            for j in range(1, n_j):
                for role, d in (("D1", c.attacker_defender), ("D2", c.shooter_defender)):
                    truth = float(np.hypot(*(scenes[ci, j, -1, d, :2] - scenes[ci, 0, -1, d, :2])))
                    model_d = float(np.hypot(*(means[j][ci, d] - means[0][ci, d])))
                    ade = float(np.hypot(*np.moveaxis(predicted[j][:, ci, :, d] - scenes[ci, j, OBS_10:, d, :2],
                                                       -1, 0)).mean())
                    responses.append((name, moment.kind, p, m, c.attacker, kinds[j - 1], role, d, model_name,
                                      truth, model_d, ade))
        # the project's C-OBSO with this model: A1, D1, D2 predicted from the actual play
        ghosts = torch.as_tensor(_sample(model, scenes[:, 0], [c.replaced for c in candidates], n_samples, seed, gk))
        for ci, c in enumerate(candidates):
            res = ghost_cobso(f0_pos, torch.as_tensor(vel0[-1]), valid, shooter, c, ghosts[:, ci])
            truth = float(values[ci, 0] - values[ci, 1:].mean())
            pairs.append((name, moment.kind, p, m, c.attacker, c.attacker_defender, c.shooter_defender, model_name,
                          float(values[ci, 0]), float(values[ci, 1:].mean()), truth, res.mean,
                          float(res.real_obso - res.predicted_obso.double().mean())))
    return MomentResult(responses, pairs, figure)


# ------------------------------------------------------------------------------------------------- summary


def summarize(responses: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per model: response ratio, responded-run ADE, C-OBSO rank correlation and mean |difference|."""
    rows = []
    for model in sorted(set(responses["model"].to_list()) | set(pairs["model"].to_list())):
        r = responses.filter(pl.col("model") == model)
        q = pairs.filter(pl.col("model") == model)
        rows.append((model, r.height, response_ratio(r["model_displacement"], r["true_displacement"]),
                     float(r["true_displacement"].mean()) if r.height else math.nan,
                     float(r["model_displacement"].mean()) if r.height else math.nan,
                     float(r["ade"].mean()) if r.height else math.nan, q.height,
                     rank_correlation(q["model_cobso"], q["true_cobso"]),
                     mean_abs_difference(q["model_cobso"], q["true_cobso"])))
    return pl.DataFrame(rows, orient="row", schema={
        "model": pl.String(), "responses": pl.Int64(), "response_ratio": pl.Float64(),
        "true_displacement_m": pl.Float64(), "model_displacement_m": pl.Float64(), "response_ade_m": pl.Float64(),
        "pairs": pl.Int64(), "cobso_truth_spearman": pl.Float64(), "cobso_mean_abs_diff": pl.Float64()})


def markdown_table(summary: pl.DataFrame) -> str:
    head = "| " + " | ".join(summary.columns) + " |"
    rule = "|" + "---|" * len(summary.columns)
    body = ["| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
            for row in summary.iter_rows()]
    return "\n".join([head, rule, *body])


def moment_figure(figure: dict, path, model_name: str) -> None:
    """The actual A1 run (thick), the alternative runs (dashed), the true D1/D2 responses (thin, same colour as the
    run they answer) and the model's mean D1/D2 predictions (dotted), attack towards +x."""
    from soccerai.viz import draw_pitch, draw_players, save_figure

    scenes, c = figure["scenes"], figure["agents"]
    pitch, ax = draw_pitch()
    draw_players(pitch, ax, scenes[0, OBS_10 - 1, :, :2])
    colours = ["white", "#f4a261", "#2a9d8f", "#e9c46a", "#e76f51", "#8ab17d", "#b5838d"]
    pred = figure["predicted"].get(model_name)
    labels = ["actual", *figure["kinds"]]
    for j in range(scenes.shape[0]):
        col = colours[j % len(colours)]
        fut = scenes[j, OBS_10 - 1 :, :, :2]
        ax.plot(fut[:, c.attacker, 0], fut[:, c.attacker, 1], color=col, lw=3 if j == 0 else 1.8,
                ls="-" if j == 0 else "--", zorder=5, label=f"A1 {labels[j]}")
        for d in {c.attacker_defender, c.shooter_defender}:
            ax.plot(fut[:, d, 0], fut[:, d, 1], color=col, lw=1.2, zorder=5)
            if pred is not None:
                mean = pred[j][:, :, d].mean(0)
                ax.plot(mean[:, 0], mean[:, 1], color=col, lw=1.2, ls=":", zorder=5)
    ax.legend(loc="lower left", fontsize=7)
    ax.set_title(f"A1 runs (actual solid, alternatives dashed); D1/D2 truth (thin) vs {model_name} (dotted)",
                 fontsize=9)
    save_figure(ax, path)


def run(
    matches: Sequence[tuple[str, int, float | None]],
    models: dict[str, TrajectoryModel],
    n_samples: int = 8,
    max_shots: int | None = None,
    max_attacks: int = 4,
    max_candidates: int | None = None,
    kinds: Sequence[str] = ALTERNATIVE_KINDS,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, dict | None]:
    """Every moment of every simulated match ``(events path, seed, duration_s)``; returns (responses, pairs, one
    moment's figure data)."""
    responses, pairs, figure = [], [], None
    for events, match_seed, duration in matches:
        mr = MatchReplay.synthesize(events, seed=match_seed, duration_s=duration)
        label = f"{mr.match.metadata.match_id}:"
        for moment in find_moments(mr, max_shots, max_attacks):
            res = evaluate_moment(mr, moment, models, n_samples, kinds, seed, label, max_candidates)
            responses += res.responses
            pairs += res.pairs
            if figure is None and res.figure_data is not None and moment.kind == "shot":
                figure = res.figure_data
            if progress is not None:
                progress(f"{label} {moment.kind} p{moment.period} f{moment.frame}: {len(res.pairs)} pairs")
    return (pl.DataFrame(responses, schema=RESPONSE_SCHEMA, orient="row"),
            pl.DataFrame(pairs, schema=PAIR_SCHEMA, orient="row"), figure)
