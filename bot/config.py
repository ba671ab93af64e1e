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


_SOURCE = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    case_sensitive=False,
    populate_by_name=True,
)


class SettingsGroup(BaseSettings):
    """The settings of one concern, read from the environment and `.env`."""

    model_config = _SOURCE

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of ``field`` (its own name when it has no prefix)."""
        for name, info in cls.model_fields.items():
            alias = info.validation_alias
            if field in (name, alias):
                if isinstance(alias, str):
                    return alias.upper()
                return (cls.model_config.get("env_prefix", "") + name).upper()
        return field.upper()


class TelegramSettings(SettingsGroup):
    """How the bot reaches Telegram (``TELEGRAM_*``)."""

    model_config = SettingsConfigDict(**_SOURCE, env_prefix="TELEGRAM_")

    bot_token: SecretStr | None = None
    api_base_url: str = Field(default="https://api.telegram.org", pattern=r"^https?://")

    @field_validator("api_base_url")
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


class PanelsSettings(SettingsGroup):
    """The SMM panels the shop buys from (``PANELS``), its margin over their prices and how
    they are called (``PANEL_*``)."""

    model_config = SettingsConfigDict(**_SOURCE, env_prefix="PANEL_")

    configured: Annotated[list[PanelSettings], NoDecode] = Field(
        default_factory=list, validation_alias="PANELS"
    )
    markup_percent: Decimal = Field(
        default=Decimal(0), ge=0, le=10000, validation_alias="PRICE_MARKUP_PERCENT"
    )
    timeout: float = Field(default=30, gt=0, le=600)
    concurrency: int = Field(default=4, ge=1, le=64)
    user_agent: str = DEFAULT_USER_AGENT

    @field_validator("configured", mode="before")
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

    @field_validator("configured")
    @classmethod
    def _unique_panel_names(cls, value: list[PanelSettings]) -> list[PanelSettings]:
        names = [p.name for p in value]
        if len(names) != len(set(names)):
            raise ValueError("panel names must be unique")
        if SANDBOX_PANEL_NAME in names:
            raise ValueError(f"the name {SANDBOX_PANEL_NAME!r} is reserved for the sandbox")
        return value

    def markup_for(self, panel_name: str) -> Decimal:
        """The markup in percent on this panel's services."""
        for panel in self.configured:
            if panel.name == panel_name and panel.markup_percent is not None:
                return panel.markup_percent
        return self.markup_percent


class SandboxSettings(SettingsGroup):
    """The built-in sandbox panel sold when no panel is configured (``SANDBOX_*``)."""

    model_config = SettingsConfigDict(**_SOURCE, env_prefix="SANDBOX_")

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    catalog_size: int = Field(default=120, ge=15, le=100_000)
    speed: float = Field(default=1.0, gt=0, le=10_000)
    starting_balance: Decimal = Field(default=Decimal(100), ge=0)
    # Credit each new customer gets in sandbox mode, so a first try needs no admin.
    welcome_credit: Decimal = Field(default=Decimal(25), ge=0)


class TrackingSettings(SettingsGroup):
    """How often the bot asks the panels about orders and catalogs."""

    status_poll_interval: float = Field(default=60, gt=0, le=86400)
    catalog_sync_interval: float = Field(default=6 * 3600, gt=0)


class TopUpSettings(SettingsGroup):
    """Customers' top-ups (``TOPUP_*``) and manual receipts (see the README's "Payments")."""

    model_config = SettingsConfigDict(**_SOURCE, env_prefix="TOPUP_")

    min: Decimal = Field(default=Decimal(1), gt=0, decimal_places=2)
    max: Decimal = Field(default=Decimal(500), gt=0, decimal_places=2)
    presets: Annotated[tuple[Decimal, ...], NoDecode] = (
        Decimal(5),
        Decimal(10),
        Decimal(25),
        Decimal(50),
    )
    # Seconds an invoice (Stars or Crypto Pay) stays payable.
    invoice_ttl: float = Field(default=3600, ge=60, le=7 * 86400)
    # The owner's payment details for manual receipts (card, UPI, bank…); empty = off.
    manual_instructions: str = Field(
        default="", max_length=2000, validation_alias="MANUAL_TOPUP_INSTRUCTIONS"
    )

    @field_validator("presets", mode="before")
    @classmethod
    def _split_presets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(Decimal(p.strip()) for p in value.split(",") if p.strip())
        return value

    @model_validator(mode="after")
    def _topup_range(self) -> TopUpSettings:
        if self.min > self.max:
            raise ValueError("TOPUP_MIN must not be above TOPUP_MAX")
        for preset in self.presets:
            if not self.min <= preset <= self.max:
                raise ValueError(
                    f"TOPUP_PRESETS: {preset} is outside TOPUP_MIN..TOPUP_MAX "
                    f"({self.min}..{self.max})"
                )
        return self

    @property
    def manual_enabled(self) -> bool:
        """True when the owner gave instructions for manual receipts."""
        return bool(self.manual_instructions.strip())


class StarsSettings(SettingsGroup):
    """Telegram Stars top-ups (``STARS_*``)."""

    model_config = SettingsConfigDict(**_SOURCE, env_prefix="STARS_")

    enabled: bool = True
    # Stars per 1 unit of CURRENCY. 77 suits USD: a Star withdraws for about 0.013 USD.
    per_unit: Decimal = Field(default=Decimal(77), gt=0, le=100_000)
    reconcile_interval: float = Field(default=3600, gt=0)


class CryptoPaySettings(SettingsGroup):
    """Crypto Pay (@CryptoBot) top-ups, on when the token is set (``CRYPTO_PAY_*``)."""

    model_config = SettingsConfigDict(**_SOURCE, env_prefix="CRYPTO_PAY_")

    token: SecretStr | None = None
    testnet: bool = False
    # Empty = the official API (mainnet or testnet); tests point it at a fake.
    api_url: str = Field(default="", pattern=r"^(https?://.*)?$")
    assets: Annotated[tuple[str, ...], NoDecode] = ("USDT", "TON", "BTC")
    poll_interval: float = Field(default=30, gt=0, le=3600)
    # The webhook listener (also set the URL in @CryptoBot → Crypto Pay → Webhooks);
    # no port = polling only.
    webhook_host: str = "0.0.0.0"
    webhook_port: int | None = Field(default=None, ge=0, le=65535)
    webhook_path: str = Field(default="/cryptopay/webhook", pattern=r"^/[^\s]*$")

    @field_validator("webhook_port", mode="before")
    @classmethod
    def _empty_port_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("assets", mode="before")
    @classmethod
    def _split_assets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(a.strip().upper() for a in value.split(",") if a.strip())
        return value

    @property
    def enabled(self) -> bool:
        """True when a Crypto Pay token is set."""
        return self.token is not None and bool(self.token.get_secret_value().strip())


_DEFAULT_ENV_FILE: Any = object()
_GROUPS: dict[str, type[SettingsGroup]] = {
    "telegram": TelegramSettings,
    "panels": PanelsSettings,
    "sandbox": SandboxSettings,
    "tracking": TrackingSettings,
    "topup": TopUpSettings,
    "stars": StarsSettings,
    "crypto_pay": CryptoPaySettings,
}
# Each grouped setting by its environment name (lower case): (group, field).
_GROUPED: dict[str, tuple[str, str]] = {
    group.env_name(field).lower(): (attribute, field)
    for attribute, group in _GROUPS.items()
    for field in group.model_fields
}


def _by_group(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split values given by environment name into the shop-wide ones and each group's."""
    shop: dict[str, Any] = {}
    grouped: dict[str, dict[str, Any]] = {attribute: {} for attribute in _GROUPS}
    for key, value in values.items():
        target = _GROUPED.get(key.lower())
        if target is None:
            shop[key] = value
        else:
            grouped[target[0]][target[1]] = value
    return shop, grouped


class Settings(SettingsGroup):
    """Everything the bot reads at start: the shop-wide settings, then one group per concern.

    Built from the environment (and `.env`, or ``_env_file``), with any value overridden by
    its environment name in lower case: ``Settings(panel_timeout=5, currency="EUR")``.
    """

    database_path: Path = Path("data/bot.sqlite3")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    currency: str = Field(default="USD", min_length=1, max_length=8)
    # Shown on Balance, Help, the not-enough-balance summary and payment problems.
    support_contact: str = Field(default="", max_length=200)
    # Shown by /terms; empty = the built-in text.
    terms_text: str = Field(default="", max_length=3000)
    conversation_timeout: float = Field(default=30 * 60, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # The groups are always passed in by __init__; NoDecode keeps a variable that happens to
    # share a group's name (PANELS) from being parsed for it.
    telegram: Annotated[TelegramSettings, NoDecode]
    panels: Annotated[PanelsSettings, NoDecode]
    sandbox: Annotated[SandboxSettings, NoDecode]
    tracking: Annotated[TrackingSettings, NoDecode]
    topup: Annotated[TopUpSettings, NoDecode]
    stars: Annotated[StarsSettings, NoDecode]
    crypto_pay: Annotated[CryptoPaySettings, NoDecode]

    def __init__(self, _env_file: Any = _DEFAULT_ENV_FILE, **values: Any) -> None:
        # Every group reads the same file: `.env` unless told otherwise (None: no file).
        source = {} if _env_file is _DEFAULT_ENV_FILE else {"_env_file": _env_file}
        shop, grouped = _by_group(values)
        for attribute, group in _GROUPS.items():
            if attribute not in shop:
                shop[attribute] = group(**source, **grouped[attribute])
        super().__init__(**source, **shop)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @property
    def use_sandbox(self) -> bool:
        """True when no real panel is configured: the bot runs its built-in sandbox panel."""
        return not self.panels.configured

    def copy_with(self, **values: Any) -> Settings:
        """A copy with these values (by environment name, in lower case), unchecked like
        ``model_copy``."""
        shop, grouped = _by_group(values)
        for attribute, update in grouped.items():
            if update:
                shop[attribute] = getattr(self, attribute).model_copy(update=update)
        return self.model_copy(update=shop)


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
        group = _GROUP_BY_TITLE.get(e.title, Settings)
        key = group.env_name(str(error["loc"][0])) if error["loc"] else "a setting"
        detail = error["msg"].removeprefix("Value error, ")
        where = ""
        if len(error["loc"]) > 1:
            where = " (at " + ".".join(str(p) for p in error["loc"][1:]) + ")"
        raise SettingsError(f"{key} is invalid{where}: {detail}.") from e
    except (json.JSONDecodeError, ValueError) as e:
        raise SettingsError(f"a setting could not be read: {e}.") from e
    token = settings.telegram.bot_token
    if require_token and (token is None or not token.get_secret_value()):
        raise SettingsError(NO_TOKEN_MESSAGE)
    return settings


_ALL_GROUPS: list[type[SettingsGroup]] = [Settings, *_GROUPS.values()]
_GROUP_BY_TITLE = {group.__name__: group for group in _ALL_GROUPS}
