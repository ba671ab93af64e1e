"""Failures the sandbox can stage on purpose: slow answers, 5xx, HTML, broken JSON and more.

``faults.add(kind, count, action)`` queues ``count`` faults for the next requests whose action
(or smmtechs method) matches; ``faults.latency`` slows every request. smmtechs methods also
match their v2 counterparts (``newTask`` is an ``add``, ``getTaskStat`` a ``status``).
"""

from __future__ import annotations

from dataclasses import dataclass

FAULT_KINDS = frozenset(
    {
        "latency",
        "http500",
        "html",
        "invalid_json",
        "hang",
        "error_after_create",
        "rate_limit",
        "refuse_connection",
        "error",
    }
)
# What each smmtechs method is in v2 words, so one fault can target every dialect.
_V2_ACTION_OF = {
    "newtask": "add",
    "gettaskstat": "status",
    "gettasks": "status",
    "gettypes": "services",
}
DEFAULT_ERROR_MESSAGE = "The panel is under maintenance, please try again later"
DEFAULT_LATENCY = 1.0


@dataclass(slots=True)
class Fault:
    """One staged failure; ``count`` is how many more requests it will hit."""

    kind: str
    count: int = 1
    action: str | None = None
    dialect: str | None = None
    status: int | None = None
    message: str | None = None
    seconds: float | None = None

    def matches(self, dialect: str, action: str) -> bool:
        """True when this fault is meant for a request of ``dialect`` doing ``action``."""
        if self.dialect is not None and self.dialect != dialect:
            return False
        wanted = self.action
        if wanted is None and self.kind == "error_after_create":
            wanted = "add"
        if wanted is None:
            return True
        asked = action.lower()
        wanted = wanted.lower()
        return wanted in (asked, _V2_ACTION_OF.get(asked))


class Faults:
    """The queue of staged failures and the latency added to every request."""

    def __init__(self) -> None:
        self.latency = 0.0
        self._queue: list[Fault] = []
        self._html_served = 0

    def __repr__(self) -> str:
        return f"Faults(latency={self.latency}, pending={self.pending})"

    def add(
        self,
        kind: str,
        count: int = 1,
        action: str | None = None,
        *,
        dialect: str | None = None,
        status: int | None = None,
        message: str | None = None,
        seconds: float | None = None,
    ) -> None:
        """Queue ``count`` faults of ``kind`` for the next requests doing ``action``.

        ``status`` picks the HTTP code for ``html`` (200 or 503, alternating by default) and
        ``error`` (200 by default, or 400); ``message`` is the ``error`` text; ``seconds`` is
        the delay of a ``latency`` fault.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._queue.append(Fault(kind, count, action, dialect, status, message, seconds))

    def clear(self) -> None:
        """Drop every queued fault and the added latency."""
        self._queue.clear()
        self.latency = 0.0

    @property
    def pending(self) -> int:
        """How many faulty answers are still queued."""
        return sum(f.count for f in self._queue)

    def take(self, dialect: str, action: str) -> Fault | None:
        """Use up the first queued fault meant for this request; None when there is none."""
        for i, fault in enumerate(self._queue):
            if fault.matches(dialect, action):
                fault.count -= 1
                if fault.count == 0:
                    del self._queue[i]
                status = fault.status
                if fault.kind == "html" and status is None:
                    # A 200 with a web page is the sneaky one; alternate it with a 503.
                    status = 200 if self._html_served % 2 == 0 else 503
                    self._html_served += 1
                return Fault(
                    fault.kind,
                    1,
                    fault.action,
                    fault.dialect,
                    status,
                    fault.message,
                    fault.seconds,
                )
        return None
