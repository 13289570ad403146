"""End to end: the dashboard in a real headless browser (Debian's chromium driven by playwright, no download).

Starts ``streamlit run dashboard/app.py`` on a free port of 127.0.0.1 (the same command ``soccerai dashboard``
runs) with an empty store, so the app opens on the REAL SkillCorner match: checks the broadcast banner and that the
selected moment is a shot detected in the tracking, measures in-browser playback speed, runs a simulation on that
real shot, checks the predicted futures appear, and saves a screenshot under ``test-artifacts/``. The server is
always stopped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from soccerai.commands.dashboard import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
START_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"streamlit did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def dashboard_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "SOCCERAI_OUT_DIR": str(tmp_path / "out"), "SOCCERAI_DEMO_SECONDS": "240",
           "SOCCERAI_DEMO_TRAIN_STEPS": "3", "OMP_NUM_THREADS": "1"}
    log = tmp_path / "streamlit.log"
    with log.open("w") as sink:
        server = subprocess.Popen(streamlit_command(port), env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


PLAYBACK_FPS_JS = """async (ms) => {
    const plot = document.querySelector('.js-plotly-plot');
    let frames = 0;
    plot.on('plotly_animatingframe', () => { frames += 1; });
    const buttons = Array.from(document.querySelectorAll('.updatemenu-button'));
    const play = buttons.find(b => b.textContent.includes('1x'));
    play.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    await new Promise(r => setTimeout(r, ms));
    return frames * 1000 / ms;
}"""


def test_dashboard_in_headless_chromium(dashboard_url: str) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.goto(dashboard_url, timeout=60_000)
            banner = "real — SkillCorner broadcast tracking (players out of camera view are not shown)"
            expect(page.get_by_text(banner).first).to_be_visible(timeout=240_000)
            expect(page.get_by_text("shot 1 (detected)").first).to_be_visible(timeout=60_000)
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=120_000)

            fps = page.evaluate(PLAYBACK_FPS_JS, 3000)
            print(f"in-browser playback: {fps:.1f} frames/s (real tracking, 1x = 10 fps requested)")
            assert fps >= 5.0, f"playback too slow: {fps:.1f} frames/s"

            page.get_by_role("button", name="Run simulation").click()
            expect(page.get_by_text("Prediction:").first).to_be_visible(timeout=180_000)
            legend = page.locator(".js-plotly-plot .legendtext", has_text="predicted")
            expect(legend.first).to_be_visible(timeout=60_000)
            shot = ARTIFACTS / "dashboard-simulation.png"
            page.screenshot(path=str(shot), full_page=True)

            page.locator("label").filter(has_text="pitch control").first.click()
            surface = page.locator(".js-plotly-plot .imagelayer image").first
            expect(surface).to_be_attached(timeout=180_000)
            page.wait_for_timeout(1000)
            first = surface.get_attribute("href")
            fps = page.evaluate(PLAYBACK_FPS_JS, 3000)
            print(f"in-browser playback with the pitch-control surface: {fps:.1f} frames/s (real tracking)")
            assert fps >= 5.0, f"playback with a surface too slow: {fps:.1f} frames/s"
            expect(surface).to_be_attached()
            assert surface.get_attribute("href") != first, "the surface must change while the replay plays"
            page.screenshot(path=str(ARTIFACTS / "dashboard-pitch-control.png"), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000
