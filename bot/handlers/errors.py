"""The error handler: log with the traceback, tell the user one sentence, alert the admins."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from bot import texts
from bot.callbacks import ForgedCallback
from bot.context import Context
from bot.handlers.common import refuse_button, tell
from bot.i18n import _

log = logging.getLogger(__name__)

MAX_ERROR_TEXT = 500


def _describe(update: Update) -> tuple[str, str]:
    """Who sent the update and what it was, for the admins' alert."""
    user = update.effective_user
    who = f"{user.full_name} ({user.id})" if user else "an unknown sender"
    if update.callback_query is not None:
        return who, f"the button {update.callback_query.data!r}"
    message = update.effective_message
    if message is not None and message.text:
        return who, f"the message {message.text[:100]!r}"
    return who, "an update"


async def on_error(update: object, context: Context) -> None:
    """Log the error, tell the user in one sentence, and alert the admins."""
    error = context.error
    if not isinstance(update, Update):
        # Polling hiccups and job failures: nobody to answer, only the log.
        level = logging.WARNING if isinstance(error, NetworkError) else logging.ERROR
        log.log(level, "error outside an update: %s", error, exc_info=error)
        return
    if isinstance(error, ForgedCallback) and update.callback_query is not None:
        await refuse_button(update, context, error)
        return
    if isinstance(error, Forbidden):
        # The user blocked the bot while we were answering: nobody to tell, nothing to fix.
        log.info("user of update %s blocked the bot: %s", update.update_id, error)
        return
    log.error("error while handling update %s", update.update_id, exc_info=error)
    await tell(update, context, _(texts.SOMETHING_WENT_WRONG))
    who, what = _describe(update)
    alert = texts.error_for_admin(who, what, f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT])
    for admin_id in sorted(context.bot_data.settings.admin_ids):
        try:
            await context.bot.send_message(admin_id, alert)
        except TelegramError as e:
            log.warning("could not alert admin %s about the error: %s", admin_id, e)
