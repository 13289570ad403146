"""C-OBSO arithmetic (Teranishi, Tsutsui, Takeda, Fujii 2022, arXiv 2206.01899): how much an off-ball run created.

For a shot by attacker A2 (the shooter), at the frame before the shot:

* candidates (:func:`select_cobso_agents`): every valid off-ball attacker A1 (not the shooter, not the goalkeeper in
  slot 0) standing in the attacking third (``x > length/2 - length/3``), A1's nearest defender D1 and the shooter's
  nearest defender D2 (D1 may equal D2: then only two agents are replaced);
* ``C-OBSO_s = max(OBSO_real(A2) - OBSO_s(A2), 0)`` where ``OBSO(A2)`` is the OBSO value at the shooter's cell,
  ``OBSO_real`` uses the real frame and ``OBSO_s`` the same frame with A1, D1, D2 moved to sample ``s`` of a model's
  predicted trajectories (the end of a 4 s forecast); :func:`cobso` returns the per-sample values, their mean (the
  default C-OBSO) and standard deviation (the spread over samples).

The forecasting model is wired in elsewhere; here only frames and predicted positions meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.obso import obso
from soccerai.evaluate.pitch_control import ATTACK_SLOTS, DEFENCE_SLOTS, Grid, PitchControlParams
from soccerai.match.schema import DEFAULT_PITCH
from soccerai.windows.container import BALL_INDEX, N_AGENTS


@dataclass(frozen=True)
class CobsoAgents:
    """The agents a C-OBSO counterfactual replaces (agent indices in modelling order)."""

    attacker: int  # A1
    attacker_defender: int  # D1
    shooter_defender: int  # D2

    @property
    def replaced(self) -> list[int]:
        return list(dict.fromkeys([self.attacker, self.attacker_defender, self.shooter_defender]))


@dataclass
class CobsoResult:
    """C-OBSO of one (shot, A1) pair over ``S`` predicted samples."""

    agents: CobsoAgents
    shooter: int
    real_obso: float
    predicted_obso: torch.Tensor  # [S]
    per_sample: torch.Tensor  # [S], max(real - predicted, 0)

    @property
    def mean(self) -> float:
        return float(self.per_sample.mean())

    @property
    def std(self) -> float:
        return float(self.per_sample.std(unbiased=False))


def _nearest_defender(positions: torch.Tensor, valid: torch.Tensor, agent: int) -> int:
    distance = torch.linalg.vector_norm(positions[DEFENCE_SLOTS] - positions[agent], dim=-1)
    distance = distance.masked_fill(~valid[DEFENCE_SLOTS], math.inf)
    if torch.isinf(distance.min()):
        raise InvalidParameterError("no valid defender in the frame: C-OBSO needs D1 and D2")
    return DEFENCE_SLOTS.start + int(distance.argmin())


def select_cobso_agents(
    positions: torch.Tensor, valid: torch.Tensor, shooter: int, pitch_length: float = DEFAULT_PITCH[0]
) -> list[CobsoAgents]:
    """(A1, D1, D2) for every off-ball attacker in the attacking third of one frame (``positions [23, 2]``)."""
    if positions.shape != (N_AGENTS, 2) or valid.shape != (N_AGENTS,):
        raise InvalidParameterError(
            f"one frame is positions [23, 2] and valid [23], got {tuple(positions.shape)}"
        )
    if not ATTACK_SLOTS.start <= shooter < ATTACK_SLOTS.stop or not bool(valid[shooter]):
        raise InvalidParameterError(f"shooter {shooter} is not a valid attacker (agent 0..10)")
    valid = valid.bool() & torch.isfinite(positions).all(-1)
    third = pitch_length / 2.0 - pitch_length / 3.0
    d2 = _nearest_defender(positions, valid, shooter)
    return [
        CobsoAgents(a1, _nearest_defender(positions, valid, a1), d2)
        for a1 in range(1, ATTACK_SLOTS.stop)
        if a1 != shooter and bool(valid[a1]) and float(positions[a1, 0]) > third
    ]


def counterfactual_frames(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    agents: CobsoAgents,
    predicted_positions: torch.Tensor,
    predicted_velocities: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The real frame ``[23, 2]`` repeated ``S`` times with the replaced agents taken from predictions.

    ``predicted_positions``: ``[S, 23, 2]`` (full predicted scenes; only the replaced agents are read) or
    ``[S, k, 2]`` with ``k = len(agents.replaced)`` in that order. Without predicted velocities the replaced
    agents keep their real velocities.
    """
    replaced = agents.replaced
    pred_pos = (
        predicted_positions[:, replaced] if predicted_positions.shape[1] == N_AGENTS else predicted_positions
    )
    if pred_pos.ndim != 3 or pred_pos.shape[1:] != (len(replaced), 2):
        raise InvalidParameterError(
            f"predicted positions must be [S, 23, 2] or [S, {len(replaced)}, 2], "
            f"got {tuple(predicted_positions.shape)}"
        )
    n_samples = pred_pos.shape[0]
    scene_pos = positions.expand(n_samples, -1, -1).clone()
    scene_vel = velocities.expand(n_samples, -1, -1).clone()
    scene_pos[:, replaced] = pred_pos.to(scene_pos.dtype)
    if predicted_velocities is not None:
        pred_vel = (
            predicted_velocities[:, replaced]
            if predicted_velocities.shape[1] == N_AGENTS
            else predicted_velocities
        )
        scene_vel[:, replaced] = pred_vel.to(scene_vel.dtype)
    return scene_pos, scene_vel


def cobso(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    valid: torch.Tensor,
    shooter: int,
    agents: CobsoAgents,
    predicted_positions: torch.Tensor,
    predicted_velocities: torch.Tensor | None = None,
    grid: Grid | None = None,
    params: PitchControlParams | None = None,
    **obso_kwargs,
) -> CobsoResult:
    """C-OBSO of A1 for the shot by ``shooter`` from one real frame and ``S`` predicted samples (see module doc)."""
    if not bool(valid[BALL_INDEX]):
        raise InvalidParameterError("the frame before the shot has no ball: C-OBSO cannot be computed")
    scene_pos, scene_vel = counterfactual_frames(
        positions, velocities, agents, predicted_positions, predicted_velocities
    )
    all_pos = torch.cat([positions[None], scene_pos])
    all_vel = torch.cat([velocities[None], scene_vel])
    all_valid = valid[None].expand(all_pos.shape[0], -1)
    result = obso(all_pos, all_vel, all_valid, grid, params, **obso_kwargs)
    if not bool(result.usable.all()):
        raise InvalidParameterError("a real or predicted scene is unusable (NaN positions): C-OBSO undefined")
    values = result.player_values[:, shooter]
    real, predicted = float(values[0]), values[1:]
    return CobsoResult(agents, shooter, real, predicted, (real - predicted).clamp(min=0.0))


def cobso_table(
    results: list[CobsoResult], object_ids: list[str | None] | None = None, shot_ids: list[str] | None = None
) -> pl.DataFrame:
    """Per-player C-OBSO (A1): shots, mean of the per-shot C-OBSO means, mean per-shot spread, total."""
    names = object_ids or [str(i) for i in range(N_AGENTS)]
    rows = pl.DataFrame(
        {
            "shot_id": shot_ids or [str(i) for i in range(len(results))],
            "player": [names[r.agents.attacker] for r in results],
            "cobso": [r.mean for r in results],
            "cobso_std": [r.std for r in results],
        },
        schema={
            "shot_id": pl.String(),
            "player": pl.String(),
            "cobso": pl.Float64(),
            "cobso_std": pl.Float64(),
        },
    )
    return (
        rows.group_by("player")
        .agg(
            pl.len().alias("shots"),
            pl.col("cobso").mean().alias("cobso_mean"),
            pl.col("cobso_std").mean().alias("cobso_spread"),
            pl.col("cobso").sum().alias("cobso_total"),
        )
        .sort("cobso_mean", descending=True)
    )
