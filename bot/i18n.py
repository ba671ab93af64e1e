"""Languages: gettext catalogs and the reader's language, one per task.

Every user-facing string is written in English in ``bot/texts/`` and looked up with
``gettext`` (``_``) or ``ngettext`` when a screen is built; module-level constants are marked
with ``N_`` and translated where they are used. Translations live in standard gettext
catalogs, ``bot/locales/<language>/LC_MESSAGES/messages.po``, read with Babel and compiled
in memory on first use (no build step, no ``.mo`` files in the repository). Adding a
language is one new ``messages.po``.

The language of the screen being built is a context variable: the first handler of each
update sets it from the user's stored choice or Telegram's ``language_code``
(``set_language``), and the outbox
sender sets it to the recipient's language for each notice, so a notice queued in one
language is delivered in whatever language the reader has chosen since. Each update and each
job runs in its own task, so one reader's language never leaks into another's screen.

Numbers, money and dates are formatted for the language with Babel.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def available_languages() -> tuple[str, ...]:
    """The languages the bot speaks: English plus every catalog shipped, sorted."""
    shipped = sorted(
        path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    )
    return (DEFAULT_LANGUAGE, *(code for code in shipped if code != DEFAULT_LANGUAGE))


def resolve(code: str | None) -> str:
    """The language to use for a Telegram ``language_code`` ("ru", "pt-br", None…)."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in available_languages() else DEFAULT_LANGUAGE


@cache
def language_name(code: str) -> str:
    """A language's name in itself, as its speakers look for it ("Русский", "Français")."""
    name = _locale(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@cache
def catalog_path(language: str) -> Path:
    """Where a language's catalog lives (it may not exist yet)."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalog of a language (English needs none: its strings are the source)."""
    path = catalog_path(language)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def current_language() -> str:
    """The language of the screen being built in this task."""
    return _current.get()


def set_language(language: str | None) -> None:
    """Build this task's screens in ``language`` from now on (an update's handlers)."""
    _current.set(resolve(language))


@contextmanager
def use(language: str | None) -> Iterator[str]:
    """Build screens in ``language`` inside the block (one outbox notice, one job)."""
    token = _current.set(resolve(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """Translate ``message`` into the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message with a count, with the current language's plural forms."""
    return translations(_current.get()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; ``gettext`` it where it is shown."""
    return message


_ = gettext


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def number(value: int | Decimal, digits: str = "#,##0.##########") -> str:
    """A number written the way the current language writes it (1,234.5 / 1 234,5)."""
    return format_decimal(value, format=digits, locale=_locale(_current.get()))


def money(amount: Decimal, currency: str, *, digits: int = 2) -> str:
    """An amount of money with ``digits`` decimals in the current language ("2.37 USD")."""
    shown = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return f"{format_decimal(shown, format=pattern, locale=_locale(_current.get()))} {currency}"


def moment(when: datetime) -> str:
    """A date and time (UTC) in the current language's medium format."""
    return format_datetime(when, format="medium", tzinfo=None, locale=_locale(_current.get()))
