"""Logging set-up: the format, quieter libraries, and no secret in any line at any level.

The Bot API URL carries the bot token (python-telegram-bot logs it at DEBUG, httpx logs every
request URL at INFO) and some panels take their key in the query string. A filter on the
root handlers replaces every secret with ``***`` in the message, its arguments and any
traceback, whichever logger the line comes from.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable

from telegram.error import InvalidToken

from bot.config import Settings

log = logging.getLogger(__name__)

REDACTED = "***"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Shorter values are no secrets worth hiding and would blank out ordinary words.
MIN_SECRET_LENGTH = 6


class RedactSecrets(logging.Filter):
    """Replace each secret with ``***`` in every record that passes through a handler."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a token is hidden whole before its secret half is looked for.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class DropRejectedToken(logging.Filter):
    """Drop python-telegram-bot's traceback for a rejected token: ``__main__`` says it in
    one sentence instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, InvalidToken)


def secrets_of(settings: Settings) -> list[str]:
    """The bot token (whole and its secret half) and every panel's key."""
    found: list[str] = []
    if settings.telegram.bot_token is not None:
        token = settings.telegram.bot_token.get_secret_value()
        found += [token, token.partition(":")[2]]
    found += [panel.key.get_secret_value() for panel in settings.panels.configured]
    return [secret for secret in found if secret]


def install_redaction(settings: Settings, handlers: Iterable[logging.Handler] = ()) -> None:
    """Put the secret filter on ``handlers`` (default: every handler of the root logger)."""
    redaction = RedactSecrets(secrets_of(settings))
    for handler in list(handlers) or logging.getLogger().handlers:
        handler.addFilter(redaction)


def configure_logging(settings: Settings) -> None:
    """Log to stderr at ``LOG_LEVEL`` with secrets redacted; keep chatty libraries quiet."""
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    install_redaction(settings)
    for handler in logging.getLogger().handlers:
        handler.addFilter(DropRejectedToken())
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # httpx logs every request at INFO: a line per poll is noise outside debugging.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs every job run at INFO: a line a minute per job is noise.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def announce_running(username: str, name: str) -> None:
    """Say which bot is running, where to open it and how to stop it (the operator's next
    step after start-up)."""
    log.info(
        "Bot @%s (%s) is running: open https://t.me/%s in Telegram and send /start. "
        "Press Ctrl+C to stop it.",
        username,
        name,
        username,
    )
