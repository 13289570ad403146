"""Re-play: a moment of a simulated match played again, with chosen players forced along given paths.

The synthesizer (:mod:`soccerai.synth.engine`) plays a period frame by frame: at every ``COARSE_STEP`` frames a
tactical step sets each player's target and urgency from the current positions and velocities (markers react to
the attackers they mark, attackers keep level with the last defender, pressers go to the ball, ...), then an
acceleration-limited pursuit moves all 22 players at 25 Hz. Every random draw of the period (runs in behind, the
targets' wander, reaction clocks, intentions, team shifts) is drawn up front
(:class:`soccerai.synth.engine.PeriodLoop`), so the loop's whole state between two frames is a
:class:`soccerai.synth.engine.LoopState`: positions, velocities, the target and urgency being chased and each
player's held decision. The ball path and who owns it come from the event timeline and do not depend on the
players.

**Re-play** (:meth:`MatchReplay.replay`). For a moment ``m`` (a frame of the match) and a horizon of ``H`` frames:

1. the state at ``m`` is rebuilt from the snapshot taken before the last tactical step at or before ``m``, playing
   the few frames up to ``m`` unchanged (bit for bit the original state);
2. frames ``m+1 .. m+H`` are played by the same loop (same draws, same ball, same possession) with a hook that,
   after each frame's pursuit step and before anyone reads it, puts every forced slot ``j`` on its path:
   ``p_j(k) = path_j(k) - delta_j(k)``, ``v_j(k) = (p_j(k) - p_j(k-1)) * 25``; the other 21 players see the forced
   players at every tactical step and respond under the same calibrated tactics;
3. event constraints ("pins") after the moment. The original's positions are ``P = R + delta``: the engine's own
   positions ``R`` plus the smooth pinning bumps ``delta`` that make every event spot exact
   (:func:`soccerai.synth.kinematics.pin_to_positions`). The re-play keeps ``delta`` as a displacement field:
   ``P'(k) = R'(k) + delta(k)``. So a player whose engine path does not change still meets his events exactly,
   and the response of a player is purely tactical, ``P'(k) - P(k) = R'(k) - R(k)`` (the answer to "what would
   the defenders have done"); the forced players' paths are given in the pinned (output) space, hence
   ``p_j = path_j - delta_j`` inside the engine: forcing a player along his own original path reproduces the
   original. Players still head for their next event spots as in the original (the ball is fixed, so a receiver
   still goes to meet the pass). With nothing forced the re-play reproduces the original frames exactly
   (``R' == R`` bit for bit, and there ``P' = P`` is returned as stored).

**Alternatives** (:meth:`MatchReplay.alternative`). For an off-ball player A1 at a moment, an alternative run is
drawn from the synthesizer's own policy with A1's random draws changed from the first tactical step after the
moment (and A1 re-reading the situation there): ``stay`` (no run in behind, his target wander and intention frozen
at their values at the moment), ``check_back`` (no run, his target moved ``CHECK_BACK_M`` towards the ball: he
comes short), ``run_in_behind`` (a run in behind starts, the engine's own run of ``RUN_DURATION_S``) and ``drift``
(no run, a fresh continuation of his Ornstein-Uhlenbeck target wander and a fresh intention offset from the
behaviour's ``N(0, intention_sigma_m^2)``). The alternative is re-played without forcing; its path of A1 is the
run that :meth:`replay` then imposes (the two re-plays agree: the others only ever see A1's positions).

Limits: the ball and possession are the original's (the pass still goes where it went; A1 should be off the ball
over the horizon, see :meth:`MatchReplay.off_ball`); the pinning displacement ``delta`` of a player is kept even
where his path changed (an event of a non-forced player after the moment is then missed by exactly his tactical
response); tactics are the engine's, a small model, so "the truth" is the synthesizer's truth.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soccerai.errors import InvalidParameterError
from soccerai.match.schema import Match
from soccerai.synth.behaviour import Behaviour
from soccerai.synth.engine import COARSE_STEP, DRIFT_TAU_S, RUN_DURATION_S, LoopState, PeriodLoop, PeriodTrace
from soccerai.synth.timeline import Timeline

MAX_FORCED_SPEED = 12.0
"""m/s: a forced path faster than this between two frames is impossible (elite sprinters peak near 10-11 m/s)."""
CHECK_BACK_M = 8.0
"""How far towards the ball a ``check_back`` alternative moves A1's target (metres)."""
ALTERNATIVE_KINDS = ("stay", "check_back", "run_in_behind", "drift")


@dataclass
class Snapshot:
    """The state of a simulated match after frame ``frame`` (match clock) of ``period``: the engine's loop state
    (engine positions, velocities, targets, held decisions), the ball (provider orientation) and the team in
    possession; the random streams' states are the period loop's pre-drawn series, shared by every re-play."""

    period: int
    frame: int
    state: LoopState
    ball: np.ndarray
    owner: int


@dataclass
class Replay:
    """Frames ``moment + 1 .. moment + horizon`` of one re-play, provider orientation (slot order of the engine)."""

    period: int
    moment: int
    frames: np.ndarray  # (H,) match frames
    pos: np.ndarray  # (H, 22, 2) positions, pinning displacement kept (comparable to the original)
    raw: np.ndarray  # (H, 22, 2) the engine's own positions
    ball: np.ndarray  # (H, 2)
    forced: tuple[int, ...]


class MatchReplay:
    """A simulated match that can be re-played from any moment (:func:`MatchReplay.synthesize`)."""

    def __init__(self, match: Match, traces: Mapping[int, PeriodTrace]):
        self.match = match
        self.traces = dict(traces)

    @classmethod
    def synthesize(
        cls,
        events: Path | str | Timeline | None = None,
        seed: int = 0,
        duration_s: float | None = None,
        behaviour: Behaviour | None = None,
    ) -> MatchReplay:
        """Simulate the match as :func:`soccerai.synth.synthesize_match` does (same arguments, same frames) and keep
        what a re-play needs."""
        from soccerai.synth.match import synthesize_match

        traces: dict[int, PeriodTrace] = {}
        match = synthesize_match(events, seed=seed, duration_s=duration_s, behaviour=behaviour, traces=traces)
        return cls(match, traces)

    # ---------------------------------------------------------------------------------------------------- lookup
    def period_of(self, frame: int) -> int:
        """The period holding match frame ``frame`` (InvalidParameterError outside the simulated frames)."""
        for period, tr in self.traces.items():
            first = tr.result.first_frame
            if first <= frame < first + tr.result.pos.shape[0]:
                return period
        raise InvalidParameterError(f"frame {frame} is outside the simulated match {self.match.metadata.match_id}")

    def _locate(self, frame: int, horizon: int = 0) -> tuple[PeriodTrace, int]:
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
            raise InvalidParameterError(f"horizon must be a whole number of frames >= 0, got {horizon!r}")
        period = self.period_of(int(frame))
        tr = self.traces[period]
        k = int(frame) - tr.result.first_frame
        n = tr.result.pos.shape[0]
        if k + horizon > n - 1:
            raise InvalidParameterError(
                f"frame {frame} + {horizon} frames runs past the end of period {period} (last frame "
                f"{tr.result.first_frame + n - 1})"
            )
        return tr, k

    def original(self, period: int, first: int, last: int) -> np.ndarray:
        """The original positions (22 slots, provider orientation) of match frames ``first..last`` of ``period``."""
        tr = self.traces[period]
        return tr.result.pos[first - tr.result.first_frame : last - tr.result.first_frame + 1]

    def ball(self, period: int, first: int, last: int) -> np.ndarray:
        """The ball (provider orientation, (n, 2)) over match frames ``first..last``."""
        tr = self.traces[period]
        a, b = first - tr.result.first_frame, last - tr.result.first_frame + 1
        return np.stack([tr.result.ball.x[a:b], tr.result.ball.y[a:b]], axis=1)

    def home_sign(self, period: int) -> float:
        """+1 when the home team (slots 0-10) attacks +x in provider coordinates in ``period``, else -1."""
        return float(self.traces[period].result.home_sign)

    def slot_of(self, player: str | None, frame: int) -> int:
        """The slot of a timeline player id (e.g. ``Player10``) at ``frame`` (-1 when he is not on)."""
        tr = self.traces[self.period_of(frame)]
        return tr.occ.slot_of(player, frame)

    def off_ball(self, slot: int, frame: int, horizon: int) -> bool:
        """True when ``slot`` has no event (pin) and holds no ball over frames ``frame+1 .. frame+horizon``: changing
        his run cannot contradict the fixed ball path."""
        tr, k = self._locate(frame, horizon)
        if any(k < f <= k + horizon for f in tr.script.pins.get(slot, {})):
            return False
        return not any(s == slot and a <= k + horizon and b > k for s, a, b in tr.script.holds)

    # -------------------------------------------------------------------------------------------------- re-play
    def snapshot(self, frame: int) -> Snapshot:
        """The match's full state after ``frame`` (see :class:`Snapshot`)."""
        tr, k = self._locate(frame)
        state = self._state_at(tr, k)
        ball = np.array([tr.result.ball.x[k], tr.result.ball.y[k]])
        return Snapshot(tr.result.period, int(frame), state, ball, int(tr.loop.owner[k]))

    @staticmethod
    def _state_at(tr: PeriodTrace, k: int) -> LoopState:
        state = tr.snapshots[min((k + 1) // COARSE_STEP, len(tr.snapshots) - 1)].copy()
        tr.loop.advance(state, k)
        return state

    def replay(
        self,
        frame: int,
        horizon: int,
        forced: Mapping[int, np.ndarray] | None = None,
        loop: PeriodLoop | None = None,
    ) -> Replay:
        """Play frames ``frame + 1 .. frame + horizon`` again from the state at ``frame``.

        ``forced`` maps slots (0-21) to paths ``(horizon, 2)`` (provider orientation, like the original positions)
        they follow exactly; everyone else responds. ``loop`` replaces the period's loop after the moment (its
        random draws edited, see :meth:`alternative`). Raises InvalidParameterError for a frame or horizon outside
        the period, a bad slot, a path of the wrong shape, non-finite or faster than ``MAX_FORCED_SPEED``.
        """
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise InvalidParameterError(f"horizon must be a whole number of frames >= 1, got {horizon!r}")
        tr, k0 = self._locate(frame, horizon)
        fr = tr.loop.fr
        pinned = tr.result.pos[k0 + 1 : k0 + horizon + 1]
        raw_orig = tr.raw[k0 + 1 : k0 + horizon + 1]
        delta = pinned - raw_orig
        paths = self._check_forced(forced or {}, tr, k0, horizon)
        state = self._state_at(tr, k0)
        slots = np.array(sorted(paths), dtype=np.int64)
        hook = None
        if slots.size:
            inner = np.stack([paths[s] for s in slots], axis=1) - delta[:, slots]  # (H, m, 2) engine positions
            before = np.concatenate([state.pos[slots][None], inner], axis=0)
            inner_vel = np.diff(before, axis=0) * fr

            def hook(k: int, pos: np.ndarray, vel: np.ndarray) -> None:
                i = k - k0 - 1
                pos[slots] = inner[i]
                vel[slots] = inner_vel[i]

        out = np.empty((horizon, 22, 2))
        (loop or tr.loop).advance(state, k0 + horizon, out, hook=hook, out_offset=k0 + 1)
        pos = np.where(out == raw_orig, pinned, out + delta)
        for s in slots:
            pos[:, s] = paths[int(s)]
        ball = np.stack([tr.result.ball.x, tr.result.ball.y], axis=1)[k0 + 1 : k0 + horizon + 1]
        frames = tr.result.first_frame + np.arange(k0 + 1, k0 + horizon + 1)
        return Replay(tr.result.period, int(frame), frames, pos, out, ball, tuple(int(s) for s in slots))

    @staticmethod
    def _check_forced(
        forced: Mapping[int, np.ndarray], tr: PeriodTrace, k0: int, horizon: int
    ) -> dict[int, np.ndarray]:
        paths: dict[int, np.ndarray] = {}
        for slot, path in forced.items():
            if isinstance(slot, bool) or not isinstance(slot, (int, np.integer)) or not 0 <= slot < 22:
                raise InvalidParameterError(f"forced slot must be 0..21, got {slot!r}")
            path = np.asarray(path, dtype=float)
            if path.shape != (horizon, 2):
                raise InvalidParameterError(
                    f"forced path of slot {slot} must be ({horizon}, 2) (one position per re-played frame), "
                    f"got {path.shape}"
                )
            if not np.isfinite(path).all():
                raise InvalidParameterError(f"forced path of slot {slot} has NaN or infinite positions")
            start = tr.result.pos[k0, slot][None]
            speed = np.hypot(*np.diff(np.concatenate([start, path]), axis=0).T) * tr.loop.fr
            worst = int(np.argmax(speed))
            if speed[worst] > MAX_FORCED_SPEED:
                raise InvalidParameterError(
                    f"forced path of slot {slot} needs {speed[worst]:.1f} m/s at its frame {worst} (from the "
                    f"player's position at the moment), above the {MAX_FORCED_SPEED:g} m/s a human can run"
                )
            paths[int(slot)] = path
        return paths

    # ------------------------------------------------------------------------------------------- alternatives
    def alternative_loop(self, frame: int, slot: int, kind: str, rng: np.random.Generator) -> PeriodLoop:
        """The period's loop with ``slot``'s random draws changed after the moment ``frame`` (see the module doc)."""
        if kind not in ALTERNATIVE_KINDS:
            raise InvalidParameterError(f"alternative kind must be one of {', '.join(ALTERNATIVE_KINDS)}, got {kind!r}")
        if isinstance(slot, bool) or not isinstance(slot, (int, np.integer)) or not 0 <= slot < 22:
            raise InvalidParameterError(f"slot must be 0..21, got {slot!r}")
        tr, k0 = self._locate(frame)
        base = tr.loop
        c1 = k0 // COARSE_STEP + 1  # the first tactical step after the moment
        n_c = base.override.shape[0]
        if c1 >= n_c:
            return base
        dt_c = COARSE_STEP / base.fr
        running = base.running.copy()
        running[c1:, slot] = False
        if kind == "run_in_behind":
            running[c1 : c1 + max(int(RUN_DURATION_S / dt_c), 1), slot] = True
        drift = base.drift.copy()
        drift[c1:, slot] = drift[c1 - 1, slot]
        b = base.behaviour
        draws = base.draws
        if draws is not None:
            decide, offset = draws.decide.copy(), draws.offset.copy()
            decide[c1, slot] = True
            offset[c1:, slot] = offset[c1 - 1, slot]
        if kind == "check_back":
            pos = tr.result.pos[k0, slot]
            to_ball = base.ball_xy[k0] - pos
            drift[c1:, slot] += CHECK_BACK_M * to_ball / max(float(np.hypot(*to_ball)), 1e-6)
        elif kind == "drift":
            rho = float(np.exp(-dt_c / max(b.drift_tau_s or DRIFT_TAU_S, 1e-9)))
            scale = b.drift_sigma_m * np.sqrt(1.0 - rho**2) * (0.2 if base.setup.is_keeper[slot] else 1.0)
            x = drift[c1 - 1, slot].copy()
            for c in range(c1, n_c):
                x = rho * x + scale * rng.standard_normal(2)
                drift[c, slot] = x
            if draws is not None and b.intention_sigma_m > 0:
                offset[c1:, slot] = rng.standard_normal(2) * b.intention_sigma_m
        if draws is not None:
            draws = dataclasses.replace(draws, decide=decide, offset=offset)
        return dataclasses.replace(base, running=running, drift=drift, draws=draws)

    def alternative(
        self, frame: int, horizon: int, slot: int, kind: str, rng: np.random.Generator
    ) -> Replay:
        """Re-play the moment with ``slot``'s draws changed to the alternative ``kind`` (nothing forced)."""
        return self.replay(frame, horizon, loop=self.alternative_loop(frame, slot, kind, rng))

    def alternatives(
        self, frame: int, horizon: int, slot: int, kinds: Sequence[str] = ALTERNATIVE_KINDS, seed: int = 0
    ) -> list[tuple[str, Replay]]:
        """For each kind: the alternative run of ``slot`` (drawn as in :meth:`alternative`) imposed by
        :meth:`replay` (``forced={slot: run}``): the truth of every other player's response to it. Deterministic
        per ``seed``."""
        out = []
        for j, kind in enumerate(kinds):
            rng = np.random.default_rng([seed, int(frame), int(slot), j])
            run = self.alternative(frame, horizon, slot, kind, rng).pos[:, slot]
            out.append((kind, self.replay(frame, horizon, forced={slot: run})))
        return out
