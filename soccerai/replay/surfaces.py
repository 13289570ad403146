"""Overlay surfaces of a scene: pitch control, OBSO and each player's OBSO per frame (:mod:`soccerai.evaluate.obso`)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.obso import ScoreModel, obso
from soccerai.evaluate.obso import player_values as player_obso_values
from soccerai.evaluate.pitch_control import Grid, control_surfaces, usable_frames
from soccerai.replay.scene import Scene, scene_tensors
from soccerai.windows.container import N_AGENTS


@dataclass
class SceneSurfaces:
    """Overlay data of every scene frame: pitch control and OBSO ``[F, ny, nx]``, players' OBSO ``[F, 23]``."""

    grid: Grid
    control: np.ndarray
    obso: np.ndarray
    player_obso: np.ndarray


def scene_surfaces(scene: Scene, grid: Grid | None = None, score_model: ScoreModel | None = "potential",
                   stride: int = 1) -> SceneSurfaces:
    """Pitch control, OBSO and each player's OBSO for the scene (:func:`soccerai.evaluate.obso.obso`).

    ``stride > 1`` computes every ``stride``-th frame pitch control can use (ball and both teams tracked:
    :func:`soccerai.evaluate.pitch_control.usable_frames`) and holds each surface until the next one (overlays at
    about ``10 / stride`` Hz; frames before the first computed one show it too), so a broadcast gap at a stride
    frame never blanks the frames after it. Both score models are cheap: OBSO with the "potential" model costs ~2
    ms of CPU per frame on a 50 x 32 grid, the "distance" model ~1.5 ms (``benchmarks/obso.py``).
    ``score_model=None``: pitch control only (:func:`soccerai.evaluate.pitch_control.control_surfaces`, no score
    model, the bulk of OBSO's cost); ``obso`` and ``player_obso`` are then NaN.
    """
    if isinstance(stride, bool) or not isinstance(stride, int | np.integer) or stride < 1:
        raise InvalidParameterError(f"stride must be a whole number, at least 1, got {stride!r}")
    grid = grid or Grid.over(scene.pitch)
    positions, velocities, valid = scene_tensors(scene)
    usable = np.flatnonzero(usable_frames(positions, velocities, valid).numpy())
    if stride == 1 or usable.size == 0:
        keep = np.arange(len(scene))
    else:
        keep = usable[::stride]
    hold = torch.from_numpy(np.clip(np.searchsorted(keep, np.arange(len(scene)), side="right") - 1, 0, None))
    if score_model is None:
        control = control_surfaces(positions[keep], velocities[keep], valid[keep], grid).attack[hold].numpy()
        return SceneSurfaces(grid, control, np.full_like(control, np.nan), np.full((len(scene), N_AGENTS), np.nan))
    result = obso(positions[keep], velocities[keep], valid[keep], grid=grid, score_model=score_model)
    player = player_obso_values(result.surface[hold], positions, valid, grid)
    return SceneSurfaces(grid, result.control[hold].numpy(), result.surface[hold].numpy(), player.numpy())


def nearest_usable(scene: Scene, index: int) -> int:
    """The scene frame whose surface stands for frame ``index``: ``index`` itself when pitch control can use it
    (:func:`soccerai.evaluate.pitch_control.usable_frames`), else the nearest usable frame, an earlier one on a
    tie (broadcast tracking often loses the ball for a few frames); ``index`` when no frame is usable."""
    index = scene.check_index(index)
    usable = np.flatnonzero(usable_frames(*scene_tensors(scene)).numpy())
    if usable.size == 0 or index in usable:
        return index
    return int(usable[np.argmin(np.abs(usable - index) * 2 + (usable > index))])


def frame_surfaces(scene: Scene, index: int, grid: Grid | None = None,
                   score_model: ScoreModel | None = "potential") -> tuple[SceneSurfaces, int]:
    """(the surfaces of one frame ``F = 1``, the scene frame they were computed at): frame ``index`` or, where it
    is not usable, :func:`nearest_usable` (never an all-NaN, i.e. empty, surface while the clip has a usable
    frame). A frame step or an overlay toggle costs one frame of OBSO, never the whole scene."""
    used = nearest_usable(scene, index)
    one = replace(scene, positions=scene.positions[used : used + 1], velocities=scene.velocities[used : used + 1],
                  valid=scene.valid[used : used + 1], frames=scene.frames[used : used + 1], key_index=0,
                  times=None if scene.times is None else scene.times[used : used + 1])
    return scene_surfaces(one, grid, score_model, 1), used


SURFACE_CACHE_SIZE = 16
"""Scenes whose surfaces :func:`cached_surfaces` keeps (about 2 MB each for 100 frames on a 50 x 32 grid)."""
_CACHE: OrderedDict[tuple, SceneSurfaces] = OrderedDict()
_LOCK = threading.Lock()


def cached_surfaces(scene: Scene, grid_shape: tuple[int, int] = (50, 32), score_model: ScoreModel = "potential",
                    stride: int = 1) -> SceneSurfaces:
    """:func:`scene_surfaces` kept per ``(scene.key, grid_shape, score_model, stride)`` in a bounded, thread-safe LRU
    cache of :data:`SURFACE_CACHE_SIZE` scenes (shared by every session of a process). The key is hashable and
    small, so a Streamlit app may also key ``st.cache_data`` on ``scene.key`` instead of hashing the scene."""
    key = (scene.key, tuple(grid_shape), score_model, stride)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    result = scene_surfaces(scene, Grid.over(scene.pitch, *grid_shape), score_model, stride)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > SURFACE_CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result
