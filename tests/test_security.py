"""Abuse and exposure: login throttling on both login pages, the Content-Security-Policy, no caching
of pages with personal data, the proxy's headers believed only when a proxy is configured, the
health check, and API docs served from our own static files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from .factories import admin_user, make_survey, manager_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def attempt(client: Client, path: str, username: str, password: str, ip: str, **headers):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


# --- login throttling ------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_then_the_lock_ends_by_itself(settings):
    manager_user(username="mia")
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        # From ever new addresses: the count is the account's, not the address's.
        answer = attempt(client, "/accounts/login/", "mia", "wrong", f"10.0.0.{n}")
        # The form again with its error, until the limit's failure locks the account.
        assert answer.status_code == (429 if n == settings.AXES_FAILURE_LIMIT - 1 else 200), n
    locked = attempt(client, "/accounts/login/", "mia", "pw", "10.9.9.9")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        answer = attempt(client, "/accounts/login/", "mia", "pw", "10.9.9.9")
        assert answer.status_code == 302
        assert client.session["_auth_user_id"]


def test_failures_from_one_address_lock_that_address_for_every_account(settings):
    manager_user(username="mia")
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "/accounts/login/", f"guess{n}", "wrong", "192.0.2.7")
    assert attempt(client, "/accounts/login/", "mia", "pw", "192.0.2.7").status_code == 429
    assert attempt(Client(), "/accounts/login/", "mia", "pw", "192.0.2.8").status_code == 302


def test_a_forwarded_for_header_does_not_dodge_the_address_limit_without_a_proxy(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    manager_user(username="mia")
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(
            client, "/accounts/login/", f"guess{n}", "wrong", "192.0.2.7",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )  # fmt: skip
    answer = attempt(
        client, "/accounts/login/", "mia", "pw", "192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    assert answer.status_code == 429


def test_the_admin_login_page_is_throttled_too(settings):
    admin_user(username="ops", is_staff=True)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "/admin/login/", "ops", "wrong", "10.1.1.1").status_code == 200
    assert attempt(client, "/admin/login/", "ops", "wrong", "10.1.1.1").status_code == 429
    assert attempt(client, "/admin/login/", "ops", "pw", "10.1.1.2").status_code == 429


def test_the_lock_out_page_speaks_the_readers_language(settings):
    manager_user(username="mia")
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "/accounts/login/", "mia", "wrong", "10.2.2.2")
    page = attempt(client, "/accounts/login/", "mia", "pw", "10.2.2.2")
    assert page.status_code == 429
    assert '<html lang="de">' in page.content.decode()
    assert "Too many failed logins" not in page.content.decode()


def test_fewer_failures_than_the_limit_do_not_lock(settings):
    manager_user(username="mia")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "/accounts/login/", "mia", "wrong", "10.3.3.3")
    assert attempt(client, "/accounts/login/", "mia", "pw", "10.3.3.3").status_code == 302


# --- headers -----------------------------------------------------------------------------------------


def test_every_kind_of_page_has_a_policy_without_inline_code(manager_client, client):
    survey = make_survey(slug="shop")
    pages = [
        (client, "/accounts/login/"),
        (manager_client, "/dashboard/"),
        (manager_client, f"/dashboard/{survey.slug}/"),
        (manager_client, "/followups/"),
        (client, "/s/no-such-token/"),  # the customer's 404
    ]
    for who, url in pages:
        policy = who.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert directives["object-src"] == "'none'", url
        assert "unsafe" not in policy, url


def test_no_template_has_inline_script_style_or_handler():
    """What the policy would block: an inline <script>, <style>, style="" or onclick=""."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "emails" in path.parts:  # mail is not a page; mail clients need inline styles
            continue
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)",
            r"<style",
            r"\sstyle=",
            r"\son[a-z]+=",
        ):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def test_pages_exports_and_api_answers_are_never_cached(manager_client, key_client, client):
    survey = make_survey(slug="shop")
    answers = [
        manager_client.get("/dashboard/shop/"),
        manager_client.get("/dashboard/shop/export/responses.csv"),
        manager_client.get("/api/v1/reports/csat/?survey=shop"),
        key_client.get(f"/api/v1/surveys/{survey.slug}/"),
        client.get("/accounts/login/"),
    ]
    for answer in answers:
        directives = {d.strip() for d in answer["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, answer.request["PATH_INFO"]


def settings_value(expression: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    base.update(
        {
            "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
            "ENV_FILE": "",
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "-production-secret-" + "x" * 30,
            "ALLOWED_HOSTS": "csat.example.com",
            **env,
        }
    )
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_the_proxy_headers_are_believed_only_when_a_proxy_is_configured(tmp_path):
    plain = {"CSAT_VAR_DIR": str(tmp_path)}
    assert settings_value("settings.SECURE_PROXY_SSL_HEADER", **plain) == "None"
    assert (
        settings_value("settings.AXES_IPWARE_META_PRECEDENCE_ORDER", **plain) == "('REMOTE_ADDR',)"
    )
    behind = {"TRUSTED_PROXY_COUNT": "1", **plain}
    assert settings_value("settings.SECURE_PROXY_SSL_HEADER", **behind) == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    assert settings_value("settings.AXES_IPWARE_PROXY_COUNT", **behind) == "1"


# --- health check ------------------------------------------------------------------------------------


def test_health_check_names_every_part_it_checked(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "static": "ok"},
    }


def test_health_check_fails_without_a_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["broker"].startswith("failed")
    assert answer.json()["checks"]["database"] == "ok"


def test_health_check_fails_without_the_static_manifest(client, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # nothing collected there
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["static"].startswith("failed")


def test_health_check_fails_without_the_database(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client;"
        "r = Client().get('/healthz', HTTP_HOST='localhost'); print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
        "ENV_FILE": "",
        "DEBUG": "1",
        "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
        "CSAT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",  # nothing listens there
        "CELERY_BROKER_URL": "filesystem://",
    }
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.stdout.startswith("503 "), run.stdout + run.stderr
    assert '"database": "failed: OperationalError"' in run.stdout


# --- API docs ----------------------------------------------------------------------------------------


def test_api_docs_load_only_our_own_static_files(admin_client):
    page = admin_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert not [s for s in sources if "//" in s], sources  # no CDN, no other host
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), source
        else:
            assert admin_client.get(source).status_code == 200, source
