"""Off-Ball Scoring Opportunity (Spearman 2018): ``OBSO(r) = PitchControl(r) x Transition(r) x Score(r)``.

For frames in modelling agent order (attack towards +x), :func:`obso` returns an :class:`ObsoResult` with the
OBSO surface ``[F, ny, nx]`` and each agent's value ``[F, 23]`` (the surface at the cell he stands in; NaN for
missing agents, the ball and skipped frames). The on-ball player is the valid attacker nearest the ball.
:func:`event_summary` and :func:`match_summary` turn results into polars tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.pitch_control import (
    ATTACK_SLOTS,
    N_PLAYERS,
    ControlSurfaces,
    Grid,
    PitchControlParams,
    control_surfaces,
)
from soccerai.evaluate.score_model import PotentialScoreParams, distance_score, potential_score
from soccerai.evaluate.transition import DEFAULT_SIGMA, transition
from soccerai.windows.container import BALL_INDEX, N_AGENTS

ScoreModel = Literal["distance", "potential"]


@dataclass
class ObsoResult:
    """OBSO of ``F`` frames; every per-frame tensor is NaN where ``usable`` is False."""

    surface: torch.Tensor  # [F, ny, nx]
    control: torch.Tensor  # [F, ny, nx] attacking pitch control
    transition: torch.Tensor  # [F, ny, nx]
    score: torch.Tensor  # [F, ny, nx]
    player_values: torch.Tensor  # [F, 23]
    on_ball: torch.Tensor  # [F] agent index of the on-ball attacker, -1 when none
    usable: torch.Tensor  # [F] bool
    grid: Grid

    @property
    def skipped(self) -> int:
        """Frames skipped for a missing ball or NaN player positions."""
        return int((~self.usable).sum())

    @property
    def on_ball_value(self) -> torch.Tensor:
        """OBSO at the on-ball attacker's cell ``[F]`` (NaN when there is none)."""
        index = self.on_ball.clamp(min=0)[:, None]
        value = self.player_values.gather(1, index)[:, 0]
        return value.masked_fill(self.on_ball < 0, math.nan)

    @property
    def total(self) -> torch.Tensor:
        """Sum of the surface over the grid ``[F]``: the frame's total scoring opportunity."""
        return self.surface.sum((1, 2))


def on_ball_attacker(positions: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Index ``[F]`` of the valid attacker nearest the ball (-1 without ball or attackers)."""
    distance = torch.linalg.vector_norm(
        positions[:, ATTACK_SLOTS] - positions[:, BALL_INDEX : BALL_INDEX + 1], dim=-1
    )
    distance = distance.masked_fill(~valid[:, ATTACK_SLOTS].bool() | distance.isnan(), math.inf)
    nearest = distance.argmin(-1)
    return nearest.masked_fill(torch.isinf(distance.min(-1).values), -1)


def player_values(
    surface: torch.Tensor, positions: torch.Tensor, valid: torch.Tensor, grid: Grid
) -> torch.Tensor:
    """Value of each agent ``[F, 23]``: the surface at the cell containing him (NaN for the ball and missing agents)."""
    flat = surface.reshape(surface.shape[0], -1)
    values = flat.gather(1, grid.cell_index(positions))
    present = valid.bool() & torch.isfinite(positions).all(-1)
    present[:, BALL_INDEX] = False
    return values.masked_fill(~present, math.nan)


def score_surface(
    model: ScoreModel | torch.Tensor,
    positions: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid,
    potential_params: PotentialScoreParams | None = None,
) -> torch.Tensor:
    """Score ``[F, ny, nx]`` from a model name or a given ``[ny, nx]`` / ``[F, ny, nx]`` tensor."""
    n_frames = positions.shape[0]
    if isinstance(model, torch.Tensor):
        if model.shape[-2:] != (grid.ny, grid.nx):
            raise InvalidParameterError(
                f"score surface {tuple(model.shape)} does not match grid {grid.ny} x {grid.nx}"
            )
        return model.to(positions.device).float().expand(n_frames, grid.ny, grid.nx)
    if model == "distance":
        return distance_score(grid).to(positions.device).expand(n_frames, grid.ny, grid.nx)
    if model == "potential":
        return potential_score(positions, valid, grid, potential_params)
    raise InvalidParameterError(f"unknown score model {model!r} (use 'distance' or 'potential')")


def obso(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid | None = None,
    params: PitchControlParams | None = None,
    *,
    score_model: ScoreModel | torch.Tensor = "potential",
    transition_sigma: float = DEFAULT_SIGMA,
    potential_params: PotentialScoreParams | None = None,
    control: ControlSurfaces | None = None,
    **control_kwargs,
) -> ObsoResult:
    """OBSO of every frame (``positions``/``velocities [F, 23, 2]``, ``valid [F, 23]``, attack towards +x).

    ``control`` may pass pitch control already computed for these frames; other keyword arguments go to
    :func:`soccerai.evaluate.pitch_control.control_surfaces`.
    """
    grid = grid or Grid()
    surfaces = control or control_surfaces(positions, velocities, valid, grid, params, **control_kwargs)
    valid = valid.bool()
    trans = transition(positions[:, BALL_INDEX].float(), grid, transition_sigma)
    score = score_surface(score_model, positions, valid, grid, potential_params)
    surface = surfaces.attack * trans * score
    surface[~surfaces.usable] = math.nan
    return ObsoResult(
        surface=surface,
        control=surfaces.attack,
        transition=trans,
        score=score,
        player_values=player_values(surface, positions, valid, grid),
        on_ball=on_ball_attacker(positions, valid),
        usable=surfaces.usable,
        grid=grid,
    )


def event_summary(
    result: ObsoResult, event_ids: list[str] | None = None, object_ids: list[str | None] | None = None
) -> pl.DataFrame:
    """One row per frame (an event's frame): total and max OBSO, the on-ball attacker's value, the best
    off-ball attacker and his value, and whether the frame was usable."""
    n = result.surface.shape[0]
    event_ids = event_ids if event_ids is not None else [str(i) for i in range(n)]
    if len(event_ids) != n:
        raise InvalidParameterError(f"{len(event_ids)} event ids for {n} OBSO frames")
    names = object_ids or [str(i) for i in range(N_AGENTS)]
    attack_values = result.player_values[:, ATTACK_SLOTS].clone()
    on_ball = result.on_ball
    rows = torch.arange(n)
    attack_values[rows[on_ball >= 0], on_ball[on_ball >= 0]] = math.nan  # off-ball only
    best = torch.nan_to_num(attack_values, nan=-math.inf).argmax(-1)
    best_value = attack_values.gather(1, best[:, None])[:, 0]
    return pl.DataFrame(
        {
            "event_id": event_ids,
            "usable": result.usable.cpu().numpy(),
            "obso_total": result.total.cpu().double().numpy(),
            "obso_max": result.surface.flatten(1).amax(1).cpu().double().numpy(),
            "on_ball_player": [names[i] if i >= 0 else None for i in on_ball.tolist()],
            "on_ball_obso": result.on_ball_value.cpu().double().numpy(),
            "best_off_ball_player": [
                names[b] if math.isfinite(v) else None
                for b, v in zip(best.tolist(), best_value.tolist(), strict=True)
            ],
            "best_off_ball_obso": best_value.cpu().double().numpy(),
        },
        nan_to_null=True,
    )


def match_summary(result: ObsoResult, object_ids: list[str | None] | None = None) -> pl.DataFrame:
    """One row per attacking slot with a player: frames seen, mean / max / summed OBSO, frames on the ball."""
    names = object_ids or [str(i) for i in range(N_AGENTS)]
    values = result.player_values[:, :N_PLAYERS].cpu().double().numpy()
    on_ball = result.on_ball.cpu().numpy()
    rows = []
    for slot in range(ATTACK_SLOTS.stop):
        seen = np.isfinite(values[:, slot])
        if names[slot] is None or not seen.any():
            continue
        rows.append(
            {
                "player": names[slot],
                "slot": slot,
                "frames": int(seen.sum()),
                "obso_mean": float(values[seen, slot].mean()),
                "obso_max": float(values[seen, slot].max()),
                "obso_sum": float(values[seen, slot].sum()),
                "on_ball_frames": int((on_ball == slot).sum()),
            }
        )
    schema = {
        "player": pl.String(),
        "slot": pl.Int64(),
        "frames": pl.Int64(),
        "obso_mean": pl.Float64(),
        "obso_max": pl.Float64(),
        "obso_sum": pl.Float64(),
        "on_ball_frames": pl.Int64(),
    }
    return pl.DataFrame(rows, schema=schema).sort("obso_mean", descending=True)
