"""The order form: which steps a service's order type needs, and how typed answers are read.

Pure logic, no Telegram: the conversation in ``bot/handlers/ordering.py`` asks the steps
``next_step`` names, feeds the user's answers to ``parse_answer`` (or ``choose`` for a button)
and finally turns the collected answers into an ``OrderRequest`` with ``build_request``.

Answers are kept as JSON-friendly values (``str``, ``int``, ``bool``, ``list[str]`` or
``None`` for a skipped optional field) because the draft is persisted as JSON between
messages and across restarts.

Every word the form says (questions, labels, button choices, refusals) lives in
``bot/texts/ordering.py`` and is read in the reader's language when a step is built, so a
step is built for each update and never kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot import input_rules as rules
from bot.i18n import _
from bot.panels.models import (
    SUBSCRIPTION_DELAYS,
    TYPE_SPECS,
    WEB_TRAFFIC_DEVICES,
    WEB_TRAFFIC_KINDS,
    Field,
    OrderRequest,
    OrderType,
    Service,
    split_lines,
)
from bot.texts import ordering as texts
from bot.texts.fit import clip, utf16_len

FormValue = str | int | bool | list[str] | None

DRIPFEED = "dripfeed"
SKIP = "skip"
YES = "yes"
NO = "no"

MAX_RUNS = 1000
MAX_INTERVAL_MINUTES = 7 * 24 * 60
MAX_ANSWER_NUMBER = 100
# A subscription is billed per post it covers, so the customer always names how many.
MAX_POSTS = 10_000
# Per-field limits (UTF-16 units, as Telegram counts): a panel takes short fields, and every
# answer is shown back on the summary and the order card.
MAX_FIELD_LENGTHS = {
    Field.USERNAME.value: 200,  # a profile link is a username for some types
    Field.COUNTRY.value: 60,
    Field.GOOGLE_KEYWORD.value: 200,
}
MAX_NUMBER_LENGTH = 30
# A list arrives in one message, which Telegram caps at 4096 units anyway.
MAX_LIST_LENGTH = 4096
MAX_HASHTAG_LENGTH = 100

_COUNTRY = re.compile(r"^[A-Za-z][A-Za-z .'-]{1,59}$")
_DATE_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d")

# Changing one of these answers changes which later steps apply, so they are asked again.
_DEPENDENTS: dict[str, tuple[str, ...]] = {
    DRIPFEED: (Field.RUNS.value, Field.INTERVAL.value),
    Field.TYPE_OF_TRAFFIC.value: (Field.GOOGLE_KEYWORD.value, Field.REFERRING_URL.value),
}


class FormError(ValueError):
    """An answer that cannot be used; ``message`` tells the user what to send instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Choice:
    """One button answer: the value it stands for and its label."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Step:
    """One question of the form."""

    name: str  # a ``Field`` value or ``DRIPFEED``
    label: str  # how the summary names the answer
    prompt: str
    optional: bool = False
    choices: tuple[Choice, ...] = ()


# --------------------------------------------------------------------------- the steps


def _step(name: str, service: Service, values: Mapping[str, Any]) -> Step:
    """Describe the question for ``name`` with the numbers this service allows."""
    low, high = service.min, service.max
    label = texts.field_label(name)
    if name == Field.LINK:
        return Step(name, label, _(texts.ASK_LINK))
    if name == Field.QUANTITY:
        return Step(name, label, texts.ask_quantity(low, high))
    if name == Field.COMMENTS:
        counted = service.spec.quantity_from is Field.COMMENTS
        return Step(name, label, texts.ask_comments(low, high, counted=counted))
    if name == Field.USERNAMES:
        counted = service.spec.quantity_from is Field.USERNAMES
        return Step(name, label, texts.ask_usernames(low, high, counted=counted))
    if name == Field.HASHTAGS:
        return Step(name, label, _(texts.ASK_HASHTAGS))
    if name == Field.KEYWORDS:
        return Step(name, label, _(texts.ASK_KEYWORDS))
    if name == Field.GROUPS:
        return Step(name, label, _(texts.ASK_GROUPS))
    if name == Field.USERNAME:
        prompts = {
            OrderType.MENTIONS_USER_FOLLOWERS: texts.ASK_FOLLOWERS_OF,
            OrderType.COMMENT_LIKES: texts.ASK_COMMENT_AUTHOR,
            OrderType.COMMENT_REPLIES: texts.ASK_COMMENT_AUTHOR,
            OrderType.SUBSCRIPTIONS: texts.ASK_SUBSCRIBED_ACCOUNT,
        }
        prompt = prompts.get(service.type or OrderType.DEFAULT, texts.ASK_USERNAME)
        return Step(name, label, _(prompt))
    if name == Field.MEDIA:
        return Step(name, label, _(texts.ASK_MEDIA))
    if name == Field.ANSWER_NUMBER:
        return Step(name, label, _(texts.ASK_ANSWER_NUMBER))
    if name == Field.MIN:
        return Step(name, label, texts.ask_minimum(low, high))
    if name == Field.MAX:
        floor = values.get(Field.MIN.value)
        start = floor if isinstance(floor, int) else low
        return Step(name, label, texts.ask_maximum(start, high))
    if name == Field.POSTS:
        return Step(name, label, texts.ask_posts(MAX_POSTS))
    if name == Field.OLD_POSTS:
        return Step(name, label, _(texts.ASK_OLD_POSTS), optional=True)
    if name == Field.DELAY:
        return Step(
            name,
            label,
            _(texts.ASK_DELAY),
            choices=tuple(
                Choice(str(minutes), texts.delay_label(minutes))
                for minutes in sorted(SUBSCRIPTION_DELAYS)
            ),
        )
    if name == Field.EXPIRY:
        return Step(name, label, _(texts.ASK_EXPIRY), optional=True)
    if name == Field.COUNTRY:
        return Step(name, label, _(texts.ASK_COUNTRY))
    if name == Field.DEVICE:
        return Step(
            name,
            label,
            _(texts.ASK_DEVICE),
            choices=tuple(Choice(str(k), _(texts.DEVICES[k])) for k in WEB_TRAFFIC_DEVICES),
        )
    if name == Field.TYPE_OF_TRAFFIC:
        return Step(
            name,
            label,
            _(texts.ASK_TRAFFIC_TYPE),
            choices=tuple(Choice(str(k), _(texts.TRAFFIC_KINDS[k])) for k in WEB_TRAFFIC_KINDS),
        )
    if name == Field.GOOGLE_KEYWORD:
        return Step(name, label, _(texts.ASK_GOOGLE_KEYWORD))
    if name == Field.REFERRING_URL:
        return Step(name, label, _(texts.ASK_REFERRER))
    if name == DRIPFEED:
        return Step(
            name,
            label,
            _(texts.ASK_DRIPFEED),
            choices=(Choice(YES, _(texts.YES)), Choice(NO, _(texts.NO))),
        )
    if name == Field.RUNS:
        return Step(name, label, texts.ask_runs(MAX_RUNS))
    if name == Field.INTERVAL:
        return Step(name, label, _(texts.ASK_INTERVAL))
    raise KeyError(name)


def _step_names(service: Service, values: Mapping[str, Any]) -> list[str]:
    order_type = service.type or OrderType.DEFAULT
    spec = TYPE_SPECS[order_type]
    names: list[str] = []
    for f in (*spec.required, *spec.optional):
        if f in (Field.RUNS, Field.INTERVAL):
            continue
        if f is Field.GOOGLE_KEYWORD and values.get(Field.TYPE_OF_TRAFFIC.value) != 1:
            continue
        if f is Field.REFERRING_URL and values.get(Field.TYPE_OF_TRAFFIC.value) != 2:
            continue
        names.append(f.value)
    if offers_dripfeed(service):
        if asks_dripfeed(service):
            names.append(DRIPFEED)
        if values.get(DRIPFEED) is True:
            names += [Field.RUNS.value, Field.INTERVAL.value]
    return names


def offers_dripfeed(service: Service) -> bool:
    """True when this service's orders can be drip-fed (runs and an interval)."""
    return service.dripfeed and Field.RUNS in service.spec.optional


def asks_dripfeed(service: Service) -> bool:
    """True when the form asks "Drip-feed?" as a question: only for a service the panel
    itself marks as drip-feed. Others offer it under More options on the summary (a v2
    panel's list says nothing, and asking on every order would only be in the way)."""
    return offers_dripfeed(service) and service.dripfeed_flagged


def set_dripfeed(values: Mapping[str, Any], on: bool) -> dict[str, Any]:
    """Turn drip-feed on (its runs and interval are asked next) or off (they are dropped)."""
    return {**forget(values, DRIPFEED), DRIPFEED: on}


def dripfeed_on(values: Mapping[str, Any]) -> bool:
    """True when the answers ask for drip-feed."""
    return values.get(DRIPFEED) is True


def active_steps(service: Service, values: Mapping[str, Any]) -> list[Step]:
    """List the questions this service's order needs, given the answers so far."""
    return [_step(name, service, values) for name in _step_names(service, values)]


def step_named(service: Service, name: str, values: Mapping[str, Any]) -> Step | None:
    """Return the step called ``name`` if it applies to this service now."""
    if name not in _step_names(service, values):
        return None
    return _step(name, service, values)


def next_step(service: Service, values: Mapping[str, Any]) -> Step | None:
    """Return the first question not answered yet, or None when the form is complete."""
    for name in _step_names(service, values):
        if name not in values:
            return _step(name, service, values)
    return None


def forget(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Drop an answer (and the answers that depend on it) so it is asked again."""
    dropped = {name, *_DEPENDENTS.get(name, ())}
    return {k: v for k, v in values.items() if k not in dropped}


# --------------------------------------------------------------------------- reading answers


def parse_answer(
    step: Step,
    text: str,
    service: Service,
    values: Mapping[str, Any],
    *,
    today: date | None = None,
) -> FormValue:
    """Read a typed answer to ``step`` or raise ``FormError`` saying what is wrong."""
    if not text.strip():
        raise FormError(texts.empty_answer(step.prompt))
    try:
        return _parse_answer(step, text, service, values, today=today)
    except rules.InputError as e:
        raise FormError(e.message) from None


def _parse_answer(
    step: Step,
    text: str,
    service: Service,
    values: Mapping[str, Any],
    *,
    today: date | None = None,
) -> FormValue:
    name = step.name
    is_list = name in _LIST_FIELDS
    limit = MAX_FIELD_LENGTHS.get(name, MAX_LIST_LENGTH if is_list else MAX_NUMBER_LENGTH)
    if name in (Field.LINK, Field.MEDIA, Field.REFERRING_URL):
        limit = rules.MAX_LINK_LENGTH
    raw = rules.check_text(text, texts.answer_name(name), max_length=limit, multiline=is_list)
    if step.optional and raw.lower() in {SKIP, "-", "none"}:
        return None
    if step.choices:
        return _choice_value(step, raw)
    if name in (Field.LINK, Field.MEDIA, Field.REFERRING_URL):
        return _link(raw, name)
    if name == Field.QUANTITY:
        return _in_range(_whole(raw, name), service.min, service.max)
    if name in _LIST_FIELDS:
        return _list(name, raw, service)
    if name == Field.USERNAME:
        if re.search(r"\s", raw):
            raise FormError(_(texts.ONE_USERNAME))
        return raw
    if name == Field.ANSWER_NUMBER:
        number = _whole(raw, name)
        if not 1 <= number <= MAX_ANSWER_NUMBER:
            raise FormError(texts.answer_number_out_of_range(MAX_ANSWER_NUMBER))
        return number
    if name == Field.MIN:
        number = _in_range(_whole(raw, name), service.min, service.max)
        high = values.get(Field.MAX.value)
        if isinstance(high, int) and number > high:
            raise FormError(texts.minimum_above_maximum(high))
        return number
    if name == Field.MAX:
        number = _in_range(_whole(raw, name), service.min, service.max)
        low = values.get(Field.MIN.value)
        if isinstance(low, int) and number < low:
            raise FormError(texts.maximum_below_minimum(low))
        return number
    if name == Field.POSTS:
        number = _whole(raw, name)
        if not 1 <= number <= MAX_POSTS:
            raise FormError(texts.posts_out_of_range(MAX_POSTS))
        return number
    if name == Field.OLD_POSTS:
        number = _whole(raw, name)
        if number < 0:
            raise FormError(_(texts.NEGATIVE_OLD_POSTS))
        if number > MAX_POSTS:
            raise FormError(texts.too_many_old_posts(MAX_POSTS))
        return number
    if name == Field.EXPIRY:
        return _expiry(raw, today or datetime.now(UTC).date())
    if name == Field.COUNTRY:
        if not _COUNTRY.fullmatch(raw):
            raise FormError(_(texts.BAD_COUNTRY))
        return raw
    if name == Field.GOOGLE_KEYWORD:
        return raw
    if name == Field.RUNS:
        runs = _whole(raw, name)
        if runs < 2:
            raise FormError(_(texts.TOO_FEW_RUNS))
        if runs > MAX_RUNS:
            raise FormError(texts.too_many_runs(MAX_RUNS))
        return runs
    if name == Field.INTERVAL:
        minutes = _whole(raw, name)
        if not 1 <= minutes <= MAX_INTERVAL_MINUTES:
            raise FormError(texts.interval_out_of_range(MAX_INTERVAL_MINUTES))
        return minutes
    raise FormError(_(texts.NOT_BY_TEXT))


def choose(step: Step, value: str) -> FormValue:
    """Read a button answer to ``step`` (a choice's value or ``SKIP``)."""
    if value == SKIP:
        if not step.optional:
            raise FormError(texts.cannot_skip(step.prompt))
        return None
    if not step.choices:
        raise FormError(texts.type_it(step.prompt))
    return _choice_value(step, value)


_LIST_FIELDS = frozenset(
    {
        Field.COMMENTS.value,
        Field.USERNAMES.value,
        Field.HASHTAGS.value,
        Field.KEYWORDS.value,
        Field.GROUPS.value,
    }
)


def _choice_value(step: Step, raw: str) -> FormValue:
    for choice in step.choices:
        if raw.lower() in {choice.value.lower(), choice.label.lower()}:
            if step.name == DRIPFEED:
                return choice.value == YES
            return int(choice.value)
    raise FormError(texts.choose_a_button([c.label for c in step.choices]))


def _link(raw: str, name: str) -> str:
    what = texts.A_LINK_TO_A_POST if name == Field.MEDIA else texts.A_LINK
    return rules.link(raw, _(what))


def _whole(raw: str, name: str) -> int:
    return rules.whole_number(raw, texts.number_name(name))


def _in_range(number: int, low: int, high: int) -> int:
    if number < low:
        raise FormError(texts.below_minimum(low))
    if number > high:
        raise FormError(texts.above_maximum(high))
    return number


def _list(name: str, raw: str, service: Service) -> list[str]:
    items = split_lines(raw)
    if not items:
        raise FormError(texts.list_empty(name))
    longest = MAX_HASHTAG_LENGTH if name == Field.HASHTAGS else rules.MAX_LIST_ITEM_LENGTH
    for number, item in enumerate(items, 1):
        if utf16_len(item) > longest:
            raise FormError(texts.list_item_too_long(name, number, longest))
    if service.spec.quantity_from is not None and service.spec.quantity_from.value == name:
        low, high = service.min, service.max
        if not low <= len(items) <= high:
            raise FormError(texts.list_count_out_of_range(name, len(items), low, high))
    if name == Field.USERNAMES and any(re.search(r"\s", item) for item in items):
        raise FormError(_(texts.USERNAMES_ONE_PER_LINE))
    if name == Field.HASHTAGS and any(re.search(r"\s", item) for item in items):
        raise FormError(_(texts.HASHTAGS_ONE_PER_LINE))
    return items


def _expiry(raw: str, today: date) -> str:
    for fmt in _DATE_FORMATS:
        try:
            day = date(*time.strptime(raw, fmt)[:3])
        except ValueError:
            continue
        if day < today:
            raise FormError(_(texts.DATE_PASSED))
        return day.isoformat()
    raise FormError(_(texts.BAD_DATE))


# --------------------------------------------------------------------------- the request


def build_request(service: Service, values: Mapping[str, Any]) -> OrderRequest:
    """Turn the answers that apply to this service into an ``OrderRequest``."""
    request = OrderRequest(service_id=service.service_id, type=service.type or OrderType.DEFAULT)
    for name in _step_names(service, values):
        value = values.get(name)
        if value is None or name == DRIPFEED:
            continue
        if name == Field.EXPIRY:
            request.expiry = date.fromisoformat(str(value))
        elif isinstance(value, list):
            setattr(request, name, [str(v) for v in value])
        else:
            setattr(request, name, value)
    return request


def price_basis(request: OrderRequest) -> str | None:
    """Say how an order's total is counted when it is more than one quantity at the rate:
    a subscription's posts, a drip-feed's runs. None for a plain order."""
    quantity = request.effective_quantity()
    if request.type is OrderType.SUBSCRIPTIONS:
        posts = (request.posts or 0) + (request.old_posts or 0)
        units = quantity * max(posts, 1)
        return texts.price_basis_posts(
            quantity, posts, request.posts or 0, request.old_posts or 0, units
        )
    if request.runs and not request.spec.per_package:
        return texts.price_basis_runs(quantity, request.runs)
    return None


def describe(
    service: Service, values: Mapping[str, Any], *, list_limit: int = 10
) -> list[tuple[str, str]]:
    """List each answered step as (label, plain-text answer) for the summary."""
    rows: list[tuple[str, str]] = []
    for step in active_steps(service, values):
        if step.name not in values:
            continue
        rows.append((step.label, display_value(step, values[step.name], list_limit=list_limit)))
    return rows


def progress(service: Service, values: Mapping[str, Any], step: Step) -> tuple[int, int]:
    """Say where ``step`` stands in the form: (its number from 1, the number of steps)."""
    names = _step_names(service, values)
    number = names.index(step.name) + 1 if step.name in names else len(names)
    return number, len(names)


def display_value(step: Step, value: FormValue, *, list_limit: int = 10) -> str:
    """Show one answer the way the user would recognise it (long ones shortened)."""
    if value is None:
        return texts.NO_ANSWER
    if isinstance(value, bool):
        return _(texts.YES) if value else _(texts.NO)
    if isinstance(value, list):
        shown = [clip(item, 100) for item in value[:list_limit]]
        return texts.list_answer(len(value), shown, len(value) - list_limit)
    if step.choices:
        for choice in step.choices:
            if choice.value == str(value):
                return choice.label
    if step.name == Field.EXPIRY:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    if step.name == Field.INTERVAL:
        return texts.minutes_answer(value)
    return clip(str(value), 300)
