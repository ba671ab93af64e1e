"""Start the bot: settings → application → polling."""

from __future__ import annotations

import os
import sys
import warnings

from telegram import Update
from telegram.error import InvalidToken
from telegram.warnings import PTBUserWarning

from bot.config import REJECTED_TOKEN_MESSAGE, SettingsError, load_settings
from bot.logs import configure_logging


def main() -> None:
    """Load settings, build the application and poll until stopped."""
    try:
        settings = load_settings()
    except SettingsError as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings)
    # The order conversations mix typed input and buttons, so per_message=False is intended.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    # Read RetryAfter periods as timedelta, as the tests do (PTB 23 makes it the default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")

    from bot.app import build_application

    try:
        build_application(settings).run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        # PTB's own message quotes the token: say it in our words, without it.
        print(REJECTED_TOKEN_MESSAGE, file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
