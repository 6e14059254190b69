"""Production settings: refuse to start without a secret, and pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env_overrides):
    ours = (
        "SECRET_KEY",
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "EMAIL_URL",
        "CSAT_VAR_DIR",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    env = {k: v for k, v in os.environ.items() if k not in ours}
    # ENV_FILE="": the checkout's .env (make writes a local SECRET_KEY there) must not count.
    env.update(
        {"DJANGO_SETTINGS_MODULE": "csat_platform.settings", "ENV_FILE": "", **env_overrides}
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage("check", env_overrides={"DEBUG": "0", "CSAT_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = run_manage(
        "check", env_overrides={"DEBUG": "0", "SECRET_KEY": "short", "CSAT_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "too short" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "-production-secret-" + "x" * 30,
            "ALLOWED_HOSTS": "csat.example.com",
            "SITE_URL": "https://csat.example.com",
            "CSAT_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_demo_generates_and_keeps_its_own_secret(tmp_path):
    first = run_manage("check", env_overrides={"DEBUG": "1", "CSAT_VAR_DIR": str(tmp_path)})
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    run_manage("check", env_overrides={"DEBUG": "1", "CSAT_VAR_DIR": str(tmp_path)})
    assert (tmp_path / "secret_key").read_text() == key


def test_a_webhook_secret_without_user_and_password_is_refused(tmp_path):
    result = run_manage(
        "check",
        env_overrides={
            "DEBUG": "1",
            "CSAT_VAR_DIR": str(tmp_path),
            "ANYMAIL_WEBHOOK_SECRET": "just-a-password",
        },
    )
    assert result.returncode != 0
    assert 'ANYMAIL_WEBHOOK_SECRET must be "user:password"' in result.stderr


def test_a_connector_body_limit_below_a_kilobyte_is_refused(tmp_path):
    result = run_manage(
        "check",
        env_overrides={
            "DEBUG": "1",
            "CSAT_VAR_DIR": str(tmp_path),
            "CONNECTORS_MAX_BODY_BYTES": "10",
        },
    )
    assert result.returncode != 0
    assert "CONNECTORS_MAX_BODY_BYTES must be at least 1024" in result.stderr
