"""Hostile input through the chat: every kind gets a clear refusal and changes nothing.

Each table feeds one kind of input (a user reference, an amount, a reason, a link, a number,
a list) with values a careless or hostile user sends: overflowing integers, signs, Unicode
and superscript digits, control and bidi characters, 5,000-character and emoji-heavy
strings, HTML. For each the bot answers with a specific message (never "something went
wrong"), no error alert reaches the admins, nothing is sent to the panel and the ledger does
not move.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot import texts
from bot.callbacks import Action, encode
from bot.panels.models import OrderRequest, OrderType
from bot.services import wallet
from bot.services.catalog import CatalogItem
from bot.services.ordering import PlacementKind
from bot.texts import ordering as order_texts
from tests.fakes.chat_orders import customer, item_for, place_request
from tests.fakes.telegram_fixtures import BotEnv, FakeUser

EMOJI = "😀"
HOSTILE_REFS = [
    "12345678901234567890",  # overflows SQLite's 64-bit integers
    "4503599627370496",  # 2**52: past Telegram's ID range
    "0",
    "--5",
    "-5",
    "+1001",
    "¹⁰⁰¹",  # superscript digits
    "١٠٠١",  # Arabic-Indic digits
    "1001\u202e",
    "@an\u202en",
    "@a\x00nn",
    "x" * 5000,
    EMOJI * 2500,
    "<b>ann</b>",
    "@ann;DROP",
]
HOSTILE_AMOUNTS = [
    "--5",
    "+5",
    "-5",
    "0",
    "0.00",
    "1.005",
    "1e3",
    "NaN",
    "Infinity",
    "¹⁰",
    "١٠",
    "99999999999999999999",
    "10000000",
    "5\u202e",
    "5" * 5000,
    EMOJI * 2000,
    "<b>5</b>",
]
HOSTILE_REASONS = [
    "gift\x1b[31m",
    "gift\u202eevil",
    "\u2066gift",
    "gift\x7f",
    "gift\x9b31m",  # C1 control sequence introducer
    "x" * 5000,
    EMOJI * 101,  # 202 UTF-16 units: over the 200 a reason may have
]
HOSTILE_LINKS = [
    "https://example.com/" + "a" * 5000,
    "https://example.com/" + EMOJI * 1900,
    "https://exa\x00mple.com/p",
    "https://example.com/\x1b[2J",
    "https://example.com/p\x7f",
    "https://example.com/\u202egnp.exe",
    "https://example.com/\u2067p",
    "https://example.com/\x85",
    "javascript:alert(1)",
    "ftp://example.com/file",
    "https://",
    "https://localhost/p",
    "https://exa mple.com/p",
    "https://a.com/1\nhttps://b.com/2",
    "<a href='https://x.com'>x</a>",
    "https://user@example.com/p",
]
HOSTILE_QUANTITIES = [
    "99999999999999999999",
    "--5",
    "+5",
    "¹⁰⁰",
    "١٠٠",
    "1e3",
    "5" * 5000,
    EMOJI * 2000,
    "1\u202e00",
    "<b>100</b>",
    "100\x00",
]
HOSTILE_USERNAME_LISTS = [
    "alice\n\u202ebob",
    "alice\nb\x00ob",
    "alice\nbob\x1b",
    "alice\n" + "b" * 600,
    "alice\nbob\u2069",
]


def ledger(entries: list[Any]) -> list[tuple[Decimal, str, str]]:
    return [(e.amount, e.kind, e.reason) for e in entries]


def adds(env: BotEnv) -> int:
    return sum(1 for r in env.sandbox.requests if r.action == "add")


def assert_no_crash(env: BotEnv, user: FakeUser) -> None:
    """Nobody was told "something went wrong" and no error alert reached the admins."""
    for call in env.api.sent:
        text = str(call.params.get("text") or "")
        assert texts.SOMETHING_WENT_WRONG not in text, text
        assert "<b>Error</b> while handling" not in text, text
        assert call.ok, (call.method, call.description)


# --------------------------------------------------------------------------- admin commands


@pytest.mark.parametrize("ref", HOSTILE_REFS, ids=range(len(HOSTILE_REFS)))
async def test_credit_refuses_hostile_user_references(bot_env: BotEnv, ref: str) -> None:
    ann = await customer(bot_env)
    before = ledger(await wallet.recent_entries(bot_env.db, ann.user_id))
    admin = bot_env.admin()

    await admin.send(f"/credit {ref} 5 gift")
    await admin.send(f"/user {ref}")

    credit_reply, user_reply = admin.replies()
    for reply, usage in ((credit_reply, "Usage: /credit"), (user_reply, "Usage: /user")):
        text = reply.text
        assert (
            "not a Telegram user ID" in text
            or "not a customer reference" in text
            or "The customer reference contains an invisible control character" in text
            or "That is too long for the customer reference: at most 64" in text
            or (text.startswith("No customer") and "found" in text)
        ), text
        if "No customer" not in text:
            assert usage in text
    assert_no_crash(bot_env, admin)
    assert ledger(await wallet.recent_entries(bot_env.db, ann.user_id)) == before
    assert ann.replies() == []


async def test_payment_commands_refuse_hostile_numbers_amounts_and_reasons(
    bot_env: BotEnv,
) -> None:
    admin = bot_env.admin()
    for number in ("¹", "١", "--5", "-1", "99999999999999999999", "1\u202e", "x" * 5000):
        await admin.send(f"/refund {number}")
        await admin.send(f"/approve {number}")
        await admin.send(f"/reject {number} blurry photo")
        refund, approve, reject = admin.replies()
        assert refund.text.startswith("Usage: /refund"), refund.text
        assert approve.text.startswith("Usage: /approve"), approve.text
        assert reject.text.startswith("Usage: /reject"), reject.text
    for amount in ("¹⁰", "NaN", "1e3", "-5", "5\u202e"):
        await admin.send(f"/approve 1 {amount}")
        assert "is not a valid amount:" in admin.last().text, admin.last().text
    await admin.send("/reject 1 blurry\u202eotohp")
    assert "control character" in admin.last().text
    assert_no_crash(bot_env, admin)


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS, ids=range(len(HOSTILE_AMOUNTS)))
async def test_credit_and_debit_refuse_hostile_amounts(bot_env: BotEnv, amount: str) -> None:
    ann = await customer(bot_env)
    before = ledger(await wallet.recent_entries(bot_env.db, ann.user_id))
    admin = bot_env.admin()

    await admin.send(f"/credit @ann {amount} gift")
    await admin.send(f"/debit @ann {amount} fee")

    for reply in admin.replies():
        assert "is not a valid amount:" in reply.text, reply.text
        assert "Usage: /" in reply.text
        # What was typed is quoted back short, whatever its length.
        assert len(reply.text) < 600
    assert_no_crash(bot_env, admin)
    assert ledger(await wallet.recent_entries(bot_env.db, ann.user_id)) == before
    assert ann.replies() == []


@pytest.mark.parametrize("reason", HOSTILE_REASONS, ids=range(len(HOSTILE_REASONS)))
async def test_credit_refuses_hostile_reasons(bot_env: BotEnv, reason: str) -> None:
    ann = await customer(bot_env)
    before = ledger(await wallet.recent_entries(bot_env.db, ann.user_id))
    admin = bot_env.admin()

    await admin.send(f"/credit @ann 5 {reason}")

    [reply] = admin.replies()
    assert (
        "invisible control character" in reply.text
        or "That is too long for the reason: at most 200 characters" in reply.text
    ), reply.text
    assert "Usage: /credit" in reply.text
    assert_no_crash(bot_env, admin)
    assert ledger(await wallet.recent_entries(bot_env.db, ann.user_id)) == before


async def test_sane_references_and_amounts_still_work(bot_env: BotEnv) -> None:
    ann = await customer(bot_env)
    admin = bot_env.admin()
    for ref, amount in (("1001", "1"), ("@ann", "2.50"), ("ann", "0,50"), ("t.me/ann", "1")):
        await admin.send(f"/credit {ref} {amount} gift 🎁")
    assert await wallet.get_balance(bot_env.db, ann.user_id) == Decimal("505.00")
    assert all("✅ Credited" in m.text for m in admin.replies())


# --------------------------------------------------------------------------- the order form


async def open_order(user: FakeUser, item: CatalogItem) -> None:
    await user.send(f"/search {item.item_id}")
    await user.tap(encode(Action.SERVICE, item.item_id))
    await user.tap(order_texts.BTN_ORDER)


async def refused_in_form(env: BotEnv, user: FakeUser, answers: list[str]) -> list[str]:
    """Send each answer in turn; return the refusal in each reply (the form's ⚠ line, else
    its first line)."""
    user.replies()
    refusals = []
    for answer in answers:
        await user.send(answer)
        [reply] = user.replies()  # the form message, edited
        lines = reply.text.split("\n")
        refusals.append(next((line for line in lines if line.startswith("⚠ ")), lines[0]))
    return refusals


async def test_links_refuse_hostile_values(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_for(env, env.sandbox.find_service(OrderType.DEFAULT).service_id)
    user = await customer(env)
    before = ledger(await wallet.recent_entries(env.db, user.user_id))
    await open_order(user, item)

    refusals = await refused_in_form(env, user, HOSTILE_LINKS)

    for value, refusal in zip(HOSTILE_LINKS, refusals, strict=True):
        assert refusal.startswith("⚠ "), (value, refusal)
        assert (
            "That is not a link: send a full address starting with https://" in refusal
            or "invisible control character" in refusal
            or "That is too long for the link: at most 1000 characters" in refusal
            or "Send the link on one line." in refusal
        ), (value, refusal)
    # Still asking for the link: none of them was taken.
    assert "Send the link" in user.last().text
    assert_no_crash(env, user)
    assert adds(env) == 0
    assert ledger(await wallet.recent_entries(env.db, user.user_id)) == before


async def test_quantities_refuse_hostile_values(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_for(env, env.sandbox.find_service(OrderType.DEFAULT).service_id)
    user = await customer(env)
    before = ledger(await wallet.recent_entries(env.db, user.user_id))
    await open_order(user, item)
    await user.send("https://example.com/post/1")

    refusals = await refused_in_form(env, user, HOSTILE_QUANTITIES)

    for value, refusal in zip(HOSTILE_QUANTITIES, refusals, strict=True):
        assert (
            "as a whole number with the digits 0–9" in refusal
            or "invisible control character" in refusal
            or "That is too long" in refusal
            or "The maximum for this service is" in refusal
        ), (value, refusal)
    assert "How many?" in user.last().text
    assert_no_crash(env, user)
    assert adds(env) == 0
    assert ledger(await wallet.recent_entries(env.db, user.user_id)) == before


async def test_lists_refuse_control_characters_and_overlong_lines(bot_env: BotEnv) -> None:
    env = bot_env
    service = env.sandbox.find_service(OrderType.MENTIONS_CUSTOM_LIST)
    item = await item_for(env, service.service_id)
    user = await customer(env)
    await open_order(user, item)
    await user.send("https://example.com/post/1")

    refusals = await refused_in_form(env, user, HOSTILE_USERNAME_LISTS)

    for value, refusal in zip(HOSTILE_USERNAME_LISTS, refusals, strict=True):
        assert (
            "invisible control character" in refusal
            or "Username 2 is too long: at most 500 characters each." in refusal
        ), (value, refusal)
    assert_no_crash(env, user)
    assert adds(env) == 0


async def test_a_hostile_username_and_hashtags_are_refused(bot_env: BotEnv) -> None:
    env = bot_env
    item = await item_for(
        env, env.sandbox.find_service(OrderType.MENTIONS_WITH_HASHTAGS).service_id
    )
    user = await customer(env)
    await open_order(user, item)
    await user.send("https://example.com/post/1")
    await user.send(str(item.service.min))
    await user.send("alice\nbob")

    refusals = await refused_in_form(
        env, user, ["#sale\n#\u202eevil", "#two words", "#" + "x" * 150, "#ok\x00"]
    )

    assert "invisible control character" in refusals[0]
    assert "Each hashtag goes on its own line, without spaces" in refusals[1]
    assert "Hashtag 1 is too long: at most 100 characters each." in refusals[2]
    assert "invisible control character" in refusals[3]
    await user.send("#sale\n#summer")
    assert "Check your order" in user.last().text
    assert "Hashtags: 2" in user.last().text
    assert adds(env) == 0
    assert_no_crash(env, user)


async def test_a_request_built_elsewhere_with_control_characters_never_reaches_the_panel(
    bot_env: BotEnv,
) -> None:
    env = bot_env
    user = await customer(env)
    service = env.sandbox.find_service(OrderType.MENTIONS)
    item = await item_for(env, service.service_id)
    before = ledger(await wallet.recent_entries(env.db, user.user_id))

    result = await place_request(
        env,
        user,
        item,
        OrderRequest(
            str(service.service_id),
            OrderType.MENTIONS,
            link="https://example.com/p",
            quantity=item.service.min,
            usernames=["alice", "b\u202eob"],
        ),
        key="control-characters",
    )

    assert result.kind is PlacementKind.INVALID
    assert "usernames contains a control or text-direction character" in result.message
    assert adds(env) == 0
    assert ledger(await wallet.recent_entries(env.db, user.user_id)) == before


@pytest.mark.parametrize("words", ["followers\u202e", "like\x00s", "\x1b[2Jviews"])
async def test_a_search_with_control_characters_is_refused(bot_env: BotEnv, words: str) -> None:
    user = await customer(bot_env)
    await user.send(words)
    await user.send(f"/search {words}")
    for reply in user.replies():
        assert reply.text.startswith("🔎 The search contains an invisible control character")
    assert_no_crash(bot_env, user)
