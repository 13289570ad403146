"""Replay exports without a browser: PNG of one frame, GIF and MP4 of the whole replay (matplotlib + mplsoccer).

Presentation-ready by default: drawn 1600 px wide (:data:`EXPORT_INCHES` at :data:`EXPORT_DPI`; a PNG is then
cropped to what is drawn, so it comes out a little narrower, about 1550 px on the real match), the surface's colour
bar, the futures fan of a simulation (in the GIF and MP4 too), the roles marked, and a title naming the match, the
match clock, the model and the edits. Memory stays bounded: frames are rendered one at a time (an MP4 never holds
more than one), a GIF is capped at :data:`MAX_GIF_PIXELS`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from soccerai.errors import InvalidParameterError, SoccerAIError
from soccerai.replay.figure import PITCH_COLOUR, Overlays, colour_map, surface_rgba
from soccerai.replay.scene import Scene
from soccerai.replay.simulation import Simulation
from soccerai.replay.style import BALL_COLOUR, PALETTE, decluttered, surface_style, team_colour, view_title
from soccerai.replay.values import format_value
from soccerai.viz import draw_pitch
from soccerai.windows.container import BALL_INDEX, N_PER_TEAM

EXPORT_INCHES = (10.0, 7.0)
"""Figure size of every export; at the default :data:`EXPORT_DPI` 1600 x 1120 px."""
EXPORT_DPI = 160
MIN_DPI, MAX_DPI = 10, 300
"""Replay exports are rendered between these resolutions (a 10 x 7 inch figure: 100 x 70 to 3000 x 2100 px)."""
MAX_GIF_PIXELS = 250_000_000
"""A GIF holds every frame in memory before writing (about one byte per pixel): frames x width x height is capped
(about 140 frames at 1600 x 1120 px); ask for fewer frames (``every``) or a lower ``dpi`` beyond it."""
VIDEO_CODECS = ("libx264", "h264", "mpeg4")
"""MP4 encoders in order of preference; PyAV's wheels bundle FFmpeg with libx264, so H.264 is what is used."""


def frame_png(scene: Scene, index: int, overlays: Overlays | None = None, simulation: Simulation | None = None,
              dpi: int = EXPORT_DPI) -> bytes:
    """The view at frame ``index`` as PNG bytes (matplotlib + mplsoccer, no browser needed): at the default dpi
    1600 px wide, with the colour bar, the futures fan of ``simulation`` and a title naming match, clock, model
    and edits (:func:`soccerai.replay.style.view_title`)."""
    _check_export(scene, dpi, 1)
    index = scene.check_index(index)
    ov = overlays or Overlays()
    _check_layers(scene, ov)
    fig, ax, _ = _mpl_figure(scene, ov, simulation)
    _draw_mpl_frame(ax, scene, index, ov, simulation)
    return _png_bytes(fig, dpi, close=True, tight=True)


def replay_gif(scene: Scene, overlays: Overlays | None = None, dpi: int = EXPORT_DPI, every: int = 1,
               simulation: Simulation | None = None) -> bytes:
    """The whole replay as an animated GIF, one image per ``every`` scene frames, played at scene speed.

    Frames come from :func:`replay_frames` (the same ones :func:`replay_mp4` encodes), each quantised to an
    adaptive 256-colour palette (fast octree). Refused beyond :data:`MAX_GIF_PIXELS`.
    """
    from PIL import Image

    frames = replay_frames(scene, overlays, dpi, every, simulation)  # checks the arguments first
    w, h = (round(EXPORT_INCHES[0] * dpi), round(EXPORT_INCHES[1] * dpi))
    count = len(range(0, len(scene), every))
    if count * w * h > MAX_GIF_PIXELS:
        raise InvalidParameterError(f"a GIF of {count} frames at {w} x {h} px is too large (limit "
                                    f"{MAX_GIF_PIXELS / 1e6:.0f} Mpx in all): export every {2 * every}th frame, "
                                    "a lower dpi, or an MP4")
    images = [Image.fromarray(rgb).quantize(256, method=Image.Quantize.FASTOCTREE) for rgb in frames]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(1000 * every / scene.fps), loop=0)
    return out.getvalue()


def replay_mp4(scene: Scene, overlays: Overlays | None = None, dpi: int = EXPORT_DPI, every: int = 1,
               simulation: Simulation | None = None) -> bytes:
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

    frames = replay_frames(scene, overlays, dpi, every, simulation)  # checks the arguments before anything is opened
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


def replay_frames(scene: Scene, overlays: Overlays | None = None, dpi: int = EXPORT_DPI, every: int = 1,
                  simulation: Simulation | None = None) -> Iterator[np.ndarray]:
    """RGB images ``[H, W, 3]`` uint8 of scene frames ``0, every, 2 every, ...``: what the GIF and MP4 show.

    The arguments are checked at once (:class:`InvalidParameterError`: ``every < 1``, ``dpi`` outside
    ``MIN_DPI..MAX_DPI``, an empty scene, overlays of another length); the images are rendered lazily, one per
    ``next()``, so an MP4 holds one frame in memory at a time.
    """
    _check_export(scene, dpi, every)
    ov = overlays or Overlays()
    _check_layers(scene, ov)
    return _rendered_frames(scene, ov, dpi, every, simulation)


def _check_layers(scene: Scene, ov: Overlays) -> None:
    for name, layer in (("surface", ov.surface), ("values", ov.values)):
        if layer is not None and len(layer) != len(scene):
            raise InvalidParameterError(f"the {name} overlay has {len(layer)} frames, the scene {len(scene)}")


def _rendered_frames(scene: Scene, ov: Overlays, dpi: int, every: int,
                     simulation: Simulation | None) -> Iterator[np.ndarray]:
    """The pitch, colour bar and futures fan are drawn once; each frame's artists are drawn, rasterised by the Agg
    canvas and removed."""
    import matplotlib.pyplot as plt

    fig, ax, fan = _mpl_figure(scene, ov, simulation)
    fig.set_dpi(dpi)
    try:
        for f in range(0, len(scene), every):
            for artist in fan:  # the futures appear at the frame they were sampled from, never before
                artist.set_visible(simulation is not None and f >= simulation.start)
            artists = _draw_mpl_frame(ax, scene, f, ov, simulation)
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


def _png_bytes(fig, dpi: int, close: bool = False, tight: bool = False) -> bytes:
    """PNG bytes; ``tight`` crops the empty margin around what is drawn."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **({"bbox_inches": "tight", "pad_inches": 0.08} if tight else {}))
    if close:
        plt.close(fig)
    return buffer.getvalue()


def _mpl_figure(scene: Scene, ov: Overlays, sim: Simulation | None):
    """The export figure (Agg): a centred mplsoccer pitch (:func:`soccerai.viz.draw_pitch`) on a fixed layout, the
    surface's colour bar (or the team key), the legend line below and the static futures fan."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=EXPORT_INCHES)
    ax = fig.add_axes((0.02, 0.1, 0.83, 0.78))
    style = surface_style(scene, ov.surface, ov.surface_name) if ov.surface is not None else None
    draw_pitch(ax, scene.pitch.length, scene.pitch.width, line_colour="#333333" if style is not None else "white",
               pitch_colour=PITCH_COLOUR)
    for artist in [*ax.lines, *ax.patches, *ax.collections]:  # pitch lines stay above a surface (zorder 1.5)
        if not getattr(artist, "get_fill", lambda: False)():
            artist.set_zorder(max(artist.get_zorder(), 2.0))
    cax = fig.add_axes((0.87, 0.18, 0.022, 0.64))
    if style is not None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        bar = fig.colorbar(ScalarMappable(Normalize(style.vmin, style.vmax), colour_map(style.scale)), cax=cax)
        bar.set_ticks(style.tickvals, labels=style.ticktext, fontsize=8)
        bar.set_label(style.title, fontsize=9)
    else:
        cax.set_axis_off()
    notes = [f"{scene.teams['home']} orange, {scene.teams['away']} blue; numbers in markers: jerseys"]
    if style is not None:
        notes.append(style.explanation)
    if ov.values is not None:
        notes.append(f"numbers under attackers: {ov.values_name} (%)")
    if sim is not None:
        notes.append(f"thin lines: {sim.n_samples} futures sampled by {sim.model_label}; dashed: what really happened")
    if ov.roles is not None:
        notes.append("rings: " + ", ".join(ov.roles.labels()))
    fig.text(0.02, 0.02, "\n".join(notes), fontsize=7.5, va="bottom", ha="left", parse_math=False, wrap=True)
    fan: list = []
    if sim is not None:
        for i, k in enumerate(sim.predicted):
            colour = PALETTE[i % len(PALETTE)]
            start = scene.positions[sim.start, k]
            for sample in sim.futures[:, :, k]:
                path = np.vstack([start, sample])
                fan += ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.1, alpha=0.8, zorder=2.5)
            fan.append(ax.scatter(sim.futures[:, -1, k, 0], sim.futures[:, -1, k, 1], s=14, color=colour,
                                  edgecolor="black", linewidth=0.4, zorder=2.6))
            real = np.vstack([start, sim.real[:, k]])
            fan += ax.plot(real[:, 0], real[:, 1], color=colour, lw=2.2, ls="--", zorder=2.7,
                           label=f"{sim.names.get(k) or scene.labels[k]}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False, title="predicted",
                  title_fontsize=7)
    return fig, ax, fan


_RGBA: dict[tuple, np.ndarray] = {}


def _rgba_of(style, f: int) -> np.ndarray:
    """:func:`surface_rgba` of frame ``f``, computed once per distinct surface (a few entries at a time)."""
    key = (id(style.scale), style.vmin, style.vmax, style.values[f].tobytes())
    if key not in _RGBA:
        if len(_RGBA) >= 32:
            _RGBA.clear()
        _RGBA[key] = surface_rgba(style.values[f], style)
    return _RGBA[key]


def _draw_mpl_frame(ax, scene: Scene, f: int, ov: Overlays, sim: Simulation | None) -> list:
    """Draw frame ``f`` (scene coordinates, attack to +x); returns the artists drawn (an animation removes them)."""
    from matplotlib.collections import LineCollection

    hl, hw = scene.pitch.half_length, scene.pitch.half_width
    drawn: list = []
    if ov.surface is not None:
        style = surface_style(scene, ov.surface, ov.surface_name)
        if np.isfinite(style.values[f]).any():
            drawn.append(ax.imshow(_rgba_of(style, f), extent=(-hl, hl, -hw, hw), origin="lower", interpolation="bilinear", zorder=1.5))
    pos, ok = scene.positions[f], scene.valid[f]
    for agents in (range(N_PER_TEAM), range(N_PER_TEAM, 2 * N_PER_TEAM)):
        colour = team_colour(scene.side_of(agents[0]))
        idx = [k for k in agents if ok[k]]
        trails = [scene.positions[max(0, f - ov.trail_frames) : f + 1, k] for k in idx]
        drawn.append(ax.add_collection(LineCollection(trails, colors=colour, alpha=0.7, linewidths=1.2, zorder=3)))
        if ov.velocities and idx:
            vel = scene.velocities[f, idx]
            arrows = ax.quiver(pos[idx, 0], pos[idx, 1], vel[:, 0], vel[:, 1], color="#222222", angles="xy",
                               scale_units="xy", scale=1, width=0.0025, zorder=3.5)
            arrows.set_clip_on(True)  # an arrow never reaches over the title
            arrows.set_clip_path(ax.patch)
            drawn.append(arrows)
        drawn.append(ax.scatter(pos[idx, 0], pos[idx, 1], s=190, color=colour, edgecolor="white", linewidth=1.2,
                                zorder=4))
        drawn += [ax.text(pos[k, 0], pos[k, 1], scene.labels[k], color="white", fontsize=6.5, ha="center",
                          va="center", fontweight="bold", zorder=5, parse_math=False) for k in idx]
    if ov.values is not None:
        for k in decluttered(pos, ov.values[f], [k for k in range(N_PER_TEAM) if ok[k]]):
            drawn.append(ax.text(pos[k, 0], pos[k, 1] - 2.6, format_value(ov.values[f, k], "probability"),
                                 fontsize=7, ha="center", va="top", zorder=5, parse_math=False,
                                 bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}))
    if ov.roles is not None:
        for role, info in ov.roles.items():
            if ok[info.slot]:
                drawn.append(ax.scatter(*pos[info.slot], s=520, facecolor="none", edgecolor="black", linewidth=1.8,
                                        zorder=4.5))
                drawn.append(ax.text(pos[info.slot, 0], pos[info.slot, 1] + 2.4, role, fontsize=8, ha="center",
                                     va="bottom", fontweight="bold", zorder=5.5, parse_math=False,
                                     bbox={"boxstyle": "round,pad=0.15", "fc": "#ffffcc", "ec": "black",
                                           "lw": 0.6}))
    if ok[BALL_INDEX]:
        drawn.append(ax.scatter(pos[BALL_INDEX, 0], pos[BALL_INDEX, 1], s=60, color=BALL_COLOUR,
                                edgecolor="black", zorder=6))
    ax.set_title(view_title(scene, f, sim.model_label if sim is not None else None), fontsize=9, parse_math=False,
                 loc="left")  # replaced on every frame, never removed
    return drawn
