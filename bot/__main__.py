"""Start the bot: settings → application → polling."""

from __future__ import annotations

import logging
import os
import sys
import warnings

from telegram import Update
from telegram.warnings import PTBUserWarning

from bot.config import SettingsError, load_settings


def main() -> None:
    """Load settings, build the application and poll until stopped."""
    try:
        settings = load_settings()
    except SettingsError as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and those carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs every job run at INFO: a line a minute per job is noise.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # The order conversations mix typed input and buttons, so per_message=False is intended.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    # Read RetryAfter periods as timedelta, as the tests do (PTB 23 makes it the default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")

    from bot.app import build_application

    build_application(settings).run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
