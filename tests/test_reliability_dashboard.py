"""``soccerai dashboard`` owns its server: killing the pid the user started stops Streamlit and frees the port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_killing_soccerai_dashboard_stops_the_server_and_frees_the_port() -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "soccerai.cli", "dashboard", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while not _listening(port) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert _listening(port), "the dashboard never listened"
        server = psutil.Process(proc.pid)
        assert "streamlit" in " ".join(server.cmdline()), "the pid the user started is not the server"
        assert any(c.laddr.port == port for c in server.net_connections() if c.status == psutil.CONN_LISTEN)
        os.kill(proc.pid, signal.SIGTERM)  # what `kill <pid>` sends
        assert proc.wait(timeout=30) is not None
        deadline = time.monotonic() + 10
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _listening(port), "the port is still held after the dashboard was stopped"
        leftovers = [p for p in psutil.process_iter(["pid"]) if _in_group(p, proc.pid)]
        assert leftovers == [], "a server process outlived the dashboard command"
        with socket.socket() as sock:  # the next start can bind the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _in_group(process: psutil.Process, group: int) -> bool:
    try:
        return os.getpgid(process.pid) == group
    except (ProcessLookupError, psutil.NoSuchProcess):
        return False
