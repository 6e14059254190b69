"""The README works as written, on a fresh clone: every ```sh block of README.md runs here.

1. The demo: `make demo` (a new virtualenv, the demo data, web, worker and beat on the embedded
   defaults), then every other block of the README in order, in one shell, as a user with a
   second terminal would: the API example with a key from `create_api_key`, touchpoints, the CSV
   imports, privacy. Then the demo is stopped with SIGTERM and must leave no process behind.
2. Production: the block of "Running the processes" on the real PostgreSQL and Redis (DEBUG=0,
   collectstatic, gunicorn, a Celery worker and beat behind a simulated TLS proxy). Then the demo
   data is loaded into it, each role logs in through the login form, and every page it can reach
   answers 200 with its security headers, every static file a page references answers 200, and
   an invitation goes out through beat and the worker.
3. The benchmarks, each at a small size (tests/readme_blocks.py says which).

`make test` itself is the one block not run here: it is the command running this test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .readme_blocks import LONG_RUNNING, Block, blocks, smoke, strip_comment
from .site_crawler import Client, walk

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_POSTGRES = os.environ.get("CSAT_REQUIRE_POSTGRES") == "1"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_DB = 9  # the README's Redis, on a database of its own so that no other test's messages mix in


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    """A user's shell: none of the test run's own settings (database, broker, mail, secrets)."""
    keep = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR", "PIP_CACHE_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.setdefault("LANG", "C.UTF-8")
    env.update(extra)
    return env


def fresh_clone(target: Path) -> Path:
    """A clone of this checkout with its uncommitted changes (in CI there are none)."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    changed = subprocess.run(
        ["git", "ls-files", "-m", "-o", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (c.decode() for c in changed)):
        source, dest = ROOT / name, target / name
        if source.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
        elif dest.exists():
            dest.unlink()
    deleted = subprocess.run(
        ["git", "ls-files", "-d", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (d.decode() for d in deleted)):
        (target / name).unlink(missing_ok=True)
    return target


def wait_for(url_port: int, path: str, *, timeout: float, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before answering:\n{tail(log)}")
        try:
            answer = Client("127.0.0.1", url_port).get(path)
            if answer.status == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"no answer on port {url_port} after {timeout} s:\n{tail(log)}")


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return "(no output)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def script(commands: list[str], workdir: Path) -> str:
    """One bash script: stops at the first failing command; long-running ones in the background,
    their process ids in `pids`."""
    out = ["set -euo pipefail", f"cd {workdir}"]
    for n, command in enumerate(commands):
        out.append(f"echo {shlex.quote(f'--- {n}: ' + command.splitlines()[0][:100])} >&2")
        if LONG_RUNNING.match(command):
            out.append(f"( exec {strip_comment(command)} ) > bg-{n}.log 2>&1 &")
            out.append("echo $! >> pids")
        else:
            out.append(command)
    return "\n".join(out) + "\n"


def leftovers(workdir: Path) -> list[str]:
    """Processes still running from this clone's virtualenv."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(workdir) in cmdline and "/proc/" not in cmdline:
            found.append(f"{pid}: {cmdline[:150]}")
    return found


def stop(process: subprocess.Popen, signum: int = signal.SIGTERM, timeout: float = 30) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_every_block_is_run_by_one_of_the_parts():
    """A new block lands in a part; only `make test` is not run (it runs this test)."""
    found = blocks(ROOT / "README.md")
    assert found, "no ```sh block in README.md"
    parts = demo_part(found) + production_part(found) + bench_part(found)
    not_run = [b.line for b in found if b not in parts and b.commands != ["make demo", "make test"]]
    assert not_run == []
    assert [c for b in found for c in b.commands if "make test" in c] == [
        "make test    # run the whole test suite"
    ]


def demo_part(found: list[Block]) -> list[Block]:
    return [b for b in found if b not in production_part(found) and b not in bench_part(found)]


def production_part(found: list[Block]) -> list[Block]:
    return [b for b in found if any("gunicorn csat_platform.wsgi" in c for c in b.commands)]


def bench_part(found: list[Block]) -> list[Block]:
    return [b for b in found if all(c.startswith(".venv/bin/python bench/") for c in b.commands)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("readme") / "csat")


def test_the_demo_and_every_command_of_the_readme_work_on_a_fresh_clone(clone: Path):
    found = blocks(clone / "README.md")
    port = free_port()
    first = found[0]
    assert first.commands[0].startswith("make demo"), "the README starts with `make demo`"
    log = clone / "make-demo.log"
    demo = subprocess.Popen(
        ["bash", "-c", strip_comment(first.commands[0])],
        cwd=clone,
        env=base_env(DEMO_ADDR=f"127.0.0.1:{port}"),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(port, "/healthz", timeout=900, process=demo, log=log)
        commands = [
            c.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
                "path/to/olist", str(ROOT / "tests" / "data" / "olist")
            )
            for b in demo_part(found)[1:]
            for c in b.commands
        ]
        run = subprocess.run(
            ["bash", "-c", script(commands, clone)],
            cwd=clone,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        (clone / "readme-session.log").write_text(run.stderr + "\n=== stdout\n" + run.stdout)
        assert run.returncode == 0, f"{run.stderr[-4000:]}\n{run.stdout[-2000:]}"
        # The invitation of the API example, the touchpoint, the imports and the erasure.
        assert '"link":"http://127.0.0.1:' in run.stdout, run.stdout[-3000:]
        assert '"created":1' in run.stdout, run.stdout[-3000:]
        assert '{"already_erased":false' in run.stdout, run.stdout[-3000:]
    finally:
        stop(demo)
    # The worker's warm shutdown takes a few seconds; the demo kills what is left after 10.
    deadline = time.monotonic() + 30
    while leftovers(clone) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftovers(clone) == [], "make demo left processes running after SIGTERM"


def require_services() -> None:
    """PostgreSQL and Redis on their usual ports, as the README's production block expects."""
    if not shutil.which("createdb"):
        pytest.skip("createdb (PostgreSQL's client) is not installed")
    try:
        import psycopg
        import redis

        psycopg.connect(f"{PG}/postgres", connect_timeout=3).close()
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=3).ping()
    except Exception as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL and Redis are required (CSAT_REQUIRE_POSTGRES=1): {error}")
        pytest.skip(f"PostgreSQL or Redis is not running here: {error}")


@pytest.fixture
def production_database():
    import psycopg

    require_services()
    name = f"readme_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ADMIN_PASSWORD = "readme-admin-password-1"


def test_production_as_documented_serves_every_page_of_every_role(
    clone: Path, production_database: str
):
    found = blocks(clone / "README.md")
    (block,) = production_part(found)
    port = free_port()
    commands = [
        c.replace("127.0.0.1:5432/csat", f"127.0.0.1:5432/{production_database}")
        .replace("-U postgres csat", f"-U postgres {production_database}")
        .replace("6379/0", f"6379/{REDIS_DB}")
        .replace("SITE_URL=https://csat.example.com", f"SITE_URL=https://127.0.0.1:{port}")
        .replace("csat.example.com", "127.0.0.1")
        for c in block.commands
    ]
    # The test's own steps after the README's: demo data, so that every page has content.
    commands.append(".venv/bin/python manage.py seed_demo --days 20")
    (clone / "pids").unlink(missing_ok=True)
    shell = subprocess.Popen(
        ["bash", "-c", script(commands, clone) + "wait\n"],
        cwd=clone,
        env=base_env(
            GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}",
            DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
        ),
        stdout=(clone / "production.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(port, "/healthz", timeout=300, process=shell, log=clone / "production.log")
        deadline = time.monotonic() + 300
        while "seed_demo" not in tail(clone / "production.log", 5) or not seeded(clone):
            assert shell.poll() is None, tail(clone / "production.log")
            assert time.monotonic() < deadline, tail(clone / "production.log")
            time.sleep(1)
        check_production(port, production_database, clone)
    finally:
        stop(shell)


def seeded(clone: Path) -> bool:
    return "Follow-ups:" in (clone / "production.log").read_text(errors="replace")


def check_production(port: int, database: str, clone: Path) -> None:
    health = Client("127.0.0.1", port).get("/healthz")
    assert health.status == 200 and b'"static": "ok"' in health.body, health.text
    for username, password, home in (
        ("admin", ADMIN_PASSWORD, "/design/"),
        ("manager", "demo-manager", "/dashboard/"),
    ):
        client = Client("127.0.0.1", port)
        answer = client.log_in(username, password)
        assert answer.status == 302, f"{username}: login answered {answer.status}"
        seen = walk(client, "/")
        assert home in seen.pages, f"{username} never reached {home}: {sorted(seen.pages)[:20]}"
        broken = {
            url: a.status for url, a in {**seen.pages, **seen.assets}.items() if a.status != 200
        }
        assert broken == {}, {u: (s, seen.referrers.get(u)) for u, s in broken.items()}
        assert seen.foreign == [], "every script, style and image comes from the product"
        for url, page in seen.pages.items():
            if "text/html" in page.headers.get("content-type", ""):
                policy = page.headers.get("content-security-policy", "")
                assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
            cache = {d.strip() for d in page.headers.get("cache-control", "").split(",")}
            assert {"private", "no-store"} <= cache, url
        static = [a for a in seen.assets if urlsplit(a).path.startswith("/static/")]
        assert static and all(re.search(r"\.[0-9a-f]{12}\.", a) for a in static), static
        assert len(seen.pages) > 10, sorted(seen.pages)
    # The worker sends: the admin's "Send me a test" on the purchase survey goes out through it.
    client = Client("127.0.0.1", port)
    client.log_in("admin", ADMIN_PASSWORD)
    client.get("/design/purchase/")
    sent = client.request(
        "POST",
        "/design/purchase/test/",
        body=b"email=readme-test%40example.com",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": client.cookies["csrftoken"],
            "Origin": client.origin,
            "Referer": client.origin + "/design/purchase/",
        },
    )
    assert sent.status == 201, sent.text
    import psycopg

    deadline = time.monotonic() + 120
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        while True:
            (status,) = conn.execute(
                "SELECT i.status FROM surveys_invitation i JOIN surveys_contact c"
                " ON c.id = i.contact_id WHERE c.email = 'readme-test@example.com'"
            ).fetchone()
            if status == "sent":
                break
            assert time.monotonic() < deadline, status + "\n".join(
                tail(log, 20) for log in sorted(clone.glob("bg-*.log"))
            )
            time.sleep(1)


def test_the_benchmarks_run_as_documented(clone: Path):
    require_services()
    if not shutil.which("wrk"):
        if REQUIRE_POSTGRES:
            pytest.fail("wrk is required for the answer-page benchmark (apt-get install wrk)")
        pytest.skip("wrk is not installed")
    commands = [smoke(c) for b in bench_part(blocks(clone / "README.md")) for c in b.commands]
    assert commands
    # The virtualenv of `make install` (the production block's first line, or the demo's).
    subprocess.run(["make", "install"], cwd=clone, env=base_env(), check=True, timeout=900)
    for command in commands:
        run = subprocess.run(
            ["bash", "-c", command],
            cwd=clone,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, f"{command}\n{run.stderr[-3000:]}\n{run.stdout[-2000:]}"


def test_the_compose_file_runs_the_commands_the_readme_runs():
    """docker-compose.yml is for users with Docker; every command in it is one the production
    block above runs (and this test runs) outside Docker."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    (block,) = production_part(blocks(ROOT / "README.md"))
    documented = " ".join(block.commands)
    programs = {
        "migrate": "manage.py migrate",
        "collectstatic": "manage.py collectstatic --noinput",
        "gunicorn": "gunicorn csat_platform.wsgi",
        "worker": "celery -A csat_platform worker",
        "beat": "celery -A csat_platform beat",
    }
    found = set()
    for name, service in compose["services"].items():
        command = service.get("command")
        if not command or "build" not in service:  # PostgreSQL, Redis, Mailpit: their images
            continue
        line = " ".join(command) if isinstance(command, list) else command
        matched = [key for key, text in programs.items() if text in line]
        assert matched, f"service {name} runs a command the README does not: {line}"
        found.update(matched)
        for key in matched:
            assert programs[key] in documented, key
    assert found == set(programs)
