"""Many customers at once: nobody waits on another customer's panel call, and each
customer's own messages and taps are still handled in the order they were made.

The bot runs with the production update processor (``build_application``); updates are
queued without waiting (``post``/``press``) so several are in the bot at the same time.
"""

from __future__ import annotations

from pathlib import Path

from bot import texts as common_texts
from bot.callbacks import Action, encode
from bot.panels.sandbox import SandboxPanel
from bot.services import ordering
from bot.texts import ordering as texts
from bot.texts import orders as order_texts
from bot.update_processor import PerUserUpdateProcessor
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.chat_orders import customer, place
from tests.fakes.order_summary import LINK, open_service_card, ready_summary
from tests.fakes.telegram_fixtures import BotEnv, FakeUser, make_settings


def answered(user: FakeUser) -> bool:
    """True when the user's latest button press has been answered."""
    return not user.unanswered_taps()


async def test_production_processor_is_the_one_under_test(bot_env: BotEnv) -> None:
    processor = bot_env.app.update_processor
    assert isinstance(processor, PerUserUpdateProcessor)
    assert processor.max_concurrent_updates > 1


async def test_a_hanging_panel_keeps_no_other_customer_waiting(bot_env: BotEnv) -> None:
    env = bot_env
    ann = await customer(env, "Ann")
    bob = await customer(env, "Bob")
    await ready_summary(env, ann)
    env.sandbox.faults.add("hang", action="add")

    confirm = ann.press(texts.BTN_CONFIRM)
    # The tap is answered before the panel is asked, and the panel has the request.
    await env.wait_until(lambda: answered(ann), what="Ann's Confirm answer")
    assert ann.answers() == [texts.PLACING]
    await env.wait_until(
        lambda: any(r.action == "add" for r in env.sandbox.requests), what="the add request"
    )

    # Bob's command and button are answered while Ann's order is still with the panel.
    await bob.send("/menu")
    assert confirm not in env.handled
    assert bob.last().html == common_texts.MAIN_MENU
    await bob.tap(common_texts.BUTTON_BALANCE)
    assert confirm not in env.handled
    assert "Your balance: 500.00" in bob.last().text
    assert not bob.unanswered_taps()
    await bob.send("/id")
    assert confirm not in env.handled
    assert str(bob.user_id) in bob.last().text

    # The panel goes away: Ann's order is held for review, her money with it.
    await env.sandbox.stop()
    await env.settle(confirm)
    result = ann.last().text
    assert "under review" in result and "held" in result
    [order] = (await ordering.list_user_orders(env.db, ann.user_id, 0)).items
    assert order.status == "review"


async def test_refresh_is_answered_before_the_panel_is_asked(bot_env: BotEnv) -> None:
    env = bot_env
    ann = await customer(env, "Ann")
    bob = await customer(env, "Bob")
    order = await place(env, ann)
    await ann.send("/orders")
    await ann.tap(encode(Action.ORDER_CARD, order.order_id))
    ann.answers()
    # Slow enough that Bob's whole exchange fits inside it on a busy machine.
    env.sandbox.faults.add("latency", action="status", seconds=1.5)

    refresh = ann.press(order_texts.BTN_REFRESH)
    await env.wait_until(lambda: answered(ann), what="Ann's Refresh answer")
    assert ann.answers() == [order_texts.CHECKING_ALERT]
    await env.wait_until(
        lambda: any(r.action == "status" for r in env.sandbox.requests), what="the status call"
    )
    await bob.send("/balance")
    assert refresh not in env.handled
    assert "Your balance" in bob.last().text

    await env.settle(refresh)
    card = ann.last().text
    assert f"Order #{order.order_id}" in card
    assert order_texts.REFRESH_FAILED not in card


async def test_cancel_order_is_answered_before_the_panel_is_asked(bot_env: BotEnv) -> None:
    env = bot_env
    ann = await customer(env, "Ann")
    bob = await customer(env, "Bob")
    order = await place(env, ann, cancel=True)
    await ann.send("/orders")
    await ann.tap(encode(Action.ORDER_CARD, order.order_id))
    ann.answers()
    env.sandbox.faults.add("hang", action="cancel")

    cancel = ann.press(order_texts.BTN_CANCEL_ORDER)
    await env.wait_until(lambda: answered(ann), what="Ann's Cancel answer")
    assert ann.answers() == [order_texts.SENDING_ALERT]
    await env.wait_until(
        lambda: any(r.action == "cancel" for r in env.sandbox.requests), what="the cancel call"
    )
    await bob.send("/orders")
    assert cancel not in env.handled
    assert "orders" in bob.last().text.lower()

    # The panel goes away: a cancel is never re-sent, Ann is told it could not be requested.
    await env.sandbox.stop()
    await env.settle(cancel)
    assert "The cancellation could not be requested" in ann.last().text


async def test_one_customers_messages_are_handled_in_the_order_sent(bot_env: BotEnv) -> None:
    env = bot_env
    ann = await customer(env, "Ann")
    quantity = await open_service_card(env, ann)
    ann.replies()

    # Order, the link and the quantity in quick succession, then a look at the balance: the
    # link only counts as an answer once the Order tap has started the conversation.
    ann.press(texts.BTN_ORDER)
    ann.post(LINK)
    ann.post(str(quantity))
    last = ann.post("/balance")
    await env.settle(last)

    replies = [m.text for m in ann.replies()]
    assert len(replies) == 4, replies
    assert "link" in replies[0].lower(), replies[0]
    assert "How many?" in replies[1], replies[1]
    # The quantity was taken as the answer to "How many?": the next step, not an error.
    assert "Drip-feed?" in replies[2] or "Check your order" in replies[2], replies[2]
    assert "Your balance" in replies[3]
    assert not ann.unanswered_taps()


async def test_a_double_tapped_confirm_places_one_order_even_when_both_arrive_at_once(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    ann = await customer(env, "Ann")
    summary = await ready_summary(env, ann)
    env.sandbox.faults.add("latency", action="add", seconds=0.3)

    ann.press(texts.BTN_CONFIRM, summary)
    second = ann.press(texts.BTN_CONFIRM, summary)
    orders = ann.post("/orders")
    await env.settle(orders)

    [order] = (await ordering.list_user_orders(env.db, ann.user_id, 0)).items
    assert ann.answers() == [texts.PLACING, f"Already placed as order #{order.order_id}."]
    assert second in env.handled
    assert sum(1 for r in env.sandbox.requests if r.action == "add") == 1
    replies = [m.text for m in ann.replies()]
    # The placed order is reported before /orders lists it: her updates kept their order.
    placed = next(i for i, text in enumerate(replies) if f"#{order.order_id}" in text)
    listed = max(i for i, text in enumerate(replies) if "orders" in text.lower())
    assert placed < listed, replies


async def test_many_customers_at_once_stay_within_telegrams_sending_limits(
    sandbox: SandboxPanel, tmp_path: Path
) -> None:
    # Telegram refuses a 31st message within a second with 429; everyone still gets a reply.
    async with FakeBotApi(enforce_limits=True) as api:
        settings = make_settings(api.base_url, api.token, tmp_path / "bot.sqlite3", sandbox)
        env = BotEnv(api, settings, sandbox)
        await env.start()
        try:
            users = [env.user() for _ in range(45)]
            updates = [user.post("/id") for user in users]
            for update in updates:
                await env.settle(update, limit=20)
            for user in users:
                assert f"user ID: {user.user_id}" in user.last().text
            assert [c.params.get("chat_id") for c in api.calls if c.error_code == 429] == []
        finally:
            await env.stop()
