"""The order conversation: from a service card's Order button to a placed order.

Order → the questions the service's type needs (``bot.order_form``) → a summary with the
price and balance → Confirm / Change / Cancel (and More options: drip-feed). The whole form
is one message: each step edits it (progress, the answers so far, the question, and the
reason an answer failed), the customer's typed answers are deleted once read, and only the
current step has buttons. When that message can no longer be edited (deleted, too old), a new
one is sent and the form continues there. Confirm's result follows it as a new message.

The draft lives in ``user_data`` as a plain JSON-friendly dict (the persistence stores it as
JSON, so a restart resumes it, form message included). Every button of the conversation
carries the draft's token, and the token changes whenever a new question or summary is
shown: only the latest prompt's buttons work, and an older one says it is out of date. The
token of the confirmed summary is the order's idempotency key, so a double-tapped Confirm
places exactly one order.

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

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
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
from bot.callbacks import Action, Callback, pattern
from bot.config import Settings
from bot.context import Context
from bot.handlers import payments as payment_handlers
from bot.handlers.common import (
    button_press,
    drop_buttons_of,
    remember_user,
    send,
    tapped,
)
from bot.handlers.review import held_alerts
from bot.i18n import _
from bot.keyboards import ordering as keyboards
from bot.keyboards import payments as payment_keyboards
from bot.services import catalog, ordering, wallet
from bot.services.catalog import CatalogItem
from bot.services.ordering import PlacementKind
from bot.texts import ordering as texts
from bot.texts import payments as payment_texts
from bot.texts.amounts import CENT

logger = logging.getLogger(__name__)

ASKING, SUMMARY, CHANGING, OPTIONS = "asking", "summary", "changing", "options"
END = ConversationHandler.END

DRAFT_KEY = "order_draft"
# Tokens of recently placed summaries → order number, so a late second Confirm can say so.
PLACED_KEY = "placed_orders"
PLACED_REMEMBERED = 10
# How many items of a list answer the form shows above the next question.
FORM_LIST_SHOWN = 3

Draft = dict[str, Any]


def _new_token() -> str:
    return secrets.token_urlsafe(9)


def _renew(draft: Draft, context: Context, *, keep: bool = False) -> None:
    """Give the draft a new token (unless ``keep``: the same screen shown again) and push
    its deadline out by the conversation timeout."""
    if not keep:
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


async def _draw(
    update: Update,
    context: Context,
    draft: Draft,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    fresh: bool = False,
) -> None:
    """Show the form's current screen in its one message, or in a new one when that message
    can no longer be edited.

    ``fresh`` (or other messages arrived below the form since): a new message at the bottom
    of the chat, the old one deleted (or, if Telegram refuses, left without buttons).
    """
    chat = update.effective_chat
    if chat is None:
        return
    message_id = draft.get("message_id")
    buried = _buried(update, draft)
    if update.message is not None:
        draft["last_id"] = update.message.message_id
    if isinstance(message_id, int):
        if fresh or buried:
            await _retire(context, chat.id, message_id)
        else:
            try:
                await context.bot.edit_message_text(
                    text, chat_id=chat.id, message_id=message_id, reply_markup=markup
                )
                return
            except BadRequest as e:
                if "not modified" in e.message.lower():
                    return  # the same screen again: it is already showing
                # Deleted by the customer, or too old to edit: go on in a new message.
                logger.info("order form message %s not editable: %s", message_id, e.message)
    sent = await chat.send_message(text, reply_markup=markup)
    draft["message_id"] = draft["last_id"] = sent.message_id


def _buried(update: Update, draft: Draft) -> bool:
    """True when a typed message shows that others came below the form since it was drawn
    (a payment notice, another command's reply): editing it there would go unseen.

    Message IDs in a private chat count every message of both sides, so any gap between
    the last one the form knows (its own, or an answer it read and deleted) and this one is
    a message the form did not draw.
    """
    message, last = update.message, draft.get("last_id")
    return message is not None and isinstance(last, int) and message.message_id > last + 1


async def _retire(context: Context, chat_id: int, message_id: int) -> None:
    """Delete the old form message the form moves away from (or take its buttons off)."""
    try:
        await context.bot.delete_message(chat_id=chat_id, message_id=message_id)
    except TelegramError as e:
        logger.debug("could not delete form message %s: %s", message_id, e.message)
        await drop_buttons_of(context, chat_id, message_id)


async def _tidy(update: Update) -> None:
    """Delete the customer's typed answer: the form message shows it now.

    Telegram lets a bot delete incoming messages in private chats (up to 48 hours old); when
    it refuses, the message simply stays.
    """
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        await message.delete()
    except TelegramError as e:
        logger.debug("could not delete an answer in chat %s: %s", chat.id, e.message)


async def _finish(update: Update, context: Context, text: str) -> None:
    """Drop the draft; its form message says how the order ended (no buttons left)."""
    draft = _draft(context)
    _drop_draft(context)
    if draft is None:
        await send(update, text)
        return
    await _draw(update, context, draft, text)


class DraftExpired(Exception):
    """The draft passed its deadline (while the bot was down: a running bot ends it first)."""


FormHandler = Callable[[Update, Context], Coroutine[Any, Any, str | int | None]]


def _ends_when_expired(handler: FormHandler) -> FormHandler:
    """Let a button handler end the conversation when its draft turns out to be expired."""

    @functools.wraps(handler)
    async def wrapped(update: Update, context: Context) -> str | int | None:
        try:
            return await handler(update, context)
        except DraftExpired:
            return await expire(update, context)

    return wrapped


FormStep = Callable[
    [Update, Context, Callback, Draft, CatalogItem], Coroutine[Any, Any, str | int | None]
]


def _form_button(
    answer: str | None = None,
) -> Callable[[FormStep], FormHandler]:
    """Make a form step a button handler: the button checked against the draft (answered
    with ``answer``, a message to translate, if given), the draft's service loaded (the
    conversation ends when it is gone), an expired draft ended."""

    def decorate(step: FormStep) -> FormHandler:
        @_ends_when_expired
        @functools.wraps(step)
        async def handler(update: Update, context: Context) -> str | int | None:
            checked = await _checked_button(
                update, context, answer=None if answer is None else _(answer)
            )
            if checked is None:
                return None
            callback, draft = checked
            item = await _item_or_end(update, context, draft)
            if item is None:
                return END
            return await step(update, context, callback, draft, item)

        return handler

    return decorate


FormAnswer = Callable[[Update, Context, Draft, CatalogItem], Coroutine[Any, Any, str | int | None]]


def _form_message(lost: str, lost_state: str | int | None) -> Callable[[FormAnswer], FormHandler]:
    """Make a form step a typed-message handler: ``lost`` (a message to translate) said when
    no draft waits (the conversation then goes to ``lost_state``), an expired draft ended,
    the draft's service loaded, and the customer's message cleaned up once read."""

    def decorate(step: FormAnswer) -> FormHandler:
        @functools.wraps(step)
        async def handler(update: Update, context: Context) -> str | int | None:
            draft = _draft(context)
            if draft is None:
                await send(update, _(lost))
                return lost_state
            if _is_expired(draft):
                return await expire(update, context)
            item = await _item_or_end(update, context, draft)
            if item is None:
                return END
            state = await step(update, context, draft, item)
            await _tidy(update)
            return state

        return handler

    return decorate


async def _checked_button(
    update: Update, context: Context, *, answer: str | None = None
) -> tuple[Callback, Draft] | None:
    """Decode a conversation button and check it belongs to the current draft.

    Answers the tap: an out-of-date button is told so and gives None; a forged payload
    raises ``ForgedCallback`` for the one refusal (``refuse_button``, from the error handler).
    """
    query, callback = tapped(update)
    draft = _draft(context)
    token = callback.args[0]
    if draft is None or draft.get("token") != token:
        await query.answer(_stale_text(context, callback), show_alert=True)
        return None
    if _is_expired(draft):
        await query.answer(_(texts.DRAFT_EXPIRED), show_alert=True)
        raise DraftExpired
    await query.answer(answer)
    return callback, draft


def _stale_text(context: Context, callback: Callback) -> str:
    if callback.action is Action.CHOICE:
        return _(texts.QUESTION_STALE)
    placed, order_id = _placed_order(context, callback.args[0])
    if placed and callback.action is Action.CONFIRM:
        return texts.already_placed_alert(order_id)
    return _(texts.SUMMARY_STALE)


async def _item_or_end(update: Update, context: Context, draft: Draft) -> CatalogItem | None:
    """Load the draft's service; if it is gone, say so and drop the draft."""
    item = await catalog.get_item(context.bot_data.db, int(draft["item_id"]))
    if item is None or not item.service.orderable:
        await _finish(update, context, _(texts.SERVICE_GONE))
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
    number, total = form.progress(item.service, values, step)
    text = texts.question(
        item,
        step,
        number=number,
        total=total,
        answers=form.describe(item.service, values, list_limit=FORM_LIST_SHOWN),
        error=error,
    )
    await _draw(update, context, draft, text, keyboards.question_keyboard(draft["token"], step))
    return ASKING


async def _show_summary(
    update: Update,
    context: Context,
    draft: Draft,
    item: CatalogItem,
    *,
    notice: str | None = None,
    keep: bool = False,
    fresh: bool = False,
    old_price: Decimal | None = None,
) -> str:
    """Show every answer, the price and the balance, with Confirm / Change / Cancel.

    ``notice`` (HTML) says why it is shown again (too little balance, typed text).
    ``keep``: the same summary again, with its price and token (its Confirm still works);
    otherwise it is priced afresh and gets a new token. ``old_price`` is the price of the
    summary this one replaces because the price changed.
    """
    values: dict[str, Any] = draft["values"]
    request = form.build_request(item.service, values)
    kept_price = _shown_price(draft) if keep else None
    price = kept_price if kept_price is not None else catalog.quote(item, request).price
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    balance = await wallet.get_balance(bot_data.db, user.id)
    draft["step"] = None
    draft["price"] = str(price)
    _renew(draft, context, keep=keep and kept_price is not None)
    charged = not bot_data.is_admin(user.id)
    short = charged and balance < price
    if old_price is not None:
        notice = texts.price_changed(old_price, price, bot_data.settings.currency)
    text = texts.summary(
        item,
        form.describe(item.service, values),
        price=price,
        balance=balance,
        currency=bot_data.settings.currency,
        charged=charged,
        basis=form.price_basis(request),
        notice=notice,
    )
    if short:
        text += payment_texts.support_suffix(bot_data.settings.support_contact)
    markup = keyboards.summary_keyboard(
        draft["token"],
        top_up=_top_up_button(context, price - balance) if short else None,
        more_options=_has_more_options(item),
    )
    await _draw(update, context, draft, text, markup, fresh=fresh)
    return SUMMARY


def _has_more_options(item: CatalogItem) -> bool:
    """True when the summary offers More options (drip-feed not asked as a question)."""
    return form.offers_dripfeed(item.service) and not form.asks_dripfeed(item.service)


def _top_up_button(context: Context, missing: Decimal) -> InlineKeyboardButton | None:
    """Top up with the missing amount offered first, when customers can top up at all."""
    if not payment_handlers.top_up_offered(context):
        return None
    return payment_keyboards.top_up_button(1, max(missing, CENT))


async def resume_summary(update: Update, context: Context) -> str | int | None:
    """Show the waiting summary again after a top-up, as a new message at the bottom of the
    chat (its Confirm works; the old form message loses its buttons)."""
    await button_press(update).answer()
    draft = _draft(context)
    if draft is None or draft.get("step") is not None:
        await send(update, _(payment_texts.NO_ORDER_WAITING))
        return None
    if _is_expired(draft):
        return await expire(update, context)
    item = await _item_or_end(update, context, draft)
    if item is None:
        return END
    return await _show_summary(update, context, draft, item, fresh=True)


async def start_order(update: Update, context: Context) -> str | int | None:
    """Start a draft for the service whose Order button was tapped and ask the first question."""
    query, callback = tapped(update)
    await query.answer()
    item = await catalog.get_item(context.bot_data.db, callback.int_arg(0))
    if item is None or not item.service.orderable:
        await _finish(
            update, context, _(texts.SERVICE_GONE) if item is None else _(texts.NOT_ORDERABLE)
        )
        return END
    user, chat = update.effective_user, update.effective_chat
    if user is not None and chat is not None:
        # Orders belong to a known customer, even one who reached a card without /start.
        await remember_user(update, context)
    old = _draft(context)
    if old is not None and isinstance(old.get("message_id"), int) and chat is not None:
        # A new order replaces the draft: its form stops taking answers.
        await drop_buttons_of(context, chat.id, old["message_id"])
    draft: Draft = {"token": _new_token(), "item_id": item.item_id, "values": {}, "step": None}
    _user_data(context)[DRAFT_KEY] = draft
    return await _ask(update, context, draft, item)


@_form_message(texts.DRAFT_LOST, END)
async def answer_text(
    update: Update, context: Context, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Read a typed answer; ask it again with the reason when it cannot be used."""
    message = update.effective_message
    if message is None:
        return END
    values: dict[str, Any] = draft["values"]
    step = form.step_named(item.service, str(draft.get("step")), values)
    error: str | None = None
    if step is not None:
        try:
            values[step.name] = form.parse_answer(step, message.text or "", item.service, values)
        except form.FormError as e:
            error = e.message
    return await _ask(update, context, draft, item, error=error)


@_form_button()
async def answer_button(
    update: Update, context: Context, callback: Callback, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Take a button answer (a choice or Skip) to the current question."""
    values: dict[str, Any] = draft["values"]
    step = form.step_named(item.service, str(draft.get("step")), values)
    if step is None:
        return await _ask(update, context, draft, item)
    try:
        values[step.name] = form.choose(step, callback.args[1])
    except form.FormError as e:
        return await _ask(update, context, draft, item, error=e.message)
    return await _ask(update, context, draft, item)


@_form_message(texts.SEND_TEXT, None)
async def non_text(
    update: Update, context: Context, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Ask for text, in the form, when something else (a photo, a sticker) was sent."""
    return await _ask(update, context, draft, item, error=_(texts.SEND_TEXT))


# --------------------------------------------------------------------------- the summary


@_form_button(texts.PLACING)
async def confirm(
    update: Update, context: Context, _callback: Callback, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Place the order of this summary and report what happened."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    bot_data = context.bot_data
    currency = bot_data.settings.currency
    shown_price = _shown_price(draft)
    if shown_price is None:
        # A summary from before prices were kept in drafts: show it again with its price.
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
        # Priced afresh, with a new token: the old Confirm stops working.
        return await _show_summary(update, context, draft, item, old_price=shown_price)
    if kind is PlacementKind.NO_FUNDS:
        price = result.price if result.price is not None else shown_price
        notice = texts.no_funds(price, result.balance, currency)
        # The same summary (price and token): topped up, its Confirm places the order.
        return await _show_summary(update, context, draft, item, notice=notice, keep=True)
    if kind is PlacementKind.INVALID:
        notice = texts.invalid(result.message)
        return await _show_summary(update, context, draft, item, notice=notice, keep=True)
    order = result.order
    if kind is PlacementKind.PLACED and order is not None:
        text = texts.placed(order, result.balance, currency)
    elif kind is PlacementKind.REFUSED:
        refusal = result.refusal or ordering.Refusal.ORDER
        text = texts.refused(result.message, order, result.balance, currency, refusal=refusal)
    elif kind is PlacementKind.HELD:
        text = texts.held(order, currency, own=bot_data.is_admin(user.id))
    elif kind is PlacementKind.DUPLICATE:
        text = texts.duplicate(order)
    else:
        text = texts.unavailable(result.message)
    if kind is not PlacementKind.UNAVAILABLE:
        _remember_placed(context, token, order.order_id if order is not None else None)
    # The summary stays as the record of what was ordered; the result follows it.
    message_id = draft.get("message_id")
    if isinstance(message_id, int):
        await drop_buttons_of(context, chat.id, message_id)
    _drop_draft(context)
    await send(update, text)
    return END


async def _show_change_menu(
    update: Update,
    context: Context,
    draft: Draft,
    item: CatalogItem,
    *,
    notice: str | None = None,
) -> str:
    """Show the answers with a button for each (the token stays when shown again)."""
    _renew(draft, context, keep=notice is not None)
    values = draft["values"]
    steps = form.active_steps(item.service, values)
    text = texts.change_menu(item, form.describe(item.service, values), notice=notice)
    await _draw(update, context, draft, text, keyboards.change_keyboard(draft["token"], steps))
    return CHANGING


@_form_button()
async def change(
    update: Update, context: Context, _callback: Callback, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Offer each answer for changing (this summary stops working)."""
    return await _show_change_menu(update, context, draft, item)


@_form_button()
async def pick_field(
    update: Update, context: Context, callback: Callback, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Ask the chosen question again, or go back to the summary."""
    name = callback.args[1]
    if name == keyboards.BACK_TO_SUMMARY:
        return await _show_summary(update, context, draft, item)
    if form.step_named(item.service, name, draft["values"]) is None:
        return await _show_summary(update, context, draft, item)
    draft["values"] = form.forget(draft["values"], name)
    return await _ask(update, context, draft, item)


async def _show_options(
    update: Update,
    context: Context,
    draft: Draft,
    item: CatalogItem,
    *,
    notice: str | None = None,
) -> str:
    """Show the order's extras (drip-feed on or off); the token stays when shown again."""
    _renew(draft, context, keep=notice is not None)
    on = form.dripfeed_on(draft["values"])
    text = texts.more_options(item, dripfeed=on, notice=notice)
    await _draw(
        update, context, draft, text, keyboards.options_keyboard(draft["token"], dripfeed=on)
    )
    return OPTIONS


@_form_button()
async def more_options(
    update: Update, context: Context, _callback: Callback, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Offer the order's extras (this summary stops working)."""
    if not _has_more_options(item):
        return await _show_summary(update, context, draft, item)
    return await _show_options(update, context, draft, item)


@_form_button()
async def pick_option(
    update: Update, context: Context, callback: Callback, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Turn drip-feed on (then ask its runs and interval) or off, or go back to the summary."""
    choice = callback.args[1]
    if choice in (keyboards.DRIPFEED_ON, keyboards.DRIPFEED_OFF) and _has_more_options(item):
        on = choice == keyboards.DRIPFEED_ON
        draft["values"] = form.set_dripfeed(draft["values"], on)
    return await _ask(update, context, draft, item)


# Typed text where buttons answer: the screen again, saying so (its buttons keep working),
# unless the draft expired while the bot was down: then it ends.


@_form_message(texts.DRAFT_LOST, END)
async def use_summary_buttons(
    update: Update, context: Context, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Point at the summary's buttons, in the summary, when text is typed there."""
    notice = _(texts.USE_BUTTONS_SUMMARY)
    await _show_summary(update, context, draft, item, notice=notice, keep=True)
    return None


@_form_message(texts.DRAFT_LOST, END)
async def use_change_buttons(
    update: Update, context: Context, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Point at the field buttons, in the form, when text is typed there."""
    await _show_change_menu(update, context, draft, item, notice=_(texts.USE_BUTTONS_CHANGE))
    return None


@_form_message(texts.DRAFT_LOST, END)
async def use_option_buttons(
    update: Update, context: Context, draft: Draft, item: CatalogItem
) -> str | int | None:
    """Point at the option buttons, in the form, when text is typed there."""
    await _show_options(update, context, draft, item, notice=_(texts.USE_BUTTONS_OPTIONS))
    return None


# --------------------------------------------------------------------------- leaving


@_ends_when_expired
async def abort_button(update: Update, context: Context) -> str | int | None:
    """Cancel the draft from its Cancel button."""
    checked = await _checked_button(update, context)
    if checked is None:
        return None
    await _finish(update, context, _(texts.CANCELLED))
    return END


async def cancel_command(update: Update, context: Context) -> int:
    """Cancel the draft with /cancel at any step."""
    await _finish(update, context, _(texts.CANCELLED))
    await _tidy(update)
    return END


async def stale_button(update: Update, context: Context) -> int | None:
    """Answer a conversation button that no longer applies; change nothing."""
    query, callback = tapped(update)
    await query.answer(_stale_text(context, callback), show_alert=True)
    return None


async def stale_button_outside(update: Update, context: Context) -> int:
    """Answer a conversation button tapped after the conversation ended."""
    await stale_button(update, context)
    return END


async def expired(update: Update, context: Context) -> None:
    """Tell the user, in the form, that the draft expired after a long silence."""
    await _finish(update, context, _(texts.DRAFT_EXPIRED))


async def expire(update: Update, context: Context) -> int:
    """End a draft found past its deadline, as the conversation timeout would have."""
    await expired(update, context)
    return END


def build_conversation(settings: Settings) -> ConversationHandler[Context]:
    """Return the order conversation (persistent, named "order")."""
    order_button = CallbackQueryHandler(start_order, pattern=pattern(Action.ORDER))
    summary_buttons = pattern(
        Action.CONFIRM, Action.CHANGE, Action.ABORT, Action.CHOICE, Action.MORE_OPTIONS
    )
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
            CallbackQueryHandler(more_options, pattern=pattern(Action.MORE_OPTIONS)),
            CallbackQueryHandler(resume_summary, pattern=pattern(Action.ORDER_RESUME)),
            abort,
            MessageHandler(text, use_summary_buttons),
        ],
        CHANGING: [
            CallbackQueryHandler(pick_field, pattern=pattern(Action.CHOICE)),
            abort,
            MessageHandler(text, use_change_buttons),
        ],
        OPTIONS: [
            CallbackQueryHandler(pick_option, pattern=pattern(Action.CHOICE)),
            abort,
            MessageHandler(text, use_option_buttons),
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
