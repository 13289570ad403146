"""Tracking data of ten provider formats, read with kloppy and turned into one canonical :class:`~soccerai.match.schema.Match`.

Each provider is one entry of :data:`KLOPPY_PROVIDERS` (a :class:`KloppyProvider`: kloppy's loader, which file
role feeds which of its arguments, its options); :func:`load_provider` reads any of them from its files by role
(see :mod:`soccerai.io.detect`): it calls kloppy with coordinates in kloppy's ``secondspectrum`` system (metres,
origin at the centre spot, x along the length, +y towards the top of the TV picture), flattens ``dataset.frames``
into the long table and hands it to :func:`soccerai.io.canonical.finalize_match`, the single place that sorts,
repairs, orients and validates (what every reader ends with). ``load_metrica_csv(home, away)`` and ``load_metrica_epts(meta, raw)`` are one-line shortcuts to it.

Simulated tracking: ``metadata.simulated`` is True when the files say so (EPTS metadata with
``<TrackingType>Simulated</TrackingType>``, as soccerai's synthesizer writes; :func:`soccerai.io.detect.declares_simulated`)
unless the caller passes ``simulated=`` explicitly; every other provider format cannot say so and gives False.

The canonical table produced here (the contract the native fast readers must reproduce exactly)
    * ``frame``: kloppy's ``frame_id``; ``period``: kloppy's period id; ``time_s``: kloppy's ``frame.timestamp``
      in seconds, i.e. seconds since the start of the period.
    * ``object_id``: kloppy's ``player_id`` (``"ball"`` for the ball); ``team``: "home" / "away" / "ball".
    * ``x``, ``y`` metres, centred, then rotated to the static orientation (home attacks ``+x`` in every period;
      :func:`soccerai.match.orientation.infer_home_attacks_positive_x` decides, the inferred real direction goes into
      ``MatchMetadata.periods``). ``z``: ball height in metres as kloppy gives it (null when the provider has none);
      players' ``z`` is null. ``vx``/``vy``: null.
    * ``ball_state``: "alive" / "dead" / null; ``ball_owning_team``: "home" / "away" / null.
    * Objects without a position in a frame have no row (kloppy's NaN/None positions are dropped).
    * Sort order: ``period``, ``frame``, then the ball, then home players, then away players, each team's players
      by ``object_id`` in plain string order (``"home_1" < "home_10" < "home_2"``).
    * Repairs, counted in ``metadata.extra["repairs"]`` (a dict, empty when nothing was repaired):
      ``duplicated_frames`` - frames that occur more than once keep their first occurrence (file order);
      ``unsorted_frames`` - frames found out of (period, frame) order are sorted. A period whose frames start
      before the previous period's last frame (halves swapped or mislabelled) is an error, not a repair.
    * ``metadata.extra["source_frames"]``: the number of frames kloppy read (empty frames included);
      ``metadata.extra["kloppy_warnings"]``: kloppy's warnings (e.g. "default pitch dimensions (105 x 68)").
    * ``match_id``: kloppy's ``game_id`` when set, else (and always for Metrica EPTS) the metadata file's stem
      without a ``meta_data``/``metadata``/``meta`` token (``epts_metrica_metadata.xml`` -> ``epts_metrica``),
      see :func:`stem_match_id`; Metrica CSV: :func:`metrica_csv_match_id`.

Metrica (CSV pair and EPTS) in detail, the contract with :mod:`soccerai.io.providers.metrica`
    Raw Metrica coordinates are 0-1 with the origin at the top-left corner and y growing downwards; the pitch is
    105 x 68 m (the CSV has no pitch size; EPTS metadata may give one, kloppy reads it).
    Before orientation: ``x_m = (x_raw - 0.5) * length``, ``y_m = (0.5 - y_raw) * width``.
    kloppy 3.19.1's CSV reader stores ``1 - y_raw`` (its EPTS reader does not); this module undoes that flip for
    "metrica-csv" so that CSV tracking, EPTS tracking and the Metrica event files (read raw, see
    :mod:`soccerai.io.events`) share one convention.
    * CSV ids: ``"home_<jersey>"`` / ``"away_<jersey>"`` from the second header row (``Player11`` -> ``home_11``);
      jersey = that number; position "UNK", name null, ``is_goalkeeper`` False (the CSV does not say).
      EPTS ids: the metadata's player ids (``"Track_1"``...), names and jerseys as kloppy reads them.
    * ``frame`` = the file's frame number; ``time_s = (frame - first_frame_of_period + 1) / 25`` for the CSV
      (kloppy counts the period from the frame before its first one, so the first frame has 0.04) and
      ``(frame - first_frame_of_period) / frame_rate`` for EPTS.
    * ``z``: null for every row (Metrica gives no ball height); ``ball_state``/``ball_owning_team``: null.
    * ``match_id``: for the CSV, the common prefix of the home and away file stems with trailing ``_``, ``-``,
      ``.`` and ``RawTrackingData`` removed (``Sample_Game_1_RawTrackingData_Home_Team`` -> ``Sample_Game_1``,
      ``metrica_home`` -> ``metrica``), the home stem if that leaves nothing.
      :func:`metrica_csv_match_id` computes it. EPTS: see below (metadata file stem).
    * metadata: provider "metrica-csv" / "metrica-epts", frame_rate 25 (CSV) or the EPTS metadata's rate.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from soccerai.errors import InvalidInputError, InvalidParameterError, SoccerAIError
from soccerai.io.canonical import (
    MatchFacts,
    finalize_match,
    identified_only,
    metrica_csv_match_id,
    stem_match_id,
)
from soccerai.io.compression import read_head, with_compression_suffixes
from soccerai.io.detect import declares_simulated
from soccerai.match.schema import BALL_ID, DEFAULT_PITCH, PLAYERS_SCHEMA, Match

COORDINATES = "secondspectrum"
"""kloppy coordinate system every loader asks for: metres, centred, +y up."""


def kloppy_team_facts(meta: Any) -> dict[str, Any]:
    """Team names, ``date`` (ISO ``YYYY-MM-DD``) and ``score`` (``"home-away"``) of a kloppy dataset's metadata,
    where it has them: ``{"home_team": ..., "away_team": ..., "extra": {"date": ..., "score": ...}}``."""
    names = {str(getattr(team.ground, "value", team.ground)).lower(): team.name for team in (meta.teams or [])
             if team is not None and team.name}
    extra: dict[str, Any] = {}
    date = getattr(meta, "date", None)
    if date is not None and hasattr(date, "date"):
        extra["date"] = date.date().isoformat()
    score = getattr(meta, "score", None)
    if score is not None and score.home is not None and score.away is not None:
        extra["score"] = f"{score.home}-{score.away}"
    return {"home_team": str(names.get("home", "home")), "away_team": str(names.get("away", "away")), "extra": extra}


# ---------------------------------------------------------------------------------------------------------------
# kloppy dataset -> tables
# ---------------------------------------------------------------------------------------------------------------


def _ground(team: Any) -> str | None:
    return None if team is None else str(team.ground.value)


def _ball_state(state: Any) -> str | None:
    return None if state is None else str(state.value)


def _finite(value: Any) -> bool:
    return value is not None and value == value and abs(value) != float("inf")


def dataset_to_tracking(dataset: Any, *, flip_y: bool = False) -> pl.DataFrame:
    """Flatten kloppy ``dataset.frames`` (already in centred metres) into the long table, provider orientation.

    ``flip_y`` negates y (used for kloppy's Metrica CSV reader, which stores ``1 - y``).
    """
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "period",
            "frame",
            "time_s",
            "object_id",
            "team",
            "x",
            "y",
            "z",
            "ball_state",
            "ball_owning_team",
        )
    }
    sign = -1.0 if flip_y else 1.0

    def add(
        frame_info: tuple[Any, ...], object_id: str, team: str, x: float, y: float, z: float | None
    ) -> None:
        for key, value in zip(
            ("period", "frame", "time_s", "ball_state", "ball_owning_team"), frame_info, strict=True
        ):
            cols[key].append(value)
        cols["object_id"].append(object_id)
        cols["team"].append(team)
        cols["x"].append(x)
        cols["y"].append(sign * y)
        cols["z"].append(z)

    for frame in dataset.frames:
        info = (
            frame.period.id,
            frame.frame_id,
            frame.timestamp.total_seconds(),
            _ball_state(frame.ball_state),
            _ground(frame.ball_owning_team),
        )
        ball = frame.ball_coordinates
        if ball is not None and _finite(ball.x) and _finite(ball.y):
            z = getattr(ball, "z", None)
            add(info, BALL_ID, BALL_ID, ball.x, ball.y, z if _finite(z) else None)
        for player, data in frame.players_data.items():
            point = data.coordinates
            if point is not None and _finite(point.x) and _finite(point.y):
                add(info, str(player.player_id), _ground(player.team) or "", point.x, point.y, None)
    return pl.DataFrame(
        cols,
        schema_overrides={
            "x": pl.Float64,
            "y": pl.Float64,
            "z": pl.Float64,
            "time_s": pl.Float64,
            "frame": pl.Int64,
        },
    )


def dataset_to_players(dataset: Any) -> pl.DataFrame:
    """One row per player in kloppy's metadata (substitutes included)."""
    rows = []
    for team in dataset.metadata.teams:
        for player in team.players:
            position = player.starting_position
            code = getattr(position, "code", None) or _position_name_code(position)
            jersey = player.jersey_no
            rows.append(
                {
                    "object_id": str(player.player_id),
                    "team": _ground(team),
                    "jersey": int(jersey)
                    if jersey is not None and str(jersey).lstrip("-").isdigit()
                    else None,
                    "position": code,
                    "name": player.name,
                    "is_goalkeeper": code == "GK",
                }
            )
    players = pl.DataFrame(rows, schema=PLAYERS_SCHEMA) if rows else pl.DataFrame(schema=PLAYERS_SCHEMA)
    return players.unique(subset="object_id", keep="first", maintain_order=True)


def _position_name_code(position: Any) -> str:
    """A position kloppy keeps as the provider's plain name (Hawk-Eye ``"Goalkeeper"``): "GK" or "UNK"."""
    return "GK" if isinstance(position, str) and position.strip().lower() == "goalkeeper" else "UNK"


def _pitch_size(dataset: Any) -> tuple[float, float]:
    dims = dataset.metadata.pitch_dimensions
    length, width = getattr(dims, "pitch_length", None), getattr(dims, "pitch_width", None)
    if length and width:
        return float(length), float(width)
    return DEFAULT_PITCH


def dataset_to_match(
    dataset: Any,
    *,
    provider: str,
    source_files: Sequence[Path],
    match_id: str | None = None,
    flip_y: bool = False,
    warnings_seen: Sequence[str] = (),
    blame: Path | None = None,
    simulated: bool = False,
    team_facts: bool = False,
) -> Match:
    """Canonical :class:`Match` from a kloppy ``TrackingDataset`` loaded in ``secondspectrum`` coordinates.

    ``team_facts``: take team names, date and score from kloppy's metadata (:func:`kloppy_team_facts`; off for the
    providers whose native readers must equal this path and do not read them yet).
    Errors name ``blame`` (default: the last source file, the raw data for most providers)."""
    source = Path(blame) if blame is not None else Path(source_files[-1])
    if not len(dataset.frames):
        raise InvalidInputError(f"no frames could be read as {provider}", source)
    meta = dataset.metadata
    game_id = getattr(meta, "game_id", None)
    facts = MatchFacts(
        match_id=match_id or (str(game_id) if game_id not in (None, "") else stem_match_id(source_files[0])),
        provider=provider,
        frame_rate=float(meta.frame_rate),
        pitch=_pitch_size(dataset),
        source_files=tuple(Path(p) for p in source_files),
        extra={"source_frames": len(dataset.frames), "kloppy_warnings": list(warnings_seen)},
        simulated=simulated,
    )
    if team_facts:
        named = kloppy_team_facts(meta)
        facts = replace(facts, home_team=named["home_team"], away_team=named["away_team"],
                                    extra={**facts.extra, **named["extra"]})
    players = dataset_to_players(dataset)
    tracking, dropped = identified_only(dataset_to_tracking(dataset, flip_y=flip_y), players)
    if dropped:
        facts.extra["unidentified_rows"] = dropped
    return finalize_match(tracking, players, facts, blame=source)



# ---------------------------------------------------------------------------------------------------------------
# Calling kloppy safely
# ---------------------------------------------------------------------------------------------------------------


def _check_files(paths: Sequence[Path]) -> None:
    for path in paths:
        if not Path(path).is_file():
            raise InvalidInputError("no such file", path)
        if Path(path).stat().st_size == 0:
            raise InvalidInputError("file is empty", path)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    return f"{type(exc).__name__}: {message[:200]}" if message else type(exc).__name__


def run_kloppy(
    provider: str, blame: Path, paths: Sequence[Path], call: Callable[[], Any]
) -> tuple[Any, list[str]]:
    """Run a kloppy load: ``(dataset, warning messages)``; any parser failure becomes an :class:`InvalidInputError`
    naming ``blame``."""
    _check_files(paths)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            dataset = call()
        messages = {str(w.message).splitlines()[0] for w in caught if issubclass(w.category, UserWarning)}
        return dataset, sorted(messages)
    except SoccerAIError:
        raise
    except Exception as exc:  # kloppy/lxml/json/csv raise anything on corrupt input
        raise InvalidInputError(f"cannot be read as {provider} ({_one_line(exc)})", blame) from exc


# ---------------------------------------------------------------------------------------------------------------
# The providers: one entry each
# ---------------------------------------------------------------------------------------------------------------

Roles = Mapping[str, Path | Sequence[Path]]
"""Files by role (``{"meta": path, "raw": path}``); a role may hold a list (Signality's per-period feeds)."""


@dataclass(frozen=True)
class KloppyProvider:
    """How one provider's files go through kloppy.

    ``load`` is kloppy's load function (or one that calls it, see :func:`_kloppy_metrica_csv`). ``arguments`` maps
    each file role to the keyword of ``load`` that takes it; its order is
    the order of ``metadata.source_files``. Roles in ``optional`` may be absent; roles in ``many`` are passed as a
    list of files (in the order given). ``blame`` is the role whose (last) file errors name. ``options`` are further
    keywords of the loader. ``match_id`` computes the id from the files (default: kloppy's ``game_id``, else the
    first file's stem, :func:`stem_match_id`); ``flip_y`` undoes kloppy's ``1 - y`` (Metrica CSV);
    ``simulated_flag`` is the role whose file may declare simulated tracking (EPTS metadata); ``options_for``
    computes further keywords from the files (SkillCorner: which of its formats); ``team_facts`` reads team names,
    date and score from kloppy's metadata (off where a native reader must equal this path and does not read them).
    """

    name: str
    load: Callable[..., Any]
    arguments: dict[str, str]
    blame: str = "raw"
    options: dict[str, Any] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    many: tuple[str, ...] = ()
    match_id: Callable[[dict[str, list[Path]]], str] | None = None
    options_for: Callable[[dict[str, list[Path]]], dict[str, Any]] | None = None
    flip_y: bool = False
    simulated_flag: str | None = None
    team_facts: bool = True


# kloppy's load functions, one per provider. Each imports its kloppy module on its first call, not when this module
# is imported: kloppy's provider modules take ~0.4 s to import (lxml, kloppy's domain model), a cost every face that
# only reads stored parquet would otherwise pay.


def _kloppy_metrica_csv(**arguments: Any) -> Any:
    from kloppy.metrica import load_tracking_csv

    return load_tracking_csv(**arguments)


def _kloppy_metrica_epts(**arguments: Any) -> Any:
    from kloppy.metrica import load_tracking_epts

    return load_tracking_epts(**arguments)


def _kloppy_tracab(**arguments: Any) -> Any:
    from kloppy.tracab import load

    return load(**arguments)


def _kloppy_sportec(**arguments: Any) -> Any:
    from kloppy.sportec import load_tracking

    return load_tracking(**arguments)


def _kloppy_secondspectrum(**arguments: Any) -> Any:
    from kloppy.secondspectrum import load

    return load(**arguments)


def _kloppy_statsperform(**arguments: Any) -> Any:
    from kloppy.statsperform import load_tracking

    return load_tracking(**arguments)


def _kloppy_pff(**arguments: Any) -> Any:
    from kloppy.pff import load_tracking

    return load_tracking(**arguments)


def _kloppy_skillcorner(**arguments: Any) -> Any:
    from kloppy.skillcorner import load

    return load(**arguments)


def _kloppy_signality(**arguments: Any) -> Any:
    from kloppy.signality import load

    return load(**arguments)


def _kloppy_hawkeye(**arguments: Any) -> Any:
    from kloppy.hawkeye import load

    return load(**arguments)


def skillcorner_options(files: dict[str, list[Path]]) -> dict[str, Any]:
    """SkillCorner open data (a JSON array, ``structured_data.json``) lists ~20,000 frames of a match with a period
    but nothing tracked (replays, close-ups): they are not read (``include_empty_frames=False``, as the open-data
    repository's own loader does), so ``source_frames`` counts frames with data. v3 JSON lines keep every frame."""
    head = read_head(files["raw"][0], 64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return {"include_empty_frames": False} if head.startswith(b"[") else {}


META_RAW = {"meta": "meta_data", "raw": "raw_data"}
ALL_FRAMES = {"only_alive": False}
"""Keep dead-ball frames too: windowing and the ball state decide what to use, not the reader."""

KLOPPY_PROVIDERS: dict[str, KloppyProvider] = {
    spec.name: spec
    for spec in (
        KloppyProvider(
            "metrica-csv", _kloppy_metrica_csv, {"home": "home_data", "away": "away_data"},
            blame="home", flip_y=True, team_facts=False,
            match_id=lambda files: metrica_csv_match_id(files["home"][0], files["away"][0]),
        ),
        KloppyProvider(
            "metrica-epts", _kloppy_metrica_epts, META_RAW, simulated_flag="meta", team_facts=False,
            match_id=lambda files: stem_match_id(files["meta"][0]),
        ),
        KloppyProvider("tracab", _kloppy_tracab, META_RAW, options=ALL_FRAMES, team_facts=False),
        KloppyProvider("sportec", _kloppy_sportec, META_RAW, options=ALL_FRAMES),
        KloppyProvider(
            "secondspectrum", _kloppy_secondspectrum,
            {**META_RAW, "additional_meta": "additional_meta_data"}, optional=("additional_meta",),
            options=ALL_FRAMES,
        ),
        KloppyProvider(
            "statsperform", _kloppy_statsperform, {"ma1": "ma1_data", "ma25": "ma25_data"},
            blame="ma25", options={"tracking_system": "sportvu", **ALL_FRAMES},
        ),
        KloppyProvider(
            "pff", _kloppy_pff, {"meta": "meta_data", "rosters": "roster_meta_data", "raw": "raw_data"},
            options=ALL_FRAMES,
        ),
        KloppyProvider(
            "skillcorner", _kloppy_skillcorner, META_RAW, options={**ALL_FRAMES, "include_empty_frames": True},
            options_for=skillcorner_options,
        ),
        KloppyProvider(
            "signality", _kloppy_signality,
            {"meta": "meta_data", "venue": "venue_information", "raw": "raw_data_feeds"}, many=("raw",),
        ),
        KloppyProvider(
            "hawkeye", _kloppy_hawkeye,
            {"ball": "ball_feeds", "centroids": "player_centroid_feeds", "meta": "meta_data"},
            blame="centroids", optional=("meta",), many=("ball", "centroids"), team_facts=False,
        ),
    )
}
"""Every provider read through kloppy, by name (the names of :data:`soccerai.io.detect.PROVIDERS`)."""


def _files_by_role(spec: KloppyProvider, roles: Roles) -> dict[str, list[Path]]:
    """``roles`` as lists of paths, in ``spec.arguments`` order; a missing required or an unknown role is an error."""
    unknown = sorted(set(roles) - set(spec.arguments))
    if unknown:
        raise InvalidParameterError(f"{spec.name} has no file role {', '.join(unknown)} ({', '.join(spec.arguments)})")
    files: dict[str, list[Path]] = {}
    for role in spec.arguments:
        given = roles.get(role)
        if given is None or (not isinstance(given, str | Path) and not len(given)):
            if role in spec.optional:
                continue
            raise InvalidInputError(f"{spec.name} needs a {role} file")
        files[role] = [Path(given)] if isinstance(given, str | Path) else [Path(p) for p in given]
        if len(files[role]) > 1 and role not in spec.many:
            raise InvalidInputError(f"{len(files[role])} {spec.name} {role} files given, expected one", files[role][1])
    return files


def load_provider(provider: str, roles: Roles, *, simulated: bool | None = None) -> Match:
    """Read one match of ``provider`` through kloppy from its files by role (see :data:`KLOPPY_PROVIDERS`).

    ``simulated``: the metadata's flag; None takes what the files declare (False where they cannot say).
    Any kloppy failure becomes an :class:`InvalidInputError` naming the blamed file.
    """
    spec = KLOPPY_PROVIDERS.get(provider)
    if spec is None:
        raise InvalidParameterError(f"unknown provider {provider!r} (known: {', '.join(KLOPPY_PROVIDERS)})")
    files = _files_by_role(spec, roles)
    paths = [path for role_files in files.values() for path in role_files]
    blame = files[spec.blame][-1]
    _check_files(paths)
    options = {**spec.options, **(spec.options_for(files) if spec.options_for else {})}
    with with_compression_suffixes(paths) as opened:
        arguments = {
            spec.arguments[role]: [opened[p] for p in role_paths] if role in spec.many else opened[role_paths[0]]
            for role, role_paths in files.items()
        }
        dataset, seen = run_kloppy(
            provider, blame, paths, lambda: spec.load(**arguments, coordinates=COORDINATES, **options)
        )
    if simulated is None:
        simulated = spec.simulated_flag in files and declares_simulated(files[spec.simulated_flag][0])
    return dataset_to_match(
        dataset,
        provider=provider,
        source_files=paths,
        match_id=spec.match_id(files) if spec.match_id else None,
        flip_y=spec.flip_y,
        warnings_seen=seen,
        blame=blame,
        simulated=simulated,
        team_facts=spec.team_facts,
    )


# Shortcuts with the files as arguments, for the two Metrica formats (the native readers' tests compare with them).


def load_metrica_csv(home: Path, away: Path, *, simulated: bool | None = None) -> Match:
    """Metrica CSV pair (``*_Home_Team.csv`` + ``*_Away_Team.csv``). See the module docstring for the mapping."""
    return load_provider("metrica-csv", {"home": home, "away": away}, simulated=simulated)


def load_metrica_epts(meta: Path, raw: Path, *, simulated: bool | None = None) -> Match:
    """Metrica EPTS (FIFA): metadata XML + raw ``.txt`` tracking; simulated when the metadata says so."""
    return load_provider("metrica-epts", {"meta": meta, "raw": raw}, simulated=simulated)
