"""Handle different users' updates at once and each user's updates one after another.

PTB hands every update to ``do_process_update`` in the order it fetched them (when every
slot is busy, its semaphore lets the waiting ones in first come, first served). Updates
with the same key (the user, else the chat, else one shared key) form a line: the first
one's task handles it and then each update that joined the line meanwhile, in order. So a
conversation sees its user's messages and taps in the order they were made, while another
user's update starts at once. An update waiting in line holds no processing slot: one user's
backlog behind a slow panel cannot use up the slots everybody else needs.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Coroutine, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# Handlers running at once; the work is I/O waits (panels, Telegram), not CPU.
MAX_CONCURRENT_UPDATES = 256
# Updates with neither a user nor a chat (e.g. a poll's new state) share one line.
SHARED_KEY = "shared"


def ordering_key(update: object) -> Hashable:
    """The line this update queues in: its user, else its chat, else the shared one.

    A pre-checkout query gets a line of its own: Telegram drops the payment unless it is
    answered within 10 seconds, its answer only reads the database, and it must not wait
    behind its own customer's earlier update (a Confirm on a hanging panel, say).
    """
    if isinstance(update, Update):
        if update.pre_checkout_query is not None:
            return ("pre_checkout", update.pre_checkout_query.id)
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return SHARED_KEY


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Run updates concurrently across users, in arrival order within each user."""

    __slots__ = ("_lines",)

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # The updates waiting behind the one being handled, per key; a key is here while
        # one of its updates is being handled.
        self._lines: dict[Hashable, deque[Awaitable[Any]]] = {}

    @property
    def waiting_updates(self) -> int:
        """How many updates wait for an earlier update of their user to finish."""
        return sum(len(line) for line in self._lines.values())

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update now, or queue it behind the update of its key being handled."""
        key = ordering_key(update)
        line = self._lines.get(key)
        if line is not None:
            line.append(coroutine)
            return
        line = self._lines[key] = deque()
        try:
            await _handle(key, coroutine)
            while line:
                await _handle(key, line.popleft())
        finally:
            del self._lines[key]
            # Only when the task is cancelled (shutdown): the queued ones will never run.
            while line:
                left = line.popleft()
                if isinstance(left, Coroutine):
                    left.close()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close: ``Application.stop`` waits for the tasks handling the lines."""


async def _handle(key: Hashable, coroutine: Awaitable[Any]) -> None:
    # Application.process_update hands handler errors to the error handlers itself; this
    # only catches what escapes them, so the rest of the line is still handled.
    try:
        await coroutine
    except Exception:
        log.exception("an update of %s failed outside the error handlers", key)
