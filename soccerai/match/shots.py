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

Goals from broadcast tracking (:func:`infer_goals`, :func:`shot_report`). Broadcast tracking (SkillCorner) often
never sees the ball go in: the camera follows the celebration and cuts away to replays (gaps of 30-120 s), and comes
back for, or after, the kick-off from the centre spot by the side that conceded. Per ball gap of at least
``min_gap_s`` (20 s) and per sighting of the ball in a goal, the evidence is:

1. **crossed line**: a detected shot crossing the goal line inside the mouth (outcome rule above), or the ball seen
   inside a goal (behind the line, between the posts, at most ``net_depth_m`` deep, under the bar where its height is
   known) for at least ``in_net_s`` after arriving from the field;
2. **lost near goal**: the ball's last sample before the gap is within ``near_goal_m`` (20 m) of a goal's centre,
   its motion over the last ``lost_window_s`` (1 s) heads towards that goal and its peak speed there is at least
   ``lost_speed`` (8 m/s: a shot, not a dribble);
3. **centre kick-off**: within ``restart_window_s`` after the gap the ball stays within ``centre_radius_m`` (2 m)
   of the centre spot for ``still_s`` (0.3 s), at rest there (its slowest step at most ``still_speed``, 3 m/s: tracking jitter) or
   just kicked off, while the visible players stand in their own halves
   (at least ``own_half_share`` of them, 1 m tolerance); the kicking side is the team of the nearest player within
   3 m of the ball (else the side named by ``ball_owning_team`` right after). A centre kick-off inside a period
   follows a goal and nothing else, so a seen one after a gap is a goal for the other side on its own;
4. **play resumed in midfield** (a weaker 3: the camera came back after the kick-off): the first ball sample after
   the gap within ``midfield_m`` of the halfway line (a goal kick or a corner restarts at a goal);
   used only together with 2.

A "crossed line" is void when the ball is next seen at rest at a goal kick or a corner of that same goal within
``restart_window_s`` (:func:`_set_piece_after`: the shot went out through, or past, the mouth; a goal is restarted
from the centre spot, never from there).

A goal is inferred from 1, from 3, or from 2 with 4; the goal's team is the attacker of the goal the evidence names
(for 3: the side that did not kick off). A goal becomes the outcome of the detected shot of that team shortly before
(``shot_link_s``); without one, an inferred shot row is added at the ball's last sample, its shooter the last
attacker within ``kicker_radius`` of the ball (else no shooter, with the reason). :func:`score_check` compares goals
per team with the final score in the metadata (``extra["score"]``, ``"home-away"``), and says so when there is none.

Validation (``benchmarks/shots.py``): precision and recall against event shots within +-1 s, on simulated matches
driven by real Metrica event timelines, clean and through the broadcast measurement model with cut-aways, the goal
F1 there, and the real SkillCorner match's goals per team against its final score.
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


def _check_positive(rules: object, what: str) -> None:
    """Every field of a rules dataclass must be a positive finite number."""
    bad = {k: v for k, v in asdict(rules).items() if not (math.isfinite(v) and v > 0)}
    if bad:
        raise InvalidParameterError(f"{what} must be positive finite numbers, got {bad}")


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
        _check_positive(self, "shot rules")


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


def match_shots(match: Match, rules: ShotRules | None = None, goals: bool = True) -> MatchShots:
    """The match's shots: its event shots when it has events (they always win), else :func:`detect_shots` with the
    goals of :func:`infer_goals` (``goals``) setting their outcomes and adding the goals no shot explains, as
    :func:`shot_report` lists them, so every face (timeline, OBSO, C-OBSO, demo) knows which shots are goals."""
    if match.events is not None and match.events.height > 0:
        shots = match.events.filter((pl.col("type") == SHOT) & pl.col("player_id").is_not_null())
        return MatchShots(shots.sort("period", "frame"), "events")
    detection = detect_shots(match, rules)
    shots = detection.shots
    if goals and match.tracking.filter(pl.col("object_id") == BALL_ID).height > 0:
        with_goals = _with_goals(match, shots, infer_goals(match, shots), rules or ShotRules())
        shots = with_goals.select(shots.columns).sort("period", "frame")
    return MatchShots(shots, "detected", detection)


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


# ----------------------------------------------------------------------------------------------------------------
# Goals from broadcast tracking: crossed line, ball lost near goal + long gap, centre kick-off by the other side
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GoalRules:
    """Thresholds of the goal evidence (metres, seconds, m/s); see the module docstring."""

    min_gap_s: float = 20.0
    near_goal_m: float = 20.0
    lost_window_s: float = 1.0
    lost_speed: float = 8.0
    heading_cos: float = 0.3
    restart_window_s: float = 12.0
    centre_radius_m: float = 2.0
    still_speed: float = 3.0
    still_s: float = 0.3
    own_half_share: float = 0.8
    midfield_m: float = 27.5
    net_depth_m: float = 2.5
    in_net_s: float = 0.5
    shot_link_s: float = 12.0
    kicker_radius: float = 2.5

    def __post_init__(self) -> None:
        _check_positive(self, "goal rules")


@dataclass(frozen=True)
class Goal:
    """One inferred goal: the scoring side, where the evidence puts it on the clock, and the evidence in words."""

    period: int
    frame: int
    time_s: float
    team: str
    evidence: str
    x: float
    y: float
    kinds: tuple[str, ...]  # "crossed line", "lost near goal", "gap", "centre kick-off", "midfield restart"


def _other(side: str) -> str:
    return "away" if side == "home" else "home"


def _attacker_of(goal_sign: float) -> str:
    """The side attacking the goal at ``x = goal_sign * L/2`` (static orientation: home attacks +x)."""
    return "home" if goal_sign > 0 else "away"


@dataclass
class _Ball:
    period: int
    frames: np.ndarray
    t: np.ndarray
    xy: np.ndarray
    z: np.ndarray
    owner: np.ndarray  # "home" / "away" / "" per sample


def _ball_periods(tracking: pl.DataFrame) -> list[_Ball]:
    ball = tracking.filter(pl.col("object_id") == BALL_ID).sort("period", "time_s")
    out = []
    for (period,), part in ball.group_by("period", maintain_order=True):
        out.append(_Ball(int(period), part["frame"].to_numpy(), part["time_s"].to_numpy(),
                         part.select("x", "y").to_numpy().astype(np.float64),
                         part["z"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                         part["ball_owning_team"].fill_null("").to_numpy()))
    return out


def _peak_speed(t: np.ndarray, xy: np.ndarray) -> float:
    """Peak speed over a two-sample baseline (damps single-sample jitter); 0 with fewer than 3 samples."""
    if t.size < 3:
        return 0.0
    dt = t[2:] - t[:-2]
    ok = dt > 0
    return float((np.linalg.norm(xy[2:] - xy[:-2], axis=1)[ok] / dt[ok]).max()) if ok.any() else 0.0


def _lost_near_goal(b: _Ball, i: int, length: float, rules: GoalRules) -> tuple[float, float, float] | None:
    """(goal sign, speed, distance) when the ball's last sample ``i`` before a gap shows a ball lost near a goal."""
    x, y = b.xy[i]
    sign = 1.0 if x > 0 else -1.0
    goal = np.array([sign * length / 2.0, 0.0])
    distance = float(np.linalg.norm(goal - b.xy[i]))
    if distance > rules.near_goal_m:
        return None
    window = (b.t >= b.t[i] - rules.lost_window_s) & (np.arange(b.t.size) <= i)
    t, xy = b.t[window], b.xy[window]
    speed = _peak_speed(t, xy)
    move = xy[-1] - xy[0]
    to_goal = goal - xy[0]
    norm = np.linalg.norm(move) * np.linalg.norm(to_goal)
    if speed < rules.lost_speed or norm <= 0 or float(move @ to_goal) / norm < rules.heading_cos:
        return None
    return sign, speed, distance


def _players_at(tracking: pl.DataFrame, period: int, frame: int) -> pl.DataFrame:
    return tracking.filter((pl.col("period") == period) & (pl.col("frame") == frame) & (pl.col("team") != "ball"))


def _restart(tracking: pl.DataFrame, b: _Ball, j: int, rules: GoalRules) -> tuple[str, str | None, float, float]:
    """What the first ``restart_window_s`` after a gap (first sample ``j``) show: ``("kick-off", side)`` for a
    seen centre kick-off (side: who kicks off, None if unseen), ``("midfield", None)`` when play resumes within
    ``midfield_m`` of the halfway line, else ``("other", None)``; plus the restart's time and the gap's length."""
    t0 = b.t[j]
    window = np.flatnonzero((b.t >= t0) & (b.t <= t0 + rules.restart_window_s))
    at_centre = np.linalg.norm(b.xy[window], axis=1) <= rules.centre_radius_m
    step = np.linalg.norm(np.diff(b.xy[window], axis=0), axis=1) / np.maximum(np.diff(b.t[window]), 1e-6)
    n = 0
    while n < window.size:
        if not at_centre[n]:
            n += 1
            continue
        m = n
        while m + 1 < window.size and at_centre[m + 1]:
            m += 1
        slow = m == n or float(step[n:m].min()) <= rules.still_speed
        if b.t[window[m]] - b.t[window[n]] + 1e-9 >= rules.still_s and slow:
            k = window[n]
            players = _players_at(tracking, b.period, int(b.frames[k]))
            if players.height >= 4:
                own = ((players["team"] == "home") & (players["x"] <= 1.0)) | (
                    (players["team"] == "away") & (players["x"] >= -1.0))
                if own.mean() >= rules.own_half_share:
                    return "kick-off", _kicker_side(tracking, b, window[n:], players), float(b.t[k]), 0.0
        n = m + 1
    if abs(b.xy[j, 0]) <= rules.midfield_m:
        return "midfield", None, float(t0), 0.0
    return "other", None, float(t0), 0.0


def _kicker_side(tracking: pl.DataFrame, b: _Ball, samples: np.ndarray, players: pl.DataFrame) -> str | None:
    """The team of the nearest player within 3 m of the ball on the centre spot, else ``ball_owning_team`` there."""
    for k in samples[:20]:
        frame_players = _players_at(tracking, b.period, int(b.frames[k])) if k != samples[0] else players
        if frame_players.height:
            d = np.hypot(frame_players["x"].to_numpy() - b.xy[k, 0], frame_players["y"].to_numpy() - b.xy[k, 1])
            if d.min() <= 3.0:
                return str(frame_players["team"][int(d.argmin())])
    owners = [o for o in b.owner[samples[:30]] if o in ("home", "away")]
    return max(set(owners), key=owners.count) if owners else None


def _in_net(b: _Ball, length: float, rules: GoalRules) -> list[tuple[int, float]]:
    """(sample, goal sign) where the ball arrives inside a goal from the field and stays ``in_net_s`` there."""
    half = length / 2.0
    ax = np.abs(b.xy[:, 0])
    inside = (ax > half) & (ax <= half + rules.net_depth_m) & (np.abs(b.xy[:, 1]) <= GOAL_HALF_WIDTH + GOAL_TOLERANCE)
    inside &= ~(b.z > GOAL_HEIGHT + GOAL_TOLERANCE)
    found = []
    i = 0
    while i < b.t.size:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j + 1 < b.t.size and inside[j + 1] and np.sign(b.xy[j + 1, 0]) == np.sign(b.xy[i, 0]):
            j += 1
        came_from_field = i > 0 and ax[i - 1] <= half and b.t[i] - b.t[i - 1] <= 10.0
        if came_from_field and b.t[j] - b.t[i] + 1e-9 >= rules.in_net_s:
            found.append((i, float(np.sign(b.xy[i, 0]))))
        i = j + 1
    return found


def _set_piece_after(balls: list[_Ball], period: int, t: float, x: float, length: float, width: float,
                     rules: GoalRules) -> bool:
    """Whether, within ``restart_window_s`` after time ``t`` (a crossing at end ``sign(x)``), the ball rests at a goal
    kick (in the 6-yard box, 1 m tolerance) or a corner (within 2 m of a corner flag) of that same goal."""
    sign = 1.0 if x >= 0 else -1.0
    half_l, half_w = length / 2.0, width / 2.0
    for b in balls:
        if b.period != period:
            continue
        window = np.flatnonzero((b.t > t + 0.5) & (b.t <= t + rules.restart_window_s))
        if window.size < 2:
            continue
        xy = b.xy[window]
        ax = sign * xy[:, 0]
        goal_kick = (ax >= half_l - 5.5 - 1.0) & (ax <= half_l + 0.5) & (np.abs(xy[:, 1]) <= 9.16 + 1.0)
        corner = (ax >= half_l - 2.0) & (np.abs(xy[:, 1]) >= half_w - 2.0)
        speed = np.r_[np.linalg.norm(np.diff(xy, axis=0), axis=1) / np.maximum(np.diff(b.t[window]), 1e-6), np.inf]
        rest = (goal_kick | corner) & (speed <= rules.still_speed)
        run = 0.0
        for k in range(window.size - 1):
            run = run + float(b.t[window[k + 1]] - b.t[window[k]]) if rest[k] else 0.0
            if run >= rules.still_s:
                return True
    return False


def infer_goals(match: Match, shots: pl.DataFrame | None = None, rules: GoalRules | None = None) -> list[Goal]:
    """Goals from the tracking alone (see the module docstring): per ball gap of ``min_gap_s`` and per ball seen in a
    goal; ``shots`` (detected shots, ``EVENTS_SCHEMA``) adds their ``GOAL`` outcomes as "crossed line" evidence."""
    rules = rules or GoalRules()
    length = match.metadata.pitch_length
    goals: list[Goal] = []
    crossings: list[tuple[int, float, str, int, float, float]] = []  # period, time, team, frame, x, y
    if shots is not None:
        for row in shots.filter(pl.col("result") == "GOAL").iter_rows(named=True):
            crossings.append((row["period"], row["time_s"], row["team"], row["frame"], row["end_x"] or 0.0,
                              row["end_y"] or 0.0))
    balls = _ball_periods(match.tracking)
    for b in balls:
        for i, sign in _in_net(b, length, rules):
            crossings.append((b.period, float(b.t[i]), _attacker_of(sign), int(b.frames[i]), *map(float, b.xy[i])))
    used: set[int] = set()
    for b in balls:
        gaps = np.flatnonzero(np.diff(b.t) >= rules.min_gap_s)
        for i in gaps:
            gap_s = float(b.t[i + 1] - b.t[i])
            lost = _lost_near_goal(b, i, length, rules)
            kind, kicker, _, _ = _restart(match.tracking, b, i + 1, rules)
            near = [n for n, c in enumerate(crossings)
                    if n not in used and c[0] == b.period and b.t[i] - rules.shot_link_s <= c[1] <= b.t[i] + 1e-6]
            crossed = crossings[near[-1]] if near else None
            team = None
            words: list[str] = []
            kinds: list[str] = []
            if crossed is not None:
                team = crossed[2]
                words.append("crossed line")
                kinds.append("crossed line")
            if lost is not None:
                sign, speed, distance = lost
                lost_team = _attacker_of(sign)
                if team is None or team == lost_team:
                    team = lost_team
                    words.append(f"lost at {speed:.0f} m/s {distance:.0f} m from goal")
                    kinds.append("lost near goal")
            if kind == "kick-off":
                scorer = _other(kicker) if kicker is not None else team
                if scorer is None:
                    continue
                if team is not None and scorer != team:  # the evidence disagrees: trust the restart
                    words, kinds = [], []
                team = scorer
                words += [f"{gap_s:.0f} s gap", f"centre kick-off by {_other(team)}"]
                kinds += ["gap", "centre kick-off"]
            elif kind == "midfield" and "lost near goal" in kinds:
                words += [f"{gap_s:.0f} s gap", "play resumed in midfield (kick-off not seen)"]
                kinds += ["gap", "midfield restart"]
            elif crossed is not None and not _set_piece_after(balls, crossed[0], crossed[1], crossed[4], length,
                                                              match.metadata.pitch_width, rules):
                words.append(f"{gap_s:.0f} s gap")
                kinds.append("gap")
            else:
                continue
            if crossed is not None and crossed[2] == team:
                used.add(near[-1])
                frame, t, x, y = crossed[3], crossed[1], crossed[4], crossed[5]
            else:
                frame, t, (x, y) = int(b.frames[i]), float(b.t[i]), b.xy[i]
            goals.append(Goal(b.period, int(frame), float(t), team, " + ".join(words), float(x), float(y),
                              tuple(kinds)))
    width = match.metadata.pitch_width
    for n, c in enumerate(crossings):
        if n not in used and not any(g.period == c[0] and abs(g.time_s - c[1]) < rules.shot_link_s
                                     and g.team == c[2] for g in goals) \
                and not _set_piece_after(balls, c[0], c[1], c[4], length, width, rules):
            goals.append(Goal(c[0], c[3], c[1], c[2], "crossed line", c[4], c[5], ("crossed line",)))
            used.add(n)
    return sorted(goals, key=lambda g: (g.period, g.time_s))


@dataclass
class ShotReport:
    """A match's shots with their evidence, the goals per team and the final score where the metadata has one.

    ``table``: ``EVENTS_SCHEMA`` columns plus ``evidence`` (why the outcome is what it is) and ``shooter_note``
    (why no shooter is named, else null); ``source``: ``"events"`` or ``"detected"``."""

    table: pl.DataFrame
    source: ShotSource
    goals: dict[str, int]
    score: tuple[int, int] | None
    detection: ShotDetection | None = None

    def score_line(self, home: str = "home", away: str = "away") -> str:
        found = f"goals found: {home} {self.goals['home']}, {away} {self.goals['away']}"
        if self.score is None:
            return f"{found}; the metadata has no final score, check skipped"
        agrees = (self.goals["home"], self.goals["away"]) == self.score
        return (f"{found}; final score {self.score[0]}-{self.score[1]} "
                f"({'matches' if agrees else 'does not match'})")


def final_score(match: Match) -> tuple[int, int] | None:
    """(home, away) from ``metadata.extra["score"]`` (``"4-0"``), or None where the provider gave no score."""
    score = match.metadata.extra.get("score")
    if not isinstance(score, str) or "-" not in score:
        return None
    try:
        home, away = (int(part) for part in score.split("-", 1))
    except ValueError:
        return None
    return home, away


def shot_report(match: Match, rules: ShotRules | None = None, goal_rules: GoalRules | None = None) -> ShotReport:
    """The match's shots with evidence: its events where it has them (they always win: evidence ``"events"``),
    else :func:`detect_shots` with :func:`infer_goals` setting outcomes and adding the goals no shot explains."""
    from soccerai.errors import InvalidInputError

    found = match_shots(match, rules, goals=False)
    if found.source == "events":
        table = found.shots.with_columns(evidence=pl.lit("events"), shooter_note=pl.lit(None, pl.String()))
    else:
        if match.tracking.filter(pl.col("object_id") == BALL_ID).height == 0:
            raise InvalidInputError(f"match {match.match_id} has no ball tracking: no shots can be found from it")
        table = _with_goals(match, found.shots, infer_goals(match, found.shots, goal_rules), rules or ShotRules())
    goals = table.filter(pl.col("result") == "GOAL")
    per_team = {side: goals.filter(pl.col("team") == side).height for side in ("home", "away")}
    return ShotReport(table, found.source, per_team, final_score(match), found.detection)


def _with_goals(match: Match, shots: pl.DataFrame, goals: list[Goal], rules: ShotRules) -> pl.DataFrame:
    """Detected shots with the goals' outcome and evidence; goals without a shot become inferred shot rows."""
    shots = shots.with_columns(
        evidence=pl.when(pl.col("result") == "GOAL").then(pl.lit("crossed line"))
        .when(pl.col("result") == "OUT").then(pl.lit("crossed goal line outside the mouth"))
        .when(pl.col("result").is_in(["SAVED", "BLOCKED"])).then(pl.lit("touched by a defender"))
        .otherwise(pl.lit("ball track lost or no touch seen")),
        shooter_note=pl.when(pl.col("player_id").is_null()).then(pl.lit(
            f"not visible: no player within {rules.kicker_radius:g} m of the ball in the {rules.lookback_s:g} s "
            "before the kick")),
    )
    link = GoalRules().shot_link_s
    extra = []
    for goal in goals:
        candidates = shots.with_row_index("i").filter(
            (pl.col("period") == goal.period) & (pl.col("team") == goal.team)
            & pl.col("time_s").is_between(goal.time_s - link, goal.time_s + 1.0))
        if candidates.height:
            i = int(candidates.sort("time_s")["i"][-1])
            shots = shots.with_columns(
                result=pl.when(pl.int_range(pl.len()) == i).then(pl.lit("GOAL")).otherwise(pl.col("result")),
                evidence=pl.when(pl.int_range(pl.len()) == i).then(pl.lit(goal.evidence)).otherwise(pl.col("evidence")),
            )
            continue
        shooter, note = _last_attacker(match, goal, rules.kicker_radius)
        extra.append({"match_id": match.match_id, "event_id": f"inferred-goal-{len(extra)}", "period": goal.period,
                      "frame": goal.frame, "end_frame": goal.frame, "time_s": goal.time_s, "team": goal.team,
                      "type": SHOT, "subtype": "INFERRED", "result": "GOAL", "player_id": shooter,
                      "start_x": goal.x, "start_y": goal.y, "end_x": goal.x, "end_y": goal.y,
                      "evidence": goal.evidence, "shooter_note": note})
    if extra:
        schema = {**EVENTS_SCHEMA, "evidence": pl.String(), "shooter_note": pl.String()}
        shots = pl.concat([conform(shots, schema), conform(pl.DataFrame(extra), schema)])
    return shots.sort("period", "time_s")


def _last_attacker(match: Match, goal: Goal, radius: float) -> tuple[str | None, str | None]:
    """The attacker nearest the ball within ``radius`` at the last frames up to the goal's frame (3 s back), with
    no note; else (None, the reason)."""
    fps = match.metadata.frame_rate or 10.0
    near = match.tracking.filter((pl.col("period") == goal.period)
                                 & pl.col("frame").is_between(goal.frame - int(3 * fps), goal.frame))
    ball = near.filter(pl.col("object_id") == BALL_ID).select("frame", bx="x", by="y")
    people = near.filter(pl.col("team") != "ball").join(ball, on="frame")
    if ball.height == 0:
        return None, "not visible: the ball was not tracked in the 3 s before it was lost"
    people = people.with_columns(d=((pl.col("x") - pl.col("bx")) ** 2 + (pl.col("y") - pl.col("by")) ** 2).sqrt())
    close = people.filter(pl.col("d") <= radius).sort("frame", "d", descending=[True, False])
    if close.height == 0:
        return None, f"not visible: no player within {radius:g} m of the ball in the 3 s before it was lost"
    last = close.filter(pl.col("frame") == close["frame"][0])
    attackers = last.filter(pl.col("team") == goal.team)
    if attackers.height == 0:
        return None, "not visible: only defenders near the ball before it was lost (own goal or deflection?)"
    return str(attackers["object_id"][0]), None
