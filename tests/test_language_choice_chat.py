"""The reader's language through the chat: Telegram's language first, /language to change
it, stored per user; every screen, button, notice and command list follows it."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from bot import i18n, texts
from bot.callbacks import Action, encode
from bot.i18n import _
from bot.services import notifications, wallet
from bot.services.notifications import Notice, NoticeKind
from bot.texts import ordering as ordering_texts
from storage import users as user_rows
from storage.orders import OrderState
from tests.fakes.chat_orders import FORM_LINK, delivered_to, item_for, place
from tests.fakes.telegram_fixtures import ADMIN_ID, BotEnv, FakeUser

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def in_language(language: str, message: str) -> str:
    with i18n.use(language):
        return _(message)


def buttons(user: FakeUser) -> list[str]:
    return [text for row in user.last().buttons for text, _data in row]


async def test_a_russian_speaking_customer_is_answered_in_russian(bot_env: BotEnv) -> None:
    ivan = bot_env.user(first_name="Иван", username="ivan", language_code="ru")
    await ivan.send("/start")
    welcome = ivan.last()
    assert CYRILLIC.search(welcome.text)
    assert "Welcome" not in welcome.text
    assert in_language("ru", texts.BUTTON_NEW_ORDER) in buttons(ivan)
    assert in_language("ru", texts.BUTTON_LANGUAGE) in buttons(ivan)
    user = await user_rows.get(bot_env.db, ivan.user_id)
    assert user is not None and user.language == "ru"

    # The order form's summary.
    await notifications_free_summary(bot_env, ivan)
    summary = ivan.last()
    assert "Check your order" not in summary.text
    assert in_language("ru", "🧾 <b>Check your order</b>").split("<b>")[1].split("<")[0] in (
        summary.text
    )
    assert in_language("ru", ordering_texts.BTN_CONFIRM) in buttons(ivan)

    # A status notice, rendered by the outbox sender in the reader's language.
    await wallet.credit(bot_env.db, ivan.user_id, Decimal(50), reason="test top-up")
    order = await place(bot_env, ivan)
    await notifications.queue_notice(
        bot_env.db,
        Notice(
            ivan.chat_id,
            NoticeKind.ORDER_STATUS,
            {"order": dataclasses.replace(order, status=OrderState.COMPLETED)},
        ),
    )
    notice = await delivered_to(bot_env, ivan.chat_id, f"Заказ #{order.order_id} выполнен")
    assert [[text for text, _data in row] for row in notice.buttons] == [
        [f"Открыть заказ #{order.order_id}"]
    ]


async def notifications_free_summary(env: BotEnv, user: FakeUser) -> None:
    """Walk a Default order without drip-feed up to its summary, by button data."""
    from bot.panels.models import OrderType

    service = env.sandbox.find_service(OrderType.DEFAULT, dripfeed=False)
    item = await item_for(env, service.service_id)
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(encode(Action.ORDER, item.item_id))
    await user.send(FORM_LINK)
    await user.send(str(item.service.min))


async def test_language_switches_every_next_screen_and_is_stored(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    assert "Welcome, Ann!" in ann.last().text

    await ann.send("/language")
    choice = ann.last()
    assert "Which language should the bot speak?" in choice.text
    assert buttons(ann) == ["✓ English", "Français", "Русский", "« Menu"]

    await ann.tap("Français")
    chosen = ann.last()
    assert "le bot parle désormais français" in chosen.text
    assert in_language("fr", texts.BUTTON_MY_ORDERS) in buttons(ann)
    user = await user_rows.get(bot_env.db, ann.user_id)
    assert user is not None and user.language == "fr"

    await ann.send("/menu")
    assert "Menu principal" in ann.last().text
    assert "Main menu" not in ann.last().text
    await ann.tap(in_language("fr", texts.BUTTON_LANGUAGE))
    assert "✓ Français" in buttons(ann)
    # Telegram still says English: the choice stays.
    await ann.send("/help")
    assert "How it works" not in ann.last().text


async def test_the_menu_button_offers_the_languages(bot_env: BotEnv) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    await ann.tap(texts.BUTTON_LANGUAGE)
    await ann.tap("Русский")
    assert "теперь бот говорит по-русски" in ann.last().text


async def test_a_notice_queued_in_english_is_delivered_in_the_language_chosen_since(
    bot_env: BotEnv,
) -> None:
    ann = bot_env.user()
    await ann.send("/start")
    await wallet.credit(bot_env.db, ann.user_id, Decimal(50), reason="test top-up")
    order = await place(bot_env, ann)
    sender = bot_env.app.bot_data.outbox_sender
    assert sender is not None
    await sender.stop()
    await notifications.queue_notice(
        bot_env.db,
        Notice(
            ann.chat_id,
            NoticeKind.ORDER_STATUS,
            {"order": dataclasses.replace(order, status=OrderState.COMPLETED)},
        ),
    )
    await ann.send("/language")
    await ann.tap("Русский")

    await sender.start()
    notice = await delivered_to(bot_env, ann.chat_id, f"Заказ #{order.order_id} выполнен")
    assert "is completed" not in notice.text


async def test_an_unsupported_telegram_language_gets_english(bot_env: BotEnv) -> None:
    hans = bot_env.user(first_name="Hans", username="hans", language_code="de")
    await hans.send("/start")
    assert "Welcome, Hans!" in hans.last().text
    assert texts.BUTTON_NEW_ORDER in buttons(hans)
    user = await user_rows.get(bot_env.db, hans.user_id)
    assert user is not None and user.language == "en"


async def test_commands_are_published_in_every_language(bot_env: BotEnv) -> None:
    commands = bot_env.api.commands
    english = {c["command"]: c["description"] for c in commands["default"]}
    assert english["language"] == "Choose the bot's language"
    for language in ("ru", "fr"):
        listed = {c["command"]: c["description"] for c in commands[f"default:{language}"]}
        assert list(listed) == list(english)
        for name, about in texts.USER_COMMANDS:
            assert listed[name] == in_language(language, about) != about
    assert CYRILLIC.search(commands["default:ru"][0]["description"])
    admin = sorted(key for key in commands if key.startswith("chat:"))
    assert admin == [f"chat:{ADMIN_ID}", f"chat:{ADMIN_ID}:fr", f"chat:{ADMIN_ID}:ru"]
    french_admin = {c["command"]: c["description"] for c in commands[f"chat:{ADMIN_ID}:fr"]}
    assert french_admin["credit"] == in_language("fr", texts.ADMIN_COMMANDS[0][1])
