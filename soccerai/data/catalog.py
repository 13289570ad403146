"""The catalog of public tracking datasets (``data/catalog.toml``): list them, find them on disk, fetch them.

A :class:`Dataset` is a named set of files, each with a URL and, where it is known, a SHA-256. Fetching a file
(:func:`fetch_dataset`) downloads it to ``<dest>/<name>.part`` with HTTP ``Range`` resume (an interrupted download
continues from the bytes it has, within one call and across calls), checks the hash, then renames it into place;
archives marked ``unpack`` are extracted next to it. A wrong hash deletes the partial file and leaves nothing
behind. A file whose hash the catalog does not know is trusted on first use: its hash is recorded in
``<downloads>/sha256-recorded.json`` and any later download with a different hash is refused.

:func:`find_local` looks for a dataset already on disk: a finished download, a folder of the data folder
(``$SOCCERAI_DATA_DIR``), or the files the installed kloppy package ships in ``kloppy/tests/files/``.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from soccerai.config import data_dir, output_dir
from soccerai.errors import InvalidInputError, InvalidParameterError, SoccerAIError
from soccerai.files import atomic_path, sha256_file

CATALOG_ENV = "SOCCERAI_CATALOG"
DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "data" / "catalog.toml"
RECORDED_HASHES = "sha256-recorded.json"
CHUNK = 1 << 16
ACCESS = ("download", "manual")

Progress = Callable[[str, int, int | None], None]
"""``progress(file_name, bytes_done, bytes_total_or_None)``, called as bytes arrive."""


class DownloadError(SoccerAIError):
    """A download failed: HTTP error, broken connection after every retry, or a checksum mismatch."""


@dataclass(frozen=True)
class CatalogFile:
    """One file of a dataset: where it is served, its SHA-256 when known, and where that hash came from."""

    name: str
    url: str
    sha256: str | None = None
    sha256_of: str = ""
    kloppy: str | None = None
    unpack: bool = False


@dataclass(frozen=True)
class Dataset:
    """A catalog entry: provenance (provider, licence, credit), its files, and where copies may already lie."""

    name: str
    title: str
    provider: str
    kind: str
    format: str
    licence: str
    credit: str
    homepage: str
    access: str = "download"
    files: tuple[CatalogFile, ...] = ()
    local: tuple[str, ...] = ()
    notes: str = ""

    @property
    def hashes_known(self) -> str:
        """``all`` / ``some`` / ``none``: how many of the files have a SHA-256 in the catalog."""
        known = sum(f.sha256 is not None for f in self.files)
        return "all" if self.files and known == len(self.files) else ("some" if known else "none")


@dataclass
class LocalCopy:
    """A dataset found on disk: where (``source``, ``root``), the files there, and the catalog files not there."""

    source: str
    root: Path
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


COMPRESSED = ("", ".xz", ".gz", ".bz2")
"""A data-folder copy may be compressed (kloppy reads these transparently)."""


def catalog_path() -> Path:
    """``$SOCCERAI_CATALOG`` or the repository's ``data/catalog.toml``."""
    env = os.environ.get(CATALOG_ENV)
    return Path(env).expanduser().resolve() if env else DEFAULT_CATALOG


def downloads_dir() -> Path:
    """Where fetched datasets go: ``$SOCCERAI_OUT_DIR/datasets`` (one folder per dataset)."""
    return output_dir() / "datasets"


def load_catalog(path: Path | None = None) -> dict[str, Dataset]:
    """Read and check the catalog; a bad entry is an error naming the file and the entry."""
    path = path or catalog_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError("no dataset catalog here", path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"not a valid catalog: {exc}", path) from None
    entries = raw.get("datasets")
    if not isinstance(entries, dict) or not entries:
        raise InvalidInputError("catalog has no [datasets.NAME] tables", path)
    return {name: _dataset(name, entry, path) for name, entry in entries.items()}


def _dataset(name: str, entry: dict, path: Path) -> Dataset:
    required = ("title", "provider", "kind", "format", "licence", "credit", "homepage")
    missing = [key for key in required if not isinstance(entry.get(key), str)]
    if missing:
        raise InvalidInputError(f"dataset {name!r} lacks {', '.join(missing)}", path)
    access = entry.get("access", "download")
    if access not in ACCESS:
        raise InvalidInputError(f"dataset {name!r}: access must be one of {ACCESS}, got {access!r}", path)
    files = tuple(_file(name, f, path) for f in entry.get("files", []))
    if access == "download" and not files:
        raise InvalidInputError(f"dataset {name!r} is downloadable but lists no files", path)
    return Dataset(name=name, access=access, files=files, local=tuple(entry.get("local", [])),
                   notes=entry.get("notes", ""), **{key: entry[key] for key in required})


def _file(dataset: str, entry: dict, path: Path) -> CatalogFile:
    if not isinstance(entry.get("name"), str) or not isinstance(entry.get("url"), str):
        raise InvalidInputError(f"dataset {dataset!r}: every file needs a name and a url", path)
    digest = entry.get("sha256") or None
    if digest is not None and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        raise InvalidInputError(f"dataset {dataset!r}, file {entry['name']!r}: sha256 is not 64 hex digits", path)
    if digest is not None and not entry.get("sha256_of"):
        raise InvalidInputError(f"dataset {dataset!r}, file {entry['name']!r}: say which file sha256_of is", path)
    return CatalogFile(name=entry["name"], url=entry["url"], sha256=digest, sha256_of=entry.get("sha256_of", ""),
                       kloppy=entry.get("kloppy"), unpack=bool(entry.get("unpack", False)))


def get_dataset(name: str, catalog: dict[str, Dataset] | None = None) -> Dataset:
    """The catalog entry ``name``; an unknown name is a parameter error listing the known ones."""
    catalog = catalog if catalog is not None else load_catalog()
    if name not in catalog:
        raise InvalidParameterError(f"no dataset {name!r} in the catalog; known: {', '.join(sorted(catalog))}")
    return catalog[name]


def kloppy_files_dir() -> Path | None:
    """The installed kloppy package's ``tests/files`` folder (real provider files), if it ships one."""
    import importlib.util

    spec = importlib.util.find_spec("kloppy")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "tests" / "files"
    return folder if folder.is_dir() else None


def _copy_in(source: str, folder: Path, names: dict[str, str]) -> LocalCopy:
    """Which of ``names`` (catalog name -> name on disk) lie in ``folder``, compressed or not."""
    copy = LocalCopy(source, folder)
    for catalog_name, disk_name in names.items():
        path = next((folder / f"{disk_name}{ext}" for ext in COMPRESSED if (folder / f"{disk_name}{ext}").is_file()),
                    None)
        copy.files.append(path) if path else copy.missing.append(catalog_name)
    return copy


def find_local(dataset: Dataset, downloads: Path | None = None) -> LocalCopy | None:
    """Where the dataset already lies: a finished download, a data-folder copy, or kloppy's bundled files.

    A complete copy wins in that order; otherwise the copy holding most of the files is returned (check
    :attr:`LocalCopy.complete`); ``None`` when no file of it is on disk."""
    names = {f.name: f.name for f in dataset.files}
    copies = [_copy_in("download", (downloads or downloads_dir()) / dataset.name, names)]
    copies += [_copy_in("data folder", data_dir() / relative, names) for relative in dataset.local]
    bundled = kloppy_files_dir()
    kloppy_names = {f.name: f.kloppy for f in dataset.files if f.kloppy}
    if bundled is not None and len(kloppy_names) == len(names):
        copies.append(_copy_in("kloppy package", bundled, kloppy_names))
    found = [c for c in copies if c.files]
    if not found:
        return None
    return next((c for c in found if c.complete), max(found, key=lambda c: len(c.files)))


def _download(url: str, part: Path, retries: int, timeout_s: float, progress: Progress | None,
              label: str) -> None:
    """Fill ``part`` with the body at ``url``, resuming from its current size with ``Range`` on every retry."""
    import requests
    import urllib3

    last_error = ""
    for _ in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        headers = {"Accept-Encoding": "identity"} | ({"Range": f"bytes={have}-"} if have else {})
        try:
            with requests.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
                if response.status_code == 416 and have:  # the part is already complete (or bigger than the file)
                    return
                if response.status_code >= 400:
                    raise DownloadError(f"HTTP {response.status_code} {response.reason} for {url}")
                resumed = response.status_code == 206
                total = _total_size(response, have if resumed else 0)
                done = have if resumed else 0
                with part.open("ab" if resumed else "wb") as out:
                    for block in response.raw.stream(CHUNK, decode_content=False):  # bytes as served
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(label, done, total)
                if total is not None and done < total:
                    raise requests.ConnectionError(f"connection closed at {done:,} of {total:,} bytes")
                return
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    have = part.stat().st_size if part.exists() else 0
    raise DownloadError(f"download of {url} interrupted after {retries + 1} tries ({have:,} bytes kept in "
                        f"{part.name}; fetch again to resume): {last_error}")


def _total_size(response, offset: int) -> int | None:
    length = response.headers.get("Content-Length")
    if response.headers.get("Content-Encoding") or length is None or not length.isdigit():
        return None
    return offset + int(length)


def _recorded(downloads: Path) -> dict[str, str]:
    path = downloads / RECORDED_HASHES
    return json.loads(path.read_text()) if path.is_file() else {}


def _record(downloads: Path, url: str, digest: str) -> None:
    hashes = _recorded(downloads) | {url: digest}
    with atomic_path(downloads / RECORDED_HASHES) as tmp:
        tmp.write_text(json.dumps(hashes, indent=1, sort_keys=True))


def _expected_hash(spec: CatalogFile, downloads: Path) -> tuple[str | None, str]:
    if spec.sha256:
        return spec.sha256, "the catalog"
    return _recorded(downloads).get(spec.url), f"the hash recorded at its first download ({RECORDED_HASHES})"


def fetch_file(spec: CatalogFile, folder: Path, downloads: Path, retries: int = 3, timeout_s: float = 30.0,
               progress: Progress | None = None) -> Path:
    """Download one file into ``folder`` (resuming), verify its hash, move it into place, return its path."""
    target = folder / spec.name
    part = folder / f"{spec.name}.part"
    expected, source = _expected_hash(spec, downloads)
    if target.is_file() and expected and sha256_file(target) == expected:
        return target
    _download(spec.url, part, retries, timeout_s, progress, spec.name)
    digest = sha256_file(part)
    if expected and digest != expected:
        part.unlink()
        raise DownloadError(f"{spec.name}: sha256 {digest} does not match {expected} from {source}; "
                            "the download was deleted")
    if not expected:
        _record(downloads, spec.url, digest)
    part.replace(target)
    return target


def _unpack(archive: Path) -> list[Path]:
    """Extract an archive beside itself into ``<name>-unpacked/`` (atomically: a temporary folder renamed)."""
    target = archive.with_name(archive.name + "-unpacked")
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.is_file())
    staging = archive.with_name(archive.name + "-unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.unpack_archive(archive, staging)
    except (shutil.ReadError, ValueError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"cannot unpack: {exc}") from None
    staging.rename(target)
    return sorted(p for p in target.rglob("*") if p.is_file())


def fetch_dataset(dataset: Dataset, downloads: Path | None = None, retries: int = 3, timeout_s: float = 30.0,
                  progress: Progress | None = None) -> list[Path]:
    """Download, verify and unpack every file of ``dataset`` into ``<downloads>/<name>/``; return the data files.

    Manual-access datasets raise :class:`DownloadError` saying where to request them. On any failure the files
    that failed their checksum are gone, a folder this call created and left empty is removed, and partial
    downloads of interrupted transfers are kept (``*.part``) so the next call resumes them."""
    if dataset.access == "manual":
        raise DownloadError(f"{dataset.name} cannot be downloaded automatically: {dataset.notes or dataset.homepage}")
    downloads = downloads or downloads_dir()
    folder = downloads / dataset.name
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    try:
        for spec in dataset.files:
            path = fetch_file(spec, folder, downloads, retries, timeout_s, progress)
            out.extend(_unpack(path) if spec.unpack else [path])
    except BaseException:
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise
    return out
