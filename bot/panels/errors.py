"""The few typed errors a panel call can end in, each carrying the panel's own words."""

from __future__ import annotations

import re


class PanelError(Exception):
    """A panel call failed; ``message`` is what the panel (or the transport) said."""

    def __init__(self, message: str, *, panel: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.panel = panel

    def __str__(self) -> str:
        return f"{self.panel}: {self.message}" if self.panel else self.message


class PanelRejected(PanelError):
    """The panel answered with an error we have no more specific class for."""


class AuthError(PanelRejected):
    """The API key is wrong, disabled or missing."""


class InsufficientFunds(PanelRejected):
    """The reseller's balance on the panel does not cover the order."""


class InvalidRequest(PanelRejected):
    """The service, link, quantity or another field was refused (or failed our own checks)."""


class RateLimited(PanelError):
    """The panel asked us to slow down; ``retry_after`` is in seconds when known."""

    def __init__(self, message: str, *, panel: str = "", retry_after: float | None = None):
        super().__init__(message, panel=panel)
        self.retry_after = retry_after


class PanelUnavailable(PanelError):
    """Transport failed: timeout, refused connection, 5xx, an HTML page or invalid JSON."""


class UnsupportedAction(PanelError):
    """This panel's API has no such action (the bot must not offer it)."""


class OrderOutcomeUnknown(PanelError):
    """An ``add`` may have reached the panel: never retry it, hold the order for review."""


# Panels word the same failure many ways; the first pattern that matches decides.
_CLASSIFIERS: tuple[tuple[re.Pattern[str], type[PanelRejected]], ...] = (
    (re.compile(r"api.?key|\bkey\b|unauthori[sz]ed|access denied|token", re.I), AuthError),
    (
        re.compile(r"not enough (funds|money|balance)|insufficient|low balance|no funds", re.I),
        InsufficientFunds,
    ),
    (
        re.compile(
            r"incorrect|invalid|not found|wrong|quantity|minimum|maximum|\bmin\b|\bmax\b|link"
            r"|url|service|required|must|format|active order",
            re.I,
        ),
        InvalidRequest,
    ),
)
_RATE_LIMIT = re.compile(r"too many|rate.?limit|limit (exceeded|reached)|slow down", re.I)


def error_from_message(message: str, *, panel: str = "") -> PanelError:
    """Map a panel's ``{"error": ...}`` text onto the most specific error class."""
    text = str(message).strip() or "the panel reported an unspecified error"
    if _RATE_LIMIT.search(text):
        return RateLimited(text, panel=panel)
    for pattern, error_class in _CLASSIFIERS:
        if pattern.search(text):
            return error_class(text, panel=panel)
    return PanelRejected(text, panel=panel)
