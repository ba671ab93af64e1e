"""The owner's back office: how each panel stands, and everything about one customer.

``panel_overview`` asks every panel for its balance at once, each under one time limit, so a
slow or failing panel costs the admin at most that long and never hides the others; the
catalog and order figures come from the database.

The low-balance signal: a panel is "low" when its balance is below what the orders placed on
it in the last 24 hours cost us (every order except those the panel refused). At the same
pace the balance would not last another day, so it is time to top the panel up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.panels.base import PanelClient
from bot.panels.errors import PanelError, UnsupportedAction
from bot.panels.models import Balance
from bot.services import ordering, panel_health, status_sync, users, wallet
from storage import backoffice as backoffice_rows
from storage.db import Database, parse_time, time_text
from storage.ledger import LedgerEntry
from storage.orders import OrderRecord
from storage.users import User

log = logging.getLogger(__name__)

# How far back the orders that set the low-balance mark go.
SPENDING_WINDOW = timedelta(hours=24)
RECENT_SHOWN = 5
ERROR_SHOWN = 200


@dataclass(frozen=True, slots=True)
class PanelOverview:
    """One panel as the owner sees it: money, catalog, orders, health and actions.

    ``balance`` is None when the panel has no balance action (``balance_offered`` False) or
    when asking failed (``balance_error`` holds the panel's words, on one line).
    """

    name: str
    dialect: str
    balance: Balance | None
    balance_offered: bool
    balance_error: str | None
    services_on_sale: int
    services_listed: int
    synced_at: datetime | None
    active_orders: int
    held_orders: int
    spent_last_day: Decimal
    backing_off: bool
    failures: int
    refill: bool
    cancel: bool
    dripfeed: bool

    @property
    def low_balance(self) -> bool:
        """True when the balance is below what the last 24 hours of orders cost."""
        return self.balance is not None and self.balance.amount < self.spent_last_day


@dataclass(frozen=True, slots=True)
class CustomerOverview:
    """A customer with their balance, latest ledger entries and latest orders."""

    user: User
    balance: Decimal
    entries: list[LedgerEntry]
    orders: list[OrderRecord]
    order_count: int


def _one_line(text: str) -> str:
    line = " ".join(text.split()) or "failed without a reason"
    return line if len(line) <= ERROR_SHOWN else line[: ERROR_SHOWN - 1] + "…"


async def _balance(
    name: str, client: PanelClient, time_limit: float
) -> tuple[Balance | None, bool, str | None]:
    """Ask one panel for its balance: (balance, offered, error)."""
    if not client.capabilities.balance:
        return None, False, None
    try:
        async with asyncio.timeout(time_limit):
            return await client.balance(), True, None
    except UnsupportedAction:
        return None, False, None
    except PanelError as e:
        return None, True, _one_line(e.message)
    except TimeoutError:
        return None, True, f"no answer within {time_limit:g} s"
    except Exception as e:
        # One broken panel must not take the whole overview down; the traceback is logged.
        log.exception("unexpected error asking %s for its balance", name)
        return None, True, _one_line(f"unexpected error: {type(e).__name__}: {e}")


async def panel_overview(
    db: Database,
    panels: Mapping[str, PanelClient],
    health: panel_health.PanelHealth | None,
    *,
    time_limit: float,
) -> list[PanelOverview]:
    """Describe every configured panel, asking all of them for their balance at once."""
    names = list(panels)
    now = datetime.now(UTC)
    balances = await asyncio.gather(*(_balance(name, panels[name], time_limit) for name in names))
    catalogs = await backoffice_rows.catalog_figures(db)
    orders = await backoffice_rows.order_figures(
        db,
        active_statuses=status_sync.ACTIVE_STATUSES,
        held_status=ordering.REVIEW,
        stale_status=ordering.PLACING,
        stale_before=time_text(now - ordering.STALE_PLACING_AFTER),
    )
    spent = await backoffice_rows.costs_since(
        db, time_text(now - SPENDING_WINDOW), except_statuses=(ordering.FAILED,)
    )
    moment = time.monotonic()
    overviews: list[PanelOverview] = []
    for name, (balance, offered, error) in zip(names, balances, strict=True):
        client = panels[name]
        capabilities = client.capabilities
        catalog = catalogs.get(name, backoffice_rows.PanelCatalogFigures(0, 0, None))
        counts = orders.get(name, backoffice_rows.PanelOrderFigures(0, 0))
        overviews.append(
            PanelOverview(
                name=name,
                dialect=client.config.dialect,
                balance=balance,
                balance_offered=offered,
                balance_error=error,
                services_on_sale=catalog.on_sale,
                services_listed=catalog.listed,
                synced_at=None if catalog.synced_at is None else parse_time(catalog.synced_at),
                active_orders=counts.active,
                held_orders=counts.held,
                spent_last_day=spent.get(name, Decimal(0)),
                backing_off=health is not None and health.should_skip(name, moment),
                failures=0 if health is None else health.failures(name),
                refill=capabilities.refill,
                cancel=capabilities.cancel,
                dripfeed=capabilities.dripfeed,
            )
        )
    return overviews


async def customer_overview(db: Database, ref: int | str) -> CustomerOverview | None:
    """Everything an admin asks about a customer (by ID or @username), or None."""
    user = await users.find_user(db, ref)
    if user is None:
        return None
    orders = await ordering.list_user_orders(db, user.user_id, 0, RECENT_SHOWN)
    return CustomerOverview(
        user=user,
        balance=await wallet.get_balance(db, user.user_id),
        entries=await wallet.recent_entries(db, user.user_id, RECENT_SHOWN),
        orders=orders.items,
        order_count=orders.total,
    )
