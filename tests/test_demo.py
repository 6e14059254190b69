"""`manage.py demo` (what `make demo` runs) as a user runs it: a real process on a free port."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """The live processes below `pid`, from the process table."""
    table = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children: dict[int, list[int]] = {}
    for line in table.stdout.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return {p for p in found if alive(p)}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be read


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_sigterm_stops_the_demo_with_its_worker_and_beat(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE")
    }
    # The demo on its embedded defaults (SQLite, file system broker, mailbox) in a var dir of
    # its own, with a short history so that it starts in seconds.
    env.update(DEBUG="1", CSAT_VAR_DIR=str(tmp_path / "var"), SITE_URL=f"http://127.0.0.1:{port}")
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--addr", f"127.0.0.1:{port}", "--days", "2"]
        + ["--per-day", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal's signals are not its
    )
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while not answers(f"http://127.0.0.1:{port}/healthz"):
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "the demo did not answer"
            time.sleep(0.2)
        # The worker and its pool of two, beat.
        while len(descendants(demo.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        started = descendants(demo.pid)
        assert len(started) >= 4, started
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=40)
        assert not [pid for pid in started if alive(pid)], "a worker or beat outlived the demo"
        assert demo.returncode == 0  # as after Ctrl-C
        assert not answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        for pid in [demo.pid, *started]:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        demo.wait(timeout=10)
        log.close()
