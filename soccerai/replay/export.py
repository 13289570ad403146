"""Replay exports without a browser: PNG of one frame, GIF and MP4 of the whole replay (matplotlib + mplsoccer)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from soccerai.errors import InvalidParameterError, SoccerAIError
from soccerai.replay.figure import PITCH_COLOUR, Overlays, _surface_top
from soccerai.replay.scene import DT, Scene
from soccerai.replay.simulation import Simulation
from soccerai.trajectory_windows import BALL_INDEX, N_PER_TEAM
from soccerai.viz import ATTACK_COLOUR, DEFENCE_COLOUR


def frame_png(scene: Scene, index: int, overlays: Overlays | None = None, simulation: Simulation | None = None,
              dpi: int = 100) -> bytes:
    """The view at frame ``index`` as PNG bytes (matplotlib + mplsoccer, no browser needed)."""
    fig, ax = _mpl_pitch(scene)
    _draw_mpl_frame(ax, scene, scene.check_index(index), overlays or Overlays(), simulation)
    return _png_bytes(fig, dpi, close=True)


MIN_DPI, MAX_DPI = 10, 300
"""Replay exports are rendered between these resolutions (an 8 x 5.4 inch figure: 80 x 54 to 2400 x 1620 px)."""
VIDEO_CODECS = ("libx264", "h264", "mpeg4")
"""MP4 encoders in order of preference; PyAV's wheels bundle FFmpeg with libx264, so H.264 is what is used."""


def replay_gif(scene: Scene, overlays: Overlays | None = None, dpi: int = 60, every: int = 1) -> bytes:
    """The whole replay as an animated GIF, one image per ``every`` scene frames, played at scene speed.

    Frames come from :func:`replay_frames` (the same ones :func:`replay_mp4` encodes), each quantised to an
    adaptive 256-colour palette.
    """
    from PIL import Image

    images = [Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE)
              for rgb in replay_frames(scene, overlays, dpi, every)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(1000 * every / scene.fps), loop=0)
    return out.getvalue()


def replay_mp4(scene: Scene, overlays: Overlays | None = None, dpi: int = 80, every: int = 1) -> bytes:
    """The whole replay as an MP4 video (H.264, ``yuv420p``), one video frame per ``every`` scene frames.

    The frames are those of :func:`replay_gif`. The frame rate is ``scene.fps / every`` (10 Hz scenes: 10 fps at
    ``every=1``, 5 fps at ``every=2``), so the video plays at real speed and lasts ``ceil(F / every) / fps``
    seconds. The encoder is the first of :data:`VIDEO_CODECS` the installed FFmpeg can encode with: ``libx264``
    (H.264 High profile, CRF 23, preset "medium") with PyAV's own wheels; ``mpeg4`` (MPEG-4 Part 2) only on an
    FFmpeg built without H.264. H.264 4:2:0 needs even sizes, so an odd width or height is padded by repeating
    the last pixel column or row. The video is written in memory (``io.BytesIO``) and returned as bytes; the
    ``moov`` index therefore comes after the data (``+faststart`` needs a named file), which players of a
    downloaded file do not mind.
    """
    import av

    frames = replay_frames(scene, overlays, dpi, every)  # checks the arguments before anything is opened
    codec = video_codec()
    rate = Fraction(scene.fps).limit_denominator(1000) / every
    try:
        return _encode_mp4(frames, codec, rate)
    except av.FFmpegError as exc:
        raise SoccerAIError(f"MP4 encoding with {codec} failed: {exc}") from exc


def _encode_mp4(frames: Iterator[np.ndarray], codec: str, rate: Fraction) -> bytes:
    """Encode RGB frames as ``yuv420p`` video at ``rate`` frames per second into MP4 bytes, in memory."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = None
        for index, rgb in enumerate(frames):
            rgb = _even_size(rgb)
            if stream is None:
                stream = container.add_stream(codec, rate=rate, options=_codec_options(codec))
                stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))  # flush the encoder's delayed frames
    return out.getvalue()


def video_codec() -> str:
    """The first encoder of :data:`VIDEO_CODECS` that the FFmpeg bundled with PyAV provides."""
    import av

    for name in VIDEO_CODECS:
        if name in av.codecs_available:
            try:
                return av.Codec(name, "w").name
            except av.FFmpegError:  # a decoder only
                continue
    raise SoccerAIError(f"PyAV's FFmpeg has none of the video encoders {', '.join(VIDEO_CODECS)}")


def _codec_options(codec: str) -> dict[str, str]:
    return {"crf": "23", "preset": "medium"} if codec == "libx264" else {}


def _even_size(rgb: np.ndarray) -> np.ndarray:
    """Pad an ``[H, W, 3]`` image by one edge pixel where H or W is odd (4:2:0 chroma needs even sizes)."""
    pad = ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0))
    return np.pad(rgb, pad, mode="edge") if any(p[1] for p in pad) else rgb


def replay_frames(scene: Scene, overlays: Overlays | None = None, dpi: int = 60,
                  every: int = 1) -> Iterator[np.ndarray]:
    """RGB images ``[H, W, 3]`` uint8 of scene frames ``0, every, 2 every, ...``: what the GIF and MP4 show.

    The arguments are checked at once (:class:`InvalidParameterError`: ``every < 1``, ``dpi`` outside
    ``MIN_DPI..MAX_DPI``, an empty scene, overlays of another length); the images are rendered lazily, one per ``next()``.
    """
    _check_export(scene, dpi, every)
    ov = overlays or Overlays()
    for name, layer in (("surface", ov.surface), ("values", ov.values)):
        if layer is not None and len(layer) != len(scene):
            raise InvalidParameterError(f"the {name} overlay has {len(layer)} frames, the scene {len(scene)}")
    return _rendered_frames(scene, ov, dpi, every)


def _rendered_frames(scene: Scene, ov: Overlays, dpi: int, every: int) -> Iterator[np.ndarray]:
    """The pitch is drawn once; each frame's artists are drawn, rasterised by the Agg canvas and removed."""
    import matplotlib.pyplot as plt

    fig, ax = _mpl_pitch(scene)
    fig.set_dpi(dpi)
    try:
        for f in range(0, len(scene), every):
            artists = _draw_mpl_frame(ax, scene, f, ov, None)
            fig.canvas.draw()
            yield np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
            for artist in artists:
                artist.remove()
    finally:
        plt.close(fig)


def _check_export(scene: Scene, dpi: int, every: int) -> None:
    if len(scene) == 0:
        raise InvalidParameterError(f"the scene of {scene.match_id} has no frames to export")
    if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
        raise InvalidParameterError(f"every must be a whole number of frames, at least 1, got {every!r}")
    if not isinstance(dpi, int | float | np.number) or not MIN_DPI <= dpi <= MAX_DPI:  # NaN fails the range too
        raise InvalidParameterError(f"dpi must be between {MIN_DPI} and {MAX_DPI}, got {dpi!r}")
    if not np.isfinite(scene.fps) or scene.fps <= 0:
        raise InvalidParameterError(f"the scene's frame rate must be positive, got {scene.fps}")


def _png_bytes(fig, dpi: int, close: bool = False) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    if close:
        plt.close(fig)
    return buffer.getvalue()


def _mpl_pitch(scene: Scene):
    """An mplsoccer pitch in centred metres (a custom pitch shifted by half its size), on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    from mplsoccer import Pitch

    length, width = scene.pitch
    pitch = Pitch(pitch_type="custom", pitch_length=length, pitch_width=width, pitch_color=PITCH_COLOUR,
                  line_color="white", stripe=False)
    fig, ax = pitch.draw(figsize=(8, 5.4))
    return fig, ax


def _draw_mpl_frame(ax, scene: Scene, f: int, ov: Overlays, sim: Simulation | None) -> list:
    """Draw frame ``f`` on an mplsoccer pitch; returns the artists drawn (so an animation can remove them)."""
    length, width = scene.pitch
    dx, dy = length / 2, width / 2  # custom mplsoccer pitches start at (0, 0)
    drawn: list = []
    if ov.surface is not None:
        drawn.append(ax.imshow(ov.surface[f], extent=(0, length, 0, width), origin="lower", cmap=ov.colorscale,
                               alpha=0.5, vmin=0, vmax=_surface_top(ov.surface), zorder=1))
    from matplotlib.collections import LineCollection

    pos, ok = scene.positions[f] + (dx, dy), scene.valid[f]
    for agents, colour in ((range(N_PER_TEAM), ATTACK_COLOUR), (range(N_PER_TEAM, 2 * N_PER_TEAM), DEFENCE_COLOUR)):
        idx = [k for k in agents if ok[k]]
        trails = [scene.positions[max(0, f - ov.trail_frames) : f + 1, k] + (dx, dy) for k in idx]
        drawn.append(ax.add_collection(LineCollection(trails, colors=colour, alpha=0.6, linewidths=1, zorder=2)))
        drawn.append(ax.scatter(pos[idx, 0], pos[idx, 1], s=120, color=colour, edgecolor="white", zorder=3))
        drawn += [ax.text(pos[k, 0], pos[k, 1] + 1.5, scene.labels[k], color="white", fontsize=7, ha="center",
                          zorder=4, parse_math=False) for k in idx]
        if ov.velocities:
            vel = scene.velocities[f, idx]
            drawn.append(ax.quiver(pos[idx, 0], pos[idx, 1], vel[:, 0], vel[:, 1], color="yellow", angles="xy",
                                   scale_units="xy", scale=1, width=0.003, zorder=3))
    if ok[BALL_INDEX]:
        drawn.append(ax.scatter(pos[BALL_INDEX, 0], pos[BALL_INDEX, 1], s=50, color="white",
                                edgecolor="black", zorder=5))
    if sim is not None:
        for k in sim.predicted:
            for s in range(sim.futures.shape[0]):
                drawn += ax.plot(sim.futures[s, :, k, 0] + dx, sim.futures[s, :, k, 1] + dy, color="orange", lw=0.7)
            drawn += ax.plot(sim.real[:, k, 0] + dx, sim.real[:, k, 1] + dy, color="black", lw=2, ls="--")
    ax.set_title(f"{scene.match_id} P{scene.period} frame {scene.frames[f]} "
                 f"(t {(f - scene.key_index) * DT:+.1f}s, {scene.source})", fontsize=9, parse_math=False)
    return drawn


