"""Drive the dashboard in a real browser: start ``streamlit run`` (the ``soccerai dashboard`` command line) and
act on the page as an analyst does, with Debian's chromium through playwright (no browser download).

Not a page of the app (Streamlit serves only ``app.py`` and ``pages/``). Shared by ``benchmarks/dashboard.py`` (timings, memory, screenshots) and ``tests/test_dashboard_browser.py``
(what the page shows). Every action returns when the page shows its result, so timings are "action to updated
page" as the user sees it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from soccerai.cli.commands.dashboard import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def dashboard_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run dashboard/app.py`` on a free port of 127.0.0.1; always stopped (its whole process group)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "SOCCERAI_OUT_DIR": str(workdir / "out"), **(env or {})}
    log = workdir / "streamlit.log"
    with log.open("w") as sink:
        server = subprocess.Popen(streamlit_command(port), env=full_env, stdout=sink, stderr=subprocess.STDOUT,
                                  cwd=workdir, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer in {START_TIMEOUT_S} s:\n{log.read_text()[-2000:]}") from None
                time.sleep(0.3)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, MiB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


# ----------------------------------------------------------------------------------------------------------------
# Page actions


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Until Streamlit has finished running (no 'running' status widget, no stale elements)."""
    page.wait_for_function("""() => !document.querySelector('[data-testid="stStatusWidget"]')
        && !document.querySelector('[data-stale="true"]')""", timeout=timeout_ms, polling=50)


def chart_title(page, nth: int = 0) -> str:
    return page.evaluate("""(n) => { const gd = document.querySelectorAll('.js-plotly-plot')[n];
        return gd && gd._fullLayout && gd._fullLayout.title ? String(gd._fullLayout.title.text) : ''; }""", nth)


def wait_chart(page, predicate_js: str, timeout_ms: int = 60_000) -> None:
    """Until the first plotly chart satisfies ``predicate_js`` (a JS expression over ``gd``, the plot div)."""
    page.wait_for_function(f"""() => {{ const gd = document.querySelector('.js-plotly-plot');
        return !!(gd && gd._fullLayout && gd.data && ({predicate_js})); }}""", timeout=timeout_ms, polling=30)


def timed(action, until) -> float:
    """Seconds from ``action()`` to ``until()`` returning."""
    start = time.perf_counter()
    action()
    until()
    return time.perf_counter() - start


def pick_option(page, label: str, option_text: str, scope=None) -> None:
    """Choose ``option_text`` in the Streamlit selectbox labelled ``label``."""
    root = scope or page
    box = root.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.get_by_role("combobox").click(timeout=120_000)
    page.get_by_role("option").filter(has_text=option_text).first.click()


def click_timeline_row(page, row: int = 0) -> None:
    """Select a row of the sidebar timeline (a glide data grid: header and rows 35 px high)."""
    grid = page.locator('section[data-testid="stSidebar"] [data-testid="stDataFrame"]').first
    # the sidebar scrolls: at 1366 x 768 the grid's lower rows are below the fold (scroll the sidebar, never the grid)
    grid.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    box = grid.bounding_box()
    assert box["y"] + 35 * (row + 2) <= page.viewport_size["height"], f"timeline row {row} is off the screen"
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 * row + 17)


PITCH_POINT_JS = """([x, y]) => { const gd = document.querySelector('.js-plotly-plot');
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
    return [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)]; }"""

PLAYERS_JS = """(team) => { const gd = document.querySelector('.js-plotly-plot');
    const t = gd._fullData.find(d => d.name === team); if (!t) return [];
    return Array.from(t.x).map((x, i) => [x, t.y[i], Number([].concat(t.customdata[i])[0])]); }"""


def click_pitch(page, x: float, y: float) -> None:
    """Click the pitch at (x, y) metres."""
    px, py = page.evaluate(PITCH_POINT_JS, [x, y])
    page.mouse.move(5, 5)  # leave the plot: plotly's hover (which a click selects) starts afresh
    page.wait_for_timeout(250)
    page.mouse.move(px - 3, py - 3)
    page.mouse.move(px, py)
    page.wait_for_timeout(150)
    page.mouse.click(px, py)


def players(page, team: str = "attack") -> list[tuple[float, float, int]]:
    """(x, y, agent) of the players drawn for ``team`` ("attack" | "defence")."""
    return [tuple(p) for p in page.evaluate(PLAYERS_JS, team)]


SPOTS_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    const t = gd._fullData.find(d => d.name === 'spot'); if (!t) return [];
    return Array.from(t.x).map((x, i) => [x, t.y[i]]); }"""


def spots(page) -> list[tuple[float, float]]:
    """(x, y) of the pitch's invisible click targets (where a click places the selected player)."""
    return [tuple(p) for p in page.evaluate(SPOTS_JS)]


def click_menu(page, label: str) -> None:
    """Click the pitch's play-menu button whose text is ``label`` ("▶ 1x", "❚❚ pause")."""
    page.locator(".js-plotly-plot").first.locator("g.updatemenu-button").filter(has_text=label).first.click()


def click_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def tracebacks(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


# ----------------------------------------------------------------------------------------------------------------
# Client-side playback: the pitch's own plotly slider (no server round trip)

STEP_TIMER_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
    if (!window.__soccerai_step) { window.__soccerai_step = {t0: 0, t1: 0};
        document.addEventListener('mousedown', () => { window.__soccerai_step.t0 = performance.now();
                                                       window.__soccerai_step.t1 = 0; }, true); }
    if (!gd.__soccerai_timed) { gd.__soccerai_timed = true;
        gd.on('plotly_animated', () => { window.__soccerai_step.t1 = performance.now(); }); }
    const rail = gd.querySelector('.slider-rail-rect').getBoundingClientRect();
    return [rail.left, rail.top + rail.height / 2, rail.width, gd._fullLayout.sliders[0].steps.length,
            gd._fullLayout.sliders[0].active]; }"""


def slider_state(page) -> tuple[float, float, float, int, int]:
    """(rail left, rail middle y, rail width, number of steps, active step) of the pitch's frame slider."""
    left, middle, width, count, active = page.evaluate(STEP_TIMER_JS)
    return left, middle, width, int(count), int(active)


def client_step(page, index: int) -> float:
    """Move the pitch's slider to step ``index`` with a click on its rail; seconds from the mouse press to
    plotly's ``plotly_animated`` event, measured in the page (the browser alone: no Streamlit rerun)."""
    left, middle, width, count, _ = slider_state(page)
    inset = 8.0  # plotly's slider rail inset (px) at both ends
    x = left + inset + (width - 2 * inset) * index / max(count - 1, 1)
    page.mouse.click(x, middle)
    page.wait_for_function("() => window.__soccerai_step.t1 > window.__soccerai_step.t0", timeout=15_000, polling=10)
    return page.evaluate("() => (window.__soccerai_step.t1 - window.__soccerai_step.t0) / 1000")


def attack_x(page) -> list[float]:
    """The attackers' x as the browser draws them now (after client-side animation too)."""
    return page.evaluate("""() => { const gd = document.querySelector('.js-plotly-plot');
        const t = gd._fullData.find(d => d.name === 'attack'); return t ? Array.from(t.x) : []; }""")
