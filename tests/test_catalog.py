"""The dataset catalog and ``soccerai data list | path | fetch``, offline.

Downloads are tested against a real HTTP server on 127.0.0.1 (standard library, a thread of this test process)
serving files made in the test: a good download (a zip of the real Metrica sample CSVs, unpacked and ingested),
a wrong checksum (refused, nothing left), an interrupted download (resumed with ``Range``), a 404 (clear error,
exit 1), and a hash the catalog does not know (recorded on first download, enforced after).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from soccerai.data import catalog
from soccerai.errors import InvalidInputError
from soccerai.files import sha256_file


@dataclass
class FileServer:
    """Serves ``files`` (URL path -> bytes) with ``Range`` support; ``break_after[path] = n`` cuts the next
    response for ``path`` after ``n`` bytes (once); ``requests`` records (path, Range header) per request."""

    files: dict[str, bytes] = field(default_factory=dict)
    break_after: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(server: FileServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            server.requests.append((self.path, self.headers.get("Range")))
            body = server.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            start = 0
            if self.headers.get("Range", "").startswith("bytes="):
                start = int(self.headers["Range"][6:].split("-")[0])
                if start >= len(body):
                    self.send_error(416, "Range Not Satisfiable")
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            cut = server.break_after.pop(self.path, None)
            self.wfile.write(body[start:] if cut is None else body[start:cut])  # then the connection closes

    return Handler


@pytest.fixture()
def http_server() -> Iterator[FileServer]:
    files = FileServer()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    files.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield files
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _catalog(path: Path, name: str, files: list[dict], access: str = "download") -> Path:
    lines = [f"[datasets.{name}]", f'title = "test dataset {name}"', 'provider = "Metrica Sports"',
             'kind = "tracking"', 'format = "metrica-csv"', 'licence = "test"', 'credit = "Metrica Sports"',
             'homepage = "http://127.0.0.1/"', f'access = "{access}"']
    for f in files:
        lines.append(f"[[datasets.{name}.files]]")
        lines += [f'{key} = {value!r}'.replace("'", '"') if isinstance(value, str) else f"{key} = {str(value).lower()}"
                  for key, value in f.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOCCERAI_OUT_DIR": str(out), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}
    return subprocess.run([sys.executable, "-m", "soccerai.cli", "data", *args], capture_output=True, text=True,
                          timeout=180, env=env)


def test_the_repository_catalog_lists_every_dataset(tmp_path: Path) -> None:
    datasets = catalog.load_catalog()
    for name in ("skillcorner-2417", "metrica-sample-game-1", "idsse-j03wpy", "pff-wc2022",
                 "lastrow-liverpool-2019"):
        assert name in datasets
    done = _cli("list", out=tmp_path)
    assert done.returncode == 0, done.stderr
    for ds in datasets.values():
        assert ds.name in done.stdout and ds.licence.split()[0] in done.stdout
    assert f"{len(datasets)} datasets" in done.stdout


def test_every_recorded_hash_is_the_hash_of_the_copy_it_names(data_dir: Path) -> None:
    """A sha256 in the catalog must be computed from a real copy: kloppy's bundled file or the data folder's."""
    bundled = catalog.kloppy_files_dir()
    assert bundled is not None
    checked = 0
    for ds in catalog.load_catalog().values():
        for f in ds.files:
            if f.sha256 is None:
                continue
            if f.sha256_of.startswith("kloppy"):
                copy = bundled / f.kloppy
            else:
                copy = data_dir / f.sha256_of.split("'s ", 1)[1].split(" ")[0]
            assert sha256_file(copy) == f.sha256, (ds.name, f.name, copy)
            checked += 1
    assert checked >= 10


def test_path_finds_the_real_match_and_kloppys_files(tmp_path: Path, data_dir: Path) -> None:
    done = _cli("path", "skillcorner-2417", out=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[0] == str(data_dir / "real-matches/skillcorner-bayern-dortmund-2019-11-09/match_data.json")
    assert lines[1].endswith("structured_data.json.xz")
    pff = _cli("path", "pff-wc2022", out=tmp_path)
    assert pff.returncode == 0 and "kloppy/tests/files/pff_10517.jsonl" in pff.stdout
    nowhere = _cli("path", "idsse-j03wpy", out=tmp_path)
    assert nowhere.returncode == 1 and "not on disk" in nowhere.stderr
    partial = _cli("path", "metrica-sample-game-1", out=tmp_path)
    assert partial.returncode == 1 and "Sample_Game_1_RawEventsData.csv" in partial.stdout
    assert "missing" in partial.stderr and "RawTrackingData_Home_Team.csv" in partial.stderr
    unknown = _cli("path", "no-such-dataset", out=tmp_path)
    assert unknown.returncode == 2 and "skillcorner-2417" in unknown.stderr


def test_good_download_is_verified_unpacked_and_ingested(tmp_path: Path, data_dir: Path,
                                                          http_server: FileServer) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for side in ("home", "away"):
            zf.write(data_dir / "provider-samples" / f"metrica_{side}.csv", f"game/metrica_{side}.csv")
    body = archive.getvalue()
    http_server.files["/game.zip"] = body
    cat = _catalog(tmp_path / "catalog.toml", "tiny-metrica",
                   [{"name": "game.zip", "url": http_server.url("/game.zip"), "sha256": _sha(body),
                     "sha256_of": "the zip made in this test", "unpack": True}])
    dest, store = tmp_path / "downloads", tmp_path / "store"
    done = _cli("fetch", "tiny-metrica", "--catalog-file", str(cat), "--dest", str(dest), "--store", str(store),
                out=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (dest / "tiny-metrica" / "game.zip").read_bytes() == body
    assert (dest / "tiny-metrica" / "game.zip-unpacked" / "game" / "metrica_home.csv").is_file()
    assert not list(dest.rglob("*.part"))
    assert len(list(store.glob("*.parquet"))) == 1 and "1 ok, 0 failed" in done.stdout
    again = _cli("path", "tiny-metrica", "--catalog-file", str(cat), "--dest", str(dest), out=tmp_path)
    assert again.returncode == 0 and "download" in again.stderr


def test_wrong_checksum_is_refused_and_nothing_is_left(tmp_path: Path, http_server: FileServer) -> None:
    http_server.files["/a.bin"] = os.urandom(200_000)
    cat = _catalog(tmp_path / "catalog.toml", "bad-hash",
                   [{"name": "a.bin", "url": http_server.url("/a.bin"), "sha256": _sha(b"something else"),
                     "sha256_of": "bytes that are not the served file"}])
    dest = tmp_path / "downloads"
    done = _cli("fetch", "bad-hash", "--catalog-file", str(cat), "--dest", str(dest), "--no-ingest", out=tmp_path)
    assert done.returncode == 1
    assert "does not match" in done.stderr and "Traceback" not in done.stderr
    assert not (dest / "bad-hash").exists()


def test_interrupted_download_resumes_with_range(tmp_path: Path, http_server: FileServer) -> None:
    body = os.urandom(300_000)
    http_server.files["/big.bin"] = body
    http_server.break_after["/big.bin"] = 120_000
    cat = _catalog(tmp_path / "catalog.toml", "resumable",
                   [{"name": "big.bin", "url": http_server.url("/big.bin"), "sha256": _sha(body),
                     "sha256_of": "the bytes made in this test"}])
    dest = tmp_path / "downloads"
    args = ("fetch", "resumable", "--catalog-file", str(cat), "--dest", str(dest), "--no-ingest")
    first = _cli(*args, "--retries", "0", out=tmp_path)
    assert first.returncode == 1 and "interrupted" in first.stderr and "resume" in first.stderr
    part = dest / "resumable" / "big.bin.part"
    assert part.stat().st_size == 120_000 and not (dest / "resumable" / "big.bin").exists()
    second = _cli(*args, out=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (dest / "resumable" / "big.bin").read_bytes() == body and not part.exists()
    assert http_server.requests == [("/big.bin", None), ("/big.bin", "bytes=120000-")]


def test_a_broken_connection_is_retried_within_one_fetch(tmp_path: Path, http_server: FileServer) -> None:
    body = os.urandom(100_000)
    http_server.files["/x.bin"] = body
    http_server.break_after["/x.bin"] = 30_000
    spec = catalog.CatalogFile("x.bin", http_server.url("/x.bin"), _sha(body), "test bytes")
    seen: list[int] = []
    path = catalog.fetch_file(spec, tmp_path, tmp_path, retries=2, progress=lambda _n, done, _t: seen.append(done))
    assert path.read_bytes() == body and seen[-1] == len(body)
    assert http_server.requests[-1] == ("/x.bin", "bytes=30000-")


def test_404_is_a_clear_error(tmp_path: Path, http_server: FileServer) -> None:
    cat = _catalog(tmp_path / "catalog.toml", "gone", [{"name": "gone.csv", "url": http_server.url("/gone.csv")}])
    dest = tmp_path / "downloads"
    done = _cli("fetch", "gone", "--catalog-file", str(cat), "--dest", str(dest), "--no-ingest", out=tmp_path)
    assert done.returncode == 1
    message = done.stderr.replace("\n", "")
    assert "HTTP 404" in message and "/gone.csv" in message and "Traceback" not in done.stderr
    assert not (dest / "gone").exists()


def test_an_unknown_hash_is_recorded_on_first_download_and_enforced_after(tmp_path: Path,
                                                                        http_server: FileServer) -> None:
    http_server.files["/u.bin"] = b"first version" * 1000
    ds = catalog.Dataset("tofu", "t", "p", "tracking", "f", "l", "c", "h",
                         files=(catalog.CatalogFile("u.bin", http_server.url("/u.bin")),))
    catalog.fetch_dataset(ds, tmp_path)
    recorded = (tmp_path / catalog.RECORDED_HASHES).read_text()
    assert _sha(b"first version" * 1000) in recorded
    (tmp_path / "tofu" / "u.bin").unlink()
    http_server.files["/u.bin"] = b"changed upstream" * 1000
    with pytest.raises(catalog.DownloadError, match="recorded at its first download"):
        catalog.fetch_dataset(ds, tmp_path)
    assert not list((tmp_path / "tofu").iterdir())


def test_a_bad_catalog_names_the_file_and_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text('[datasets.x]\ntitle = "x"\nprovider = "p"\n')
    with pytest.raises(InvalidInputError, match=r"catalog.toml: dataset 'x' lacks kind"):
        catalog.load_catalog(bad)
    bad.write_text('[datasets.x]\ntitle="x"\nprovider="p"\nkind="k"\nformat="f"\nlicence="l"\ncredit="c"\n'
                   'homepage="h"\n[[datasets.x.files]]\nname="a"\nurl="u"\nsha256="abc"\n')
    with pytest.raises(InvalidInputError, match="not 64 hex digits"):
        catalog.load_catalog(bad)
