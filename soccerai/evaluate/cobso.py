"""C-OBSO arithmetic (Teranishi, Tsutsui, Takeda, Fujii 2022, "Evaluation of creating scoring opportunities for
teammates in soccer via trajectory prediction", MLSA 2022, arXiv 2206.01899): how much an off-ball run created.

The paper (its method section on C-OBSO, the counterfactual OBSO equation) scores a shot by attacker A2 (the shooter)
at the frame before the shot, for an off-ball attacker A1, with D1 = A1's nearest defender and D2 = A2's nearest
defender::

    C-OBSO(A1) = max( OBSO(A2 | real tracking) - OBSO(A2 | A1, D1, D2 predicted), 0 )

averaged over the model's samples and, per player, over shots (published per-game values 0.002-0.012). We could not
re-read the paper offline while writing this: the equation is quoted as the project's ARCHITECTURE.md (section 3,
"OBSO and C-OBSO") records it, without an equation number.

Where soccerai deviates, and why:

* **Paired scenes (no selection bias).** In the paper's form the first term is the *observed* frame and the second a
  forecast. D2 is *chosen* as the defender nearest the shooter at that very frame, so any imperfect forecast moves him
  away and frees the shooter: ``real - predicted`` is negative by construction (on the real Bayern-Dortmund match,
  12 of 12 pairs, every clipped value exactly 0). soccerai compares like with like (:func:`paired_cobso`): both
  scenes go through the same model with the same random draws (same generator seed, same batch layout):

  - *real-run scene*: A1 follows his REAL run (given to the model); D1 and D2 are forecast;
  - *counterfactual scene*: A1 follows a counterfactual run (the model's own forecast of A1, or an alternative run
    given to the model); D1 and D2 are forecast;

  ``C-OBSO_s = OBSO_s(A2 | real run) - OBSO_s(A2 | counterfactual run)`` for sample ``s``, so the only difference
  between the two scenes is A1's run (and the defenders' forecast reaction to it). A run that drags the shooter's
  marker away scores positive; a run that brings a marker onto the shooter scores negative.
* **Signed beside clipped.** ``signed`` keeps ``C-OBSO_s`` as is; ``per_sample`` is ``max(C-OBSO_s, 0)`` as the
  paper reports; tables carry both (``cobso_signed``, ``cobso``).
* **Velocities** of the forecast agents at the scored frame are the last 10 Hz finite difference of their trajectory
  in *both* scenes (A1's real run included), so that nothing but A1's run differs.
* The unpaired form (observed frame minus forecast scene) stays available as :func:`cobso` for comparison.

Candidates (:func:`select_cobso_agents`): every valid off-ball attacker A1 (not the shooter, not the goalkeeper in
slot 0) standing in the attacking third (``x > length/2 - length/3``), A1's nearest defender D1 and the shooter's
nearest defender D2 (D1 may equal D2: then only two agents are replaced). The shooter is the shot table's shooter
(:mod:`soccerai.match.shots`), never the player nearest the ball in one frame.

The forecasting model is wired in elsewhere (:mod:`soccerai.evaluate.match_obso`); here only frames and predicted
positions meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
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
    """OBSO of the shooter in the observed frame (the shot's ``shooter_obso``)."""
    predicted_obso: torch.Tensor  # [S] counterfactual scenes
    per_sample: torch.Tensor  # [S], max(signed, 0)
    signed: torch.Tensor | None = None
    """``[S]`` real-run minus counterfactual OBSO of the shooter, unclipped (paired) or real minus predicted."""
    paired_real_obso: torch.Tensor | None = None
    """``[S]`` OBSO of the shooter in the real-run scenes (A1's real run, D1/D2 forecast); None when unpaired."""

    @property
    def mean(self) -> float:
        return float(self.per_sample.mean())

    @property
    def signed_mean(self) -> float:
        """Mean of the unclipped per-sample values (``cobso_signed``)."""
        values = self.signed if self.signed is not None else self.per_sample
        return float(values.mean())

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


def shot_agents(
    positions: torch.Tensor,
    valid: torch.Tensor,
    shooter: int,
    player_obso: torch.Tensor | np.ndarray,
    pitch_length: float = DEFAULT_PITCH[0],
    seen: torch.Tensor | np.ndarray | None = None,
) -> CobsoAgents | None:
    """THE role assignment of one shot, used by every face (CLI, demo, replay, exports, pipeline): (A1, D1, D2).

    ``positions [23, 2]`` / ``valid [23]`` at the frame before the shot; ``shooter`` the shot table's shooter (never
    the player nearest the ball frame by frame); ``player_obso [23]`` the agents' OBSO at that frame; ``seen [23]``:
    only candidates whose three agents are seen (a forecast starts from tracked players). A1 is the candidate of
    :func:`select_cobso_agents` with the highest OBSO (ties: the lower slot); None without candidates.
    """
    if not bool(valid[DEFENCE_SLOTS].any()):
        return None
    candidates = select_cobso_agents(positions, valid, shooter, pitch_length)
    if seen is not None:
        candidates = [c for c in candidates if all(bool(seen[a]) for a in c.replaced)]
    if not candidates:
        return None
    values = np.nan_to_num(np.asarray(player_obso, dtype=np.float64), nan=-1.0)
    return max(candidates, key=lambda c: (values[c.attacker], -c.attacker))


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
    return CobsoResult(agents, shooter, real, predicted, (real - predicted).clamp(min=0.0), real - predicted)


def paired_cobso(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    valid: torch.Tensor,
    shooter: int,
    agents: CobsoAgents,
    real_run_positions: torch.Tensor,
    counterfactual_positions: torch.Tensor,
    real_run_velocities: torch.Tensor | None = None,
    counterfactual_velocities: torch.Tensor | None = None,
    grid: Grid | None = None,
    params: PitchControlParams | None = None,
    **obso_kwargs,
) -> CobsoResult:
    """Paired C-OBSO of A1 (see module doc): real-run scenes minus counterfactual scenes, sample by sample.

    ``real_run_positions [S, 23, 2]``: the model's scenes where A1 ran his real run (only the replaced agents are
    read); ``counterfactual_positions [S, 23, 2]``: the same model, same draws, with A1's counterfactual run. Both
    may also be ``[S, k, 2]`` in ``agents.replaced`` order. Returns per-sample ``signed`` values and their
    clipped ``per_sample``; ``real_obso`` is the observed frame's value (for reference; not subtracted).
    """
    if not bool(valid[BALL_INDEX]):
        raise InvalidParameterError("the frame before the shot has no ball: C-OBSO cannot be computed")
    if real_run_positions.shape[0] != counterfactual_positions.shape[0]:
        raise InvalidParameterError("paired C-OBSO needs as many real-run as counterfactual samples")
    real_pos, real_vel = counterfactual_frames(positions, velocities, agents, real_run_positions, real_run_velocities)
    cf_pos, cf_vel = counterfactual_frames(positions, velocities, agents, counterfactual_positions,
                                           counterfactual_velocities)
    all_pos = torch.cat([positions[None], real_pos, cf_pos])
    all_vel = torch.cat([velocities[None], real_vel, cf_vel])
    all_valid = valid[None].expand(all_pos.shape[0], -1)
    result = obso(all_pos, all_vel, all_valid, grid, params, **obso_kwargs)
    if not bool(result.usable.all()):
        raise InvalidParameterError("a real or predicted scene is unusable (NaN positions): C-OBSO undefined")
    values = result.player_values[:, shooter]
    n = real_pos.shape[0]
    paired_real, predicted = values[1 : 1 + n], values[1 + n :]
    signed = paired_real - predicted
    return CobsoResult(agents, shooter, float(values[0]), predicted, signed.clamp(min=0.0), signed, paired_real)


def cobso_distribution(signed: pl.Series | list[float], clipped: pl.Series | list[float] | None = None,
                       tolerance: float = 0.0) -> dict[str, float | int]:
    """How C-OBSO values spread: pairs, share exactly zero (of the clipped values), share positive / negative (signed).

    ``tolerance``: values with ``|v| <= tolerance`` count as zero in the signed shares.
    """
    signed_s = pl.Series(signed, dtype=pl.Float64).drop_nulls()
    clipped_s = signed_s.clip(lower_bound=0.0) if clipped is None else pl.Series(clipped, dtype=pl.Float64).drop_nulls()
    n = signed_s.len()
    if n == 0:
        return {"pairs": 0, "zero_share": float("nan"), "positive_share": float("nan"),
                "negative_share": float("nan"), "signed_mean": float("nan"), "clipped_mean": float("nan")}
    return {"pairs": n, "zero_share": float((clipped_s == 0.0).mean()),
            "positive_share": float((signed_s > tolerance).mean()),
            "negative_share": float((signed_s < -tolerance).mean()),
            "signed_mean": float(signed_s.mean()), "clipped_mean": float(clipped_s.mean())}


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
            "cobso_signed": [r.signed_mean for r in results],
            "cobso_std": [r.std for r in results],
        },
        schema={
            "shot_id": pl.String(),
            "player": pl.String(),
            "cobso": pl.Float64(),
            "cobso_signed": pl.Float64(),
            "cobso_std": pl.Float64(),
        },
    )
    return (
        rows.group_by("player")
        .agg(
            pl.len().alias("shots"),
            pl.col("cobso").mean().alias("cobso_mean"),
            pl.col("cobso_signed").mean().alias("cobso_signed_mean"),
            pl.col("cobso_std").mean().alias("cobso_spread"),
            pl.col("cobso").sum().alias("cobso_total"),
        )
        .sort("cobso_mean", descending=True)
    )
