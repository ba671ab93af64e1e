"""The order conversation: from a service card's Order button to a placed order.

Order → the questions the service's type needs (``bot.order_form``) → a summary with the
price and balance → Confirm / Change / Cancel. The draft lives in ``user_data`` as a plain
JSON-friendly dict (the persistence stores it as JSON, so a restart resumes it). Every
button of the conversation carries the draft's token, and the token changes whenever a new
question or summary is shown: only the latest prompt's buttons work, and an older one says
it is out of date. The token of the confirmed summary is the order's idempotency key, so a
double-tapped Confirm places exactly one order.

The summary's price is part of what Confirm confirms: it is kept in the draft, and when the
order would cost anything else at Confirm (a catalog re-sync, a markup change) nothing is
charged and a fresh summary with the new price is shown instead. The draft also carries its
own deadline (``CONVERSATION_TIMEOUT`` after the last step), so a draft that expired while
the bot was down is refused after a restart just as PTB's in-memory timeout refuses it.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import order_form as form
from bot.callbacks import Action, Callback, ForgedCallback, decode, pattern
from bot.config import Settings
from bot.context import Context
from bot.handlers import payments as payment_handlers
from bot.handlers.review import held_alerts
from bot.i18n import _
from bot.keyboards import ordering as keyboards
from bot.keyboards import payments as payment_keyboards
from bot.services import catalog, notifications, ordering, users, wallet
from bot.services.catalog import CatalogItem
from bot.services.ordering import PlacementKind
from bot.texts import ordering as texts
from bot.texts import payments as payment_texts

logger = logging.getLogger(__name__)

ASKING, SUMMARY, CHANGING = "asking", "summary", "changing"
END = ConversationHandler.END

DRAFT_KEY = "order_draft"
# Tokens of recently placed summaries → order number, so a late second Confirm can say so.
PLACED_KEY = "placed_orders"
PLACED_REMEMBERED = 10

Draft = dict[str, Any]


def _new_token() -> str:
    return secrets.token_urlsafe(9)


def _renew(draft: Draft, context: Context) -> None:
    """Give the draft a new token and push its deadline out by the conversation timeout."""
    draft["token"] = _new_token()
    _extend(draft, context)


def _extend(draft: Draft, context: Context) -> None:
    """Push the draft's deadline out by the conversation timeout, as PTB's timeout is
    after every update the conversation handles."""
    timeout = context.bot_data.settings.conversation_timeout
    draft["deadline"] = (datetime.now(UTC) + timedelta(seconds=timeout)).isoformat()


def _is_expired(draft: Draft) -> bool:
    deadline = draft.get("deadline")
    if not isinstance(deadline, str):
        return False
    try:
        return datetime.now(UTC) >= datetime.fromisoformat(deadline)
    except ValueError:
        return True


def _shown_price(draft: Draft) -> Decimal | None:
    try:
        return Decimal(str(draft["price"]))
    except (KeyError, InvalidOperation):
        return None


def _user_data(context: Context) -> dict[Any, Any]:
    if context.user_data is None:
        raise RuntimeError("order conversation without user_data")
    return context.user_data


def _draft(context: Context) -> Draft | None:
    draft = _user_data(context).get(DRAFT_KEY)
    return draft if isinstance(draft, dict) else None


def _drop_draft(context: Context) -> None:
    _user_data(context).pop(DRAFT_KEY, None)


def _remember_placed(context: Context, token: str, order_id: int | None) -> None:
    data = _user_data(context)
    placed = data.get(PLACED_KEY)
    placed = dict(placed) if isinstance(placed, dict) else {}
    placed[token] = order_id
    data[PLACED_KEY] = dict(list(placed.items())[-PLACED_REMEMBERED:])


def _placed_order(context: Context, token: str) -> tuple[bool, int | None]:
    placed = _user_data(context).get(PLACED_KEY)
    if isinstance(placed, dict) and token in placed:
        order_id = placed[token]
        return True, order_id if isinstance(order_id, int) else None
    return False, None


async def _send(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, reply_markup=markup)


async def _drop_buttons(query: CallbackQuery, text: str | None = None) -> None:
    """Take the buttons off a message (optionally replacing its text) once it is answered."""
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup=None)
        else:
            await query.edit_message_text(text, reply_markup=None)
    except BadRequest as e:
        # The message may already be plain or too old to edit; the answer still counts.
        logger.debug("could not edit an answered message: %s", e.message)


class DraftExpired(Exception):
    """The draft passed its deadline (while the bot was down: a running bot ends it first)."""


ButtonHandler = Callable[[Update, Context], Coroutine[Any, Any, str | int | None]]


def _ends_when_expired(handler: ButtonHandler) -> ButtonHandler:
    """Let a button handler end the conversation when its draft turns out to be expired."""

    @functools.wraps(handler)
    async def wrapped(update: Update, context: Context) -> str | int | None:
        try:
            return await handler(update, context)
        except DraftExpired:
            return await expire(update, context)

    return wrapped


async def _checked_button(
    update: Update, context: Context, *, answer: str | None = None
) -> tuple[Callback, Draft] | None:
    """Decode a conversation button and check it belongs to the current draft.

    Answers the tap either way: a forged payload or an out-of-date button is told so and
    gives None.
    """
    query = update.callback_query
    assert query is not None
    try:
        callback = decode(query.data)
    except ForgedCallback:
        logger.info("forged callback from user %s: %r", query.from_user.id, query.data)
        await query.answer(texts.BUTTON_INVALID, show_alert=True)
        return None
    draft = _draft(context)
    token = callback.args[0]
    if draft is None or draft.get("token") != token:
        await query.answer(_stale_text(context, callback), show_alert=True)
        return None
    if _is_expired(draft):
        await query.answer(texts.DRAFT_EXPIRED, show_alert=True)
        await _drop_buttons(query)
        raise DraftExpired
    await query.answer(answer)
    return callback, draft


def _stale_text(context: Context, callback: Callback) -> str:
    if callback.action is Action.CHOICE:
        return texts.QUESTION_STALE
    placed, order_id = _placed_order(context, callback.args[0])
    if placed and callback.action is Action.CONFIRM:
        return texts.already_placed_alert(order_id)
    return texts.SUMMARY_STALE


async def _item_or_end(update: Update, context: Context, draft: Draft) -> CatalogItem | None:
    """Load the draft's service; if it is gone, say so and drop the draft."""
    item = await catalog.get_item(context.bot_data.db, int(draft["item_id"]))
    if item is None or not item.service.orderable:
        _drop_draft(context)
        await _send(update, texts.SERVICE_GONE)
        return None
    return item


# --------------------------------------------------------------------------- asking


async def _ask(
    update: Update, context: Context, draft: Draft, item: CatalogItem, error: str | None = None
) -> str:
    """Ask the next unanswered question, or show the summary when none is left."""
    values: dict[str, Any] = draft["values"]
    step = form.next_step(item.service, values)
    if step is None:
        return await _show_summary(update, context, draft, item)
    draft["step"] = step.name
    _renew(draft, context)
    await _send(
        update,
        texts.question(item, step, error=error),
        keyboards.question_keyboard(draft["token"], step),
    )
    return ASKING


async def _show_summary(
    update: Update,
    context: Context,
    draft: Draft,
    item: CatalogItem,
    *,
    old_price: Decimal | None = None,
) -> str:
    """Show every answer, the total price and the balance, with Confirm / Change / Cancel.

    ``old_price`` is the price of the summary this one replaces because the price changed.
    """
    values: dict[str, Any] = draft["values"]
    request = form.build_request(item.service, values)
    price = catalog.quote(item, request).price
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    balance = await wallet.get_balance(bot_data.db, user.id)
    draft["step"] = None
    draft["price"] = str(price)
    _renew(draft, context)
    currency = bot_data.settings.currency
    charged = not bot_data.is_admin(user.id)
    short = charged and balance < price
    text = texts.summary(
        item,
        form.describe(item.service, values),
        price=price,
        balance=balance,
        currency=currency,
        charged=charged,
        basis=form.price_basis(request),
    )
    if short:
        text += payment_texts.support_suffix(bot_data.settings.support_contact)
    if old_price is not None:
        text = texts.price_changed(old_price, price, currency) + "\n\n" + text
    await _send(
        update,
        text,
        keyboards.summary_keyboard(
            draft["token"], top_up=_top_up_button(context, price - balance) if short else None
        ),
    )
    return SUMMARY


def _top_up_button(context: Context, missing: Decimal) -> InlineKeyboardButton | None:
    """Top up with the missing amount offered first, when customers can top up at all."""
    if not payment_handlers.top_up_offered(context):
        return None
    return payment_keyboards.top_up_button(1, max(missing, texts.CENT))


async def resume_summary(update: Update, context: Context) -> str | int | None:
    """Show the waiting summary again after a top-up (its Confirm works; older ones stop)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = _draft(context)
    if draft is None or draft.get("step") is not None:
        await _send(update, _(payment_texts.NO_ORDER_WAITING))
        return None
    if _is_expired(draft):
        return await expire(update, context)
    item = await _item_or_end(update, context, draft)
    if item is None:
        return END
    return await _show_summary(update, context, draft, item)


async def start_order(update: Update, context: Context) -> str | int | None:
    """Start a draft for the service whose Order button was tapped and ask the first question."""
    query = update.callback_query
    assert query is not None
    try:
        callback = decode(query.data)
    except ForgedCallback:
        await query.answer(texts.BUTTON_INVALID, show_alert=True)
        return None
    await query.answer()
    item = await catalog.get_item(context.bot_data.db, callback.int_arg(0))
    if item is None:
        _drop_draft(context)
        await _send(update, texts.SERVICE_GONE)
        return END
    if not item.service.orderable:
        _drop_draft(context)
        await _send(update, texts.NOT_ORDERABLE)
        return END
    user, chat = update.effective_user, update.effective_chat
    if user is not None and chat is not None:
        # Orders belong to a known customer, even one who reached a card without /start.
        await users.register_user(
            context.bot_data.db,
            user_id=user.id,
            chat_id=chat.id,
            username=user.username,
            first_name=user.first_name,
        )
    draft: Draft = {"token": _new_token(), "item_id": item.item_id, "values": {}, "step": None}
    _user_data(context)[DRAFT_KEY] = draft
    return await _ask(update, context, draft, item)


async def answer_text(update: Update, context: Context) -> str | int:
    """Read a typed answer; ask it again with the reason when it cannot be used."""
    message = update.effective_message
    draft = _draft(context)
    if draft is None:
        await _send(update, texts.DRAFT_LOST)
        return END
    if _is_expired(draft):
        return await expire(update, context)
    item = await _item_or_end(update, context, draft)
    if item is None or message is None:
        return END
    values: dict[str, Any] = draft["values"]
    step = form.step_named(item.service, str(draft.get("step")), values)
    if step is None:
        return await _ask(update, context, draft, item)
    try:
        values[step.name] = form.parse_answer(step, message.text or "", item.service, values)
    except form.FormError as e:
        return await _ask(update, context, draft, item, error=e.message)
    return await _ask(update, context, draft, item)


@_ends_when_expired
async def answer_button(update: Update, context: Context) -> str | int | None:
    """Take a button answer (a choice or Skip) to the current question."""
    checked = await _checked_button(update, context)
    if checked is None:
        return None
    callback, draft = checked
    item = await _item_or_end(update, context, draft)
    if item is None:
        return END
    values: dict[str, Any] = draft["values"]
    step = form.step_named(item.service, str(draft.get("step")), values)
    if step is None:
        return await _ask(update, context, draft, item)
    try:
        value = form.choose(step, callback.args[1])
    except form.FormError as e:
        return await _ask(update, context, draft, item, error=e.message)
    values[step.name] = value
    query = update.callback_query
    assert query is not None
    await _drop_buttons(query, texts.answered(step, form.display_value(step, value)))
    return await _ask(update, context, draft, item)


async def non_text(update: Update, context: Context) -> int | None:
    """Ask for text when something else (a photo, a sticker) was sent."""
    return await _point_at(update, context, texts.SEND_TEXT)


# --------------------------------------------------------------------------- the summary


@_ends_when_expired
async def confirm(update: Update, context: Context) -> str | int | None:
    """Place the order of this summary and report what happened."""
    checked = await _checked_button(update, context, answer=texts.PLACING)
    if checked is None:
        return None
    _callback, draft = checked
    query = update.callback_query
    user, chat = update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    bot_data = context.bot_data
    currency = bot_data.settings.currency
    item = await _item_or_end(update, context, draft)
    if item is None:
        await _drop_buttons(query)
        return END
    shown_price = _shown_price(draft)
    if shown_price is None:
        # A summary from before prices were kept in drafts: show it again with its price.
        await _drop_buttons(query)
        return await _show_summary(update, context, draft, item)
    request = form.build_request(item.service, draft["values"])
    token = str(draft["token"])
    result = await ordering.place_order(
        bot_data.db,
        bot_data.panels,
        user_id=user.id,
        chat_id=chat.id,
        item_id=item.item_id,
        request=request,
        idempotency_key=token,
        charge_wallet=not bot_data.is_admin(user.id),
        shown_price=shown_price,
        alerts=held_alerts(bot_data),
    )
    logger.info("order by user %s for item %s: %s", user.id, item.item_id, result.kind)
    kind = result.kind
    if kind is PlacementKind.PRICE_CHANGED:
        await _drop_buttons(query)
        return await _show_summary(update, context, draft, item, old_price=shown_price)
    if kind is PlacementKind.NO_FUNDS:
        price = result.price if result.price is not None else shown_price
        _extend(draft, context)
        button = _top_up_button(context, price - result.balance)
        await _send(
            update,
            texts.no_funds(price, result.balance, currency)
            + payment_texts.support_suffix(bot_data.settings.support_contact),
            InlineKeyboardMarkup([[button]]) if button is not None else None,
        )
        return SUMMARY
    if kind is PlacementKind.INVALID:
        _extend(draft, context)
        await _send(update, texts.invalid(result.message))
        return SUMMARY
    await _drop_buttons(query)
    order = result.order
    if kind is PlacementKind.PLACED and order is not None:
        text = texts.placed(order, result.balance, currency)
    elif kind is PlacementKind.REFUSED:
        refusal = result.refusal or ordering.Refusal.ORDER
        text = texts.refused(result.message, order, result.balance, currency, refusal=refusal)
        await _tell_admins(context, result, item.panel)
    elif kind is PlacementKind.HELD:
        text = texts.held(order, currency, own=bot_data.is_admin(user.id))
    elif kind is PlacementKind.DUPLICATE:
        text = texts.duplicate(order)
    else:
        text = texts.unavailable(result.message)
    if kind is not PlacementKind.UNAVAILABLE:
        _remember_placed(context, token, order.order_id if order is not None else None)
    _drop_draft(context)
    await _send(update, text)
    return END


async def _tell_admins(context: Context, result: ordering.PlacementResult, panel: str) -> None:
    """Queue the panel's full words for the admins when the supply side failed an order."""
    refusal = result.refusal
    if refusal is None or refusal is ordering.Refusal.ORDER:
        return
    bot_data = context.bot_data
    text = texts.admin_order_refused(
        result.order, panel, refusal.value, result.message, bot_data.settings.currency
    )
    order_id = result.order.order_id if result.order is not None else 0
    for admin_id in sorted(bot_data.settings.admin_ids):
        await notifications.enqueue(
            bot_data.db, admin_id, text, dedupe_key=f"admin:{admin_id}:order:{order_id}:refused"
        )


@_ends_when_expired
async def change(update: Update, context: Context) -> str | int | None:
    """Offer each answer for changing (this summary stops working)."""
    checked = await _checked_button(update, context)
    if checked is None:
        return None
    _callback, draft = checked
    item = await _item_or_end(update, context, draft)
    if item is None:
        return END
    _renew(draft, context)
    steps = form.active_steps(item.service, draft["values"])
    await _send(update, texts.CHOOSE_FIELD, keyboards.change_keyboard(draft["token"], steps))
    return CHANGING


@_ends_when_expired
async def pick_field(update: Update, context: Context) -> str | int | None:
    """Ask the chosen question again, or go back to the summary."""
    checked = await _checked_button(update, context)
    if checked is None:
        return None
    callback, draft = checked
    item = await _item_or_end(update, context, draft)
    if item is None:
        return END
    query = update.callback_query
    assert query is not None
    await _drop_buttons(query)
    name = callback.args[1]
    if name == keyboards.BACK_TO_SUMMARY:
        return await _show_summary(update, context, draft, item)
    if form.step_named(item.service, name, draft["values"]) is None:
        return await _show_summary(update, context, draft, item)
    draft["values"] = form.forget(draft["values"], name)
    return await _ask(update, context, draft, item)


async def use_summary_buttons(update: Update, context: Context) -> int | None:
    """Point at the summary's buttons when text is typed there."""
    return await _point_at(update, context, texts.USE_BUTTONS_SUMMARY)


async def use_change_buttons(update: Update, context: Context) -> int | None:
    """Point at the field buttons when text is typed there."""
    return await _point_at(update, context, texts.USE_BUTTONS_CHANGE)


async def _point_at(update: Update, context: Context, text: str) -> int | None:
    """Say how to answer, unless the draft expired (while the bot was down): then end it."""
    draft = _draft(context)
    if draft is not None and _is_expired(draft):
        return await expire(update, context)
    if draft is not None:
        _extend(draft, context)
    await _send(update, text)
    return None


# --------------------------------------------------------------------------- leaving


@_ends_when_expired
async def abort_button(update: Update, context: Context) -> str | int | None:
    """Cancel the draft from its Cancel button."""
    checked = await _checked_button(update, context)
    if checked is None:
        return None
    query = update.callback_query
    assert query is not None
    await _drop_buttons(query)
    _drop_draft(context)
    await _send(update, texts.CANCELLED)
    return END


async def cancel_command(update: Update, context: Context) -> int:
    """Cancel the draft with /cancel at any step."""
    _drop_draft(context)
    await _send(update, texts.CANCELLED)
    return END


async def stale_button(update: Update, context: Context) -> int | None:
    """Answer a conversation button that no longer applies; change nothing."""
    query = update.callback_query
    assert query is not None
    try:
        callback = decode(query.data)
    except ForgedCallback:
        logger.info("forged callback from user %s: %r", query.from_user.id, query.data)
        await query.answer(texts.BUTTON_INVALID, show_alert=True)
        return None
    await query.answer(_stale_text(context, callback), show_alert=True)
    return None


async def stale_button_outside(update: Update, context: Context) -> int:
    """Answer a conversation button tapped after the conversation ended."""
    await stale_button(update, context)
    return END


async def expired(update: Update, context: Context) -> None:
    """Tell the user the draft expired after a long silence."""
    _drop_draft(context)
    await _send(update, texts.DRAFT_EXPIRED)


async def expire(update: Update, context: Context) -> int:
    """End a draft found past its deadline, as the conversation timeout would have."""
    await expired(update, context)
    return END


def build_conversation(settings: Settings) -> ConversationHandler[Context]:
    """Return the order conversation (persistent, named "order")."""
    order_button = CallbackQueryHandler(start_order, pattern=pattern(Action.ORDER))
    summary_buttons = pattern(Action.CONFIRM, Action.CHANGE, Action.ABORT, Action.CHOICE)
    text = filters.TEXT & ~filters.COMMAND
    abort = CallbackQueryHandler(abort_button, pattern=pattern(Action.ABORT))
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        ASKING: [
            MessageHandler(text, answer_text),
            CallbackQueryHandler(answer_button, pattern=pattern(Action.CHOICE)),
            abort,
            MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, non_text),
        ],
        SUMMARY: [
            CallbackQueryHandler(confirm, pattern=pattern(Action.CONFIRM)),
            CallbackQueryHandler(change, pattern=pattern(Action.CHANGE)),
            CallbackQueryHandler(resume_summary, pattern=pattern(Action.ORDER_RESUME)),
            abort,
            MessageHandler(text, use_summary_buttons),
        ],
        CHANGING: [
            CallbackQueryHandler(pick_field, pattern=pattern(Action.CHOICE)),
            abort,
            MessageHandler(text, use_change_buttons),
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, expired)],
    }
    entry_points: list[BaseHandler[Update, Context, Any]] = [
        order_button,
        CallbackQueryHandler(stale_button_outside, pattern=summary_buttons),
    ]
    fallbacks: list[BaseHandler[Update, Context, Any]] = [
        CommandHandler("cancel", cancel_command),
        order_button,
        CallbackQueryHandler(stale_button, pattern=summary_buttons),
    ]
    return ConversationHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=fallbacks,
        name="order",
        persistent=True,
        per_message=False,
        conversation_timeout=settings.conversation_timeout,
    )
