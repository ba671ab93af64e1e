"""Panel health: a panel that keeps failing is backed off, so it never holds up the others."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

BACKOFF_START = 30.0
BACKOFF_CAP = 15 * 60.0


class PanelHealth:
    """Back off a panel that keeps failing: 30 s, then doubling up to 15 minutes."""

    def __init__(self, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> None:
        self.start = start
        self.cap = cap
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"PanelHealth(failing={sorted(self._failures)})"

    def should_skip(self, panel: str, now: float) -> bool:
        """True while the panel is backed off."""
        return now < self._retry_at.get(panel, float("-inf"))

    def failed(self, panel: str, now: float) -> None:
        """Count a failure and back the panel off for longer each time, up to the cap."""
        failures = self._failures.get(panel, 0) + 1
        self._failures[panel] = failures
        delay = min(self.start * 2 ** min(failures - 1, 32), self.cap)
        self._retry_at[panel] = now + delay
        log.warning(
            "panel %s failed %d time(s) in a row; next try in %.0fs", panel, failures, delay
        )

    def succeeded(self, panel: str) -> None:
        """Forget the panel's failures."""
        if self._failures.pop(panel, None) is not None:
            log.info("panel %s answers again", panel)
        self._retry_at.pop(panel, None)

    def failures(self, panel: str) -> int:
        """Failures in a row so far."""
        return self._failures.get(panel, 0)
