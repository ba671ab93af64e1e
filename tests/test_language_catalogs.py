"""Every language's catalog is complete: no missing message, no broken placeholder or tag.

The messages are extracted from the source as ``pybabel extract`` does (``_``, ``gettext``,
``ngettext``, ``N_``), so a string added in English without its translations fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
SOURCE = Path(i18n.__file__).parent
TRANSLATED = [code for code in i18n.available_languages() if code != i18n.DEFAULT_LANGUAGE]
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:[:!][^{}]*)?\}")
# Telegram's HTML tags only: "<user>" in a command's description is a word, not a tag.
_TAG = re.compile(r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote|tg-spoiler)>")


def source_messages() -> dict[str, tuple[str, ...]]:
    """Every message the code looks up: msgid → (singular, plural) or (msgid,)."""
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms
    return found


def catalog(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as source:
        return read_po(source, locale=language)


def shape(text: str) -> tuple[list[str], list[str]]:
    """What a translation must keep: its placeholders and its HTML tags."""
    return sorted(_PLACEHOLDER.findall(text)), sorted(_TAG.findall(text))


def test_english_is_the_source_and_at_least_two_languages_are_shipped() -> None:
    assert i18n.available_languages()[0] == "en"
    assert {"ru", "fr"} <= set(i18n.available_languages())


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders_and_tags(language: str) -> None:
    messages = source_messages()
    translated = catalog(language)
    missing, broken = [], []
    for msgid, forms in messages.items():
        entry = translated.get(msgid)
        strings = [] if entry is None else entry.string
        strings = [strings] if isinstance(strings, str) else list(strings)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid)
            continue
        expected = shape(forms[-1])
        broken += [(msgid, s) for s in strings if shape(s) != expected]
    assert not missing, f"{language}: {len(missing)} messages untranslated, e.g. {missing[:5]}"
    assert not broken, f"{language}: placeholders or tags differ, e.g. {broken[:3]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogs_hold_no_stale_messages(language: str) -> None:
    messages = source_messages()
    stale = [m.id for m in catalog(language) if m.id and _msgid(m.id) not in messages]
    assert not stale, f"{language}: messages no longer in the code, e.g. {stale[:5]}"


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def test_plural_forms_follow_the_language() -> None:
    with i18n.use("ru"):
        assert i18n.translations("ru").ngettext("a", "b", 5) == "b"  # unknown: English plural
    for language in TRANSLATED:
        assert catalog(language).num_plurals >= 2
