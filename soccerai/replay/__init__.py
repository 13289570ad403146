"""View data for the dashboard: replay scenes, what-if edits, simulations, figures, exports and tables.

Everything the Streamlit app shows is computed here (the app only lays it out), so it is testable without a
browser. One module per idea:

* :mod:`~soccerai.replay.scene`: moments (shots, attacks) and the 10 Hz :class:`Scene` around them;
* :mod:`~soccerai.replay.edits`: what-if edits of a scene;
* :mod:`~soccerai.replay.surfaces`: pitch control and OBSO of every scene frame;
* :mod:`~soccerai.replay.simulation`: sampled futures of some agents and their C-OBSO;
* :mod:`~soccerai.replay.figure`: the plotly replay figure (animated in the browser);
* :mod:`~soccerai.replay.export`: PNG, GIF and MP4 exports (matplotlib + mplsoccer);
* :mod:`~soccerai.replay.players`: who is who (names, the C-OBSO roles);
* :mod:`~soccerai.replay.tables`: the per-player table, uploads, pipeline outputs and the C-OBSO leaderboard.

The rate, the layout, windows, OBSO and C-OBSO are computed by their owners (:mod:`soccerai.windows.layout`,
:mod:`soccerai.windows.cutter`, :mod:`soccerai.evaluate`, :mod:`soccerai.evaluate.match_obso`); this package wires scenes to them.
Every public name is re-exported here: ``from soccerai import replay; replay.Scene``.
"""

from soccerai.match.clock import match_clock, parse_clock
from soccerai.match.names import team_name
from soccerai.replay.edits import Edit, EditList, edit_player
from soccerai.replay.export import (
    EXPORT_DPI,
    EXPORT_INCHES,
    MAX_DPI,
    MAX_GIF_PIXELS,
    MIN_DPI,
    VIDEO_CODECS,
    frame_png,
    replay_frames,
    replay_gif,
    replay_mp4,
    video_codec,
)
from soccerai.replay.figure import (
    DARK_LINE_COLOUR,
    LINE_COLOUR,
    PITCH_COLOUR,
    Overlays,
    pitch_shapes,
    replay_figure,
    simulation_traces,
)
from soccerai.replay.players import PlayerInfo, Roles, frame_obso, player_info, roles
from soccerai.replay.scene import (
    MAX_LABEL,
    Moment,
    Scene,
    frame_times,
    list_matches,
    load_match,
    scene_at,
    scene_for_moment,
    scene_tensors,
    shooter_at,
    timeline,
)
from soccerai.replay.simulation import (
    COMPARE_SCHEMA,
    Simulation,
    compare_simulations,
    default_agents,
    find_checkpoints,
    history_batch,
    load_model,
    prediction_warnings,
    readable_comparison,
    real_future,
    simulate,
    simulation_cobso,
    what_if_verdict,
)
from soccerai.replay.style import (
    AWAY_COLOUR,
    CONTROL_SCALE,
    HOME_COLOUR,
    OBSO_EXPLANATION,
    OBSO_SCALE_MAX,
    SurfaceStyle,
    surface_style,
    view_title,
)
from soccerai.replay.surfaces import (
    SURFACE_CACHE_SIZE,
    SceneSurfaces,
    cached_surfaces,
    frame_surfaces,
    nearest_usable,
    scene_surfaces,
)
from soccerai.replay.tables import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_DECODED_BYTES,
    PLAYER_COLUMNS,
    PLAYER_TABLE_SCHEMA,
    SUMMARY_SCHEMA,
    TABLE_KINDS,
    VALUE_COLUMNS,
    cobso_leaderboard,
    match_summaries,
    pipeline_outputs,
    player_table,
    read_table,
    save_upload,
)
from soccerai.replay.values import format_columns, format_value
from soccerai.viz import ATTACK_COLOUR, BALL_COLOUR, DEFENCE_COLOUR
from soccerai.windows.container import BALL_INDEX, DT, FPS, N_AGENTS, N_PER_TEAM

__all__ = [
    "ATTACK_COLOUR", "AWAY_COLOUR", "BALL_COLOUR", "BALL_INDEX", "COMPARE_SCHEMA", "CONTROL_SCALE",
    "DARK_LINE_COLOUR", "DEFENCE_COLOUR", "DT", "EXPORT_DPI", "EXPORT_INCHES", "Edit", "EditList", "FPS",
    "HOME_COLOUR", "LINE_COLOUR", "MAX_DPI", "MAX_GIF_PIXELS", "MAX_LABEL", "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_DECODED_BYTES", "MIN_DPI", "Moment", "N_AGENTS", "N_PER_TEAM", "OBSO_EXPLANATION", "OBSO_SCALE_MAX",
    "Overlays", "PITCH_COLOUR", "PLAYER_COLUMNS", "PLAYER_TABLE_SCHEMA", "PlayerInfo", "Roles",
    "SUMMARY_SCHEMA", "SURFACE_CACHE_SIZE", "Scene", "SceneSurfaces", "Simulation", "SurfaceStyle", "TABLE_KINDS",
    "VALUE_COLUMNS", "VIDEO_CODECS", "cached_surfaces", "cobso_leaderboard", "compare_simulations", "prediction_warnings", "readable_comparison", "what_if_verdict",
    "default_agents", "edit_player", "find_checkpoints", "match_clock", "parse_clock", "format_columns", "format_value",
    "frame_obso", "frame_png", "frame_surfaces", "nearest_usable", "frame_times", "history_batch", "list_matches", "load_match",
    "load_model", "match_summaries", "pipeline_outputs", "pitch_shapes", "player_info", "player_table",
    "read_table", "real_future", "replay_figure", "replay_frames", "replay_gif", "replay_mp4", "roles",
    "save_upload", "scene_at", "scene_for_moment", "scene_surfaces", "scene_tensors", "shooter_at",
    "simulate", "simulation_cobso", "simulation_traces", "surface_style", "team_name", "timeline", "video_codec",
    "view_title",
]
