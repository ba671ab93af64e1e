"""Ordering in the chat: from /start to an order the panel received and the wallet paid for.

Every test drives the real bot through the fake Telegram Bot API and the sandbox panel.
"""

from __future__ import annotations

import asyncio
import time
from decimal import ROUND_CEILING, Decimal
from typing import Any

import pytest

from bot import order_form as form
from bot import texts as common_texts
from bot.callbacks import Action, encode
from bot.panels.models import OrderType
from bot.services import catalog, ordering, wallet
from bot.services.catalog import CatalogItem
from bot.texts import ordering as texts
from tests.fakes.telegram_fixtures import BotEnv, FakeUser

LINK = "https://example.com/post/42"
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- helpers


async def all_items(env: BotEnv) -> list[CatalogItem]:
    """Every service on sale, walked through the catalog service like the menus do."""
    items: list[CatalogItem] = []
    for platform, _count in await catalog.list_platforms(env.db):
        categories = await catalog.list_categories(env.db, platform, 0, 1000)
        for category in categories.items:
            page = await catalog.list_services(env.db, category.category_id, 0, 1000)
            items += page.items
    return items


async def item_of_type(env: BotEnv, order_type: OrderType, **flags: bool) -> CatalogItem:
    for item in await all_items(env):
        service = item.service
        if service.type is order_type and all(getattr(service, k) == v for k, v in flags.items()):
            return item
    raise AssertionError(f"the sandbox sells no {order_type.value} service with {flags}")


def add_requests(env: BotEnv) -> list[Any]:
    """The ``add`` calls that reached the sandbox panel."""
    found = []
    for request in env.sandbox.requests:
        action = getattr(request, "action", None)
        if action is None:
            action = request[1]
        if action == "add":
            found.append(request)
    return found


def expected_price(item: CatalogItem, units: int, *, per_package: bool = False) -> Decimal:
    """Rate per 1000 (or per package), rounded up to the cent: what the customer pays."""
    raw = item.price_rate if per_package else item.price_rate * units / 1000
    return max(raw.quantize(CENT, rounding=ROUND_CEILING), CENT)


async def customer(env: BotEnv, funds: Decimal | None = Decimal(1000)) -> FakeUser:
    user = env.user()
    await user.send("/start")
    if funds:
        await wallet.credit(env.db, user.user_id, funds, reason="test top-up")
    user.replies()
    return user


async def open_order(user: FakeUser, item: CatalogItem) -> None:
    """Find the service by its number, open its card and tap Order."""
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)


def lines(prefix: str, count: int) -> str:
    return "\n".join(f"{prefix}{i}" for i in range(1, count + 1))


async def fill_form(user: FakeUser, item: CatalogItem) -> tuple[dict[str, str], int]:
    """Answer every question for this item's type; return the expected form and units."""
    service = item.service
    kind = service.type
    low = service.min
    sent: dict[str, str] = {}

    async def say(field: str, text: str) -> None:
        await user.send(text)
        sent[field] = text

    if kind is not OrderType.SUBSCRIPTIONS:
        await say("link", LINK)
    units = low
    if kind in (
        OrderType.DEFAULT,
        OrderType.SEO,
        OrderType.MENTIONS,
        OrderType.MENTIONS_WITH_HASHTAGS,
        OrderType.MENTIONS_USER_FOLLOWERS,
        OrderType.MENTIONS_MEDIA_LIKERS,
        OrderType.WEB_TRAFFIC,
        OrderType.COMMENT_LIKES,
        OrderType.POLL,
        OrderType.INVITES_FROM_GROUPS,
    ):
        await say("quantity", str(low))
    if kind is OrderType.SEO:
        await say("keywords", "running shoes\ncheap sneakers")
    elif kind is OrderType.CUSTOM_COMMENTS:
        await say("comments", lines("Nice post ", low))
    elif kind is OrderType.MENTIONS:
        await say("usernames", "alice\nbob")
    elif kind is OrderType.MENTIONS_WITH_HASHTAGS:
        await say("usernames", "alice\nbob")
        assert "Send the hashtags" in user.last().text
        await say("hashtags", "#summer\n#sale")
    elif kind is OrderType.MENTIONS_CUSTOM_LIST:
        await say("usernames", lines("u", low))
    elif kind is OrderType.MENTIONS_USER_FOLLOWERS:
        await say("username", "famous_person")
    elif kind is OrderType.MENTIONS_MEDIA_LIKERS:
        await say("media", "https://example.com/media/7")
    elif kind is OrderType.SUBSCRIPTIONS:
        await say("username", "star_account")
        await say("min", str(low))
        await say("max", str(low * 2))
        await user.tap("1 hour")
        sent["delay"] = "60"
        await say("posts", "5")
        await user.tap(texts.BTN_SKIP)  # old posts
        await say("expiry", "31/12/2099")
        units = low * 2 * 5
    elif kind is OrderType.WEB_TRAFFIC:
        await say("country", "US")
        await user.tap("Desktop")
        sent["device"] = "1"
        await user.tap("Google keyword")
        sent["type_of_traffic"] = "1"
        await say("google_keyword", "best running shoes")
    elif kind is OrderType.CUSTOM_COMMENTS_PACKAGE:
        await say("comments", "Great video!\nLove it")
        units = 1
    elif kind is OrderType.COMMENT_LIKES:
        await say("username", "comment_author")
    elif kind is OrderType.POLL:
        await say("answer_number", "2")
    elif kind is OrderType.COMMENT_REPLIES:
        await say("username", "comment_author")
        await say("comments", lines("Reply ", low))
    elif kind is OrderType.INVITES_FROM_GROUPS:
        await say("groups", "group_one\ngroup_two")
    elif kind is OrderType.PACKAGE:
        units = 1
    if form.asks_dripfeed(service):  # only a panel's own drip-feed mark asks up front
        await user.tap("No")
    return sent, units


async def summary_of(user: FakeUser) -> Any:
    summary = user.last()
    assert "Check your order" in summary.text, summary.text
    return summary


# --------------------------------------------------------------------------- every type


@pytest.mark.parametrize("order_type", list(OrderType), ids=lambda t: t.name.lower())
async def test_every_order_type_from_start_to_a_placed_order(
    bot_env: BotEnv, order_type: OrderType
) -> None:
    env = bot_env
    item = await item_of_type(env, order_type)
    user = await customer(env)
    await open_order(user, item)
    sent, units = await fill_form(user, item)

    per_package = item.service.spec.per_package
    price = expected_price(item, units, per_package=per_package)
    summary = await summary_of(user)
    assert f"Total: {price:,} USD" in summary.text
    assert "Your balance: 1,000.00 USD" in summary.text
    for value in sent.values():
        if "\n" not in value and value.isascii() and not value.isdigit():
            assert value in summary.text, (value, summary.text)

    await user.tap(texts.BTN_CONFIRM)
    result = user.last()
    assert "placed" in result.text, result.text

    # The panel got exactly one order, with every field the user typed.
    assert len(add_requests(env)) == 1
    [panel_order] = env.sandbox.orders.values()
    params = panel_order.params
    assert str(params["service"]) == item.service.service_id
    for field, value in sent.items():
        assert params[field].replace("\r\n", "\n") == value, field
    assert "runs" not in params

    # SQLite has the order with its price, and the wallet paid exactly that once.
    orders = await ordering.list_user_orders(env.db, user.user_id, 0)
    [record] = orders.items
    assert record.price == price
    assert record.charged
    assert record.panel_order_id == panel_order.order_id
    assert f"#{record.order_id}" in result.text
    balance = await wallet.get_balance(env.db, user.user_id)
    assert balance == Decimal(1000) - price
    assert f"{balance:,.2f} USD" in result.text


async def test_dripfeed_sends_runs_and_interval_and_charges_every_run(bot_env: BotEnv) -> None:
    env = bot_env
    # The v2 services list carries no drip-feed flag: pick one the sandbox really drip-feeds.
    item = next(
        i
        for i in await all_items(env)
        if i.service.type is OrderType.DEFAULT
        and i.service.dripfeed
        and env.sandbox.service(i.service.service_id).dripfeed
    )
    quantity = item.service.min
    user = await customer(env)
    await open_order(user, item)
    await user.send(LINK)
    await user.send(str(quantity))
    # A v2 panel does not mark it: drip-feed is not asked, it waits under More options.
    summary = await summary_of(user)
    assert "Drip-feed" not in summary.text
    await user.tap(texts.BTN_MORE_OPTIONS)
    assert "Drip-feed is off" in user.last().text
    await user.tap(texts.BTN_DRIPFEED_ON)
    assert "How many runs?" in user.last().text
    await user.send("1")
    assert "Drip-feed needs at least 2 runs." in user.last().text
    await user.send("3")
    await user.send("30")
    summary = await summary_of(user)
    assert "Runs: 3" in summary.text and "Interval: 30 min" in summary.text
    price = expected_price(item, quantity * 3)
    assert f"Total: {price:,} USD" in summary.text

    await user.tap(texts.BTN_CONFIRM)
    assert "placed" in user.last().text, user.last().text
    [panel_order] = env.sandbox.orders.values()
    assert panel_order.params["runs"] == "3"
    assert panel_order.params["interval"] == "30"
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(1000) - price


# --------------------------------------------------------------------------- checking input


async def test_each_kind_of_bad_answer_is_explained_and_asked_again(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    low, high = item.service.min, item.service.max
    user = await customer(env)
    await open_order(user, item)

    await user.send("instagram.com/mypage")
    reply = user.last().text
    assert "That is not a link: send a full address starting with https://" in reply
    assert "Send the link" in reply  # asked again
    await user.send(LINK)
    await user.send(str(low - 1))
    assert f"The minimum for this service is {low}." in user.last().text
    await user.send(str(high + 1))
    assert f"The maximum for this service is {high}." in user.last().text
    await user.send("a lot")
    assert "Send the quantity as a whole number" in user.last().text
    await user.send(str(low))
    await summary_of(user)
    assert env.sandbox.orders == {}


async def test_list_and_subscription_answers_are_checked(bot_env: BotEnv) -> None:
    env = bot_env
    comments = await item_of_type(env, OrderType.CUSTOM_COMMENTS)
    user = await customer(env)
    await open_order(user, comments)
    await user.send(LINK)
    await user.send("one\ntwo\nthree")
    low, high = comments.service.min, comments.service.max
    assert f"You sent 3 comments; this service needs {low} to {high}." in user.last().text
    await user.send("/cancel")

    subscription = await item_of_type(env, OrderType.SUBSCRIPTIONS)
    low = subscription.service.min
    await open_order(user, subscription)
    await user.send("two words")
    assert "Send one username without spaces" in user.last().text
    await user.send("star_account")
    await user.send(str(low * 3))
    await user.send(str(low * 2))
    assert f"The maximum must be at least your minimum ({low * 3})." in user.last().text
    await user.send(str(low * 4))
    await user.send("7")
    assert "Choose one of the buttons: No delay, 5 min" in user.last().text
    await user.tap("No delay")
    assert "Delay: No delay" in user.last().text  # the answers so far, above the question
    # A subscription is billed per post, so "no limit" is not offered: a number is needed.
    assert texts.BTN_SKIP not in user.last().button_texts
    await user.send("0")
    assert "Send a number of posts from 1 to 10,000." in user.last().text
    await user.send("12")
    await user.tap(texts.BTN_SKIP)
    await user.send("01/01/2001")
    assert "That date has passed" in user.last().text
    await user.tap(texts.BTN_SKIP)
    summary = await summary_of(user)
    assert "New posts: 12" in summary.text
    # The price covers the maximum per post for every post, and the summary says so.
    per_post = low * 4
    assert f"Priced as up to {per_post:,} per post × 12 posts = {per_post * 12:,}" in summary.text
    price = (subscription.price_rate * per_post * 12 / 1000).quantize(
        Decimal("0.01"), rounding=ROUND_CEILING
    )
    assert f"Total: {price} USD" in summary.text


async def test_poll_answer_number_must_be_positive(bot_env: BotEnv) -> None:
    env = bot_env
    poll = await item_of_type(env, OrderType.POLL)
    user = await customer(env)
    await open_order(user, poll)
    await user.send(LINK)
    await user.send(str(poll.service.min))
    await user.send("0")
    assert "Send the answer's number from 1" in user.last().text
    await user.send("3")
    assert "Poll answer: 3" in (await summary_of(user)).text


# --------------------------------------------------------------------------- leaving and resuming


async def test_cancel_mid_way_drops_the_draft(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    await open_order(user, item)
    await user.send(LINK)
    await user.send("/cancel")
    assert user.last().text == texts.CANCELLED
    # Text now is a catalog search again, not an answer to the quantity question.
    await user.send(str(item.service.min))
    assert "Check your order" not in user.last().text
    assert "found" in user.last().text or "Nothing matches" in user.last().text

    await open_order(user, item)
    await user.tap(texts.BTN_CANCEL)
    assert user.last().text == texts.CANCELLED
    assert add_requests(env) == []
    assert (await ordering.list_user_orders(env.db, user.user_id, 0)).total == 0


async def test_restart_mid_way_resumes_the_draft(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    await open_order(user, item)
    await user.send(LINK)
    await env.restart()
    await user.send(str(item.service.min))
    if form.asks_dripfeed(item.service):
        await user.tap("No")
    summary = await summary_of(user)
    assert LINK in summary.text
    await user.tap(texts.BTN_CONFIRM)
    assert "placed" in user.last().text
    assert len(add_requests(env)) == 1


async def test_a_draft_expires_after_the_conversation_timeout(bot_env: BotEnv) -> None:
    env = bot_env
    env.settings = env.settings.model_copy(update={"conversation_timeout": 0.3})
    await env.restart()
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    await open_order(user, item)
    deadline = time.monotonic() + 5
    while texts.DRAFT_EXPIRED not in user.last().text:
        assert time.monotonic() < deadline, "the draft never expired"
        await asyncio.sleep(0.05)
    await user.send(LINK)  # no longer an answer: it is a search now
    assert "Check your order" not in user.last().text
    assert "How many?" not in user.last().text


# --------------------------------------------------------------------------- the summary's buttons


async def ready_summary(env: BotEnv, user: FakeUser, item: CatalogItem) -> Any:
    await open_order(user, item)
    await user.send(LINK)
    await user.send(str(item.service.min))
    if form.asks_dripfeed(item.service):
        await user.tap("No")
    user.answers()  # forget the answers to the taps so far
    return await summary_of(user)


async def test_double_confirm_places_exactly_one_order(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    summary = await ready_summary(env, user, item)
    confirm = summary.data_for(texts.BTN_CONFIRM)
    assert confirm is not None
    await user.tap_data(confirm, summary)
    await user.tap_data(confirm, summary)

    assert len(add_requests(env)) == 1
    [record] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    answers = user.answers()
    assert answers[0] == texts.PLACING
    assert answers[1] == f"Already placed as order #{record.order_id}."
    price = expected_price(item, item.service.min)
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(1000) - price


async def test_confirm_from_an_old_summary_is_refused(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    low = item.service.min
    user = await customer(env)
    old = await ready_summary(env, user, item)
    await user.tap(texts.BTN_CHANGE)
    assert texts.CHOOSE_FIELD in user.last().text
    await user.tap("Quantity")
    await user.send(str(low * 2))
    new = await summary_of(user)
    assert f"Quantity: {low * 2}" in new.text

    old_confirm = old.data_for(texts.BTN_CONFIRM)
    assert old_confirm is not None
    await user.tap_data(old_confirm, old)
    assert user.answers()[-1] == texts.SUMMARY_STALE
    assert add_requests(env) == []

    await user.tap(texts.BTN_CONFIRM, new)
    [panel_order] = env.sandbox.orders.values()
    assert panel_order.params["quantity"] == str(low * 2)


async def test_forged_buttons_do_nothing_but_say_so(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    summary = await ready_summary(env, user, item)
    await user.tap_data("y:not/a/token", summary)
    await user.tap_data("ch:abc", summary)
    await user.tap_data("o:12x", summary)
    assert user.answers() == [common_texts.BUTTON_INVALID] * 3
    assert add_requests(env) == []
    # The real summary still works.
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "placed" in user.last().text


async def test_buttons_after_the_conversation_ended_say_they_are_out_of_date(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    summary = await ready_summary(env, user, item)
    await user.send("/cancel")
    await user.tap(texts.BTN_CONFIRM, summary)
    await user.tap(texts.BTN_CHANGE, summary)
    assert user.answers() == [texts.SUMMARY_STALE, texts.SUMMARY_STALE]
    assert add_requests(env) == []


async def test_change_a_choice_asks_its_follow_up_questions_again(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.WEB_TRAFFIC)
    user = await customer(env)
    await open_order(user, item)
    await fill_form(user, item)
    await summary_of(user)
    await user.tap(texts.BTN_CHANGE)
    await user.tap("Traffic type")
    await user.tap("Custom referrer")
    assert "referring address" in user.last().text
    await user.send("https://news.example.org/story")
    summary = await summary_of(user)
    assert "Referrer: https://news.example.org/story" in summary.text
    assert "Google keyword" not in summary.text
    await user.tap(texts.BTN_CONFIRM)
    [panel_order] = env.sandbox.orders.values()
    assert panel_order.params["type_of_traffic"] == "2"
    assert panel_order.params["referring_url"] == "https://news.example.org/story"
    assert "google_keyword" not in panel_order.params


# --------------------------------------------------------------------------- the panel and money


async def test_panel_refusal_refunds_and_shows_the_reason(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    await ready_summary(env, user, item)
    env.sandbox.faults.add("error", action="add", message="Quantity less than minimal 5000")
    await user.tap(texts.BTN_CONFIRM)

    result = user.last().text
    assert result.startswith("❌ Order #1 was refused: Quantity less than minimal 5000\n")
    assert "Nothing was charged" in result and "went straight back to your balance" in result
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(1000)
    [record] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    assert record.status == "failed"
    assert env.sandbox.orders == {}


async def test_unknown_outcome_holds_the_money_for_review(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    user = await customer(env)
    await ready_summary(env, user, item)
    env.sandbox.faults.add("error_after_create", action="add")
    await user.tap(texts.BTN_CONFIRM)

    result = user.last().text
    assert "under review" in result and "held" in result
    price = expected_price(item, item.service.min)
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(1000) - price
    [record] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    assert record.status == "review"
    assert f"#{record.order_id}" in result
    assert len(add_requests(env)) == 1


async def test_insufficient_balance_is_refused_before_anything_is_sent(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    price = expected_price(item, item.service.min)
    user = await customer(env, funds=None)
    summary = await ready_summary(env, user, item)
    assert f"You need {price:,} USD more" in summary.text
    await user.tap(texts.BTN_CONFIRM)

    result = user.last().text
    assert "Not enough balance" in result
    assert f"{price:,} USD is missing" in result
    assert "Nothing was charged" in result
    assert add_requests(env) == []
    assert (await ordering.list_user_orders(env.db, user.user_id, 0)).total == 0

    # Topped up, the same summary can be confirmed.
    await wallet.credit(env.db, user.user_id, price, reason="top-up")
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "placed" in user.last().text
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(0)


async def test_admin_orders_are_not_charged(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.DEFAULT)
    admin = env.admin()
    await admin.send("/start")
    summary = await ready_summary(env, admin, item)
    assert "Admin order" in summary.text
    await admin.tap(texts.BTN_CONFIRM)
    assert "Admin order: nothing was charged." in admin.last().text
    [record] = (await ordering.list_user_orders(env.db, admin.user_id, 0)).items
    assert not record.charged
    assert await wallet.get_balance(env.db, admin.user_id) == Decimal(0)
    assert len(add_requests(env)) == 1


async def test_a_customer_who_skipped_start_can_still_order(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_of_type(env, OrderType.PACKAGE)
    user = env.user()
    await open_order(user, item)  # straight from a search, no /start
    await wallet.credit(env.db, user.user_id, Decimal(100), reason="test top-up")
    await user.send(LINK)
    await user.tap(texts.BTN_CONFIRM)
    assert "placed" in user.last().text
    price = expected_price(item, 1, per_package=True)
    assert await wallet.get_balance(env.db, user.user_id) == Decimal(100) - price
