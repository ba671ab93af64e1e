"""Every screen built from long user or panel text still reaches the customer.

The fake Bot API refuses a message over 4096 UTF-16 units after entity parsing, as Telegram
does. A service named with 4,000 characters (emoji among them), a link of the longest kind
accepted, a 4,000-character ledger reason and 4,000 characters of panel error are pushed
through every screen that shows them: catalog lists, the card, the order form, the summary,
the order messages, My orders, notifications, /balance, /user, /review and the admins'
alerts. Every call must be accepted.
"""

from __future__ import annotations

from decimal import Decimal

from bot.callbacks import Action, encode
from bot.panels.models import OrderRequest, OrderType
from bot.services import ordering, wallet
from bot.texts import ordering as texts
from bot.texts import orders as order_texts
from bot.texts.fit import MAX_MESSAGE, utf16_len
from tests.fakes.chat_orders import customer, item_for, place_request
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv

LONG_NAME = ("Instagram Followers 😀🔥 <b>&amp;</b> " * 200)[:4000]
# The longest link the form takes: 20 + 490 × 2 = 1,000 UTF-16 units.
LONG_LINK = "https://example.com/" + "😀" * 490
LONG_WORDS = ("Incorrect link: the panel says 😀 " * 200)[:4000]


def refused_calls(env: BotEnv) -> list[tuple[str, str | None]]:
    return [(c.method, c.description) for c in env.api.sent if not c.ok]


async def long_named_service(env: BotEnv) -> str:
    """Rename a Default service (and its category) to 4,000 characters and sync."""
    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    env.sandbox.update_service(service.service_id, name=LONG_NAME, category=LONG_NAME)
    admin = env.admin()
    await admin.send("/sync")
    assert "Catalog sync finished" in admin.replies()[-1].text
    return str(service.service_id)


async def test_a_4000_character_service_name_fits_every_screen(bot_env: BotEnv) -> None:
    env = bot_env
    service_id = await long_named_service(env)
    item = await item_for(env, service_id)
    assert utf16_len(item.service.name) > 4000
    user = await customer(env)

    # Browsing: search results, the category list, the card.
    await user.send(f"/search {item.item_id}")
    await user.send("Instagram Followers")
    await user.tap(encode(Action.SERVICE, item.item_id))
    card = user.last()
    assert card.text.startswith("Instagram Followers 😀🔥 <b>&amp;</b>")
    assert utf16_len(card.text) <= MAX_MESSAGE
    # The order form, a long link, the summary and the placed order.
    await user.tap(texts.BTN_ORDER)
    await user.send(LONG_LINK)
    await user.send(str(item.service.min))
    if "Drip-feed?" in user.last().text:
        await user.tap("No")
    summary = user.last()
    assert "Check your order" in summary.text
    assert "💵 Total:" in summary.text and "Your balance:" in summary.text
    await user.tap(texts.BTN_CONFIRM)
    placed = user.last()
    assert "placed" in placed.text
    [record] = (await ordering.list_user_orders(env.db, user.user_id, 0)).items
    assert record.link == LONG_LINK  # the panel got the whole link; screens show it cut

    # My orders, the card, a status notice.
    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, record.order_id))
    assert record.panel_order_id is not None
    env.sandbox.set_status(record.panel_order_id, "Completed")
    await user.tap(order_texts.BTN_REFRESH)
    await env.wait_until(
        lambda: any("is completed" in m.text for m in user.replies()), what="the notice"
    )

    # The admins' views of the same order.
    admin = env.admin()
    await admin.send("/user @ann")
    assert "Latest orders" in admin.replies()[-1].text
    await admin.send("/panels")

    assert refused_calls(env) == []


async def test_long_panel_words_and_held_orders_fit_the_admins_screens(bot_env: BotEnv) -> None:
    env = bot_env
    service_id = await long_named_service(env)
    item = await item_for(env, service_id)
    user = await customer(env)

    async def confirm_with(fault: str, **options: str) -> None:
        await user.send(f"/search {item.item_id}")
        await user.tap(encode(Action.SERVICE, item.item_id))
        await user.tap(texts.BTN_ORDER)
        await user.send(LONG_LINK)
        await user.send(str(item.service.min))
        if "Drip-feed?" in user.last().text:
            await user.tap("No")
        env.sandbox.faults.add(fault, action="add", **options)
        await user.tap(texts.BTN_CONFIRM)

    # A refusal in 4,000 characters of the panel's words: the customer gets a short notice,
    # the admins get the words, cut to fit.
    await confirm_with("error", message=LONG_WORDS)
    assert "was refused" in user.last().text or "Our supplier" in user.last().text
    # A lost answer: the order waits for review with a long name and link.
    await confirm_with("error_after_create")
    assert "under review" in user.last().text
    admin = env.admin()
    await admin.send("/review")
    assert any("Why:" in m.text for m in admin.replies())

    assert refused_calls(env) == []


async def test_a_4000_character_reason_fits_balance_and_user_screens(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env)
    # Written by an older version that took any reason: the screens must still show it.
    await wallet.credit(env.db, user.user_id, Decimal(1), reason="🎁" * 2000, admin_id=ADMIN_ID)

    await user.send("/balance")
    [balance] = user.replies()
    assert balance.text.startswith("💰 Your balance: 501.00 USD")
    admin = env.admin()
    await admin.send(f"/user {user.user_id}")
    assert "🎁" in admin.replies()[-1].text

    assert refused_calls(env) == []


async def test_an_order_with_a_4000_character_link_shows_on_its_card(bot_env: BotEnv) -> None:
    env = bot_env
    user = await customer(env)
    service = env.sandbox.find_service(OrderType.DEFAULT)
    item = await item_for(env, service.service_id)
    link = "https://example.com/" + "x" * 3980
    result = await place_request(
        env,
        user,
        item,
        OrderRequest(
            str(service.service_id), OrderType.DEFAULT, link=link, quantity=item.service.min
        ),
    )
    assert result.order is not None

    await user.send("/orders")
    await user.tap(encode(Action.ORDER_CARD, result.order.order_id))
    card = user.last()
    assert "Link: https://example.com/xxx" in card.text and "…" in card.text

    assert refused_calls(env) == []


async def test_a_summary_of_long_emoji_answers_keeps_its_total(bot_env: BotEnv) -> None:
    env = bot_env
    service_id = env.sandbox.find_service(OrderType.MENTIONS_WITH_HASHTAGS).service_id
    item = await item_for(env, service_id)
    user = await customer(env, funds=Decimal(100_000))
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(texts.BTN_ORDER)
    await user.send(LONG_LINK)
    await user.send(str(item.service.min))
    # 8 × 485 and 12 × 95 UTF-16 units: each list fits one message, not one summary.
    await user.send("\n".join(f"user{i}" + "😀" * 240 for i in range(8)))
    # The form shows the answers so far above the next question, and still fits.
    question = user.last()
    assert "Send the hashtags" in question.text and question.text.endswith("/cancel to stop.")
    assert utf16_len(question.text) <= MAX_MESSAGE
    await user.send("\n".join(f"#tag{i}" + "🔥" * 45 for i in range(12)))

    summary = user.last()
    assert summary.text.startswith("🧾 Check your order")
    assert "💵 Total:" in summary.text and "Your balance:" in summary.text
    assert utf16_len(summary.text) <= MAX_MESSAGE
    await user.tap(texts.BTN_CONFIRM)
    assert "placed" in user.last().text
    assert refused_calls(env) == []
