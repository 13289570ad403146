"""Which provider wrote these files, and which file plays which role: sniffed from names and first bytes.

Every tracking file is classified into a ``(provider, role)`` pair from its first 16 KiB (content first, the name
only to break ties), so files may be passed in any order and with any names:

==============  ===============================================================================================
provider        roles (the content that identifies them)
==============  ===============================================================================================
metrica-csv     ``home`` / ``away``: CSV whose first line is ``,,,Home,,...`` / ``,,,Away,,...``
metrica-epts    ``meta``: XML with ``FIFADataTransferFormatEPTS``; ``raw``: lines ``frame:x,y,...;...`` of 0-1 floats
tracab          ``meta``: ``<TracabMetaData`` XML or JSON with ``PitchLongSide``; ``raw``: ``.dat`` lines
                ``frame:team,id,jersey,x_cm,y_cm,speed;...`` or JSON with ``FrameData``
sportec         ``meta``: ``<PutDataRequest>`` with ``<MatchInformation>``; ``raw``: ``<PutDataRequest>`` with
                ``<Positions>``
secondspectrum  ``meta``: ``<MetaData>`` XML with ``fPitchXSizeMeters``; ``additional_meta``: JSON with ``pitchLength``
                and ``startFrameClock``; ``raw``: JSON lines with ``frameIdx`` (a JSON ``meta`` alone also works)
statsperform    ``ma1``: JSON/XML with ``matchInfo``; ``ma25``: lines ``timestamp;...``
pff             ``meta``: JSON list with ``homeTeam``/``awayTeam``; ``rosters``: JSON list with ``positionGroupType``;
                ``raw``: JSON lines with ``gameRefId``
skillcorner     ``meta``: JSON with ``home_team_score`` / ``pitch_length``; ``raw``: JSON lines with ``ball_data`` (v3)
                or the open-data JSON array of frames with ``possession`` (``structured_data.json``)
lastrow         ``raw``: one CSV whose header names ``player, frame, x, y, team`` (a Friends of Tracking clip)
signality       ``meta``: JSON with ``team_home_lineup``; ``venue``: JSON with ``pitch_size``; ``raw``: JSON list of
                frames with ``utc_time`` (one per period, ordered by name: ``..._p1_...``, ``..._p2_...``)
hawkeye         ``ball``: JSON feed whose ``samples`` hold ``ball``; ``centroids``: JSON feed with ``details.players``
                / ``samples.people``; ``meta`` (optional): JSON with ``MatchId`` or XML ``<Match>`` with a
                ``<stadium>``. Several ball and centroid feeds (one per minute) make one match.
==============  ===============================================================================================

Files may be compressed (gzip, bzip2, xz): the head is read decompressed (:mod:`soccerai.io.compression`), so the
content decides, whatever the suffix.

Whether the files say their tracking is simulated: :func:`declares_simulated` (EPTS ``<TrackingType>``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

from soccerai.errors import InvalidInputError
from soccerai.io import compression

PROVIDERS = (
    "metrica-csv",
    "metrica-epts",
    "tracab",
    "sportec",
    "secondspectrum",
    "statsperform",
    "pff",
    "skillcorner",
    "signality",
    "hawkeye",
    "lastrow",
)
NATIVE_ONLY = ("lastrow",)
"""Providers kloppy does not read: soccerai's own reader is the only one (Last Row's Friends of Tracking clips)."""
SNIFF_BYTES = 16_384

REQUIRED_ROLES: dict[str, tuple[str, ...]] = {
    "metrica-csv": ("home", "away"),
    "metrica-epts": ("meta", "raw"),
    "tracab": ("meta", "raw"),
    "sportec": ("meta", "raw"),
    "secondspectrum": ("meta", "raw"),
    "statsperform": ("ma1", "ma25"),
    "pff": ("meta", "rosters", "raw"),
    "skillcorner": ("meta", "raw"),
    "signality": ("meta", "venue", "raw"),
    "hawkeye": ("ball", "centroids"),
    "lastrow": ("raw",),
}
"""Roles each provider needs; ``secondspectrum`` may add ``additional_meta``, ``hawkeye`` a ``meta``."""
MANY_FILES: dict[str, tuple[str, ...]] = {"signality": ("raw",), "hawkeye": ("ball", "centroids")}
"""Roles that take several files in one match (Signality's per-period feeds, Hawk-Eye's per-minute feeds)."""

_TRACAB_DAT = re.compile(r"^\s*-?\d+:(-?\d+,){5}")
_EPTS_RAW = re.compile(r"^\s*\d+:(NaN|-?\d*\.\d+|-?\d+)?,")
_MA25 = re.compile(r"^\s*\d+;")
_NUMBER_OR_EMPTY = re.compile(r"^(-?\d+(\.\d*)?([eE][-+]?\d+)?|NaN|)$")

Rule = tuple[str, str, Callable[[str, str], bool]]

LASTROW_COLUMNS = ("player", "frame", "x", "y", "team")


def _lastrow_header(head: str) -> bool:
    """A Last Row clip CSV: its header row names ``player, frame, x, y, team`` (order free)."""
    columns = {c.strip() for c in head.split("\n", 1)[0].split(",")}
    return set(LASTROW_COLUMNS) <= columns


_RULES: tuple[Rule, ...] = (
    ("lastrow", "raw", lambda name, head: _lastrow_header(head)),
    ("metrica-csv", "home", lambda name, head: head.startswith(",,,") and "Home" in head.split("\n", 1)[0]),
    ("metrica-csv", "away", lambda name, head: head.startswith(",,,") and "Away" in head.split("\n", 1)[0]),
    ("metrica-epts", "meta", lambda name, head: "FIFADataTransferFormatEPTS" in head),
    ("metrica-epts", "meta", lambda name, head: "<main" in head and "<GlobalConfig>" in head and "<FrameRate>" in head),
    ("tracab", "meta", lambda name, head: "<TracabMetaData" in head),
    ("tracab", "meta", lambda name, head: head.lstrip().startswith("{") and '"PitchLongSide"' in head),
    ("tracab", "raw", lambda name, head: head.lstrip().startswith("{") and '"FrameData"' in head),
    ("tracab", "raw", lambda name, head: bool(_TRACAB_DAT.match(head))),
    ("metrica-epts", "raw", lambda name, head: bool(_EPTS_RAW.match(head))),
    ("statsperform", "ma25", lambda name, head: bool(_MA25.match(head))),
    ("sportec", "raw", lambda name, head: "<PutDataRequest" in head and "<Positions" in head),
    ("sportec", "meta", lambda name, head: "<PutDataRequest" in head and "<MatchInformation" in head),
    ("secondspectrum", "meta", lambda name, head: "<MetaData" in head and "fPitchXSizeMeters" in head),
    (
        "secondspectrum",
        "additional_meta",
        lambda name, head: '"pitchLength"' in head and '"startFrameClock"' in head,
    ),
    ("secondspectrum", "raw", lambda name, head: '"frameIdx"' in head and '"homePlayers"' in head),
    ("statsperform", "ma1", lambda name, head: "matchInfo" in head),
    ("pff", "raw", lambda name, head: '"gameRefId"' in head),
    ("pff", "rosters", lambda name, head: head.lstrip().startswith("[") and '"positionGroupType"' in head),
    (
        "pff",
        "meta",
        lambda name, head: head.lstrip().startswith("[") and '"homeTeam"' in head and '"awayTeam"' in head,
    ),
    ("hawkeye", "centroids", lambda name, head: _hawkeye_feed(head) and ('"people"' in head or '"jerseyNumber"' in head)),
    ("hawkeye", "ball", lambda name, head: _hawkeye_feed(head) and '"ball"' in head),
    ("hawkeye", "meta", lambda name, head: head.lstrip().startswith("{") and '"MatchId"' in head and '"Stadium"' in head),
    ("hawkeye", "meta", lambda name, head: head.lstrip().startswith("<Match>") and "<stadium>" in head),
    ("skillcorner", "raw", lambda name, head: '"ball_data"' in head),
    ("skillcorner", "raw", lambda name, head: head.lstrip().startswith("[") and '"possession"' in head and '"frame"' in head),
    ("skillcorner", "meta", lambda name, head: '"home_team_score"' in head or '"pitch_length"' in head),
    ("signality", "meta", lambda name, head: '"team_home_lineup"' in head),
    ("signality", "venue", lambda name, head: '"pitch_size"' in head and '"reference_landmarks"' in head),
    ("signality", "raw", lambda name, head: '"utc_time"' in head and '"phase"' in head),
)


def _hawkeye_feed(head: str) -> bool:
    """A Hawk-Eye JSON sample feed: ``details`` with Hawk-Eye (``heId``) identifiers."""
    return head.lstrip().startswith("{") and '"details"' in head and '"heId"' in head


def read_head(path: Path, size: int = SNIFF_BYTES) -> str:
    """The first ``size`` (decompressed) bytes of ``path`` as text (BOM stripped); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError("no such file", path)
    raw = compression.read_head(path, size)
    if not raw.strip():
        raise InvalidInputError("file is empty", path)
    if b"\x00" in raw:
        raise InvalidInputError("file is binary, not a tracking/event text file", path)
    text = raw.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise InvalidInputError("file is not UTF-8 text (binary or corrupt)", path)
    return text.lstrip("\ufeff")


def classify_file(path: Path) -> tuple[str, str]:
    """``(provider, role)`` of one file from its first bytes; :class:`InvalidInputError` when unknown."""
    head = read_head(path)
    name = Path(path).name.lower()
    for provider, role, matches in _RULES:
        if matches(name, head):
            return provider, role
    raise InvalidInputError("unknown tracking format (not one of " + ", ".join(PROVIDERS) + ")", path)


def detect_provider(paths: Sequence[Path] | Path) -> str:
    """The provider of a group of files; every file must belong to the same provider."""
    paths = _as_list(paths)
    if not paths:
        raise InvalidInputError("no files given")
    kinds = {Path(p): classify_file(Path(p)) for p in paths}
    providers = {provider for provider, _ in kinds.values()}
    if len(providers) > 1:
        listing = ", ".join(f"{p.name}={prov}" for p, (prov, _) in kinds.items())
        raise InvalidInputError(f"files of different providers in one match: {listing}", paths[0])
    return providers.pop()


def assign_roles(paths: Sequence[Path] | Path, provider: str) -> dict[str, list[Path]]:
    """Files by role for ``provider``; raise when a file is of another provider or a required role is missing."""
    paths = _as_list(paths)
    if provider not in PROVIDERS:
        raise InvalidInputError(f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})")
    roles: dict[str, list[Path]] = {}
    for path in paths:
        found_provider, role = classify_file(path)
        if found_provider != provider:
            raise InvalidInputError(f"is a {found_provider} {role} file, not a {provider} file", path)
        roles.setdefault(role, []).append(Path(path))
    if provider == "hawkeye" and len(roles.get("meta", [])) > 1:
        roles["meta"] = [preferred_hawkeye_meta(roles["meta"])]
    if provider == "secondspectrum" and "meta" not in roles and "additional_meta" in roles:
        roles["meta"] = roles.pop("additional_meta")
    missing = [role for role in REQUIRED_ROLES[provider] if role not in roles]
    if missing:
        given = ", ".join(p.name for p in paths) or "nothing"
        raise InvalidInputError(
            f"{provider} needs a {' and a '.join(missing)} file; got {given}", paths[0] if paths else None
        )
    for role, files in roles.items():
        if len(files) > 1 and role not in MANY_FILES.get(provider, ()):
            raise InvalidInputError(f"{len(files)} {provider} {role} files given, expected one", files[1])
    return {role: sorted(files, key=lambda p: p.name) for role, files in roles.items()}


def preferred_hawkeye_meta(files: list[Path]) -> Path:
    """Hawk-Eye ships its match metadata as JSON and as XML (kloppy reads either); with both, the JSON one is used
    (then the first by name)."""
    return min(files, key=lambda p: (not compression.plain_name(p).lower().endswith(".json"), p.name))


LINE_ENDINGS: dict[tuple[str, str], str] = {
    ("tracab", "raw"): ":",
    ("statsperform", "ma25"): ";",
    ("secondspectrum", "raw"): "}",
    ("pff", "raw"): "}",
    ("skillcorner", "raw"): "}",
}
"""Line-oriented raw formats whose every line ends with this character (a cut line does not)."""
FIXED_FIELDS = {("metrica-csv", "home"), ("metrica-csv", "away"), ("metrica-epts", "raw")}
"""Line-oriented raw formats whose every line has the same number of fields (``,``, ``;``, ``:`` separated)."""


def _first_and_last_lines(path: Path, tail_bytes: int = 65_536) -> tuple[str, str]:
    with Path(path).open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").strip()
        handle.seek(max(0, Path(path).stat().st_size - tail_bytes))
        lines = [
            line for line in handle.read().decode("utf-8", errors="replace").splitlines() if line.strip()
        ]
    return first, (lines[-1].strip() if lines else "")


def _fields(line: str) -> int:
    return len(re.split(r"[,;:]", line))


def check_not_truncated(path: Path, provider: str, role: str) -> None:
    """Raise :class:`InvalidInputError` when a line-oriented raw file ends in a cut line (truncated file).

    Formats with a fixed line ending (Tracab ``.dat`` ``:``, Stats Perform MA25 ``;``, JSON lines ``}``) must end with
    it; Metrica CSV and EPTS lines must have as many fields as the file's first line (the CSV's third header row)
    and end in a number, ``NaN`` or nothing. A cut that falls inside a number (``0.5596`` for ``0.55965``) cannot be
    told from real data and passes. A compressed file is decompressed to its end instead (a cut stream fails there).
    """
    if compression.compression_of(path) is not None:
        compression.check_stream(path)
        return
    first, last = _first_and_last_lines(path)
    ending = LINE_ENDINGS.get((provider, role))
    json_document = first.startswith(("{", "[")) and not first.endswith(
        "}"
    )  # e.g. Tracab JSON: parsers check it
    if ending is not None and not json_document and not last.endswith(ending):
        raise InvalidInputError(f"last line is cut off (truncated {provider} file?): ...{last[-40:]!r}", path)
    if (provider, role) in FIXED_FIELDS:
        if provider == "metrica-csv":
            with Path(path).open("rb") as handle:
                first = [handle.readline() for _ in range(3)][-1].decode("utf-8", errors="replace").strip()
        if _fields(last) != _fields(first):
            raise InvalidInputError(
                f"last line has {_fields(last)} fields, the file's first has {_fields(first)} (truncated {provider} file?)",
                path,
            )
        cut_value = re.split(r"[,;:]", last)[-1].strip()
        if not _NUMBER_OR_EMPTY.match(cut_value):
            raise InvalidInputError(f"last value {cut_value!r} is cut off (truncated {provider} file?)", path)


SIMULATED_TRACKING_TYPE = "simulated"
"""``<TrackingType>`` (case-insensitive) of EPTS metadata written by soccerai's synthesizer; real files say
``Optical``, ``GPS``, ..."""


def declares_simulated(metadata: Path) -> bool:
    """True when an EPTS metadata XML says ``<TrackingType>Simulated</TrackingType>``.

    Parses only up to the first ``TrackingType`` element (it sits in ``GlobalConfig``, at the top). A file without
    one, or one that cannot be parsed, declares nothing: False (its reader reports what is wrong with it).
    """
    try:
        with compression.open_binary(metadata) as handle:
            for _, element in ET.iterparse(handle):
                if element.tag.rsplit("}", 1)[-1] == "TrackingType":
                    return (element.text or "").strip().lower() == SIMULATED_TRACKING_TYPE
    except (ET.ParseError, InvalidInputError, *compression.DECOMPRESS_ERRORS):
        return False
    return False


def _as_list(paths: Sequence[Path] | Path | str) -> list[Path]:
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(p) for p in paths]
