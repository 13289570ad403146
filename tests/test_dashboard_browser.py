"""End to end: the dashboard in a real headless browser (Debian's chromium driven by playwright, no download).

Starts ``streamlit run dashboard/app.py`` (the ``soccerai dashboard`` command line) on a free port of 127.0.0.1
with an empty store, so the REAL SkillCorner match (Bayern v Dortmund, broadcast tracking) opens by itself. Then
the issue's walk, as an analyst: jump to a goal from the timeline, then to a shot; play and pause; step and scrub
(in the browser, no server rerun); the +1 s / -1 s buttons; an overlay; simulate with the pretrained GVRNN; move a
player with two clicks; simulate again and read the verdict; compare; undo; export PNG, GIF and MP4 — asserting
the defects fixed on the way (page title, a caption under the header, a pitch that keeps its size between overlays,
a click that lands where it was aimed, the x / y boxes after a click-to-place, pause holding its frame, Undo
dropping the edited run's predictions). Screenshots at 1366 x 768 and 1920 x 1080 go to ``test-artifacts/``. The
server is always stopped.
"""

from __future__ import annotations

import io
import math
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))

import browser_driver as drive  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BANNER = "real — SkillCorner broadcast tracking (players out of camera view are not shown)"
NO_RERUN = '[data-testid="stStatusWidget"]'


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


def open_spot(page, x: float, y: float) -> tuple[float, float]:
    """A point about 6 m from (x, y), inside the pitch and at least 3 m from every drawn player (open play, where
    a click must land within a click target's reach, 0.71 m), never on the click targets' lattice."""
    everyone = [(px, py) for px, py, _ in drive.players(page, "attack") + drive.players(page, "defence")]
    for dx, dy in ((-6.3, 0.4), (6.3, 0.4), (0.4, -6.3), (0.4, 6.3), (-6.3, 6.3), (6.3, -6.3), (-6.3, -6.3)):
        aim = (x + dx, y + dy)
        if abs(aim[0]) < 50 and abs(aim[1]) < 32 and min(math.dist(aim, p) for p in everyone) >= 3.0:
            return aim
    raise AssertionError(f"no open spot around ({x:.1f}, {y:.1f})")


def download(page, kind: str, timeout_ms: int = 300_000) -> bytes:
    """Make and download one export ("PNG", "GIF", "MP4") from the Export tab."""
    page.get_by_role("button", name=f"Make {kind}").click()
    with page.expect_download(timeout=timeout_ms) as done:
        page.get_by_role("button", name=f"Download {kind}").click(timeout=timeout_ms)
    return Path(done.value.path()).read_bytes()


def test_dashboard_in_headless_chromium(tmp_path: Path) -> None:
    if not drive.CHROMIUM.is_file():
        pytest.fail(f"{drive.CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    env = {"SOCCERAI_STORE_DIR": str(tmp_path / "empty-store"), "OMP_NUM_THREADS": "1"}
    with drive.dashboard_server(tmp_path / "server", env) as (url, _server), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(drive.CHROMIUM), args=drive.LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
            page.goto(url, timeout=60_000)
            # open: the real match opens by itself (an empty store), titled, its first caption below the header
            expect(page.get_by_text(BANNER).first).to_be_visible(timeout=240_000)
            drive.wait_chart(page, "gd.data.some(d => d.name === 'attack')", 180_000)
            drive.wait_idle(page)
            assert page.title() == "soccerai"
            header = page.locator('header[data-testid="stHeader"]').bounding_box()
            moment = page.get_by_text(re.compile(r"^Moment: ")).first.bounding_box()
            assert moment["y"] >= header["y"] + header["height"] - 1, "a caption hides under the header"
            title_box = page.locator(".js-plotly-plot .g-gtitle").first.bounding_box()
            chart_box = page.locator(".js-plotly-plot").first.bounding_box()
            assert title_box["x"] + title_box["width"] <= chart_box["x"] + chart_box["width"], "the title is cut"
            assert title_box["y"] >= chart_box["y"] - 1, "the title's first line is cut at the top"
            before = clock_s(drive.chart_title(page))
            click_step(page, "+1s")  # on a fully tracked stretch: exactly one second of match time
            assert clock_s(drive.chart_title(page)) == pytest.approx(before + 1.0, abs=1e-6), drive.chart_title(page)

            # jump to a goal from the list (goals first, with the scorer)
            sidebar = page.locator('section[data-testid="stSidebar"]')
            sidebar.get_by_text("goals", exact=True).click()
            drive.wait_idle(page)
            drive.click_timeline_row(page, 0)
            page.get_by_text(re.compile(r"Moment: \S+ goal")).first.wait_for(timeout=60_000)
            drive.wait_idle(page)
            assert "real tracking" in drive.chart_title(page)

            sidebar.get_by_text("shots", exact=True).click()  # the timeline shows shots only
            drive.wait_idle(page)
            # goals come first (the real match's 4 detected goals), then shots in time order: row 4 is the 02:13 shot
            drive.click_timeline_row(page, 4)
            page.get_by_text(re.compile(r"Moment: 02:13 shot \(detected\)")).first.wait_for(timeout=60_000)
            drive.wait_idle(page)
            # the clock now stands just before a gap of the broadcast tracking: +1s still moves the pitch (onto
            # the next tracked frame, across the gap) and -1s brings it back
            at_shot = clock_s(drive.chart_title(page))
            click_step(page, "+1s")
            assert clock_s(drive.chart_title(page)) >= at_shot + 1.0 - 1e-6, drive.chart_title(page)
            click_step(page, "-1s")
            assert clock_s(drive.chart_title(page)) == pytest.approx(at_shot, abs=1e-6), drive.chart_title(page)

            # play and pause, in the browser: the players move, pause holds its frame, the server never reruns
            title = drive.chart_title(page)
            _, _, _, count, active = drive.slider_state(page)
            drive.click_menu(page, "▶ 1x")
            page.wait_for_timeout(1500)
            drive.click_menu(page, "❚❚ pause")
            page.wait_for_timeout(300)
            paused, paused_x = drive.slider_state(page)[4], drive.attack_x(page)
            page.wait_for_timeout(1000)
            assert paused > active, (active, paused)
            assert drive.slider_state(page)[4] == paused and drive.attack_x(page) == paused_x, "pause moved on"
            assert page.locator(NO_RERUN).count() == 0 and drive.chart_title(page) == title
            # step one frame and scrub 5 s on the pitch's own slider: no server rerun either
            before_x = drive.attack_x(page)
            step_s = drive.client_step(page, min(paused + 1, count - 1))
            scrub_s = drive.client_step(page, max(paused - 50, 0))
            page.wait_for_timeout(300)
            assert drive.attack_x(page) != before_x and drive.chart_title(page) == title  # the server clock stays
            assert page.locator(NO_RERUN).count() == 0, "a client-side step reran the app"
            print(f"client-side frame step {step_s:.3f} s, scrub {scrub_s:.3f} s")
            drive.client_step(page, active)

            # an overlay: the surface is drawn, the pitch keeps its size (its click targets stay put)
            drive.click_tab(page, "View")
            pitch_box = page.locator(".js-plotly-plot").first.bounding_box()
            surface = page.locator('[data-testid="stRadio"]').filter(has_text="Surface")
            surface.get_by_text("pitch control", exact=True).click()
            drive.wait_chart(page, "(gd.layout.images || []).length > 0 && String(gd.layout.images[0].source)"
                             ".length > 1000", 120_000)
            drive.wait_idle(page)
            shown = page.locator(".js-plotly-plot").first.bounding_box()
            assert (shown["width"], shown["height"]) == pytest.approx((pitch_box["width"], pitch_box["height"]),
                                                                      abs=1.0)
            surface.get_by_text("none", exact=True).click()
            drive.wait_chart(page, "(gd.layout.images || []).length === 0")
            drive.wait_idle(page)

            drive.click_tab(page, "Simulate")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.get_by_text("Prediction: 20 sampled futures").first).to_be_visible(timeout=120_000)
            drive.wait_chart(page, "gd.data.some(d => String(d.name).includes('20 futures'))")
            assert "gvrnn-sim-skillcorner" in page.get_by_text("Prediction:").first.inner_text()
            shown = page.locator(".js-plotly-plot").first.bounding_box()  # the fan adds no legend rows either
            assert (shown["width"], shown["height"]) == pytest.approx((pitch_box["width"], pitch_box["height"]),
                                                                      abs=1.0)
            plot_top = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout._size.t")
            title_box = page.locator(".js-plotly-plot .g-gtitle").first.bounding_box()
            legend_box = page.locator(".js-plotly-plot .legend").first.bounding_box()
            assert title_box["y"] + title_box["height"] <= legend_box["y"] + 1, "the title runs into the legend"
            assert legend_box["y"] + legend_box["height"] <= shown["y"] + plot_top + 1, "the legend covers the pitch"

            # move a player: click him, click an open spot; he lands within 0.71 m of the pointer, on a target
            drive.click_tab(page, "Edit")
            x, y, agent = drive.players(page, "attack")[1]
            drive.click_pitch(page, x, y)  # select him ...
            expect(page.get_by_text("Selected:").first).to_be_visible(timeout=30_000)
            drive.wait_chart(page, "gd.data.some(d => String(d.name).startsWith('selected'))")  # his ring drawn
            drive.wait_idle(page)
            page.wait_for_timeout(500)
            aim, targets = open_spot(page, x, y), drive.spots(page)
            drive.click_pitch(page, *aim)  # ... and place him
            drive.wait_chart(page, "String(gd._fullLayout.title.text).includes('edited (1)')")
            drive.wait_idle(page)
            landed = {a: (px, py) for px, py, a in drive.players(page, "attack")}[agent]
            assert math.dist(landed, aim) <= 0.5 * math.sqrt(2) + 0.01, (aim, landed)
            assert min(math.dist(landed, t) for t in targets) < 0.06, landed  # the target under the pointer
            boxes = [float(page.locator('[data-testid="stNumberInput"]').filter(has_text=name).locator("input")
                           .first.input_value()) for name in ("x (m)", "y (m)")]
            assert boxes == pytest.approx(list(landed), abs=0.051), "the x / y boxes keep the old place"

            drive.click_tab(page, "Simulate")
            page.get_by_role("button", name="Run simulation").click()
            expect(page.get_by_text("1 edit(s)").first).to_be_visible(timeout=120_000)
            drive.wait_idle(page)
            verdict = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="What-if:").first
            expect(verdict).to_be_visible(timeout=30_000)
            assert "Moving" in verdict.inner_text() and "predicted end point by" in verdict.inner_text()
            drive.click_tab(page, "Compare")
            expect(page.get_by_text("Run B").first).to_be_visible()
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
            drive.wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "dashboard-1366x768.png"))
            pitch = page.locator(".js-plotly-plot").first.bounding_box()
            step = page.get_by_role("button", name="+1s").bounding_box()
            assert pitch["y"] + pitch["height"] <= 768 and step["y"] + step["height"] <= 768, \
                "the pitch and its clock controls must fit a 1366 x 768 screen"

            # undo: he is back, and the predictions made with him moved are no longer drawn (the unedited run is)
            drive.click_tab(page, "Edit")
            page.get_by_role("button", name="Undo last edit").click()
            drive.wait_chart(page, "!String(gd._fullLayout.title.text).includes('edited')")
            drive.wait_idle(page)
            back = {a: (px, py) for px, py, a in drive.players(page, "attack")}[agent]
            assert back == pytest.approx((x, y), abs=1e-6)
            drive.click_tab(page, "Simulate")
            expect(page.get_by_text("Prediction: 20 sampled futures").first).to_be_visible()
            assert "edit(s)" not in page.get_by_text("Prediction:").first.inner_text()

            drive.click_tab(page, "Export")
            png = Image.open(io.BytesIO(download(page, "PNG")))
            assert png.format == "PNG" and png.width >= 1400, png.size  # 1600 px drawn, its empty margin cropped
            gif = Image.open(io.BytesIO(download(page, "GIF")))
            assert gif.format == "GIF" and gif.n_frames > 10, (gif.format, gif.n_frames)
            mp4 = download(page, "MP4")
            assert mp4[4:8] == b"ftyp" and len(mp4) > 20_000, mp4[:12]

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
