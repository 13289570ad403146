"""A small stochastic possession model: a full match of events with no input file at all.

Used when no real timeline is given (``soccerai synthesize`` with no EVENTS, ``soccerai demo`` on a fresh machine).
The constants were measured once on the three real Metrica matches in ``../shared/data/metrica-events``
(2,884 passes; Games 1-2 CSV, Game 3 JSON) and are written here so the model needs no data:

==============================  ==========================================================
pass length                     log-normal, log-mean 2.636, log-std 0.563 (median 14 m)
pass direction                  von Mises around "forward", kappa 0.13 (mean cos 0.064:
                                22 % forward, 20 % backward, the rest sideways)
ball speed of a pass            log-normal, median 11.5 m/s, log-std 0.37
reception -> next pass          log-normal, log-mean 0.426 s, log-std 0.779 (median 1.5 s);
                                the receiver carries the ball meanwhile
pass completion                 86 %
shots per match                 22.7 (both teams), i.e. ~1 per 42 passes
balls out per match             76; restart delays: throw-in 8.8 s, corner 28.5 s,
                                goal kick ~15 s, kick-off after a goal ~70 s
==============================  ==========================================================

The generator walks a possession: the holder waits, carries, then passes (or shoots near goal); a pass may be
lost (the nearest opponent in formation recovers) or go out (set piece for the other team). Events are written
in Metrica's CSV event format, then read back through the same checks as real files
(:func:`soccerai.synth.timeline.build_timeline`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from soccerai.synth.timeline import FRAME_RATE, METRICA_CSV_COLUMNS, PITCH, Timeline, build_timeline

PASS_LOG_LENGTH = (2.636, 0.563)
PASS_DIRECTION_KAPPA = 0.13
BALL_SPEED_LOG = (np.log(11.5), 0.37)
HOLD_LOG_S = (0.426, 0.779)
PASS_COMPLETION = 0.863
SHOT_ZONE_M = 30.0
"""Shots are taken only within this distance of the goal."""
GOAL_FRACTION = 0.11
RESTART_DELAY_S = {"THROW IN": 8.8, "CORNER KICK": 28.5, "GOAL KICK": 15.0, "KICK OFF": 70.0}
PERIOD_S = 45 * 60
PASS_TRIES = 2
SHOT_ZONE_RATE = 0.12
"""Chance of a shot per touch inside the shot zone (tuned so a match has ~20 shots, as the real ones)."""
CARRY_MIN_S = 1.5
HOME_PLAYERS = [f"Player{j}" for j in (11, *range(1, 11))]  # goalkeeper first
AWAY_PLAYERS = [f"Player{j}" for j in (25, *range(15, 25))]


def generate_timeline(seed: int = 0, period_s: float = PERIOD_S) -> Timeline:
    """A generated two-period match of events (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed + 7919)
    rows: list[tuple] = []
    frame = 1
    for period in (1, 2):
        kickoff_team = 1 if period == 1 else 0
        frame = _period(rows, rng, period, frame, frame + int(period_s * FRAME_RATE), kickoff_team)
        frame += 25 * 60 * 15  # half-time on the shared clock
    raw = pl.DataFrame(rows, schema=list(METRICA_CSV_COLUMNS), orient="row")
    return build_timeline(raw, source=None, generated=True)


def _period(rows: list, rng: np.random.Generator, period: int, frame: int, end: int, team: int) -> int:
    """Append one period of events; home attacks +x in period 1 (provider orientation), -x in period 2."""
    home_dir = 1.0 if period == 1 else -1.0
    ball = np.zeros(2)
    holder = 9  # a forward kicks off
    restart = "KICK OFF"
    while frame < end:
        direction = home_dir if team == 0 else -home_dir
        players = HOME_PLAYERS if team == 0 else AWAY_PLAYERS
        if restart:
            _add(rows, team, "SET PIECE", restart, period, frame, frame, players[holder], None, ball, ball)
            restart = ""
        else:
            hold = float(np.clip(rng.lognormal(*HOLD_LOG_S), 0.2, 12.0))
            carry_to = _clip(ball + direction * np.array([rng.normal(1.2, 1.0), rng.normal(0.0, 0.8)]) * hold)
            stop = frame + max(int(hold * FRAME_RATE), 1)
            if hold >= CARRY_MIN_S:
                _add(rows, team, "CARRY", None, period, frame, stop, players[holder], None, ball, carry_to)
                ball = carry_to
            frame = stop
        goal = np.array([direction * PITCH[0] / 2, 0.0])
        if np.hypot(*(goal - ball)) < SHOT_ZONE_M and rng.random() < SHOT_ZONE_RATE:
            team, holder, ball, frame, restart = _shot(
                rows, rng, team, period, frame, players[holder], ball, goal
            )
            continue
        team, holder, ball, frame, restart = _pass(
            rows, rng, team, period, frame, players, holder, ball, direction
        )
    return frame


def _pass(rows, rng, team, period, frame, players, holder, ball, direction):
    for _ in range(PASS_TRIES):  # players aim inside the pitch: redraw passes that would go out
        length = float(np.clip(rng.lognormal(*PASS_LOG_LENGTH), 3.0, 70.0))
        angle = rng.vonmises(0.0, PASS_DIRECTION_KAPPA)
        end = ball + length * np.array([direction * np.cos(angle), np.sin(angle)])
        if abs(end[0]) <= PITCH[0] / 2 and abs(end[1]) <= PITCH[1] / 2:
            break
    flight = max(int(length / rng.lognormal(*BALL_SPEED_LOG) * FRAME_RATE), 2)
    receiver = int(rng.choice([k for k in range(1, 11) if k != holder]))
    out = abs(end[0]) > PITCH[0] / 2 or abs(end[1]) > PITCH[1] / 2
    if out:
        end = _clip(end, margin=1.0)
        _add(rows, team, "BALL OUT", None, period, frame, frame + flight, players[holder], None, ball, end)
        restart = (
            "THROW IN"
            if abs(end[1]) >= PITCH[1] / 2
            else ("GOAL KICK" if np.sign(end[0]) == direction else "CORNER KICK")
        )
        other = 1 - team
        spot = _restart_spot(restart, end, direction)
        taker = 0 if restart == "GOAL KICK" else int(rng.integers(1, 11))
        frame += flight + int(RESTART_DELAY_S[restart] * FRAME_RATE)
        return other, taker, spot, frame, restart
    end = _clip(end)
    if rng.random() < PASS_COMPLETION:
        _add(
            rows,
            team,
            "PASS",
            None,
            period,
            frame,
            frame + flight,
            players[holder],
            players[receiver],
            ball,
            end,
        )
        return team, receiver, end, frame + flight, ""
    other = 1 - team
    taker = int(rng.integers(1, 11))
    _add(
        rows,
        team,
        "BALL LOST",
        "INTERCEPTION",
        period,
        frame,
        frame + flight,
        players[holder],
        None,
        ball,
        end,
    )
    opp = AWAY_PLAYERS if team == 0 else HOME_PLAYERS
    _add(
        rows,
        other,
        "RECOVERY",
        "INTERCEPTION",
        period,
        frame + flight,
        frame + flight,
        opp[taker],
        None,
        end,
        end,
    )
    return other, taker, end, frame + flight + 1, ""


def _shot(rows, rng, team, period, frame, shooter, ball, goal):
    target = goal + np.array([np.sign(goal[0]) * 0.5, rng.normal(0.0, 4.0)])
    flight = max(int(np.hypot(*(target - ball)) / 20.0 * FRAME_RATE), 2)
    scored = rng.random() < GOAL_FRACTION and abs(target[1]) < 3.66
    subtype = "ON TARGET-GOAL" if scored else "OFF TARGET-OUT"
    _add(rows, team, "SHOT", subtype, period, frame, frame + flight, shooter, None, ball, target)
    other = 1 - team
    if scored:
        return (
            other,
            9,
            np.zeros(2),
            frame + flight + int(RESTART_DELAY_S["KICK OFF"] * FRAME_RATE),
            "KICK OFF",
        )
    spot = np.array([goal[0] - np.sign(goal[0]) * 5.5, 0.0])
    return other, 0, spot, frame + flight + int(RESTART_DELAY_S["GOAL KICK"] * FRAME_RATE), "GOAL KICK"


def _restart_spot(kind: str, where: np.ndarray, direction: float) -> np.ndarray:
    half_l, half_w = PITCH[0] / 2, PITCH[1] / 2
    if kind == "THROW IN":
        return np.array([np.clip(where[0], -half_l + 1, half_l - 1), np.sign(where[1]) * half_w])
    if kind == "CORNER KICK":
        return np.array([np.sign(where[0]) * half_l, np.sign(where[1] or 1.0) * half_w])
    return np.array([np.sign(where[0]) * (half_l - 5.5), 0.0])


def _clip(p: np.ndarray, margin: float = -1.0) -> np.ndarray:
    return np.array(
        [
            np.clip(p[0], -PITCH[0] / 2 - margin, PITCH[0] / 2 + margin),
            np.clip(p[1], -PITCH[1] / 2 - margin, PITCH[1] / 2 + margin),
        ]
    )


def _add(rows, team, kind, subtype, period, start, end, player, receiver, sxy, exy) -> None:
    """One Metrica CSV event row (0-1 coordinates, origin top left)."""

    def norm(p: np.ndarray) -> tuple[float, float]:
        return round(float(p[0] / PITCH[0] + 0.5), 4), round(float(0.5 - p[1] / PITCH[1]), 4)

    (sx, sy), (ex, ey) = norm(sxy), norm(exy)
    rows.append(
        ("Home" if team == 0 else "Away", kind, subtype, period, int(start), start / FRAME_RATE, int(end), end / FRAME_RATE,
         player, receiver, sx, sy, ex, ey)
    )  # fmt: skip
