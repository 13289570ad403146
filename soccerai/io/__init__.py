"""Provider files in, canonical :class:`~soccerai.match.schema.Match` out.

``load_match(paths, provider=None, engine="auto")`` is the one entry point: it detects the provider from the files'
content when none is given (:func:`soccerai.io.detect.detect_provider`), sorts the files into their roles
(:func:`soccerai.io.detect.assign_roles`) and calls the registered reader (:data:`soccerai.io.registry.READERS`).
Native readers (:mod:`soccerai.io.providers`: Metrica CSV / EPTS, SkillCorner, Hawk-Eye, Tracab, Second Spectrum,
PFF, Sportec, Last Row) register
a ``"fast"`` engine; ``engine="auto"`` uses it where registered, else ``"kloppy"``. Every reader ends with
:func:`soccerai.io.canonical.finalize_match`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.io.detect import PROVIDERS, assign_roles, detect_provider
from soccerai.io.provenance import declared_simulated
from soccerai.io.providers import hawkeye, lastrow, metrica, pff, secondspectrum, skillcorner, sportec, tracab  # noqa: F401  (they register)
from soccerai.io.registry import READERS, Engine, Reader, load_with_kloppy, register_reader
from soccerai.match.goalkeepers import infer_goalkeepers
from soccerai.match.schema import Match


def load_match(
    paths: Sequence[Path] | Path | str, provider: str | None = None, engine: Engine = "auto"
) -> Match:
    """Load one match from its provider files into a validated canonical :class:`Match`.

    ``paths``: every file of the match (any order; e.g. metadata + raw). ``provider``: one of
    :data:`soccerai.io.detect.PROVIDERS`, sniffed from content when None. ``engine``: "auto" (fast where
    registered), "fast" or "kloppy". Teams whose goalkeeper the provider does not name get one inferred
    (:func:`soccerai.match.goalkeepers.infer_goalkeepers`). Files soccerai's synthesizer wrote (listed in the provenance
    manifest beside them, :mod:`soccerai.io.provenance`) give a match with ``metadata.simulated`` True.
    """
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise InvalidInputError("no files given")
    if engine not in ("auto", "fast", "kloppy"):
        raise InvalidParameterError(f"unknown engine {engine!r} (auto, fast, kloppy)")
    provider = provider or detect_provider(files)
    if provider not in READERS:
        raise InvalidParameterError(f"unknown provider {provider!r} (known: {', '.join(READERS)})")
    engines = READERS[provider]
    chosen = ("fast" if "fast" in engines else "kloppy") if engine == "auto" else engine
    if chosen not in engines:
        raise InvalidParameterError(f"no {chosen!r} reader for {provider} (available: {', '.join(engines)})")
    match = infer_goalkeepers(engines[chosen](files))
    if not match.metadata.simulated and declared_simulated(files):
        match.metadata = dataclasses.replace(match.metadata, simulated=True)
    return match


__all__ = [
    "PROVIDERS",
    "READERS",
    "Engine",
    "Reader",
    "assign_roles",
    "detect_provider",
    "load_match",
    "load_with_kloppy",
    "register_reader",
]
