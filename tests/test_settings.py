"""Start-up settings: what an operator sees when a setting is missing or wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

SETTING_KEYS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "DATABASE_PATH",
    "ADMIN_IDS",
    "PANELS",
    "PRICE_MARKUP_PERCENT",
    "PANEL_TIMEOUT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read settings from an empty folder (no .env) and an environment without our keys."""
    for key in SETTING_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Start ``python -m bot`` in an empty folder with only ``env`` set."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTING_KEYS}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**clean, **env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_a_token_the_bot_exits_with_one_sentence_on_how_to_get_one(
    tmp_path: Path,
) -> None:
    finished = run_bot(tmp_path)
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]
    assert not (tmp_path / "data").exists()  # nothing was created


def test_an_invalid_setting_stops_the_bot_naming_the_key(tmp_path: Path) -> None:
    finished = run_bot(tmp_path, TELEGRAM_BOT_TOKEN="123:abc", PANEL_TIMEOUT="soon")
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        "PANEL_TIMEOUT is invalid: Input should be a valid number, unable to parse string as "
        "a number."
    ]


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("ADMIN_IDS", "12, boss", "ADMIN_IDS is invalid"),
        ("PANELS", '[{"name": "a", "dialect": "v3", "url": "https://x", "key": "k"}]', "PANELS"),
        ("PANELS", "[{not json", "PANELS is invalid"),
        ("PRICE_MARKUP_PERCENT", "-5", "PRICE_MARKUP_PERCENT is invalid"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", "TELEGRAM_API_BASE_URL is invalid"),
        (
            "TELEGRAM_API_BASE_URL",
            "https://api.telegram.org/bot",
            "TELEGRAM_API_BASE_URL is invalid: give the Bot API server's root only",
        ),
    ],
)
def test_each_invalid_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, named: str
) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(require_token=False)
    assert str(caught.value).startswith(named)
    assert "\n" not in str(caught.value)


def test_a_panel_key_never_shows_in_settings_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PANELS", '[{"name": "t", "dialect": "v2", "url": "https://p/api/v2", "key": "SEKRET"}]'
    )
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:TOKENVALUE")
    settings = load_settings()
    assert "SEKRET" not in repr(settings) and "TOKENVALUE" not in repr(settings)
    assert settings.panels.configured[0].key.get_secret_value() == "SEKRET"
    assert not settings.use_sandbox


def test_only_a_token_means_the_sandbox_and_the_embedded_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    settings = load_settings()
    assert settings.use_sandbox
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.telegram.api_base_url == "https://api.telegram.org"
    assert settings.panels.markup_percent == Decimal(0)
    assert settings.admin_ids == frozenset()


def test_settings_come_from_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=42:fromfile\nADMIN_IDS=7,8\n")
    settings = load_settings()
    assert settings.admin_ids == frozenset({7, 8})
    assert settings.telegram.bot_token is not None
    assert settings.telegram.bot_token.get_secret_value() == "42:fromfile"


def test_the_example_env_file_loads_with_payments_as_documented(tmp_path: Path) -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    (tmp_path / ".env").write_text(
        example.replace("TELEGRAM_BOT_TOKEN=\n", "TELEGRAM_BOT_TOKEN=1:x\n")
    )
    settings = load_settings()
    assert settings.stars.enabled and settings.stars.per_unit == Decimal(77)
    assert not settings.crypto_pay.enabled
    assert not settings.topup.manual_enabled
    assert settings.crypto_pay.webhook_port is None
    assert settings.topup.presets == (Decimal(5), Decimal(10), Decimal(25), Decimal(50))


def test_top_up_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TOPUP_PRESETS: 900 is outside"):
        load_settings(telegram_bot_token="1:x", topup_presets="5,900")
    with pytest.raises(SettingsError, match="TOPUP_MIN must not be above TOPUP_MAX"):
        load_settings(telegram_bot_token="1:x", topup_min="50", topup_max="10", topup_presets="")
    settings = load_settings(
        telegram_bot_token="1:x", crypto_pay_token="123:abc", crypto_pay_assets="usdt, ton"
    )
    assert settings.crypto_pay.enabled and settings.crypto_pay.assets == ("USDT", "TON")


def _numeric_example_keys() -> list[str]:
    """The keys `.env.example` gives a number or a yes/no (lists and text excepted)."""
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    keys = []
    for line in example.splitlines():
        key, _, value = line.partition("=")
        if line.startswith("#") or not _ or "," in value:
            continue
        if value.replace(".", "", 1).isdigit() or value in ("true", "false"):
            keys.append(key)
    return keys


@pytest.mark.parametrize("key", _numeric_example_keys())
def test_every_documented_setting_is_read_and_named_when_wrong(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv(key, "nonsense")
    with pytest.raises(SettingsError) as caught:
        load_settings(require_token=False)
    assert str(caught.value).startswith(f"{key} is invalid")
