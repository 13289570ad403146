"""Shots found in tracking alone, for matches without events (the real SkillCorner match), and where shots come from.

:func:`match_shots` is the one place that says which shots a match has: its events when it has any (events always
win), otherwise :func:`detect_shots`; the result says which source was used (``"events"`` or ``"detected"``).

Detector (:func:`detect_shots`): rules on the ball's motion in the canonical static orientation (home attacks +x,
so a ball heading to ``x = +L/2`` is a home shot, to ``x = -L/2`` an away shot). Per period, on the ball's own
samples (any frame rate; a gap longer than 1.5 frame periods splits the track, nothing is interpolated across it):

1. **Ball velocity** over a short baseline: ``v_i = (p_{i+k} - p_i) / (t_{i+k} - t_i)`` with ``k`` samples spanning
   ``step_s`` (0.2 s), which damps single-frame jitter of broadcast tracking.
2. **Flights**: maximal runs of samples with ``|v_i| >= move_speed`` (7 m/s), cut where the direction turns more
   than ``turn_deg`` (35 degrees) from the run's first direction (a deflection) or the speed jumps by more than
   ``kick_gain`` (3 m/s) within ``k`` samples (a new kick). The kick is the run's first sample.
3. A flight is a **shot candidate** when (a) the ball is not dead at the kick where the tracking says so,
   (b) the kick lies in the half of the goal the ball heads to, at most ``max_distance`` (35 m) from that goal's
   centre, (c) the goal mouth subtends at least ``min_goal_angle_deg`` (10 degrees) from there (:func:`goal_angle_deg`:
   crosses from near the byline fail), (d) the ball's initial line crosses the goal line within
   ``3.66 + aim_margin`` (6 m) of the centre (the mouth and the wide misses that still are shots), and (e) its peak
   speed is at least ``min_peak_speed`` (11 m/s).
4. **Kicker** ("the last attacker near the ball"): going back from the kick over ``lookback_s`` (1 s), the first
   frame with a player within ``kicker_radius`` (2.5 m) of the ball names the nearest attacker there; only
   defenders there means a back pass or clearance (rejected); nobody visible keeps the shot with a null shooter
   (counted ``shooter_not_visible``: broadcast tracking can miss him).
5. **Outcome**, following the ball for ``follow_s`` (2.5 s) from the kick, the first of: the ball crosses the goal
   line inside the mouth (``|y| <= 3.66 + 0.5`` m and, when its height is known, ``z <= 2.44 + 0.5`` m) -> ``GOAL``,
   outside it -> ``OUT``; once the ball is ``release_m`` (3 m) from the kick, a player within ``touch_radius``
   (1.5 m) where the ball's motion changes (it turns more than ``turn_deg`` or loses half its speed; a ball
   flying past a diving keeper was not touched): the defending goalkeeper -> ``SAVED``, another defender -> ``BLOCKED``, a teammate -> a pass (rejected,
   and the rest of the flight is judged again from that touch: a one-touch finish); nobody -> ``UNKNOWN``. When the
   ball track ends first: the ball seen again inside the goal within ``reappear_s`` (4 s) -> ``GOAL`` (broadcast
   tracking often loses the ball as it goes in), else ``UNKNOWN`` (counted ``ball_lost``).
6. Shots kicked less than ``merge_s`` (1 s) after an accepted shot of the same team are the same shot.

Blind spots, by construction: a shot blocked within 3 m of the kick, a shot slower than 11 m/s (a soft header, a
tap-in from a deflection) and anything while the ball is off camera.

Every rejection is counted by reason in :attr:`ShotDetection.counts`; nothing is invented: a shot whose shooter is
unseen has a null ``player_id``, a shot whose ball track is lost has outcome ``UNKNOWN``.

Validation (``benchmarks/shots.py``): precision and recall against event shots within +-1 s, on simulated matches
driven by real Metrica event timelines and on the provider samples that have events.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from soccerai.errors import InvalidParameterError
from soccerai.match.schema import BALL_ID, EVENTS_SCHEMA, SHOT, Match, conform

DETECTED_SUBTYPE = "DETECTED"
GOAL_HALF_WIDTH = 3.66
GOAL_HEIGHT = 2.44
GOAL_TOLERANCE = 0.5
ShotSource = Literal["events", "detected"]


@dataclass(frozen=True)
class ShotRules:
    """The detector's thresholds (metres, seconds, m/s, degrees); see the module docstring for each rule."""

    step_s: float = 0.2
    move_speed: float = 7.0
    turn_deg: float = 35.0
    min_peak_speed: float = 11.0
    max_distance: float = 35.0
    min_goal_angle_deg: float = 10.0
    aim_margin: float = 6.0
    kicker_radius: float = 2.5
    lookback_s: float = 1.0
    touch_radius: float = 1.5
    release_m: float = 3.0
    follow_s: float = 2.5
    reappear_s: float = 4.0
    kick_gain: float = 3.0
    merge_s: float = 1.0

    def __post_init__(self) -> None:
        bad = {k: v for k, v in asdict(self).items() if not (math.isfinite(v) and v > 0)}
        if bad:
            raise InvalidParameterError(f"shot rules must be positive finite numbers, got {bad}")


@dataclass
class ShotDetection:
    """The detected shots (``EVENTS_SCHEMA`` rows, type SHOT, subtype DETECTED) and what was counted on the way."""

    shots: pl.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return f"{self.shots.height} shots detected from tracking ({shown})"


@dataclass
class MatchShots:
    """A match's shots and where they came from: its events, or the detector (with its counts)."""

    shots: pl.DataFrame
    source: ShotSource
    detection: ShotDetection | None = None

    def describe(self) -> str:
        if self.detection is not None:
            return self.detection.describe()
        return f"{self.shots.height} shots from the match's events"


def match_shots(match: Match, rules: ShotRules | None = None) -> MatchShots:
    """The match's shots: its event shots when it has events (they always win), else :func:`detect_shots`."""
    if match.events is not None and match.events.height > 0:
        shots = match.events.filter((pl.col("type") == SHOT) & pl.col("player_id").is_not_null())
        return MatchShots(shots.sort("period", "frame"), "events")
    detection = detect_shots(match, rules)
    return MatchShots(detection.shots, "detected", detection)


# ----------------------------------------------------------------------------------------------------------------
# Detection
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Track:
    """One contiguous run of ball samples of one period, with its short-baseline velocity."""

    period: int
    frames: np.ndarray
    t: np.ndarray
    xy: np.ndarray  # [n, 2]
    z: np.ndarray  # NaN where unknown
    dead: np.ndarray  # bool, True only where the tracking says "dead"
    k: int = 1
    velocity: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # [n - k, 2]
    speed: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n - k]
    reappears: tuple[float, np.ndarray] | None = None
    """(time, position) of the ball's first sample after this run's gap, in the same period."""


@dataclass
class _Flight:
    track: _Track
    start: int
    end: int
    peak_speed: float
    direction: np.ndarray


_COUNT_KEYS = ("ball_flights", "dead_ball", "not_towards_goal", "too_far", "tight_angle", "off_target_line",
               "too_slow", "kicked_by_defender", "pass_to_teammate", "merged", "shots", "shooter_not_visible",
               "ball_lost")
MAX_TOUCHES = 4
"""A flight received by a teammate is followed on from the touch (a one-touch finish) at most this often."""


def detect_shots(match: Match, rules: ShotRules | None = None) -> ShotDetection:
    """Shots from the ball's motion alone (see the module docstring for the rules and thresholds)."""
    rules = rules or ShotRules()
    counts = dict.fromkeys(_COUNT_KEYS, 0)
    length = match.metadata.pitch_length
    keepers = set(match.players.filter(pl.col("is_goalkeeper").fill_null(False)).get_column("object_id"))
    pending = [flight for track in _ball_tracks(match.tracking, rules) for flight in _flights(track, rules)]
    lookup: dict[tuple[int, int], _Frame] = {}
    accepted: list[dict] = []
    for _ in range(MAX_TOUCHES + 1):
        candidates = []
        for flight in pending:
            counts["ball_flights"] += 1
            reason, side = _ball_rules(flight, rules, length)
            if reason:
                counts[reason] += 1
            else:
                candidates.append((flight, side))
        lookup.update(_player_lookup(match, [f for f, _ in candidates], rules, lookup))
        pending = []
        for flight, side in candidates:
            row, reason, touch = _judge(flight, "home" if side > 0 else "away", side, lookup, keepers, rules,
                                        length)
            if reason:
                counts[reason] += 1
                relaunched = _relaunch(flight, touch) if touch is not None else None
                pending += [relaunched] if relaunched is not None else []
            else:
                accepted.append(row)
    rows = _merge(sorted(accepted, key=lambda r: (r["period"], r["time_s"])), rules, counts)
    counts["shots"] = len(rows)
    counts["shooter_not_visible"] = sum(r["player_id"] is None for r in rows)
    counts["ball_lost"] = sum(r.pop("_lost") for r in rows)
    return ShotDetection(_shots_table(match.match_id, rows), counts)


def _merge(rows: list[dict], rules: ShotRules, counts: dict[str, int]) -> list[dict]:
    """Drop shots kicked less than ``merge_s`` after an accepted shot of the same team and period."""
    kept: list[dict] = []
    last: dict[tuple[int, str], float] = {}
    for row in rows:
        key = (row["period"], row["team"])
        if row["time_s"] - last.get(key, -math.inf) < rules.merge_s:
            counts["merged"] += 1
            continue
        last[key] = row["time_s"]
        kept.append(row)
    return kept


def _ball_tracks(tracking: pl.DataFrame, rules: ShotRules) -> list[_Track]:
    """The ball's samples per period, split into contiguous runs (gap > 1.5 frame periods), with velocities."""
    ball = tracking.filter(pl.col("object_id") == BALL_ID).sort("period", "time_s")
    tracks: list[_Track] = []
    for (period,), part in ball.group_by("period", maintain_order=True):
        t = part.get_column("time_s").to_numpy()
        dt = np.diff(t)
        if not np.any(dt > 0):
            continue
        step = float(np.median(dt[dt > 0]))
        cuts = np.flatnonzero((dt > 1.5 * step) | (dt <= 0)) + 1
        frames = part.get_column("frame").to_numpy()
        xy = part.select("x", "y").to_numpy().astype(np.float64)
        z = part.get_column("z").cast(pl.Float64).fill_null(np.nan).to_numpy()
        dead = (part.get_column("ball_state") == "dead").fill_null(False).to_numpy()
        k = max(1, int(round(rules.step_s / step)))
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, t.size], strict=True):
            if b - a > k:
                velocity = (xy[a + k : b] - xy[a : b - k]) / (t[a + k : b] - t[a : b - k])[:, None]
                tracks.append(_Track(int(period), frames[a:b], t[a:b], xy[a:b], z[a:b], dead[a:b], k, velocity,
                                     np.linalg.norm(velocity, axis=1),
                                     (float(t[b]), xy[b]) if b < t.size else None))
    return tracks


def _flights(track: _Track, rules: ShotRules) -> list[_Flight]:
    """Runs of fast ball motion of one track, cut at sharp turns and at new kicks (a jump in speed)."""
    speed, velocity, k = track.speed, track.velocity, track.k
    cos_turn = math.cos(math.radians(rules.turn_deg))
    flights: list[_Flight] = []
    start = None
    for i in range(speed.size + 1):
        moving = i < speed.size and speed[i] >= rules.move_speed
        if moving and start is not None:
            turned = float(velocity[i] @ velocity[start]) / (speed[i] * speed[start]) < cos_turn
            kicked = i >= start + k and speed[i] - speed[i - k] > rules.kick_gain
            if turned or kicked:
                flights.append(_flight(track, start, i - 1))
                start = i
        elif moving:
            start = i
        elif start is not None:
            flights.append(_flight(track, start, i - 1))
            start = None
    return flights


def _flight(track: _Track, a: int, b: int) -> _Flight:
    """The flight whose fast samples are ``a..b``: it ends ``k`` samples after ``b`` (the baseline's far end)."""
    return _Flight(track, a, min(b + track.k, track.t.size - 1), float(track.speed[a : b + 1].max()),
                   track.velocity[a] / track.speed[a])


def _relaunch(flight: _Flight, touch: int) -> _Flight | None:
    """The rest of a flight after a teammate's touch, when the ball is still moving fast there."""
    track = flight.track
    last_fast = min(flight.end - track.k, track.speed.size - 1)
    if touch >= last_fast or track.speed[touch] <= 0:
        return None
    return _flight(track, touch, last_fast)


def _ball_rules(flight: _Flight, rules: ShotRules, length: float) -> tuple[str | None, float]:
    """The first ball rule the flight fails (None when it passes) and the side (+1 / -1) of the goal it heads to."""
    track, a = flight.track, flight.start
    ux, uy = flight.direction
    side = 1.0 if ux > 0 else -1.0
    x0, y0 = track.xy[a]
    if track.dead[a] and track.dead[min(a + 1, track.t.size - 1)]:
        return "dead_ball", side
    if abs(ux) < 1e-6 or side * x0 <= 0:
        return "not_towards_goal", side
    goal_x = side * length / 2.0
    if math.hypot(goal_x - x0, y0) > rules.max_distance:
        return "too_far", side
    if goal_angle_deg(abs(goal_x - x0), y0) < rules.min_goal_angle_deg:
        return "tight_angle", side
    y_cross = y0 + (goal_x - x0) / ux * uy
    if abs(y_cross) > GOAL_HALF_WIDTH + rules.aim_margin:
        return "off_target_line", side
    if flight.peak_speed < rules.min_peak_speed:
        return "too_slow", side
    return None, side


def goal_angle_deg(distance: float, y: float) -> float:
    """The angle (degrees) the goal mouth subtends from a point ``distance`` metres in front of the goal line at
    lateral offset ``y``: ``atan2(y + w, d) - atan2(y - w, d)`` with ``w = 3.66`` (|y| symmetric)."""
    y = abs(y)
    return math.degrees(math.atan2(y + GOAL_HALF_WIDTH, distance) - math.atan2(y - GOAL_HALF_WIDTH, distance))


# Players near candidate flights: (period, frame) -> (ids, teams, xy [m, 2])
_Frame = tuple[list[str], np.ndarray, np.ndarray]


def _player_lookup(match: Match, flights: Sequence[_Flight], rules: ShotRules,
                   known: dict[tuple[int, int], _Frame]) -> dict[tuple[int, int], _Frame]:
    """Player positions at every frame the candidates' rules look at (the lookback before the kick, the follow-up)
    that ``known`` does not hold yet; a frame with no player rows maps to empty arrays."""
    wanted: set[tuple[int, int]] = set()
    for flight in flights:
        track = flight.track
        t0 = track.t[flight.start]
        near = (track.t >= t0 - rules.lookback_s - 0.2) & (track.t <= t0 + rules.follow_s + 0.2)
        wanted.update((track.period, int(f)) for f in track.frames[near])
    wanted -= set(known)
    if not wanted:
        return {}
    keys = pl.DataFrame(list(wanted), schema={"period": pl.Int8(), "frame": pl.Int64()}, orient="row")
    rows = match.tracking.filter(pl.col("team") != "ball").join(keys, on=["period", "frame"], how="semi")
    lookup: dict[tuple[int, int], _Frame] = dict.fromkeys(wanted, ([], np.zeros(0, str), np.zeros((0, 2))))
    for (period, frame), part in rows.group_by("period", "frame"):
        lookup[(int(period), int(frame))] = (part.get_column("object_id").to_list(),
                                            part.get_column("team").to_numpy(),
                                            part.select("x", "y").to_numpy().astype(np.float64))
    return lookup


def _nearest(lookup: dict[tuple[int, int], _Frame], period: int, frame: int, ball: np.ndarray,
             radius: float) -> tuple[str, str] | None:
    """(object_id, team) of the player nearest the ball within ``radius`` at one frame, or None."""
    entry = lookup.get((period, frame))
    if entry is None or not entry[0]:
        return None
    ids, teams, xy = entry
    distance = np.linalg.norm(xy - ball, axis=1)
    i = int(distance.argmin())
    return (ids[i], str(teams[i])) if distance[i] <= radius else None


def _kicker(flight: _Flight, team: str, lookup, rules: ShotRules) -> tuple[str | None, bool]:
    """(shooter, kicked_by_defender): going back ``lookback_s`` from the kick, the first frame with a player within
    ``kicker_radius`` of the ball names its nearest attacker, or, with only defenders there, a defender's kick."""
    track, a = flight.track, flight.start
    for i in range(a, -1, -1):
        if track.t[a] - track.t[i] > rules.lookback_s:
            break
        entry = lookup.get((track.period, int(track.frames[i])))
        if entry is None or not entry[0]:
            continue
        ids, teams, xy = entry
        distance = np.linalg.norm(xy - track.xy[i], axis=1)
        near = distance <= rules.kicker_radius
        if not near.any():
            continue
        attackers = near & (teams == team)
        if not attackers.any():
            return None, True
        return ids[int(np.where(attackers, distance, np.inf).argmin())], False
    return None, False


def _judge(flight: _Flight, team: str, side: float, lookup, keepers: set[str], rules: ShotRules,
           length: float) -> tuple[dict, str | None, int | None]:
    """The shot row of a candidate (kicker and outcome rules) or the reason it is not a shot, and for a pass the
    sample where the teammate got the ball."""
    shooter, by_defender = _kicker(flight, team, lookup, rules)
    if by_defender:
        return {}, "kicked_by_defender", None
    result, end, lost = _outcome(flight, team, side, lookup, keepers, rules, length)
    if result == "PASS":
        return {}, "pass_to_teammate", end
    track, a = flight.track, flight.start
    (x0, y0), (x1, y1) = track.xy[a], track.xy[end]
    return {"period": track.period, "frame": int(track.frames[a]), "end_frame": int(track.frames[end]),
            "time_s": float(track.t[a]), "team": team, "result": result, "player_id": shooter,
            "start_x": float(x0), "start_y": float(y0), "end_x": float(x1), "end_y": float(y1),
            "_lost": lost}, None, None


def _outcome(flight: _Flight, team: str, side: float, lookup, keepers: set[str], rules: ShotRules,
             length: float) -> tuple[str, int, bool]:
    """What happens next to the ball: GOAL / OUT / SAVED / BLOCKED / PASS / UNKNOWN, the sample where it is seen,
    and whether the ball track ended first (``UNKNOWN`` then means the ball was lost)."""
    track, a = flight.track, flight.start
    goal_x = side * length / 2.0
    for i in range(a + 1, track.t.size):
        if track.t[i] - track.t[a] > rules.follow_s:
            return "UNKNOWN", i - 1, False
        if side * track.xy[i, 0] >= length / 2.0:
            p, q = track.xy[i - 1], track.xy[i]
            w = (goal_x - p[0]) / (q[0] - p[0]) if q[0] != p[0] else 1.0
            y = p[1] + w * (q[1] - p[1])
            in_mouth = abs(y) <= GOAL_HALF_WIDTH + GOAL_TOLERANCE and not (track.z[i] > GOAL_HEIGHT + GOAL_TOLERANCE)
            return ("GOAL" if in_mouth else "OUT"), i, False
        if np.linalg.norm(track.xy[i] - track.xy[a]) < rules.release_m:
            continue
        near = _nearest(lookup, track.period, int(track.frames[i]), track.xy[i], rules.touch_radius)
        if near is not None and _touched(track, i, rules):
            player, near_team = near
            if near_team == team:
                return "PASS", i, False
            return ("SAVED" if player in keepers else "BLOCKED"), i, False
    if track.reappears is not None and track.reappears[0] - track.t[-1] <= rules.reappear_s:
        x, y = track.reappears[1]
        if side * x >= length / 2.0 and abs(y) <= GOAL_HALF_WIDTH + GOAL_TOLERANCE:
            return "GOAL", track.t.size - 1, False
    return "UNKNOWN", track.t.size - 1, True


def _touched(track: _Track, i: int, rules: ShotRules) -> bool:
    """Whether the ball's motion changes at sample ``i`` (turns more than ``turn_deg`` or loses half its speed
    over ``k`` samples either side): a ball flying past a player unchanged was not touched."""
    before, after = i - track.k, i
    if before < 0 or after >= track.speed.size or track.speed[before] <= 0 or track.speed[after] <= 0:
        return True
    cos = float(track.velocity[before] @ track.velocity[after]) / (track.speed[before] * track.speed[after])
    return cos < math.cos(math.radians(rules.turn_deg)) or track.speed[after] < 0.5 * track.speed[before]


def _shots_table(match_id: str, rows: list[dict]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    table = pl.DataFrame(rows, orient="row").with_columns(
        match_id=pl.lit(match_id), type=pl.lit(SHOT), subtype=pl.lit(DETECTED_SUBTYPE),
    ).with_row_index("n")
    table = table.with_columns(event_id=pl.format("detected-{}", pl.col("n")))
    return conform(table, EVENTS_SCHEMA).sort("period", "frame")


# ----------------------------------------------------------------------------------------------------------------
# Validation against event shots
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShotScore:
    """Detected vs true shots of one match: matched within a tolerance, one to one, same period."""

    true_shots: int
    detected: int
    matched: int
    team_agrees: int
    shooter_agrees: int

    @property
    def precision(self) -> float:
        return self.matched / self.detected if self.detected else math.nan

    @property
    def recall(self) -> float:
        return self.matched / self.true_shots if self.true_shots else math.nan


def score_detection(detected: pl.DataFrame, truth: pl.DataFrame, frame_rate: float,
                    tolerance_s: float = 1.0) -> ShotScore:
    """Match detected to true shots (``EVENTS_SCHEMA`` rows) within ``tolerance_s``, nearest pairs first."""
    if frame_rate <= 0:
        raise InvalidParameterError(f"frame rate must be positive, got {frame_rate}")
    tolerance = tolerance_s * frame_rate
    pairs = []
    d_rows = detected.select("period", "frame", "team", "player_id").rows()
    t_rows = truth.select("period", "frame", "team", "player_id").rows()
    for i, d in enumerate(d_rows):
        for j, t in enumerate(t_rows):
            gap = abs(d[1] - t[1])
            if d[0] == t[0] and gap <= tolerance:
                pairs.append((gap, i, j))
    used_d: set[int] = set()
    used_t: set[int] = set()
    team = shooter = 0
    for _, i, j in sorted(pairs):
        if i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        team += d_rows[i][2] == t_rows[j][2]
        shooter += d_rows[i][3] is not None and d_rows[i][3] == t_rows[j][3]
    return ShotScore(len(t_rows), len(d_rows), len(used_d), team, shooter)
