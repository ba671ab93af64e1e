"""The order form in the chat: one message per order, edited step by step.

Each step edits the form message (progress, the answers so far, the question, the reason an
answer failed); the customer's typed answers are deleted once read; drip-feed waits under
More options unless the panel marks the service; prices read like prices.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from bot import order_form as form
from bot.callbacks import Action, encode
from bot.config import PanelSettings
from bot.panels.models import OrderType
from bot.services import wallet
from bot.services.catalog import CatalogItem
from bot.texts import ordering as texts
from bot.texts.amounts import rate
from tests.fakes.chat_orders import customer, item_for
from tests.fakes.telegram_fixtures import BotEnv, FakeUser

LINK = "https://example.com/post/42"
FUNDS = Decimal(500)
TWO_DAYS = 49 * 3600


async def open_order(user: FakeUser, item: CatalogItem) -> None:
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)


async def default_item(env: BotEnv) -> CatalogItem:
    return await item_for(env, env.sandbox.find_service(OrderType.DEFAULT).service_id)


def sent_since(env: BotEnv, user: FakeUser, start: int) -> list[str]:
    """Texts of the messages the bot sent (not edits) to this user since call ``start``."""
    return [
        str(c.params.get("text"))
        for c in env.api.calls[start:]
        if c.ok and c.method == "sendMessage" and c.chat_id == user.chat_id
    ]


def typed_in_chat(user: FakeUser) -> list[str]:
    return [text for side, text in user.chat_view() if side == "user"]


# --------------------------------------------------------------------------- one message


async def test_a_clean_order_is_one_form_message_plus_the_result(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    user = await customer(env, funds=FUNDS)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    start = len(env.api.calls)
    await user.tap(texts.BTN_ORDER)
    form_message = user.last()
    assert "Step 1 of 2" in form_message.text and "Send the link" in form_message.text
    await user.send(LINK)
    step_two = user.last()
    assert step_two.message_id == form_message.message_id
    assert "Step 2 of 2" in step_two.text and f"Link: {LINK}" in step_two.text
    await user.send(str(item.service.min))
    summary = user.last()
    assert summary.message_id == form_message.message_id
    assert "Check your order" in summary.text
    await user.tap(texts.BTN_CONFIRM)

    sent = sent_since(env, user, start)
    assert len(sent) == 2, sent  # the form, then the result
    assert "placed" in user.last().text
    # The typed answers are gone; the summary stays as the record, without buttons.
    assert LINK not in typed_in_chat(user) and str(item.service.min) not in typed_in_chat(user)
    bot_texts = [text for side, text in user.chat_view() if side == "bot"]
    assert sum("Check your order" in text for text in bot_texts) == 1
    kept = env.api.chat(user.chat_id).messages[form_message.message_id]
    assert "reply_markup" not in kept


async def test_typos_are_explained_in_the_form_message(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    low, high = item.service.min, item.service.max
    user = await customer(env, funds=FUNDS)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    start = len(env.api.calls)
    await user.tap(texts.BTN_ORDER)
    form_id = user.last().message_id
    user.replies()

    for typo, error in [
        ("instagram.com/mypage", "That is not a link"),
        (LINK, None),
        (str(low - 1), f"The minimum for this service is {low}."),
        (str(high + 1), f"The maximum for this service is {high}."),
        ("a lot", "Send the quantity as a whole number"),
    ]:
        await user.send(typo)
        [edit] = user.replies()
        assert edit.method == "editMessageText" and edit.message_id == form_id
        if error is not None:
            assert f"⚠ {error}" in edit.text, edit.text
    await user.send(str(low))
    await user.send("is that right?")  # typed at the summary: said in the summary
    summary = user.last()
    assert summary.message_id == form_id
    assert texts.USE_BUTTONS_SUMMARY in summary.text
    await user.tap(texts.BTN_CONFIRM, summary)

    sent = sent_since(env, user, start)
    assert len(sent) == 2, sent  # one form message, plus the result
    assert typed_in_chat(user)[-1].startswith("/search")  # every answer was cleaned up


async def test_only_the_current_step_has_buttons(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_for(env, env.sandbox.find_service(OrderType.SUBSCRIPTIONS).service_id)
    low = item.service.min
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    for answer in ("star_account", str(low), str(low * 2)):
        await user.send(answer)
    delay = user.last()
    assert "No delay" in delay.button_texts
    await user.tap("1 hour")
    posts = user.last()
    assert posts.message_id == delay.message_id
    assert "Delay: 1 hour" in posts.text and "Step 5 of 7" in posts.text
    assert posts.button_texts == [texts.BTN_CANCEL]
    # The Delay buttons were replaced: an old one says it is out of date.
    await user.tap_data(delay.data_for("No delay") or "", posts)
    assert user.answers()[-1] == texts.QUESTION_STALE
    chat = env.api.chat(user.chat_id)
    with_buttons = [i for i, m in chat.messages.items() if m.get("reply_markup")]
    assert with_buttons[-1] == delay.message_id  # the form, only it, below the card


async def test_a_photo_is_refused_in_the_form_and_removed(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    form_id = user.last().message_id
    user.replies()
    await user.send_photo("AgAD-photo")
    [edit] = user.replies()
    assert edit.message_id == form_id and f"⚠ {texts.SEND_TEXT}" in edit.text
    assert "Send the link" in edit.text
    photos = [m for m in env.api.chat(user.chat_id).messages.values() if "photo" in m]
    assert photos == []


async def test_a_form_message_the_customer_deleted_goes_on_in_a_new_one(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    await user.send(LINK)
    form_id = user.last().message_id
    env.api.user_deletes(user.chat_id, form_id)
    await user.send(str(item.service.min))
    summary = user.last()
    assert summary.message_id != form_id
    assert "Check your order" in summary.text and LINK in summary.text
    await user.tap(texts.BTN_CONFIRM, summary)
    assert "placed" in user.last().text


async def test_an_answer_telegram_will_not_let_the_bot_delete_stays(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    # Delivered two days late (the bot was down): too old to delete, still an answer.
    await user.send(LINK, sent_ago=TWO_DAYS)
    assert f"Link: {LINK}" in user.last().text
    assert LINK in typed_in_chat(user)
    await user.send(str(item.service.min))
    assert "Check your order" in user.last().text
    assert str(item.service.min) not in typed_in_chat(user)


async def test_the_form_moves_below_messages_that_came_in_between(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    old_id = user.last().message_id
    await user.send("/balance")  # another screen below the form
    await user.send(LINK)
    moved = user.last()
    assert moved.message_id > old_id and "Step 2 of 2" in moved.text
    assert old_id not in env.api.chat(user.chat_id).messages
    await user.send(str(item.service.min))
    assert user.last().message_id == moved.message_id


async def test_a_restart_mid_form_goes_on_editing_the_same_message(bot_env: BotEnv) -> None:
    env = bot_env
    item = await default_item(env)
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    await user.send(LINK)
    form_id = user.last().message_id
    await env.restart()
    await user.send(str(item.service.min))
    summary = user.last()
    assert summary.message_id == form_id and "Check your order" in summary.text


# --------------------------------------------------------------------------- drip-feed


async def test_dripfeed_under_more_options_reaches_the_panel_and_can_be_turned_off(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=True)
    item = await item_for(env, service.service_id)
    quantity = item.service.min
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    await user.send(LINK)
    await user.send(str(quantity))
    summary = user.last()
    assert "Check your order" in summary.text
    assert texts.BTN_MORE_OPTIONS in summary.button_texts

    # On, then off again: back to a plain order.
    await user.tap(texts.BTN_MORE_OPTIONS)
    await user.tap(texts.BTN_DRIPFEED_ON)
    await user.send("4")
    await user.send("15")
    assert "Runs: 4" in user.last().text
    await user.tap(texts.BTN_MORE_OPTIONS)
    assert "Drip-feed is on" in user.last().text
    await user.tap(texts.BTN_DRIPFEED_OFF)
    plain = user.last()
    assert "Check your order" in plain.text and "Runs" not in plain.text

    await user.tap(texts.BTN_MORE_OPTIONS)
    await user.tap(texts.BTN_DRIPFEED_ON)
    assert "Step 3 of 4" in user.last().text
    await user.send("3")
    await user.send("30")
    summary = user.last()
    price = (item.price_rate * quantity * 3 / 1000).quantize(
        Decimal("0.01"), rounding=ROUND_CEILING
    )
    assert f"Priced as {quantity:,} × 3 runs = {quantity * 3:,}" in summary.text
    assert f"Price: {rate(item.price_rate)} USD per 1000" in summary.text
    assert f"Total: {price:,} USD" in summary.text
    await user.tap(texts.BTN_CONFIRM)
    assert "placed" in user.last().text
    [panel_order] = env.sandbox.orders.values()
    assert panel_order.params["runs"] == "3" and panel_order.params["interval"] == "30"
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS - price


async def test_a_package_offers_no_more_options(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_for(env, env.sandbox.find_service(OrderType.PACKAGE).service_id)
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    await user.send(LINK)
    summary = user.last()
    assert "Check your order" in summary.text
    assert texts.BTN_MORE_OPTIONS not in summary.button_texts
    assert f"Price: {rate(item.price_rate)} USD per package" in summary.text


async def test_a_service_the_panel_marks_as_dripfeed_asks_up_front(bot_env: BotEnv) -> None:
    env = bot_env
    # A dialect whose services list says which services drip-feed.
    sandbox = env.sandbox
    marked = PanelSettings(
        name="sender", dialect="smmsend", url=sandbox.url_for("smmsend"), key=sandbox.key
    )
    env.settings = env.settings.copy_with(panels=[marked])
    await env.restart()
    drip = await item_for(env, sandbox.find_service(OrderType.DEFAULT, dripfeed=True).service_id)
    plain = await item_for(env, sandbox.find_service(OrderType.DEFAULT, dripfeed=False).service_id)
    assert form.asks_dripfeed(drip.service) and not form.offers_dripfeed(plain.service)
    user = await customer(env, funds=FUNDS)

    await open_order(user, drip)
    await user.send(LINK)
    await user.send(str(drip.service.min))
    assert "Drip-feed?" in user.last().text
    await user.tap("No")
    summary = user.last()
    assert "Drip-feed: No" in summary.text
    assert texts.BTN_MORE_OPTIONS not in summary.button_texts

    await open_order(user, plain)
    await user.send(LINK)
    await user.send(str(plain.service.min))
    summary = user.last()
    assert "Check your order" in summary.text and "Drip-feed" not in summary.text
    assert texts.BTN_MORE_OPTIONS not in summary.button_texts


# --------------------------------------------------------------------------- prices


async def test_a_tiny_rate_shows_enough_digits_and_the_total_is_what_is_charged(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    service = env.sandbox.find_service(OrderType.DEFAULT)
    env.sandbox.set_rate(service.service_id, Decimal("0.012345"))
    admin = env.admin()
    await admin.send("/sync")
    item = await item_for(env, service.service_id)
    assert item.price_rate == Decimal("0.012345")  # no markup configured
    user = await customer(env, funds=FUNDS)
    await open_order(user, item)
    await user.send(LINK)
    await user.send(str(item.service.max))
    summary = user.last()
    assert "Price: 0.0123 USD per 1000" in summary.text
    price = max(
        (item.price_rate * item.service.max / 1000).quantize(
            Decimal("0.01"), rounding=ROUND_CEILING
        ),
        Decimal("0.01"),
    )
    assert f"Total: {price:,} USD" in summary.text
    await user.tap(texts.BTN_CONFIRM)
    assert f"Charged {price:,} USD" in user.last().text
    assert await wallet.get_balance(env.db, user.user_id) == FUNDS - price


async def test_a_rate_from_one_up_shows_cents(bot_env: BotEnv) -> None:
    env = bot_env
    service = env.sandbox.find_service(OrderType.DEFAULT)
    env.sandbox.set_rate(service.service_id, Decimal("2.3749"))
    await env.admin().send("/sync")
    item = await item_for(env, service.service_id)
    user = await customer(env, funds=FUNDS)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    assert "Price: 2.37 USD per 1000" in user.last().text
