"""MP4 (and GIF) export of a replay: encode, decode back with PyAV, compare; bad parameters; the dashboard button.

The export tests encode a REAL scene: the Last Row clip of a Liverpool goal (real tracking, 20 Hz resampled to
10 Hz, the 10 s before the goal). The AppTest runs the dashboard on its SIMULATED demo match, as
``tests/test_dashboard_apptest.py`` does. Nothing is mocked.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("SOCCERAI_DEMO_SECONDS", "240")  # read when dashboard/ui.py is first imported
os.environ.setdefault("SOCCERAI_DEMO_TRAIN_STEPS", "3")

from streamlit.testing.v1 import AppTest  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.errors import InvalidParameterError  # noqa: E402
from soccerai.evaluate.pitch_control import Grid  # noqa: E402
from soccerai.io.providers.lastrow import load_lastrow  # noqa: E402

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
CLIP = "LIV_[2]-1_CHE.csv"
FIGURE_INCHES = replay.EXPORT_INCHES  # every export's figure size (10 x 7 in: 1600 px wide at the default dpi)


@pytest.fixture(scope="module")
def goal_scene(clips_dir: Path) -> replay.Scene:
    """The 10 s of real tracking before Liverpool's goal (Last Row clip), attack towards +x."""
    match = load_lastrow(clips_dir / "lastrow" / CLIP)
    last = int(match.tracking.get_column("frame").max())
    moment = replay.Moment("goal", "attack", period=1, frame=last, team="home")
    return replay.scene_for_moment(match, moment, before_s=10.0, after_s=0.0)


def _decode(data: bytes) -> tuple[list[np.ndarray], dict[str, object], float]:
    """RGB frames, the video stream's properties and the container's duration in seconds of an in-memory MP4.

    The stream's properties are read while the container is open: PyAV 18 refuses to read them afterwards
    ("Container is not open").
    """
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        info = {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.width, stream.height),
            "rate": float(stream.average_rate),
        }
        return frames, info, container.duration / av.time_base


def test_mp4_holds_the_replay_frames_at_scene_speed(goal_scene: replay.Scene) -> None:
    assert not goal_scene.simulated and len(goal_scene) > 90  # real tracking, ~10 s at 10 Hz
    every, dpi = 10, 40
    data = replay.replay_mp4(goal_scene, dpi=dpi, every=every)
    frames, info, duration = _decode(data)

    expected = len(range(0, len(goal_scene), every))
    assert len(frames) == expected
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == (FIGURE_INCHES[0] * dpi, FIGURE_INCHES[1] * dpi)
    assert info["rate"] == pytest.approx(goal_scene.fps / every)
    assert duration == pytest.approx(expected * every / goal_scene.fps, abs=0.01)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # the players moved

    rendered = list(replay.replay_frames(goal_scene, dpi=dpi, every=every))  # what the GIF shows too
    for shown, drawn in zip(frames, rendered, strict=True):  # lossy H.264, yet the same pictures
        assert np.abs(shown.astype(int) - drawn.astype(int)).mean() < 4.0


def test_odd_sizes_are_padded_and_slow_rates_kept(goal_scene: replay.Scene) -> None:
    every, dpi = 40, 45  # 450 x 315 px: the height is odd; 0.25 frames per second
    frames, info, duration = _decode(replay.replay_mp4(goal_scene, dpi=dpi, every=every))
    assert frames[0].shape == (316, 450, 3) and info["size"] == (450, 316)
    assert len(frames) == len(range(0, len(goal_scene), every))
    assert duration == pytest.approx(len(frames) * every / goal_scene.fps, abs=0.01)


def test_gif_shows_the_same_frames(goal_scene: replay.Scene) -> None:
    every, dpi = 25, 30
    gif = Image.open(io.BytesIO(replay.replay_gif(goal_scene, dpi=dpi, every=every)))
    assert gif.format == "GIF" and gif.n_frames == len(range(0, len(goal_scene), every))
    assert gif.info["duration"] == 1000 * every / goal_scene.fps
    first = next(replay.replay_frames(goal_scene, dpi=dpi, every=every))
    assert np.abs(np.asarray(gif.convert("RGB")).astype(int) - first.astype(int)).mean() < 4.0


@pytest.mark.parametrize("export", [replay.replay_mp4, replay.replay_gif])
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"every": 0}, "every must be"),
    ({"every": 1.5}, "every must be"),
    ({"dpi": 0}, "dpi must be"),
    ({"dpi": 5000}, "dpi must be"),
    ({"dpi": float("nan")}, "dpi must be"),
])
def test_bad_parameters_are_refused(goal_scene: replay.Scene, export, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        export(goal_scene, **kwargs)


def test_overlays_are_in_the_video_and_must_fit_the_scene(goal_scene: replay.Scene) -> None:
    surfaces = replay.scene_surfaces(goal_scene, Grid(25, 16), stride=5)
    control = replay.Overlays(surface=surfaces.control, surface_name="pitch control")
    plain, shaded = (_decode(replay.replay_mp4(goal_scene, ov, dpi=30, every=50))[0] for ov in (None, control))
    assert len(plain) == len(shaded) == 2
    assert np.abs(plain[0].astype(int) - shaded[0].astype(int)).mean() > 2.0  # the pitch-control colours
    short = replay.Overlays(surface=surfaces.control[:-1])
    with pytest.raises(InvalidParameterError, match="surface overlay has"):
        replay.replay_mp4(goal_scene, short)


def test_empty_scene_is_refused(goal_scene: replay.Scene) -> None:
    empty = replace(goal_scene, positions=goal_scene.positions[:0], velocities=goal_scene.velocities[:0],
                    valid=goal_scene.valid[:0], frames=goal_scene.frames[:0])
    for export in (replay.replay_mp4, replay.replay_gif):
        with pytest.raises(InvalidParameterError, match="no frames"):
            export(empty)


def test_dashboard_makes_an_mp4_to_download() -> None:
    """The Export tab's MP4 is the whole clip (every 2nd frame), encoded once and offered for download."""
    at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=300).run()
    assert not at.exception, [e.value for e in at.exception]
    scene_length = len(json.loads(at.get("plotly_chart")[0].proto.spec)["frames"])  # the clip the browser plays
    at.button(key="make_mp4").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert at.download_button(key="dl_mp4").label == "Download MP4"
    frames, info, _ = _decode(at.session_state["mp4"])
    assert len(frames) == len(range(0, scene_length, 2)) and info["codec"] == "h264"


def test_gif_draws_the_futures_only_from_their_start_and_png_has_no_empty_margin() -> None:
    """The fan appears at the frame it was sampled from (never from the clip's first frame); the PNG is cropped to
    what is drawn; the title keeps the whole clock (tenths) on its own line."""
    from soccerai.cli.demo import real_match_files
    from soccerai.io import load_match
    from soccerai.models import build_model

    match = load_match(real_match_files())
    shot = next(m for m in replay.timeline(match) if m.kind == "shot")
    scene = replay.scene_for_moment(match, shot)
    start = len(scene) // 2
    seen = [k for k in range(replay.BALL_INDEX) if scene.valid[start, k]]
    agents = sorted(seen, key=lambda k: -float(np.hypot(*scene.velocities[start, k])))[:2]  # the fastest: long runs
    sim = replay.simulate(build_model("constant_velocity"), scene, start, agents, 3, len(scene) - start - 1)

    def fan_pixels(rgb: np.ndarray) -> int:  # the first predicted player's colour, magenta #e7298a
        body = rgb[:, : int(rgb.shape[1] * 0.84)].astype(int)  # the pitch, not the legend beside it
        return int(((body[..., 0] > 170) & (body[..., 1] < 110) & (body[..., 2] > 90)).sum())

    frames = list(replay.replay_frames(scene, dpi=80, every=start, simulation=sim))
    assert fan_pixels(frames[0]) * 5 < fan_pixels(frames[1]), (fan_pixels(frames[0]), fan_pixels(frames[1]))
    png = Image.open(io.BytesIO(replay.frame_png(scene, start, simulation=sim, dpi=40)))
    assert png.size[1] < 7.0 * 40 * 0.97  # cropped
    title = replay.view_title(scene, start)
    assert title.splitlines()[0].endswith(scene.clock(start) + f".{int(scene.times[start] * 10) % 10}")
