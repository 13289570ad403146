"""Re-play of simulated moments (soccerai.synth.replay): exact with nothing forced, responsive when a run is forced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.errors import InvalidParameterError
from soccerai.synth.replay import MAX_FORCED_SPEED, MatchReplay
from soccerai.synth.tactics import MARK_GOAL_SIDE_M

H = 75  # 3 s at 25 Hz


@pytest.fixture(scope="module")
def mr(events_dir: Path) -> MatchReplay:
    return MatchReplay.synthesize(events_dir / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=120)


def test_original_is_the_synthesized_match(mr: MatchReplay) -> None:
    tr = mr.traces[2]
    first = tr.result.first_frame
    frame = first + 333
    rows = mr.match.tracking.filter((pl.col("frame") == frame) & (pl.col("team") != "ball")).sort("object_id")
    pos = mr.original(2, frame, frame)[0] * tr.result.home_sign  # canonical orientation
    got = {(round(x, 9), round(y, 9)) for x, y in pos}
    want = {(round(x, 9), round(y, 9)) for x, y in rows.select("x", "y").iter_rows()}
    assert got == want


@pytest.mark.parametrize("period", [1, 2])
@pytest.mark.parametrize("offset", [0, 7, 8, 13, 601, 1400])
def test_replay_with_nothing_forced_is_exact(mr: MatchReplay, period: int, offset: int) -> None:
    first = mr.traces[period].result.first_frame
    rep = mr.replay(first + offset, H)
    want = mr.original(period, first + offset + 1, first + offset + H)
    assert np.array_equal(rep.pos, want)
    assert np.array_equal(rep.frames, first + offset + 1 + np.arange(H))
    assert np.array_equal(rep.ball, mr.ball(period, first + offset + 1, first + offset + H))


def test_forcing_a_player_along_his_own_path_changes_nothing(mr: MatchReplay) -> None:
    first = mr.traces[1].result.first_frame
    frame = first + 1000
    own = mr.original(1, frame + 1, frame + H)
    rep = mr.replay(frame, H, forced={5: own[:, 5], 17: own[:, 17]})
    np.testing.assert_allclose(rep.pos, own, atol=1e-9, rtol=0)


def test_snapshot_is_the_state_at_the_frame(mr: MatchReplay) -> None:
    tr = mr.traces[1]
    snap = mr.snapshot(tr.result.first_frame + 250)
    assert snap.state.frame == 250 and snap.period == 1
    assert np.array_equal(snap.state.pos, tr.raw[250])


def test_a_forced_run_pulls_its_marker(mr: MatchReplay) -> None:
    """An off-ball attacker forced 8 m sideways over 3 s: the truth responds, his marker follows him."""
    tr = mr.traces[1]
    first, pos = tr.result.first_frame, tr.result.pos
    pulled = []
    for k in range(100, 1400, 100):
        owner = int(tr.loop.owner[k])
        defenders = np.arange((1 - owner) * 11 + 1, (1 - owner) * 11 + 11)
        for a in range(owner * 11 + 1, owner * 11 + 11):
            state = mr.snapshot(first + k).state
            aim = state.pos[a] + 0.6 * state.vel[a]  # where a marker of ``a`` aims (goal side of this spot)
            gap = np.hypot(*(state.target[defenders] - aim).T)
            if gap.min() > MARK_GOAL_SIDE_M + 0.5 or not mr.off_ball(a, first + k, H):
                continue
            marker = int(defenders[np.argmin(gap)])  # his target is goal side of ``a``: he marks him
            side = np.array([0.0, 8.0 if pos[k, a, 1] < 0 else -8.0])
            path = pos[k + 1 : k + H + 1, a] + np.linspace(0.0, 1.0, H)[:, None] * side
            rep = mr.replay(first + k, H, forced={a: path})
            assert np.array_equal(rep.pos[:, a], path)
            moved = float(np.hypot(*(rep.pos[-1, marker] - pos[k + H, marker])))
            before = float(np.hypot(*(pos[k + H, marker] - path[-1])))
            after = float(np.hypot(*(rep.pos[-1, marker] - path[-1])))
            pulled.append((moved, before - after))
    moved, closer = np.array(pulled).T
    # the marking assignment is re-read at every decision (a run out of the marker's zone can hand the attacker
    # over) and decisions come with reaction delays, so not every marker follows; some must, and on average
    # the markers end up closer to the forced attacker than they were
    assert ((moved > 1.5) & (closer > 1.0)).any(), "no marker followed a forced run"
    assert closer.mean() > 0.0


def test_alternatives_are_deterministic_and_differ(mr: MatchReplay) -> None:
    first = mr.traces[1].result.first_frame
    frame, slot = first + 1000, 8
    one = mr.alternatives(frame, H, slot, seed=3)
    two = mr.alternatives(frame, H, slot, seed=3)
    assert [k for k, _ in one] == ["stay", "check_back", "run_in_behind", "drift"]
    for (_, a), (_, b) in zip(one, two, strict=True):
        assert np.array_equal(a.pos, b.pos)
    actual = mr.original(1, frame + 1, frame + H)[:, slot]
    gaps = [float(np.hypot(*(rep.pos[-1, slot] - actual[-1]))) for _, rep in one]
    assert max(gaps) > 2.0


def test_bad_inputs_raise_clear_errors(mr: MatchReplay) -> None:
    tr = mr.traces[1]
    first, n = tr.result.first_frame, tr.result.pos.shape[0]
    with pytest.raises(InvalidParameterError, match="outside"):
        mr.replay(first - 10_000, H)
    with pytest.raises(InvalidParameterError, match="past the end"):
        mr.replay(first + n - 10, H)
    with pytest.raises(InvalidParameterError, match="horizon"):
        mr.replay(first + 100, 0)
    good = mr.original(1, first + 101, first + 100 + H)[:, 3]
    with pytest.raises(InvalidParameterError, match=r"must be \(75, 2\)"):
        mr.replay(first + 100, H, forced={3: good[:-1]})
    with pytest.raises(InvalidParameterError, match="m/s"):
        fast = good.copy()
        fast[40:] += MAX_FORCED_SPEED / 25.0 + 1.0  # one jump faster than a human
        mr.replay(first + 100, H, forced={3: fast})
    with pytest.raises(InvalidParameterError, match="NaN"):
        bad = good.copy()
        bad[3] = np.nan
        mr.replay(first + 100, H, forced={3: bad})
    with pytest.raises(InvalidParameterError, match="slot"):
        mr.replay(first + 100, H, forced={22: good})
    with pytest.raises(InvalidParameterError, match="kind"):
        mr.alternative(first + 100, H, 3, "teleport", np.random.default_rng(0))
