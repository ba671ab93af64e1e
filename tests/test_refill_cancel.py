"""Refill and cancel per dialect through the panel clients, against the sandbox over HTTP."""

from __future__ import annotations

import asyncio

import pytest

from bot.services import catalog, ordering, panel_requests, users
from bot.services.panel_requests import ActionRefused
from bot.texts.notifications import request_refused
from tests.fakes.tracking_fixtures import CUSTOMER, Tracking


def _said(refused: ActionRefused) -> str:
    """What the customer reads about a refusal (the wording lives on the Telegram side)."""
    return refused.panel_words or request_refused(
        refused.kind, refused.reason, refused.order_id, refused.status
    )


def _sent(shop: Tracking, action: str) -> list[object]:
    return [r for r in shop.sandbox.requests if r.action.lower() == action]


async def _completed(shop: Tracking, **place: object) -> ordering.OrderRecord:
    order = await shop.place(**place)  # type: ignore[arg-type]
    shop.set_status(order, "Completed")
    await shop.sync()
    done = await shop.order(order.order_id)
    assert done.status == "completed"
    return done


async def test_v2_refill_is_sent_once_and_its_status_followed(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await _completed(shop, refill=True)

    first, second = await asyncio.gather(
        panel_requests.request_refill(
            shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
        ),
        panel_requests.request_refill(
            shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
        ),
    )

    assert first.request_id == second.request_id
    assert (first.kind, first.status) == ("refill", "pending")
    assert first.panel_request_id is not None
    assert len(_sent(shop, "refill")) == 1

    shop.sandbox.advance(3600)
    assert await panel_requests.sync_requests(shop.db, shop.panels) == 1
    assert await panel_requests.sync_requests(shop.db, shop.panels) == 0
    (stored,) = await panel_requests.order_requests(shop.db, order.order_id)
    assert stored.status == "completed"
    assert f"Refill of order <b>#{order.order_id}</b>: Completed." in (await shop.messages())[-1]


async def test_v2_cancel_is_sent_once_and_the_order_refunded(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    order = await shop.place(cancel=True)

    first = await panel_requests.request_cancel(
        shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
    )
    again = await panel_requests.request_cancel(
        shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
    )

    # v2 panels give a cancel ID but no way to ask about it: "accepted" is all we know.
    assert (first.kind, first.status, first.error) == ("cancel", "accepted", None)
    assert again.request_id == first.request_id
    assert len(_sent(shop, "cancel")) == 1
    await shop.sync()
    canceled = await shop.order(order.order_id)
    assert canceled.status == "canceled"
    assert "was refunded to your balance" in (await shop.messages())[-1]
    assert not panel_requests.available_actions(
        canceled, await catalog.get_item(shop.db, order.item_id), shop.panels["sandbox"]
    ).can_cancel


async def test_smmsend_cancel_has_an_id_and_a_status(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    await shop.connect("send", "smmsend")
    order = await shop.place(panel="send", cancel=True)

    request = await panel_requests.request_cancel(
        shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
    )
    assert (request.status, request.panel_request_id is not None) == ("pending", True)

    assert await panel_requests.sync_requests(shop.db, shop.panels) == 1
    (stored,) = await panel_requests.order_requests(shop.db, order.order_id)
    assert stored.status == "completed"
    # One cancel, one message: the order's own Canceled notice, worded as the customer's.
    await shop.sync()
    messages = await shop.messages()
    assert len(messages) == 1, messages
    assert "was canceled as you asked" in messages[0]
    assert "was refunded to your balance" in messages[0]


async def test_smmbros_refill_is_stored_as_accepted_without_inventing_an_id(
    tracking_shop: Tracking,
) -> None:
    shop = tracking_shop
    await shop.connect("bros", "smmbros")
    order = await _completed(shop, panel="bros", refill=True)

    request = await panel_requests.request_refill(
        shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
    )

    assert (request.status, request.panel_request_id, request.error) == ("accepted", None, None)
    shop.sandbox.requests.clear()
    assert await panel_requests.sync_requests(shop.db, shop.panels) == 0
    assert _sent(shop, "refill_status") == []


async def test_smmbros_refusal_is_told_in_the_panels_words(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    await shop.connect("bros", "smmbros")
    # smmbros lists no refill flags, so the bot lets the customer try; the panel says no.
    order = await _completed(shop, panel="bros", refill=False)

    with pytest.raises(ActionRefused) as refused:
        await panel_requests.request_refill(
            shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
        )

    assert "Refill is disabled for this service" in _said(refused.value)
    (stored,) = await panel_requests.order_requests(shop.db, order.order_id)
    assert (stored.status, stored.error) == ("rejected", _said(refused.value))


async def test_smmbros_cancel_is_accepted(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    await shop.connect("bros", "smmbros")
    order = await shop.place(panel="bros", cancel=True)
    request = await panel_requests.request_cancel(
        shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
    )
    assert (request.status, request.panel_request_id) == ("accepted", None)
    await shop.sync()
    assert (await shop.order(order.order_id)).status == "canceled"


async def test_refill_and_cancel_are_refused_when_not_possible(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    pending = await shop.place(refill=True, cancel=False)
    await users.register_user(shop.db, user_id=2002, chat_id=2002, username=None, first_name="B")

    with pytest.raises(ActionRefused) as refused:
        await panel_requests.request_refill(
            shop.db, shop.panels, order_id=pending.order_id, user_id=CUSTOMER
        )
    assert "once the order is completed" in _said(refused.value)
    with pytest.raises(ActionRefused) as refused:
        await panel_requests.request_cancel(
            shop.db, shop.panels, order_id=pending.order_id, user_id=CUSTOMER
        )
    assert "does not offer cancellation" in _said(refused.value)
    with pytest.raises(ActionRefused) as refused:
        await panel_requests.request_cancel(
            shop.db, shop.panels, order_id=pending.order_id, user_id=2002
        )
    assert "no order" in _said(refused.value)
    assert _sent(shop, "refill") == [] and _sent(shop, "cancel") == []
    assert await panel_requests.order_requests(shop.db, pending.order_id) == []


async def test_smmtechs_orders_offer_neither_refill_nor_cancel(tracking_shop: Tracking) -> None:
    shop = tracking_shop
    await shop.connect("techs", "smmtechs")
    order = await _completed(shop, panel="techs", quantity=500)
    item = await catalog.get_item(shop.db, order.item_id)
    actions = panel_requests.available_actions(order, item, shop.panels["techs"])
    assert actions == panel_requests.OrderActions(can_refill=False, can_cancel=False)
    with pytest.raises(ActionRefused) as refused:
        await panel_requests.request_refill(
            shop.db, shop.panels, order_id=order.order_id, user_id=CUSTOMER
        )
    assert "does not offer refills" in _said(refused.value)
