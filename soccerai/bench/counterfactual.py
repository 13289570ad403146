"""Counterfactual truth: models and C-OBSO judged against the synthesizer's re-plays (SIMULATED data).

A simulated match can be re-played from any moment with one run changed (:mod:`soccerai.synth.replay`), so the
question C-OBSO asks a forecaster, "what would the defenders have done had A1 run elsewhere", has a true answer.

**Moments** (:func:`find_moments`). ``shot``: a SHOT event at frame ``f``; ``f0 = f - 1`` (the frame C-OBSO reads,
as :mod:`soccerai.evaluate.match_obso`). ``attack``: a pass or carry starting in the attacking third (``f0`` = its frame, the
"shooter" A2 its player). The moment is ``m = f0 - 4 s`` (the end of the C-OBSO window's observation; 2 s are
observed before it). A capped run takes its moments evenly spaced over both periods (:func:`spread`). Candidates
A1 are the project's (:func:`soccerai.evaluate.cobso.select_cobso_agents` at ``f0`` of the actual play: off-ball
attackers in the attacking third, D1 = A1's nearest defender, D2 = A2's) that stay off the ball over the re-play
(their run can change without contradicting the fixed ball).

**Alternatives**: for each A1, runs drawn from the synthesizer's own policy (stay, check back, run in behind,
drift; :meth:`soccerai.synth.replay.MatchReplay.alternatives`), each imposed on a re-play: ``X_j`` (j = 1..K) the
true scene at 25 Hz, ``X_0`` the actual play. Everything is laid out in the 23-agent model order (attack towards
+x, keeper first) and brought to 10 Hz by the windows' own step (:func:`scenes_at_model_rate`, which runs
:func:`soccerai.windows.layout.to_model_rate`: linear interpolation at ``m + 0.1 k`` s and Savitzky-Golay
velocities, the inputs the models were trained on), with :data:`SMOOTH_MARGIN_S` of play kept (and re-played)
beyond the first and last 10 Hz frame so the smoothing there is the one inside a match.

**Response** (per model M, per alternative j, per D in {D1, D2}): the model gets A1's run of ``X_j`` and every
other agent's replayed truth as known future and predicts D1, D2 (``S`` samples, the same random numbers for
every j: common random numbers, so a change between j and 0 is the model's answer to the changed run, not noise);
``mu_j`` = the mean over samples of D's predicted end position. True displacement ``t_j = |X_j(f0, D) - X_0(f0, D)|``,
model displacement ``d_j = |mu_j - mu_0|``. Ratio = ``mean(d) / mean(t)`` (1: the model moves D1/D2 as much as
the truth does; 0: it ignores A1, as constant velocity and damped constant velocity do by construction).
ADE of the responded runs: ``mean_s mean_t |Y_j,s(t, D) - X_j(t, D)|`` over the alternatives.

Share ``true_responding``: responses of at least :data:`RESPONDS_M`; ``response_spearman``: the rank correlation of
``d_j`` with ``t_j`` (does the model move D1/D2 where the truth does, not only as much on average).

**C-OBSO truth**: ``v(X)`` = OBSO at A2's cell at ``f0`` (:func:`soccerai.evaluate.obso.obso`, the C-OBSO
defaults). True C-OBSO = ``v(X_0) - mean_j v(X_j)``: how much better A2's chance was because A1 did what he did
rather than what the synthesizer's policy might have had him do. Model C-OBSO = the project's
(:func:`soccerai.evaluate.match_obso.ghost_cobso`: A1, D1, D2 predicted from the actual history, every other agent given
the actual future, ``mean_s max(v(X_0) - v(Y_s), 0)``; :func:`model_cobso`, the potential score of all of a moment's frames taken in
one batch). Per model: Spearman rank correlation over (moment, A1) pairs, of the project's clamped C-OBSO and of
its signed form ``v(X_0) - mean_s v(Y_s)`` (the truth's convention), and mean absolute difference. A correlation
is NaN only where it is undefined (fewer than 3 pairs, or one side constant: a model whose C-OBSO clamps to 0 on
every pair ranks nothing), with the reason in ``notes`` (:func:`undefined_reason`).

**Cost.** Per moment: ``K`` alternatives and ``K`` forced re-plays per A1 (the synthesizer's loop), one
:func:`~soccerai.windows.layout.to_model_rate` over all scenes, one sampling call per model for every block
(:func:`sample_blocks`: the K + 1 response blocks and the C-OBSO block share their random numbers), one potential
score over every frame scored.

Limits: the truth is the synthesizer's (a small tactical model); the alternatives are the policy's own options,
not every run a player could make; the model C-OBSO clamps per sample at 0 (the project's definition) while the
truth is a signed difference of means, so the mean absolute difference mixes the two conventions (hence the
signed correlation beside it); the models were trained on real tracking, the scenes are simulated. D1 is the
project's (A1's nearest defender at ``f0``), not the synthesizer's marker of A1: in the synthesizer a defender
reacts to the attacker he marks, so most true D1/D2 responses are exactly 0 (see ``true_responding``) and the
ratio alone can be met by a model that moves D1/D2 a little everywhere; read it with ``response_spearman``.
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
from soccerai.evaluate.cobso import (
    CobsoAgents,
    CobsoResult,
    cobso,
    counterfactual_frames,
    select_cobso_agents,
)
from soccerai.evaluate.obso import obso
from soccerai.evaluate.score_model import potential_score
from soccerai.match.schema import PLAYERS_SCHEMA, TRACKING_SCHEMA, Match, MatchMetadata
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.vrnn import VRNN
from soccerai.synth.replay import ALTERNATIVE_KINDS, MatchReplay
from soccerai.synth.timeline import FRAME_RATE
from soccerai.windows.container import FPS, N_AGENTS, N_PER_TEAM
from soccerai.windows.cutter import array_windows
from soccerai.windows.layout import dense_layout, to_model_rate

OBS_S, HORIZON_S = 2.0, 4.0
STEP = FRAME_RATE / FPS  # 25 Hz frames per 10 Hz frame (2.5)
OBS_10 = int(round(OBS_S * FPS))  # 20
PRED_10 = int(round(HORIZON_S * FPS))  # 40
HORIZON_25 = int(round(HORIZON_S * FRAME_RATE))  # 100
SMOOTH_MARGIN_S = 1.0
"""Seconds of 25 Hz play kept beyond the first and the last 10 Hz frame, so the velocity smoothing of
:func:`soccerai.windows.layout.to_model_rate` sees a full window there, as inside a match."""
BEFORE_25 = int(math.ceil(((OBS_10 - 1) / FPS + SMOOTH_MARGIN_S) * FRAME_RATE))  # 25 Hz frames before the moment
AFTER_25 = int(math.ceil(SMOOTH_MARGIN_S * FRAME_RATE))  # 25 Hz frames kept after f0 (re-played too)


# ------------------------------------------------------------------------------------------------ statistics


def response_ratio(model_displacement: Sequence[float], true_displacement: Sequence[float]) -> float:
    """``mean(model) / mean(truth)`` of the response displacements (NaN without any true response)."""
    model, truth = np.asarray(model_displacement, float), np.asarray(true_displacement, float)
    if model.shape != truth.shape:
        raise InvalidParameterError(f"displacements differ in shape: {model.shape} vs {truth.shape}")
    denominator = float(truth.mean()) if truth.size else 0.0
    return float(model.mean()) / denominator if denominator > 0 else math.nan


def _finite_pairs(model: Sequence[float], truth: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(model, float), np.asarray(truth, float)
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def undefined_reason(model: Sequence[float], truth: Sequence[float]) -> str:
    """Why :func:`rank_correlation` is NaN ("" when it is defined): fewer than 3 finite pairs, or a side that
    is constant over them (no ranking to correlate, e.g. a model whose C-OBSO clamps to 0 on every pair)."""
    a, b = _finite_pairs(model, truth)
    if a.size < 3:
        return f"{a.size} finite pairs (< 3)"
    constant = [f"{name} constant ({v[0]:.3g})" for name, v in (("model", a), ("truth", b)) if np.ptp(v) == 0]
    return ", ".join(constant)


def rank_correlation(model: Sequence[float], truth: Sequence[float]) -> float:
    """Spearman rank correlation (ties ranked by their mean rank); NaN with fewer than 3 pairs or a constant side
    (:func:`undefined_reason` says which)."""
    if undefined_reason(model, truth):
        return math.nan
    return float(spearmanr(*_finite_pairs(model, truth)).statistic)


def mean_abs_difference(model: Sequence[float], truth: Sequence[float]) -> float:
    a, b = np.asarray(model, float), np.asarray(truth, float)
    keep = np.isfinite(a) & np.isfinite(b)
    return float(np.abs(a[keep] - b[keep]).mean()) if keep.any() else math.nan


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


def spread(moments: Sequence[Moment], k: int | None) -> list[Moment]:
    """At most ``k`` of ``moments`` (time order per period), evenly spaced in time order within each period and
    shared out between the periods (``k // P`` each, the remainder and what a short period leaves to the others),
    so a capped run still covers both halves; all of them when ``k`` is None."""
    if k is None or k >= len(moments):
        return list(moments)
    by_period: dict[int, list[Moment]] = {}
    for m in moments:
        by_period.setdefault(m.period, []).append(m)
    quota = {p: 0 for p in by_period}
    left = k
    while left > 0:  # round robin over the periods that still have moments
        for p in sorted(by_period):
            if left > 0 and quota[p] < len(by_period[p]):
                quota[p] += 1
                left -= 1
    picked = []
    for p, items in by_period.items():
        index = np.unique(np.round(np.linspace(0, len(items) - 1, quota[p])).astype(int)) if quota[p] else []
        picked += [items[i] for i in index]
    return sorted(picked, key=lambda m: (m.period, m.frame))


def find_moments(mr: MatchReplay, max_shots: int | None = None, max_attacks: int = 0,
                 min_gap_s: float = 10.0) -> list[Moment]:
    """Shots (SHOT events whose window fits; at most ``max_shots``, :func:`spread` over both periods) and attacks
    (passes or carries starting in the attacking third, at least ``min_gap_s`` from every other moment; at most
    ``max_attacks``, spread likewise), in time order per period.

    A window fits when ``BEFORE_25`` frames before the moment and ``AFTER_25`` after ``f0`` are in the period."""
    shots, attacks = [], []
    for period, tr in mr.traces.items():
        first, n = tr.result.first_frame, tr.result.pos.shape[0]
        ev = tr.events.filter(pl.col("team").is_in(["home", "away"]))
        for row in ev.iter_rows(named=True):
            f0 = int(row["start_frame"]) - (1 if row["type"] == "SHOT" else 0)
            m = f0 - HORIZON_25
            if m - BEFORE_25 < first or f0 + AFTER_25 > first + n - 1:
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
    shots = spread(shots, max_shots)
    gap = min_gap_s * FRAME_RATE
    apart: list[Moment] = []
    for a in attacks:
        if all(o.period != a.period or abs(o.frame - a.frame) >= gap for o in shots + apart):
            apart.append(a)
    return sorted(shots + spread(apart, max_attacks), key=lambda m: (m.period, m.frame))


# ----------------------------------------------------------------------------------------------------- layout


def _order(team: int) -> np.ndarray:
    return np.concatenate([team * 11 + np.arange(11), (1 - team) * 11 + np.arange(11)])


def layout(pos22: np.ndarray, ball: np.ndarray, team: int, home_sign: float) -> np.ndarray:
    """Provider slots ``[T, 22, 2]`` and ball ``[T, 2]`` -> model order ``[T, 23, 2]`` attacking towards +x."""
    sign = home_sign * (1.0 if team == 0 else -1.0)
    return np.concatenate([pos22[:, _order(team)], ball[:, None]], axis=1) * sign


def _scene_table(tracks25: np.ndarray, first_frame: int, moment_index: int) -> tuple[pl.DataFrame, float]:
    """Scenes ``[n, T, 23, 2]`` (model order, 25 Hz) as one canonical tracking table (object ``s<i>a<k>``: agent
    ``k`` of scene ``i``; 0-10 "home", 11-21 "away", 22 the ball) on a clock that puts the moment on the 10 Hz grid.

    Returns the table and the moment's time ``t_m`` (a whole number of 10 Hz steps)."""
    n, t_len = tracks25.shape[:2]
    t_m = math.ceil(moment_index / STEP) / FPS
    times = t_m + (np.arange(t_len) - moment_index) / FRAME_RATE
    agent = np.arange(N_AGENTS)
    team = np.where(agent < N_PER_TEAM, "home", np.where(agent < 2 * N_PER_TEAM, "away", "ball"))
    ids = np.array([f"s{i:03d}a{k:02d}" for i in range(n) for k in agent]).reshape(n, N_AGENTS)
    shape = (n, t_len, N_AGENTS)
    table = pl.DataFrame({
        "match_id": "counterfactual",
        "period": np.ones(tracks25[..., 0].size, np.int8),
        "frame": np.broadcast_to((first_frame + np.arange(t_len))[None, :, None], shape).ravel(),
        "time_s": np.broadcast_to(times[None, :, None], shape).ravel(),
        "object_id": np.broadcast_to(ids[:, None], shape).ravel(),
        "team": np.broadcast_to(team, shape).ravel(),
        "x": tracks25[..., 0].ravel(), "y": tracks25[..., 1].ravel(),
    }).with_columns(pl.lit(None, pl.Float64()).alias(c) for c in ("z", "vx", "vy")).with_columns(
        ball_state=pl.lit("alive"), ball_owning_team=pl.lit(None, pl.String()))
    return table.select(pl.col(c).cast(d) for c, d in TRACKING_SCHEMA.items()), t_m


def scenes_at_model_rate(tracks25: np.ndarray, moment_index: int, first_frame: int = 0) -> np.ndarray:
    """States ``[n, OBS_10 + PRED_10, 23, 4]`` (x, y, vx, vy) at 10 Hz, frames ``k = -(OBS_10 - 1) .. PRED_10``
    around the moment, of the 25 Hz scenes ``tracks25 [n, T, 23, 2]`` whose moment is at index ``moment_index``.

    The 10 Hz step is the windows' own (:func:`soccerai.windows.layout.to_model_rate`: linear interpolation and
    smoothed velocities, what the models train on), run on the scenes laid out as one tracking table whose clock
    puts the moment on the 10 Hz grid (``t = t_m + 0.1 k``); ``first_frame`` is the match frame of index 0.
    The scenes need :data:`SMOOTH_MARGIN_S` of frames beyond the first and last 10 Hz frame kept, so the
    smoothing there sees what it sees inside a match.
    """
    tracks25 = np.asarray(tracks25, dtype=float)
    if tracks25.ndim != 4 or tracks25.shape[2:] != (N_AGENTS, 2):
        raise InvalidParameterError(f"scenes must be [n, T, {N_AGENTS}, 2], got {tracks25.shape}")
    table, t_m = _scene_table(tracks25, first_frame, moment_index)
    metadata = MatchMetadata(match_id="counterfactual", provider="synth", frame_rate=FRAME_RATE, simulated=True)
    tracking = to_model_rate(Match(tracking=table, players=pl.DataFrame(schema=PLAYERS_SCHEMA),
                                   metadata=metadata)).tracking
    part = dense_layout(tracking, None).periods[1]
    at = int(np.argmin(np.abs(part.times - t_m)))
    lo, hi = at - (OBS_10 - 1), at + PRED_10 + 1
    if abs(part.times[at] - t_m) > 1e-6 or lo < 0 or hi > len(part.times):
        raise InvalidParameterError(f"scenes of {tracks25.shape[1]} frames with the moment at {moment_index} do not "
                                    f"cover {OBS_S} s before it and {HORIZON_S} s after it at {FPS:g} Hz")
    features = part.features[lo:hi].reshape(hi - lo, tracks25.shape[0], N_AGENTS, 4)
    return np.ascontiguousarray(features.transpose(1, 0, 2, 3))


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


def _windows(states: np.ndarray, is_goalkeeper: np.ndarray) -> TrajectoryBatch:
    """Scenes ``[B, OBS_10 + PRED_10, 23, 4]`` (every agent present) as one batch of model windows."""
    b, t_len = states.shape[:2]
    windows = array_windows(states[..., :2].reshape(-1, N_AGENTS, 2), states[..., 2:].reshape(-1, N_AGENTS, 2),
                            np.ones((b * t_len, N_AGENTS), bool), [i * t_len for i in range(b)], OBS_10,
                            OBS_10 + PRED_10, is_goalkeeper, True)
    return TrajectoryBatch.from_windows(windows)


def sample_blocks(model: TrajectoryModel, blocks: Sequence[tuple[np.ndarray, Sequence[Sequence[int]]]],
                  n_samples: int, seed: int, is_goalkeeper: np.ndarray) -> list[np.ndarray]:
    """Samples ``[S, C, PRED_10, 23, 2]`` of each block ``(states [C, T, 23, 4], replaced)``: row ``c`` predicts
    the agents ``replaced[c]``, every other agent follows its future in the block's states.

    Every block gets the same random numbers (common random numbers: row ``c`` of every block draws what row ``c``
    of a lone block drawn from ``seed`` would), so a difference between blocks is the model's answer to what
    differs between them, not noise. A VRNN/GVRNN (prior noise ``[S, H, C, N, Z]``, no decoder noise) runs all
    blocks in one batch with its latent noise repeated per block; any other model runs block by block, each from
    a generator seeded with ``seed``.
    """
    sizes = {states.shape[0] for states, _ in blocks}
    if len(sizes) != 1:
        raise InvalidParameterError(f"blocks must have the same number of rows, got {sorted(sizes)}")
    rows = sizes.pop()
    masks = []
    for _, replaced in blocks:
        mask = torch.zeros(rows, N_AGENTS, dtype=torch.bool)
        for row, agents in enumerate(replaced):
            mask[row, list(agents)] = True
        masks.append(mask)
    if isinstance(model, VRNN) and not model.config.decoder_noise:
        batch = _windows(np.concatenate([states for states, _ in blocks]), is_goalkeeper)
        noise = torch.randn(n_samples, PRED_10, rows, N_AGENTS, model.config.latent,
                            generator=torch.Generator().manual_seed(seed))
        out = model.sample(batch.history(), PRED_10, n_samples, torch.cat(masks), batch.given_future(),
                           latent_noise=noise.repeat(1, 1, len(blocks), 1, 1))
        return [part.double().numpy() for part in out.split(rows, dim=1)]
    out = []
    for (states, _), mask in zip(blocks, masks, strict=True):
        batch = _windows(states, is_goalkeeper)
        out.append(model.sample(batch.history(), PRED_10, n_samples, mask, batch.given_future(),
                                generator=torch.Generator().manual_seed(seed)).double().numpy())
    return out


def true_scenes(mr: MatchReplay, moment: Moment, slots: Sequence[int], kinds: Sequence[str],
                seed: int) -> np.ndarray:
    """States ``[len(slots), 1 + K, OBS_10 + PRED_10, 23, 4]`` at 10 Hz in model order: for each A1 (provider
    slot), the actual play (``j = 0``) and its ``K`` re-played alternatives (:meth:`MatchReplay.alternatives`,
    re-played ``AFTER_25`` frames past ``f0`` for the smoothing), all through :func:`scenes_at_model_rate`."""
    p, m, hs = moment.period, moment.frame, mr.home_sign(moment.period)
    lo, hi = m - BEFORE_25, moment.f0 + AFTER_25
    actual25 = layout(mr.original(p, lo, hi), mr.ball(p, lo, hi), moment.team, hs)
    tracks = [actual25]
    for slot in slots:
        for _, rep in mr.alternatives(m, hi - m, int(slot), kinds, seed):
            tracks.append(np.concatenate([actual25[: BEFORE_25 + 1], layout(rep.pos, rep.ball, moment.team, hs)]))
    states = scenes_at_model_rate(np.stack(tracks), BEFORE_25, lo)
    alternatives = states[1:].reshape(len(slots), len(kinds), *states.shape[1:])
    actual = np.broadcast_to(states[0], (len(slots), 1, *states.shape[1:]))
    return np.concatenate([actual, alternatives], axis=1)


def _end_velocity(futures: torch.Tensor) -> torch.Tensor | None:
    """The predicted agents' velocity at the last frame of ``futures [S, H, 23, 2]``, as
    :func:`soccerai.evaluate.match_obso.ghost_cobso` takes it (the last 10 Hz step; None with ``H = 1``)."""
    return (futures[:, -1] - futures[:, -2]) * FPS if futures.shape[1] > 1 else None


def cobso_frames(positions: torch.Tensor, velocities: torch.Tensor, agents: CobsoAgents,
                 futures: torch.Tensor) -> torch.Tensor:
    """Positions ``[1 + S, 23, 2]`` of the frames the project's C-OBSO scores for ``futures [S, H, 23, 2]``: the
    real frame, then the counterfactual scenes (:func:`soccerai.evaluate.cobso.counterfactual_frames`)."""
    scene, _ = counterfactual_frames(positions, velocities, agents, futures[:, -1], _end_velocity(futures))
    return torch.cat([positions[None], scene])


def model_cobso(positions: torch.Tensor, velocities: torch.Tensor, valid: torch.Tensor, shooter: int,
                agents: CobsoAgents, futures: torch.Tensor, score: torch.Tensor) -> CobsoResult:
    """:func:`soccerai.evaluate.match_obso.ghost_cobso` (the project's C-OBSO) with the potential score of its
    frames (:func:`cobso_frames`) computed beforehand, so one moment's frames are scored in one batch (the score's
    cost is per batch of frames, not per frame); the same numbers (a test holds them equal)."""
    return cobso(positions, velocities, valid, shooter, agents, futures[:, -1], _end_velocity(futures),
                 score_model=score)


def _response_rows(key: tuple, candidates: Sequence[CobsoAgents], kinds: Sequence[str], model_name: str,
                   scenes: np.ndarray, predicted: Sequence[np.ndarray]) -> list[tuple]:
    """:data:`RESPONSE_SCHEMA` rows of one model (``key`` = moment, kind, period, frame): per A1, alternative j
    and D in {D1, D2}, the true displacement ``t_j``, the model's ``d_j`` (sample means, common random numbers) and
    the ADE of the responded run (see the module docstring)."""
    means = [s[:, :, -1].mean(0) for s in predicted]  # per block [C, 23, 2]
    rows = []
    for ci, c in enumerate(candidates):
        for j in range(1, scenes.shape[1]):
            for role, d in (("D1", c.attacker_defender), ("D2", c.shooter_defender)):
                truth = float(np.hypot(*(scenes[ci, j, -1, d, :2] - scenes[ci, 0, -1, d, :2])))
                model_d = float(np.hypot(*(means[j][ci, d] - means[0][ci, d])))
                ade = float(np.hypot(*np.moveaxis(predicted[j][:, ci, :, d] - scenes[ci, j, OBS_10:, d, :2],
                                                   -1, 0)).mean())
                rows.append((*key, c.attacker, kinds[j - 1], role, d, model_name, truth, model_d, ade))
    return rows


def _pair_rows(key: tuple, candidates: Sequence[CobsoAgents], shooter: int, scenes: np.ndarray,
               ghosts: dict[str, np.ndarray]) -> list[tuple]:
    """:data:`PAIR_SCHEMA` rows: the true C-OBSO of every A1 and the project's C-OBSO of every model (its
    ``ghosts [S, C, H, 23, 2]``), every frame's potential score taken in one batch."""
    f0_pos, f0_vel = torch.as_tensor(scenes[0, 0, -1, :, :2]), torch.as_tensor(scenes[0, 0, -1, :, 2:])
    valid = torch.ones(N_AGENTS, dtype=torch.bool)
    truth = torch.as_tensor(scenes[:, :, -1].reshape(-1, N_AGENTS, 4), dtype=torch.float32)  # f0 of every scene
    futures = {(name, ci): torch.as_tensor(g[:, ci]) for name, g in ghosts.items() for ci in range(len(candidates))}
    frames = [cobso_frames(f0_pos, f0_vel, candidates[ci], f) for (_, ci), f in futures.items()]
    scored = torch.cat([truth[..., :2], *frames]).float()
    scores = potential_score(scored, torch.ones(scored.shape[:2], dtype=torch.bool))
    values = obso(truth[..., :2], truth[..., 2:], torch.ones(truth.shape[:2], dtype=torch.bool),
                  score_model=scores[: truth.shape[0]]).player_values
    values = values[:, shooter].double().numpy().reshape(scenes.shape[:2])  # [C, 1 + K]
    rows, start = [], truth.shape[0]
    for ((name, ci), future), scene in zip(futures.items(), frames, strict=True):
        c = candidates[ci]
        res = model_cobso(f0_pos, f0_vel, valid, shooter, c, future, scores[start : start + len(scene)])
        start += len(scene)
        actual, alternatives = float(values[ci, 0]), float(values[ci, 1:].mean())
        rows.append((*key, c.attacker, c.attacker_defender, c.shooter_defender, name, actual, alternatives,
                     actual - alternatives, res.mean, float(res.real_obso - res.predicted_obso.double().mean())))
    return rows


def evaluate_moment(mr: MatchReplay, moment: Moment, models: dict[str, TrajectoryModel], n_samples: int = 8,
                    kinds: Sequence[str] = ALTERNATIVE_KINDS, seed: int = 0, label: str = "",
                    max_candidates: int | None = None) -> MomentResult:
    """Responses and C-OBSO (truth and models) of every A1 candidate of one moment (see the module docstring)."""
    p, m = moment.period, moment.frame
    shooter = moment.shooter - moment.team * N_PER_TEAM
    order = _order(moment.team)
    f0_25 = layout(mr.original(p, moment.f0, moment.f0), mr.ball(p, moment.f0, moment.f0), moment.team,
                   mr.home_sign(p))[0]  # on the 10 Hz grid: the same positions as the scenes' last frame
    candidates = [c for c in select_cobso_agents(torch.as_tensor(f0_25), torch.ones(N_AGENTS, dtype=torch.bool),
                                                 shooter)
                  if mr.off_ball(int(order[c.attacker]), m, HORIZON_25 + AFTER_25)][:max_candidates]
    if not candidates:
        return MomentResult([], [], None)
    gk = np.zeros(N_AGENTS, bool)
    gk[[0, N_PER_TEAM]] = True
    scenes = true_scenes(mr, moment, [int(order[c.attacker]) for c in candidates], kinds, seed)  # [C, 1+K, T, 23, 4]
    key = (f"{label}p{p}f{m}", moment.kind, p, m)
    figure: dict = {"moment": moment, "scenes": scenes[0], "agents": candidates[0], "kinds": list(kinds),
                    "predicted": {}}
    defenders = [[c.attacker_defender, c.shooter_defender] for c in candidates]
    blocks = [(scenes[:, j], defenders) for j in range(scenes.shape[1])]
    blocks.append((scenes[:, 0], [c.replaced for c in candidates]))  # C-OBSO: A1, D1, D2 from the actual play
    responses, ghosts = [], {}
    for model_name, model in models.items():
        *predicted, ghosts[model_name] = sample_blocks(model, blocks, n_samples, seed, gk)  # each [S, C, H, 23, 2]
        figure["predicted"][model_name] = np.stack([s[:, 0] for s in predicted])  # [J, S, H, 23, 2]
        responses += _response_rows(key, candidates, kinds, model_name, scenes, predicted)
    return MomentResult(responses, _pair_rows(key, candidates, shooter, scenes, ghosts), figure)


# ------------------------------------------------------------------------------------------------- summary


RESPONDS_M = 0.01
"""A true response of at least 1 cm counts as one (``true_responding``: the share of D1/D2 the truth moves)."""


def summarize(responses: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per model: response ratio, the share of true responses, the rank correlation of model and true
    displacements, responded-run ADE; C-OBSO's rank correlation with the truth (the project's clamped C-OBSO and
    its signed form), mean |difference|, and why a correlation is NaN when it is (``notes``)."""
    rows = []
    for model in sorted(set(responses["model"].to_list()) | set(pairs["model"].to_list())):
        r = responses.filter(pl.col("model") == model)
        q = pairs.filter(pl.col("model") == model)
        checks = {"response": (r["model_displacement"], r["true_displacement"]),
                  "cobso": (q["model_cobso"], q["true_cobso"]), "signed": (q["model_cobso_signed"], q["true_cobso"])}
        notes = "; ".join(f"{k}: {why}" for k, (a, b) in checks.items() if (why := undefined_reason(a, b)))
        rows.append((model, r.height, response_ratio(r["model_displacement"], r["true_displacement"]),
                     float(r["true_displacement"].mean()) if r.height else math.nan,
                     float(r["model_displacement"].mean()) if r.height else math.nan,
                     float((r["true_displacement"] >= RESPONDS_M).mean()) if r.height else math.nan,
                     rank_correlation(*checks["response"]),
                     float(r["ade"].mean()) if r.height else math.nan, q.height,
                     rank_correlation(*checks["cobso"]), rank_correlation(*checks["signed"]),
                     mean_abs_difference(q["model_cobso"], q["true_cobso"]), notes))
    return pl.DataFrame(rows, orient="row", schema={
        "model": pl.String(), "responses": pl.Int64(), "response_ratio": pl.Float64(),
        "true_displacement_m": pl.Float64(), "model_displacement_m": pl.Float64(), "true_responding": pl.Float64(),
        "response_spearman": pl.Float64(), "response_ade_m": pl.Float64(), "pairs": pl.Int64(),
        "cobso_truth_spearman": pl.Float64(), "cobso_signed_truth_spearman": pl.Float64(),
        "cobso_mean_abs_diff": pl.Float64(), "notes": pl.String()})


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
    ax.set_title(f"SIMULATED match: A1 runs (actual solid, alternatives dashed); D1/D2 truth (thin) vs "
                 f"{model_name} (dotted)", fontsize=9)
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
