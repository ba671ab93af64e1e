"""Settings from the environment and `.env`, one class per concern.

Every key is documented in `.env.example`. An invalid value stops the bot at start with one
sentence naming the key (see ``load_settings``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.panels.base import DEFAULT_USER_AGENT

Dialect = Literal["v2", "smmbros", "smmsend", "smmtechs"]
SANDBOX_PANEL_NAME = "sandbox"


class PanelSettings(BaseModel):
    """One panel: a unique name, its API dialect, its API URL and key."""

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    dialect: Dialect
    url: str = Field(pattern=r"^https?://")
    key: SecretStr
    # Optional markup for this panel's services, in percent; overrides PRICE_MARKUP_PERCENT.
    markup_percent: Decimal | None = Field(default=None, ge=0, le=10000)


class Settings(BaseSettings):
    """Everything the bot reads at start."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = Field(default="https://api.telegram.org", pattern=r"^https?://")
    database_path: Path = Path("data/bot.sqlite3")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    panels: Annotated[list[PanelSettings], NoDecode] = Field(default_factory=list)

    price_markup_percent: Decimal = Field(default=Decimal(0), ge=0, le=10000)
    currency: str = Field(default="USD", min_length=1, max_length=8)

    status_poll_interval: float = Field(default=60, gt=0, le=86400)
    catalog_sync_interval: float = Field(default=6 * 3600, gt=0)
    panel_timeout: float = Field(default=30, gt=0, le=600)
    panel_concurrency: int = Field(default=4, ge=1, le=64)
    panel_user_agent: str = DEFAULT_USER_AGENT
    conversation_timeout: float = Field(default=30 * 60, gt=0)

    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=0, ge=0, le=65535)
    sandbox_catalog_size: int = Field(default=120, ge=15, le=100_000)
    sandbox_speed: float = Field(default=1.0, gt=0, le=10_000)
    sandbox_starting_balance: Decimal = Field(default=Decimal(100), ge=0)
    # Credit each new customer gets in sandbox mode, so a first try needs no admin.
    sandbox_welcome_credit: Decimal = Field(default=Decimal(25), ge=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # --- customers' top-ups (see the README's "Payments")
    # Shown on Balance, Help, the not-enough-balance summary and payment problems.
    support_contact: str = Field(default="", max_length=200)
    topup_min: Decimal = Field(default=Decimal(1), gt=0, decimal_places=2)
    topup_max: Decimal = Field(default=Decimal(500), gt=0, decimal_places=2)
    topup_presets: Annotated[tuple[Decimal, ...], NoDecode] = (
        Decimal(5),
        Decimal(10),
        Decimal(25),
        Decimal(50),
    )
    # Seconds an invoice (Stars or Crypto Pay) stays payable.
    topup_invoice_ttl: float = Field(default=3600, ge=60, le=7 * 86400)
    stars_enabled: bool = True
    # Stars per 1 unit of CURRENCY. 77 suits USD: a Star withdraws for about 0.013 USD.
    stars_per_unit: Decimal = Field(default=Decimal(77), gt=0, le=100_000)
    stars_reconcile_interval: float = Field(default=3600, gt=0)
    # The owner's payment details for manual receipts (card, UPI, bank…); empty = off.
    manual_topup_instructions: str = Field(default="", max_length=2000)
    # Shown by /terms; empty = the built-in text.
    terms_text: str = Field(default="", max_length=3000)
    # Crypto Pay (@CryptoBot): on when the token is set.
    crypto_pay_token: SecretStr | None = None
    crypto_pay_testnet: bool = False
    # Empty = the official API (mainnet or testnet); tests point it at a fake.
    crypto_pay_api_url: str = Field(default="", pattern=r"^(https?://.*)?$")
    crypto_pay_assets: Annotated[tuple[str, ...], NoDecode] = ("USDT", "TON", "BTC")
    crypto_pay_poll_interval: float = Field(default=30, gt=0, le=3600)
    # The webhook listener (also set the URL in @CryptoBot → Crypto Pay → Webhooks);
    # no port = polling only.
    crypto_pay_webhook_host: str = "0.0.0.0"
    crypto_pay_webhook_port: int | None = Field(default=None, ge=0, le=65535)
    crypto_pay_webhook_path: str = Field(default="/cryptopay/webhook", pattern=r"^/[^\s]*$")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _server_root(cls, value: str) -> str:
        # The bot appends /bot<token>/<method> itself: a path here would double it.
        parts = urlsplit(value)
        if not parts.hostname or parts.path.strip("/") or parts.query:
            raise ValueError(
                "give the Bot API server's root only, like https://api.telegram.org or "
                "http://localhost:8081 (the bot adds /bot<token>/ itself)"
            )
        return value

    @field_validator("panels", mode="before")
    @classmethod
    def _parse_panels(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            try:
                return json.loads(value) if value else []
            except json.JSONDecodeError as e:
                raise ValueError(
                    f"it must be a JSON list of panels ({e.msg} at character {e.pos})"
                ) from e
        return value

    @field_validator("panels")
    @classmethod
    def _unique_panel_names(cls, value: list[PanelSettings]) -> list[PanelSettings]:
        names = [p.name for p in value]
        if len(names) != len(set(names)):
            raise ValueError("panel names must be unique")
        if SANDBOX_PANEL_NAME in names:
            raise ValueError(f"the name {SANDBOX_PANEL_NAME!r} is reserved for the sandbox")
        return value

    @field_validator("topup_presets", mode="before")
    @classmethod
    def _split_presets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(Decimal(p.strip()) for p in value.split(",") if p.strip())
        return value

    @field_validator("crypto_pay_webhook_port", mode="before")
    @classmethod
    def _empty_port_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("crypto_pay_assets", mode="before")
    @classmethod
    def _split_assets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(a.strip().upper() for a in value.split(",") if a.strip())
        return value

    @property
    def crypto_pay_enabled(self) -> bool:
        """True when a Crypto Pay token is set."""
        token = self.crypto_pay_token
        return token is not None and bool(token.get_secret_value().strip())

    @model_validator(mode="after")
    def _topup_range(self) -> Settings:
        if self.topup_min > self.topup_max:
            raise ValueError("TOPUP_MIN must not be above TOPUP_MAX")
        for preset in self.topup_presets:
            if not self.topup_min <= preset <= self.topup_max:
                raise ValueError(
                    f"TOPUP_PRESETS: {preset} is outside TOPUP_MIN..TOPUP_MAX "
                    f"({self.topup_min}..{self.topup_max})"
                )
        return self

    @property
    def manual_topup_enabled(self) -> bool:
        """True when the owner gave instructions for manual receipts."""
        return bool(self.manual_topup_instructions.strip())

    @property
    def use_sandbox(self) -> bool:
        """True when no real panel is configured: the bot runs its built-in sandbox panel."""
        return not self.panels

    def markup_for(self, panel_name: str) -> Decimal:
        for panel in self.panels:
            if panel.name == panel_name and panel.markup_percent is not None:
                return panel.markup_percent
        return self.price_markup_percent


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one sentence for the operator."""


REJECTED_TOKEN_MESSAGE = (
    "Telegram rejected TELEGRAM_BOT_TOKEN: copy the token again from @BotFather (/mybots → "
    "your bot → API Token) into .env and start again."
)
NO_TOKEN_MESSAGE = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
    "then put its token in .env as TELEGRAM_BOT_TOKEN=... and start again."
)


def load_settings(*, require_token: bool = True, **overrides: Any) -> Settings:
    """Read settings, turning a validation failure into one sentence naming the key."""
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        error = e.errors()[0]
        key = "_".join(str(part) for part in error["loc"][:1]).upper() or "a setting"
        detail = error["msg"].removeprefix("Value error, ")
        where = ""
        if len(error["loc"]) > 1:
            where = " (at " + ".".join(str(p) for p in error["loc"][1:]) + ")"
        raise SettingsError(f"{key} is invalid{where}: {detail}.") from e
    except (json.JSONDecodeError, ValueError) as e:
        raise SettingsError(f"a setting could not be read: {e}.") from e
    if require_token and (
        settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value()
    ):
        raise SettingsError(NO_TOKEN_MESSAGE)
    return settings
