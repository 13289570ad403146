"""Provider files in, canonical :class:`~soccerai.schema.Match` out.

``load_match(paths, provider=None, engine="auto")`` is the one entry point: it detects the provider from the files'
content when none is given (:func:`soccerai.io.detect.detect_provider`), sorts the files into their roles
(:func:`soccerai.io.detect.assign_roles`) and calls the registered reader.

``READERS`` maps provider name -> engine name -> reader, a callable taking the list of the match's files (any order)
and returning a validated :class:`Match`. Every provider has a ``"kloppy"`` reader
(:mod:`soccerai.io.kloppy_loader`); native readers register more engines with :func:`register_reader`
(``soccerai.io.metrica_fast`` registers ``"fast"`` for "metrica-csv" and "metrica-epts", ``skillcorner_fast`` for
SkillCorner open data, ``hawkeye_fast`` for Hawk-Eye, ``lastrow`` for Last Row clips, which kloppy does not read;
they are imported lazily by :func:`load_match`, so they may themselves import this package). ``engine="auto"`` uses
``"fast"`` where registered, else ``"kloppy"``.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.io import kloppy_loader
from soccerai.io.detect import NATIVE_ONLY, PROVIDERS, assign_roles, check_not_truncated, detect_provider
from soccerai.io.provenance import declared_simulated
from soccerai.schema import Match

Engine = Literal["auto", "fast", "kloppy"]
Reader = Callable[[Sequence[Path]], Match]

OPTIONAL_READER_MODULES = (
    "soccerai.io.metrica_fast",
    "soccerai.io.skillcorner_fast",
    "soccerai.io.hawkeye_fast",
    "soccerai.io.tracab_fast",
    "soccerai.io.lastrow",
)
"""Modules imported on first use of :func:`load_match`; they call :func:`register_reader` when imported."""


def load_with_kloppy(paths: Sequence[Path] | Path, provider: str) -> Match:
    """Load one match's files of ``provider`` through kloppy (roles sniffed from the files' content)."""
    r = assign_roles(paths, provider)
    for role, files in r.items():
        for path in files:
            check_not_truncated(path, provider, role)
    return kloppy_loader.load_provider(provider, r)


def _kloppy_reader(provider: str) -> Reader:
    def read(paths: Sequence[Path]) -> Match:
        return load_with_kloppy(paths, provider)

    read.__name__ = f"read_{provider.replace('-', '_')}_with_kloppy"
    return read


READERS: dict[str, dict[str, Reader]] = {
    provider: ({} if provider in NATIVE_ONLY else {"kloppy": _kloppy_reader(provider)}) for provider in PROVIDERS
}


def register_reader(provider: str, engine: str, reader: Reader) -> None:
    """Add (or replace) the ``engine`` reader of ``provider``."""
    if provider not in READERS:
        raise InvalidParameterError(f"unknown provider {provider!r} (known: {', '.join(READERS)})")
    READERS[provider][engine] = reader


def _import_optional_readers() -> None:
    for module in OPTIONAL_READER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def load_match(
    paths: Sequence[Path] | Path | str, provider: str | None = None, engine: Engine = "auto"
) -> Match:
    """Load one match from its provider files into a validated canonical :class:`Match`.

    ``paths``: every file of the match (any order; e.g. metadata + raw). ``provider``: one of
    :data:`soccerai.io.detect.PROVIDERS`, sniffed from content when None. ``engine``: "auto" (fast where
    registered), "fast" or "kloppy". Teams whose goalkeeper the provider does not name get one inferred
    (:func:`soccerai.goalkeepers.infer_goalkeepers`). Files soccerai's synthesizer wrote (listed in the provenance
    manifest beside them, :mod:`soccerai.io.provenance`) give a match with ``metadata.simulated`` True.
    """
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise InvalidInputError("no files given")
    if engine not in ("auto", "fast", "kloppy"):
        raise InvalidParameterError(f"unknown engine {engine!r} (auto, fast, kloppy)")
    _import_optional_readers()
    provider = provider or detect_provider(files)
    if provider not in READERS:
        raise InvalidParameterError(f"unknown provider {provider!r} (known: {', '.join(READERS)})")
    engines = READERS[provider]
    chosen = ("fast" if "fast" in engines else "kloppy") if engine == "auto" else engine
    if chosen not in engines:
        raise InvalidParameterError(f"no {chosen!r} reader for {provider} (available: {', '.join(engines)})")
    from soccerai.goalkeepers import infer_goalkeepers

    match = infer_goalkeepers(engines[chosen](files))
    if not match.metadata.simulated and declared_simulated(files):
        match.metadata = dataclasses.replace(match.metadata, simulated=True)
    return match


from soccerai.io.any import load_any  # noqa: E402  (after load_match: it loads through soccerai.ingest)

__all__ = [
    "PROVIDERS",
    "READERS",
    "Engine",
    "Reader",
    "assign_roles",
    "detect_provider",
    "load_any",
    "load_match",
    "load_with_kloppy",
    "register_reader",
]
