"""Readable reference pitch control: plain Python loops over frames, cells, time steps and players.

Same maths as :mod:`soccerai.evaluate.pitch_control` (Spearman's model in Shaw's parameterisation, Euler steps
``T_k = t_b + k dt``, per-cell stop once the controlled mass exceeds ``converged``), written the slow, obvious way so
the fast tensor version can be checked against it. Tests and the benchmark only.
"""

from __future__ import annotations

import math

from soccerai.evaluate.pitch_control import Grid, PitchControlParams
from soccerai.match.schema import DEFAULT_PITCH


def _is_offside(x: float, defender_xs: list[float], ball_x: float, tolerance: float) -> bool:
    """Beyond the second-last defender and the ball, in the opponents' half (attack towards +x)."""
    line = max(ball_x, 0.0)
    if len(defender_xs) >= 2:
        line = max(line, sorted(defender_xs, reverse=True)[1])
    return x > line + tolerance


def reference_players(
    frame_pos, frame_vel, frame_valid, params: PitchControlParams
) -> list[tuple[float, float, float, bool]]:
    """(reaction x, reaction y, lambda, is_attacker) of every player taking part."""
    defender_xs = [frame_pos[j][0] for j in range(11, 22) if frame_valid[j]]
    ball_x = frame_pos[22][0]
    players = []
    for j in range(22):
        if not frame_valid[j]:
            continue
        attacker = j < 11
        if (
            attacker
            and params.remove_offside
            and _is_offside(frame_pos[j][0], defender_xs, ball_x, params.offside_tolerance)
        ):
            continue
        if attacker:
            lam = params.lambda_att
        elif j == 11:
            lam = params.lambda_def * params.gk_factor
        else:
            lam = params.lambda_def
        rx = frame_pos[j][0] + frame_vel[j][0] * params.reaction_time
        ry = frame_pos[j][1] + frame_vel[j][1] * params.reaction_time
        players.append((rx, ry, lam, attacker))
    return players


def reference_cell(
    cx: float,
    cy: float,
    ball: tuple[float, float],
    players,
    params: PitchControlParams,
) -> tuple[float, float]:
    """Attacking and defending control of one cell."""
    ball_time = math.hypot(cx - ball[0], cy - ball[1]) / params.ball_speed
    a = math.pi / (math.sqrt(3.0) * params.tti_sigma)
    taus = [
        params.reaction_time + math.hypot(cx - rx, cy - ry) / params.max_player_speed
        for rx, ry, _, _ in players
    ]
    attack = defence = 0.0
    share_attack = 0.5  # the attacking share of the control rate at the last step taken
    for k in range(params.n_steps):
        free = 1.0 - attack - defence
        if free <= 1.0 - params.converged:
            break
        t = ball_time + k * params.dt
        rate_attack = rate_defence = 0.0
        for (_, _, lam, attacker), tau in zip(players, taus, strict=True):
            exponent = -a * (t - tau)
            p_arrived = 0.0 if exponent > 700 else 1.0 / (1.0 + math.exp(exponent))
            if attacker:
                rate_attack += lam * p_arrived
            else:
                rate_defence += lam * p_arrived
        total = max(rate_attack + rate_defence, 1e-30)
        gained = free * (1.0 - math.exp(-total * params.dt))  # exact for rates constant over the step
        attack += gained * rate_attack / total
        defence += gained * rate_defence / total
        share_attack = rate_attack / total
    free = 1.0 - attack - defence  # close the books: the leftover goes by the last step's rates
    attack, defence = attack + free * share_attack, defence + free * (1.0 - share_attack)
    return attack, defence


def reference_pitch_control(positions, velocities, valid, grid: Grid, params: PitchControlParams):
    """Attacking control as nested lists ``[F][ny][nx]`` (inputs: tensors or nested lists in agent order)."""
    positions, velocities, valid = _as_lists(positions), _as_lists(velocities), _as_lists(valid)
    xs, ys = grid.xs().tolist(), grid.ys().tolist()
    out = []
    for f in range(len(positions)):
        players = reference_players(positions[f], velocities[f], valid[f], params)
        ball = (positions[f][22][0], positions[f][22][1])
        out.append([[reference_cell(x, y, ball, players, params)[0] for x in xs] for y in ys])
    return out


def _as_lists(value):
    return value.tolist() if hasattr(value, "tolist") else value


# --------------------------------------------------------------------------------------------------------------
# Real frames for the tests (read directly, so these tests do not depend on the ingestion modules)

LASTROW_FPS = 20.0


def lastrow_frames(clips_dir, pitch=DEFAULT_PITCH):
    """The Last Row Liverpool goal as frame tensors ``(positions, velocities, valid)`` ``[195, 23, 2]``.

    The CSV has 0-100 coordinates, 20 Hz, ``dx``/``dy`` per-frame displacements, team attack/defense/empty (ball);
    Liverpool attacks towards x = 0, so the pitch is rotated by 180 degrees (attack towards +x). The defending
    goalkeeper (the defender deepest at the first frame) goes to slot 11; there is no attacking goalkeeper (slot 0
    empty), 10 attackers in slots 1..10, 9 other defenders in 12..20.
    """
    import numpy as np
    import polars as pl
    import torch

    table = pl.read_csv(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", glob=False)
    length, width = pitch
    table = table.with_columns(
        x=-(pl.col("x") / 100 * length - length / 2),
        y=-(pl.col("y") / 100 * width - width / 2),
        vx=-pl.col("dx") / 100 * length * LASTROW_FPS,
        vy=-pl.col("dy") / 100 * width * LASTROW_FPS,
        team=pl.col("team").fill_null("ball"),
    )
    first = table.filter(pl.col("frame") == table.get_column("frame").min())
    attackers = sorted(first.filter(pl.col("team") == "attack").get_column("player").to_list())
    defenders = (
        first.filter(pl.col("team") == "defense").sort("x", descending=True).get_column("player").to_list()
    )
    slots = {p: 1 + i for i, p in enumerate(attackers)}
    slots.update({defenders[0]: 11, **{p: 12 + i for i, p in enumerate(sorted(defenders[1:]))}})
    ball = first.filter(pl.col("team") == "ball").get_column("player").item()
    slots[ball] = 22
    frames = sorted(table.get_column("frame").unique().to_list())
    positions = np.full((len(frames), 23, 2), np.nan, dtype=np.float32)
    velocities = np.zeros((len(frames), 23, 2), dtype=np.float32)
    valid = np.zeros((len(frames), 23), dtype=bool)
    for row in table.iter_rows(named=True):
        f, s = frames.index(row["frame"]), slots[row["player"]]
        positions[f, s] = row["x"], row["y"]
        velocities[f, s] = row["vx"], row["vy"]
        valid[f, s] = True
    return torch.from_numpy(positions), torch.from_numpy(velocities), torch.from_numpy(valid)


def kloppy_tracking_table(dataset):
    """A canonical-style long tracking table + players table from a kloppy tracking dataset (metres, centred).

    Unknown (NaN) positions become absent rows, as in the canonical table. Velocities are finite differences over
    real time (first frame of each object: the next difference).
    """
    import polars as pl

    rows, players = [], {}
    home = dataset.metadata.teams[0]
    for frame in dataset.frames:
        period, time_s = frame.period.id, frame.timestamp.total_seconds()
        if frame.ball_coordinates is not None:
            rows.append(
                (
                    period,
                    frame.frame_id,
                    time_s,
                    "ball",
                    "ball",
                    frame.ball_coordinates.x,
                    frame.ball_coordinates.y,
                )
            )
        for player, point in frame.players_coordinates.items():
            if point is None:
                continue
            team = "home" if player.team == home else "away"
            players[player.player_id] = (
                team,
                player.starting_position is not None and player.starting_position.code == "GK",
            )
            rows.append((period, frame.frame_id, time_s, player.player_id, team, point.x, point.y))
    table = pl.DataFrame(
        rows, schema=["period", "frame", "time_s", "object_id", "team", "x", "y"], orient="row"
    )
    table = table.filter(
        pl.col("x").is_not_nan() & pl.col("y").is_not_nan()
    )  # canonical: unknown = absent row
    table = (
        table.sort("object_id", "period", "frame")
        .with_columns(
            vx=(pl.col("x").diff() / pl.col("time_s").diff()).over("object_id", "period"),
            vy=(pl.col("y").diff() / pl.col("time_s").diff()).over("object_id", "period"),
        )
        .with_columns(pl.col("vx", "vy").backward_fill().over("object_id", "period").fill_null(0.0))
    )
    players_table = pl.DataFrame(
        {
            "object_id": list(players),
            "team": [t for t, _ in players.values()],
            "is_goalkeeper": [g for _, g in players.values()],
        }
    )
    return table.sort("period", "frame", "object_id"), players_table
