"""The reader registry: provider name -> engine name -> reader (a callable taking the match's files, any order, and
returning a validated :class:`~soccerai.match.schema.Match`).

Every provider kloppy reads has a ``"kloppy"`` reader (:mod:`soccerai.io.providers.kloppy`, the reference and the
fallback); native readers in :mod:`soccerai.io.providers` add a ``"fast"`` engine with :func:`register_reader` when
imported (Last Row clips, which kloppy does not read, have only that one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from soccerai.errors import InvalidParameterError
from soccerai.io.detect import NATIVE_ONLY, PROVIDERS, assign_roles, check_not_truncated
from soccerai.io.providers import kloppy as kloppy_loader
from soccerai.match.schema import Match

Engine = Literal["auto", "fast", "kloppy"]
Reader = Callable[[Sequence[Path]], Match]

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
