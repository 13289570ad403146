"""End to end: the dashboard in a real headless browser (Debian's chromium driven by playwright, no download).

Starts ``streamlit run dashboard/app.py`` (the ``soccerai dashboard`` command line) on a free port of 127.0.0.1
with a store holding one real provider sample (Sportec), so the home page opens on the match picker. Then, as an
analyst: picks the REAL SkillCorner match by its teams, jumps to a shot from the timeline, simulates with the
pretrained GVRNN, selects a player on the pitch and places him elsewhere, simulates again, compares the two runs,
exports a PNG, and checks what it sees (texts, the chart, image sizes, no traceback). Screenshots at 1366 x 768 and
1920 x 1080 go to ``test-artifacts/``. The server is always stopped.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))

import browser_driver as drive  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
REAL_TEAMS = "FC Bayern München v Borussia Dortmund"
BANNER = "real — SkillCorner broadcast tracking (players out of camera view are not shown)"


def clock_s(title: str) -> float:
    """The mm:ss.t match clock that opens the pitch's title, in seconds."""
    found = re.search(r"(\d+):(\d+(?:\.\d)?)", title)
    assert found, f"no clock in the pitch title {title!r}"
    return int(found.group(1)) * 60 + float(found.group(2))


def click_step(page, name: str) -> None:
    """Click a step button under the pitch and wait until the pitch's title (its clock) has changed."""
    title = drive.chart_title(page)
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_function("""(t) => { const gd = document.querySelector('.js-plotly-plot');
        return gd && gd._fullLayout && String(gd._fullLayout.title.text) !== t; }""", arg=title, timeout=30_000,
                           polling=30)
    drive.wait_idle(page)


@pytest.fixture
def store_with_a_sample(tmp_path: Path, samples_dir: Path) -> Path:
    from soccerai.data.store import write_match
    from soccerai.io import load_match

    store = tmp_path / "store"
    match = load_match([samples_dir / "sportec_meta.xml", samples_dir / "sportec_positional.xml"])
    write_match(match, store / "sportec-sample.parquet")
    return store


def test_dashboard_in_headless_chromium(tmp_path: Path, store_with_a_sample: Path) -> None:
    if not drive.CHROMIUM.is_file():
        pytest.fail(f"{drive.CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    env = {"SOCCERAI_STORE_DIR": str(store_with_a_sample), "OMP_NUM_THREADS": "1"}
    with drive.dashboard_server(tmp_path / "server", env) as (url, _server), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(drive.CHROMIUM), args=drive.LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
            page.goto(url, timeout=60_000)
            drive.wait_chart(page, "gd.data.some(d => d.name === 'attack')", 180_000)  # one stored match: it opens
            drive.wait_idle(page)

            drive.pick_option(page, "Match (teams", REAL_TEAMS)  # by teams, date and score
            expect(page.get_by_text(BANNER).first).to_be_visible(timeout=240_000)
            drive.wait_chart(page, "gd.data.some(d => d.name === 'attack')", 120_000)
            drive.wait_idle(page)
            before = clock_s(drive.chart_title(page))
            click_step(page, "+1s")  # on a fully tracked stretch: exactly one second of match time
            assert clock_s(drive.chart_title(page)) == pytest.approx(before + 1.0, abs=1e-6), drive.chart_title(page)

            page.locator('section[data-testid="stSidebar"]').get_by_text("shots", exact=True).click()  # the timeline shows shots only
            drive.wait_idle(page)
            # goals come first (the real match's 4 detected goals), then shots in time order: row 4 is the 02:13 shot
            drive.click_timeline_row(page, 4)
            page.get_by_text(re.compile(r"Moment: 02:13 shot \(detected\)")).first.wait_for(timeout=60_000)
            drive.wait_idle(page)
            assert "real tracking" in drive.chart_title(page)
            # the clock now stands just before a gap of the broadcast tracking: +1s still moves the pitch (onto
            # the next tracked frame, across the gap) and -1s brings it back
            at_shot = clock_s(drive.chart_title(page))
            click_step(page, "+1s")
            assert clock_s(drive.chart_title(page)) >= at_shot + 1.0 - 1e-6, drive.chart_title(page)
            click_step(page, "-1s")
            assert clock_s(drive.chart_title(page)) == pytest.approx(at_shot, abs=1e-6), drive.chart_title(page)

            # playback in the browser: a step on the pitch's own slider moves the players, no server rerun
            before_x, title = drive.attack_x(page), drive.chart_title(page)
            _, _, _, count, active = drive.slider_state(page)
            seconds = drive.client_step(page, min(active + 10, count - 1))
            page.wait_for_timeout(300)
            assert drive.attack_x(page) != before_x and drive.chart_title(page) == title  # the server clock stays
            assert page.locator('[data-testid="stStatusWidget"]').count() == 0, "a client-side step reran the app"
            print(f"client-side frame step: {seconds:.3f} s")
            drive.client_step(page, active)

            drive.click_tab(page, "Simulate")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.get_by_text("Prediction: 20 sampled futures").first).to_be_visible(timeout=120_000)
            drive.wait_chart(page, "gd.data.some(d => String(d.name).includes('20 futures'))")
            assert "gvrnn-sim-skillcorner" in page.get_by_text("Prediction:").first.inner_text()

            drive.click_tab(page, "Edit")
            x, y, agent = drive.players(page, "attack")[1]
            drive.click_pitch(page, x, y)  # select him ...
            expect(page.get_by_text("Selected:").first).to_be_visible(timeout=30_000)
            drive.wait_chart(page, "gd.data.some(d => String(d.name).startsWith('selected'))")  # his ring drawn
            drive.wait_idle(page)
            page.wait_for_timeout(500)
            target = (x - 6.0 if x > -40 else x + 6.0, y)
            drive.click_pitch(page, *target)  # ... and place him
            drive.wait_chart(page, "String(gd._fullLayout.title.text).includes('edited (1)')")
            drive.wait_idle(page)
            moved = {a: (px, py) for px, py, a in drive.players(page, "attack")}
            assert abs(moved[agent][0] - target[0]) < 1.01 and abs(moved[agent][1] - target[1]) < 1.01

            drive.click_tab(page, "Simulate")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.get_by_text("1 edit(s)").first).to_be_visible(timeout=120_000)
            drive.wait_idle(page)
            drive.click_tab(page, "Compare")
            expect(page.get_by_text("Run B").first).to_be_visible()
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
            drive.wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "dashboard-1366x768.png"))
            pitch = page.locator(".js-plotly-plot").first.bounding_box()
            step = page.get_by_role("button", name="+1s").bounding_box()
            assert pitch["y"] + pitch["height"] <= 768 and step["y"] + step["height"] <= 768, \
                "the pitch and its clock controls must fit a 1366 x 768 screen"

            drive.click_tab(page, "Export")
            page.get_by_role("button", name="Make PNG").click()
            with page.expect_download(timeout=60_000) as download:
                page.get_by_role("button", name="Download PNG").click(timeout=60_000)
            png = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
            assert png.format == "PNG" and png.width >= 1600, png.size

            page.set_viewport_size({"width": 1920, "height": 1080})
            drive.wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "dashboard-1920x1080.png"))
            assert drive.tracebacks(page) == []
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "dashboard-failure.png"))
            raise
        finally:
            browser.close()
    assert (ARTIFACTS / "dashboard-1366x768.png").stat().st_size > 20_000
