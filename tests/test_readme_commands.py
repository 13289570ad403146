"""Every command of the README's "Using it" block runs and exits 0, on real tracking and on provider samples.

The block is parsed from README.md (``S=``/``R=`` assignments expanded, ``#`` comments dropped) and each
``soccerai ...`` line is run, in order, as ``python -m soccerai.cli`` in a scratch folder (so ``out/...`` and
``pipelines/...`` resolve as they do from the repository root). ``$S`` is a scratch data folder holding the provider
samples, the Metrica event files, the Hawk-Eye minutes and, as ``real-matches/$R``, a REAL slice of the SkillCorner match (its first
``FIRST_HALF_S`` s and ``SECOND_HALF_S`` s of the second half, in SkillCorner's own files).

Lines that take minutes run with cheap options by default (:data:`CHEAP`, keyed by the line's first words; the
substitution only shortens the work - same command, same inputs); the lines as written run under ``-m slow``.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SOCCERAI_DATA_DIR", ROOT.parent / "shared" / "data"))
SKILLCORNER = "real-matches/skillcorner-bayern-dortmund-2019-11-09"
HAWKEYE = "real-matches/hawkeye-two-minutes"
FIRST_HALF_S, SECOND_HALF_S = 13 * 60, 3 * 60
VAL_S = 600

CHEAP: dict[str, list[str]] = {
    # README line starts with -> extra options (appended) that make it quick; "<replace>" replaces the arguments
    "soccerai train out/store/": ["--steps", "2", "--epochs", "-1", "--stride", "50"],
    "soccerai evaluate": ["--stride", "50", "--samples", "2"],
    "soccerai obso": ["--seconds", "2", "--grid", "20x13"],
    "soccerai cobso": ["--samples", "2"],
    "soccerai benchmark": ["--samples", "2"],
    "soccerai dashboard": ["<replace>", "--help"],  # the slow test starts it and fetches its page
}
PIPELINE_CHEAP_STEPS = '["ingest", "summary", "windows"]'  # the cheap pipeline run: per-match steps, no training


def readme_commands() -> list[str]:
    """The ``soccerai`` lines of the README's "Using it" bash block, ``$S``/``$R`` left in place."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using it", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.startswith("soccerai ")]


def readme_variables() -> dict[str, str]:
    text = (ROOT / "README.md").read_text().split("## Using it", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return dict(re.findall(r"^([A-Z]+)=(\S+)", text, flags=re.M))


def argv(line: str, data: Path, cheap: bool) -> list[str]:
    variables = {**readme_variables(), "S": str(data)}
    expanded = re.sub(r"\$([A-Z]+)", lambda m: variables[m.group(1)], line)
    words = shlex.split(expanded)[1:]
    if cheap:
        for prefix, extra in CHEAP.items():
            if line.startswith(prefix):
                words = [words[0], *extra[1:]] if extra[:1] == ["<replace>"] else [*words, *extra]
                break
    return words


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder with ``data/`` (samples + a real SkillCorner slice) and a copy of ``pipelines/``."""
    source = DATA / SKILLCORNER
    if not (source / "structured_data.json.xz").is_file():
        raise RuntimeError(f"real SkillCorner match not found under {DATA}: point SOCCERAI_DATA_DIR at ../shared/data")
    work = tmp_path_factory.mktemp("readme")
    data = work / "data"
    for name in ("provider-samples", "metrica-events", "clips"):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).symlink_to(DATA / name)
    frames = [f for f in json.loads(lzma.open(source / "structured_data.json.xz").read()) if f["data"]]
    kept = []
    for period, seconds in ((1, FIRST_HALF_S), (2, SECOND_HALF_S)):
        first = next(f["frame"] for f in frames if f["period"] == period)
        kept += [f for f in frames if f["period"] == period and f["frame"] < first + seconds * 10]
    target = data / SKILLCORNER
    target.mkdir(parents=True)
    shutil.copy(source / "match_data.json", target / "match_data.json")
    (target / "structured_data.json").write_text(json.dumps(kept))
    if (DATA / HAWKEYE).is_dir():  # the synthesizer's --report compares with both real data sets
        (data / HAWKEYE).symlink_to(DATA / HAWKEYE)
    shutil.copytree(ROOT / "pipelines", work / "pipelines")
    return work


def run(words: list[str], work: Path, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOCCERAI_DATA_DIR": str(work / "data")}
    env.pop("SOCCERAI_OUT_DIR", None)  # out/ of the scratch folder, as from the repository root
    env.pop("SOCCERAI_STORE_DIR", None)
    return subprocess.run([sys.executable, "-m", "soccerai.cli", *words], cwd=work, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _check(result: subprocess.CompletedProcess[str], words: list[str]) -> None:
    assert result.returncode == 0, f"soccerai {' '.join(words)} -> {result.returncode}\n{result.stdout[-3000:]}\n" \
                                   f"{result.stderr[-3000:]}"


COMMANDS = readme_commands()


def test_readme_block_is_parsed() -> None:
    assert len(COMMANDS) >= 15
    assert any(line.startswith("soccerai ingest $S/real-matches/$R") for line in COMMANDS)
    assert all("<" not in line for line in COMMANDS), "placeholders left in the README's Using it block"


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_exits_0(line: str, scratch: Path) -> None:
    """Each line in order (the ingest lines come first; the module-scoped scratch folder keeps their output)."""
    words = argv(line, scratch / "data", cheap=True)
    if words[:2] == ["pipeline", "run"]:
        config = scratch / "pipelines" / "nightly.toml"
        text = config.read_text()
        config.write_text(re.sub(r"^steps = .*$", f"steps = {PIPELINE_CHEAP_STEPS}", text, flags=re.M))
        try:
            result = run(words, scratch)
        finally:
            config.write_text(text)
    else:
        result = run(words, scratch)
    _check(result, words)
    if words[0] == "train" and "--dataset" not in words:
        assert "windows made" in result.stderr + result.stdout  # says how many windows it used and skipped


def test_forecast_commands_on_a_short_real_clip(scratch: Path) -> None:
    """train / evaluate on the Last Row clip (real, 9.7 s at 20 Hz; windows of 1 s observed + 2 s predicted).

    The provider samples are too short for model windows: 4 s of EPTS without a possession of 3 s, Sportec with 3
    tracked players, Second Spectrum's fake frames 16 s apart. ``obso`` and ``cobso`` run on the EPTS sample above.
    """
    clip = scratch / "data" / "clips" / "lastrow" / "LIV_[2]-1_CHE.csv"
    short = ["--obs", "10", "--horizon", "20", "--stride", "5"]
    words = ["train", str(clip), "--model", "gvrnn", "--steps", "2", "--epochs", "-1", *short,
             "--out", "out/models/gvrnn-clip"]
    _check(run(words, scratch), words)
    words = ["evaluate", str(clip), "--checkpoint", "out/models/gvrnn-clip", "--samples", "2", *short]
    _check(run(words, scratch), words)


@pytest.mark.slow
@pytest.mark.parametrize("line", [c for c in COMMANDS if any(c.startswith(p) for p in CHEAP)])
def test_readme_command_as_written_exits_0(line: str, scratch: Path) -> None:
    """The lines :data:`CHEAP` shortens, as written (the dashboard: started, its page fetched, stopped)."""
    words = argv(line, scratch / "data", cheap=False)
    stored = (scratch / "out" / "store" / "epts_metrica_tracking.parquet").is_file()
    for ingest in (c for c in COMMANDS if c.startswith("soccerai ingest $S") and not stored):  # the stores, once
        _check(run(argv(ingest, scratch / "data", True), scratch), ["ingest"])
    if words[0] == "dashboard":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-m", "soccerai.cli", "dashboard", "--port", str(port)],
                                  cwd=scratch, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline, status = time.monotonic() + 60, None
            while status is None and time.monotonic() < deadline and server.poll() is None:
                try:
                    status = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status
                except OSError:
                    time.sleep(1)
            assert status == 200
        finally:
            server.terminate()
            server.wait(30)
        return
    _check(run(words, scratch, timeout=3600), words)
