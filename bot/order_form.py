"""The order form: which steps a service's order type needs, and how typed answers are read.

Pure logic, no Telegram: the conversation in ``bot/handlers/ordering.py`` asks the steps
``next_step`` names, feeds the user's answers to ``parse_answer`` (or ``choose`` for a button)
and finally turns the collected answers into an ``OrderRequest`` with ``build_request``.

Answers are kept as JSON-friendly values (``str``, ``int``, ``bool``, ``list[str]`` or
``None`` for a skipped optional field) because the draft is persisted as JSON between
messages and across restarts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot import input_rules as rules
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
    list_hint = "Send one per line."
    if name == Field.LINK:
        return Step(name, "Link", "Send the link (a full address starting with https://).")
    if name == Field.QUANTITY:
        return Step(name, "Quantity", f"How many? Send a number from {low} to {high}.")
    if name == Field.COMMENTS:
        if service.spec.quantity_from is Field.COMMENTS:
            count = f"{low} to {high} comments"
        else:
            count = "the comments for this package"
        return Step(name, "Comments", f"Send {count}. {list_hint}")
    if name == Field.USERNAMES:
        if service.spec.quantity_from is Field.USERNAMES:
            return Step(name, "Usernames", f"Send {low} to {high} usernames. {list_hint}")
        return Step(name, "Usernames", f"Send the usernames to mention. {list_hint}")
    if name == Field.HASHTAGS:
        return Step(name, "Hashtags", f"Send the hashtags to post with the mentions. {list_hint}")
    if name == Field.KEYWORDS:
        return Step(name, "Keywords", f"Send the search keywords. {list_hint}")
    if name == Field.GROUPS:
        return Step(name, "Groups", f"Send the groups to invite from. {list_hint}")
    if name == Field.USERNAME:
        prompts = {
            OrderType.MENTIONS_USER_FOLLOWERS: "Send the username (or profile link) whose "
            "followers should be mentioned.",
            OrderType.COMMENT_LIKES: "Send the username of the comment's author.",
            OrderType.COMMENT_REPLIES: "Send the username of the comment's author.",
            OrderType.SUBSCRIPTIONS: "Send the username of the account to follow new posts of.",
        }
        prompt = prompts.get(service.type or OrderType.DEFAULT, "Send the username.")
        return Step(name, "Username", prompt)
    if name == Field.MEDIA:
        return Step(name, "Media", "Send the link to the post whose likers should be mentioned.")
    if name == Field.ANSWER_NUMBER:
        return Step(
            name,
            "Poll answer",
            "Which answer should get the votes? Send its number: 1 for the first answer.",
        )
    if name == Field.MIN:
        return Step(
            name, "Minimum per post", f"Minimum per post: send a number from {low} to {high}."
        )
    if name == Field.MAX:
        floor = values.get(Field.MIN.value)
        start = floor if isinstance(floor, int) else low
        return Step(
            name,
            "Maximum per post",
            f"Maximum per post: send a number from {start} to {high}.",
        )
    if name == Field.POSTS:
        return Step(
            name,
            "New posts",
            f"How many future posts should be covered? Send a number from 1 to {MAX_POSTS:,}. "
            "The price covers the maximum per post for each of them.",
        )
    if name == Field.OLD_POSTS:
        return Step(
            name,
            "Existing posts",
            "How many existing posts should be covered too? Send a number, or Skip.",
            optional=True,
        )
    if name == Field.DELAY:
        return Step(
            name,
            "Delay",
            "How long after a new post should delivery start?",
            choices=tuple(
                Choice(str(minutes), _minutes(minutes)) for minutes in sorted(SUBSCRIPTION_DELAYS)
            ),
        )
    if name == Field.EXPIRY:
        return Step(
            name,
            "Expires",
            "When should the subscription end? Send a date as day/month/year "
            "(e.g. 31/12/2030), or Skip.",
            optional=True,
        )
    if name == Field.COUNTRY:
        return Step(
            name, "Country", "Which country should the visitors come from? E.g. US or Germany."
        )
    if name == Field.DEVICE:
        return Step(
            name,
            "Device",
            "Which devices should the visitors use?",
            choices=tuple(Choice(str(k), v) for k, v in WEB_TRAFFIC_DEVICES.items()),
        )
    if name == Field.TYPE_OF_TRAFFIC:
        return Step(
            name,
            "Traffic type",
            "Where should the visitors appear to come from?",
            choices=tuple(Choice(str(k), v) for k, v in WEB_TRAFFIC_KINDS.items()),
        )
    if name == Field.GOOGLE_KEYWORD:
        return Step(name, "Google keyword", "Send the Google keyword visitors search for.")
    if name == Field.REFERRING_URL:
        return Step(name, "Referrer", "Send the referring address (starting with https://).")
    if name == DRIPFEED:
        return Step(
            name,
            "Drip-feed",
            "Drip-feed? Deliver the quantity in several runs spread over time.",
            choices=(Choice(YES, "Yes"), Choice(NO, "No")),
        )
    if name == Field.RUNS:
        return Step(
            name,
            "Runs",
            f"How many runs? Each run delivers the quantity again (2 to {MAX_RUNS}).",
        )
    if name == Field.INTERVAL:
        return Step(name, "Interval", "How many minutes between runs?")
    raise KeyError(name)


def _minutes(minutes: int) -> str:
    if minutes == 0:
        return "No delay"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} min"


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
        raise FormError("That was empty. " + step.prompt)
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
    what = f"the {step.label.lower()}"
    raw = rules.check_text(text, what, max_length=limit, multiline=is_list)
    if step.optional and raw.lower() in {SKIP, "-", "none"}:
        return None
    if step.choices:
        return _choice_value(step, raw)
    if name in (Field.LINK, Field.MEDIA, Field.REFERRING_URL):
        return _link(raw, name)
    if name == Field.QUANTITY:
        return _in_range(_whole(raw, "the quantity"), service.min, service.max)
    if name in _LIST_FIELDS:
        return _list(name, raw, service)
    if name == Field.USERNAME:
        if re.search(r"\s", raw):
            raise FormError("Send one username without spaces, e.g. @example.")
        return raw
    if name == Field.ANSWER_NUMBER:
        number = _whole(raw, "the answer's number")
        if not 1 <= number <= MAX_ANSWER_NUMBER:
            raise FormError(
                f"Send the answer's number from 1 to {MAX_ANSWER_NUMBER}: 1 for the first answer."
            )
        return number
    if name == Field.MIN:
        number = _in_range(_whole(raw, "the minimum"), service.min, service.max)
        high = values.get(Field.MAX.value)
        if isinstance(high, int) and number > high:
            raise FormError(f"The minimum cannot be above your maximum ({high}).")
        return number
    if name == Field.MAX:
        number = _in_range(_whole(raw, "the maximum"), service.min, service.max)
        low = values.get(Field.MIN.value)
        if isinstance(low, int) and number < low:
            raise FormError(f"The maximum must be at least your minimum ({low}).")
        return number
    if name == Field.POSTS:
        number = _whole(raw, "the number of posts")
        if not 1 <= number <= MAX_POSTS:
            raise FormError(f"Send a number of posts from 1 to {MAX_POSTS:,}.")
        return number
    if name == Field.OLD_POSTS:
        number = _whole(raw, "the number of existing posts")
        if number < 0:
            raise FormError("The number of existing posts cannot be negative.")
        if number > MAX_POSTS:
            raise FormError(f"At most {MAX_POSTS:,} existing posts.")
        return number
    if name == Field.EXPIRY:
        return _expiry(raw, today or datetime.now(UTC).date())
    if name == Field.COUNTRY:
        if not _COUNTRY.fullmatch(raw):
            raise FormError("Send a country code like US or a country name like United States.")
        return raw
    if name == Field.GOOGLE_KEYWORD:
        return raw
    if name == Field.RUNS:
        runs = _whole(raw, "the number of runs")
        if runs < 2:
            raise FormError("Drip-feed needs at least 2 runs.")
        if runs > MAX_RUNS:
            raise FormError(f"At most {MAX_RUNS} runs.")
        return runs
    if name == Field.INTERVAL:
        minutes = _whole(raw, "the interval in minutes")
        if not 1 <= minutes <= MAX_INTERVAL_MINUTES:
            raise FormError(
                f"The interval must be from 1 to {MAX_INTERVAL_MINUTES} minutes (one week)."
            )
        return minutes
    raise FormError("This question cannot be answered by text.")


def choose(step: Step, value: str) -> FormValue:
    """Read a button answer to ``step`` (a choice's value or ``SKIP``)."""
    if value == SKIP:
        if not step.optional:
            raise FormError("This question cannot be skipped. " + step.prompt)
        return None
    if not step.choices:
        raise FormError("Please type your answer. " + step.prompt)
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
_LIST_NOUNS = {
    Field.COMMENTS.value: ("comment", "comments"),
    Field.USERNAMES.value: ("username", "usernames"),
    Field.HASHTAGS.value: ("hashtag", "hashtags"),
    Field.KEYWORDS.value: ("keyword", "keywords"),
    Field.GROUPS.value: ("group", "groups"),
}


def _choice_value(step: Step, raw: str) -> FormValue:
    for choice in step.choices:
        if raw.lower() in {choice.value.lower(), choice.label.lower()}:
            if step.name == DRIPFEED:
                return choice.value == YES
            return int(choice.value)
    options = ", ".join(c.label for c in step.choices)
    raise FormError(f"Choose one of the buttons: {options}.")


def _link(raw: str, name: str) -> str:
    what = "a link to a post" if name == Field.MEDIA else "a link"
    return rules.link(raw, what)


def _whole(raw: str, what: str) -> int:
    return rules.whole_number(raw, what)


def _in_range(number: int, low: int, high: int) -> int:
    if number < low:
        raise FormError(f"The minimum for this service is {low}.")
    if number > high:
        raise FormError(f"The maximum for this service is {high}.")
    return number


def _list(name: str, raw: str, service: Service) -> list[str]:
    items = split_lines(raw)
    one, many = _LIST_NOUNS[name]
    if not items:
        raise FormError(f"Send at least one {one}, one per line.")
    longest = MAX_HASHTAG_LENGTH if name == Field.HASHTAGS else rules.MAX_LIST_ITEM_LENGTH
    for number, item in enumerate(items, 1):
        if utf16_len(item) > longest:
            raise FormError(
                f"{one.capitalize()} {number} is too long: at most {longest} characters each."
            )
    if service.spec.quantity_from is not None and service.spec.quantity_from.value == name:
        low, high = service.min, service.max
        if not low <= len(items) <= high:
            sent = f"{len(items)} {one if len(items) == 1 else many}"
            raise FormError(f"You sent {sent}; this service needs {low} to {high}.")
    if name == Field.USERNAMES and any(re.search(r"\s", item) for item in items):
        raise FormError("Each username goes on its own line, without spaces.")
    if name == Field.HASHTAGS and any(re.search(r"\s", item) for item in items):
        raise FormError("Each hashtag goes on its own line, without spaces, e.g. #sale.")
    return items


def _expiry(raw: str, today: date) -> str:
    for fmt in _DATE_FORMATS:
        try:
            day = date(*time.strptime(raw, fmt)[:3])
        except ValueError:
            continue
        if day < today:
            raise FormError("That date has passed: send a date from today on.")
        return day.isoformat()
    raise FormError("Send the date as day/month/year, e.g. 31/12/2030.")


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
        counted = f"{posts:,} posts" if posts != 1 else "1 post"
        if request.old_posts:
            counted += f" ({request.posts or 0:,} new + {request.old_posts:,} existing)"
        units = quantity * max(posts, 1)
        return f"Priced as up to {quantity:,} per post × {counted} = {units:,}"
    if request.runs and not request.spec.per_package:
        return f"Priced as {quantity:,} × {request.runs:,} runs = {quantity * request.runs:,}"
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
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        shown = value[:list_limit]
        text = "\n".join(f"  • {clip(item, 100)}" for item in shown)
        if len(value) > list_limit:
            text += f"\n  … and {len(value) - list_limit} more"
        return f"{len(value)}\n{text}"
    if step.choices:
        for choice in step.choices:
            if choice.value == str(value):
                return choice.label
    if step.name == Field.EXPIRY:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    if step.name == Field.INTERVAL:
        return f"{value} min"
    return clip(str(value), 300)
