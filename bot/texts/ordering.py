"""What the catalog, the order form and the order's outcome say (HTML; user and panel text
escaped).

Every string is English and translated when the screen is built (``bot.i18n``): functions
call ``_``/``ngettext``; constants are marked with ``N_`` and shown as ``_(CONSTANT)``. The
order form's questions, labels and refusals live here too; ``bot.order_form`` only decides
which of them applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bot import i18n
from bot.i18n import N_, _, ngettext
from bot.panels.models import Field
from bot.texts.amounts import CENT, money, rate
from bot.texts.fit import MAX_MESSAGE, clip, fit, visible_length
from bot.texts.supplier import customer_reason

if TYPE_CHECKING:
    from bot.order_form import Step
    from bot.services.catalog import CatalogItem, CategoryInfo
    from storage.orders import OrderRecord

# How much of a panel's (or a user's) text each screen shows, in UTF-16 units: with these the
# longest screen stays far below Telegram's 4096 whatever the catalog or the user sent.
NAME_SHOWN = 200
BUTTON_NAME_SHOWN = 40
PLACE_SHOWN = 100  # platform and category names
QUERY_SHOWN = 100
DESCRIPTION_SHOWN = 1500
ANSWER_SHOWN = 300

# --------------------------------------------------------------------------- buttons

BTN_SEARCH = N_("🔎 Search")
BTN_PLATFORMS = N_("⬅ Platforms")
BTN_BACK = N_("⬅ Back")
BTN_PREVIOUS = "◀"
BTN_NEXT = "▶"
BTN_ORDER = N_("🛒 Order")
BTN_CONFIRM = N_("✅ Confirm")
BTN_CHANGE = N_("✏ Change")
BTN_CANCEL = N_("✖ Cancel")
BTN_SKIP = N_("Skip")
BTN_BACK_TO_SUMMARY = N_("⬅ Back to the summary")
BTN_MORE_OPTIONS = N_("⚙ More options")
BTN_DRIPFEED_ON = N_("💧 Drip-feed: deliver in runs")
BTN_DRIPFEED_OFF = N_("✖ No drip-feed")

# --------------------------------------------------------------------------- catalog

CHOOSE_PLATFORM = N_("<b>Catalog</b>\nChoose a platform, or search by name or service number.")
CATALOG_EMPTY = N_(
    "The catalog is empty right now: the services are still loading. Please try again soon."
)
SEARCH_PROMPT = N_(
    "Send words from the service's name (e.g. <i>instagram followers</i>) or its number.\n"
    "You can also type them any time outside an order, or use /search &lt;words&gt;."
)
LIST_CHANGED = N_("This list has changed since. Here is the catalog again.")
SERVICE_GONE = N_("This service is no longer available. Please choose another one.")
SEARCH_EXPIRED = N_("That search has expired: send the words again.")
# Translators: what a typed search is called in the input rules' refusals ("send {what}").
THE_SEARCH = N_("the search")


def categories_title(platform: str, total: int) -> str:
    """Head the category list of a platform."""
    return ngettext(
        "<b>{platform}</b>: {count} category. Choose one:",
        "<b>{platform}</b>: {count} categories. Choose one:",
        total,
    ).format(platform=escape(clip(platform, PLACE_SHOWN)), count=i18n.number(total))


def services_title(category: CategoryInfo) -> str:
    """Head the service list of a category."""
    place = (
        f"<b>{escape(clip(category.platform, PLACE_SHOWN))}</b> › "
        f"<b>{escape(clip(category.name, PLACE_SHOWN))}</b>"
    )
    count = category.service_count
    return (
        place
        + "\n"
        + ngettext("{count} service. Choose one:", "{count} services. Choose one:", count).format(
            count=i18n.number(count)
        )
    )


def search_title(query: str, total: int) -> str:
    """Head the search results."""
    return ngettext(
        "🔎 <b>{query}</b>: {count} service found. Choose one:",
        "🔎 <b>{query}</b>: {count} services found. Choose one:",
        total,
    ).format(query=escape(clip(query, QUERY_SHOWN)), count=i18n.number(total))


def search_refused(reason: str) -> str:
    """Refuse a search the user typed (``reason`` is plain text from the input rules)."""
    return f"🔎 {escape(reason)}"


def no_results(query: str) -> str:
    """Say the search found nothing and how to search better."""
    return _(
        "🔎 Nothing matches <b>{query}</b>.\nTry fewer or shorter words, or the service's number."
    ).format(query=escape(clip(query, QUERY_SHOWN)))


def price_line(item: CatalogItem, currency: str) -> str:
    """Say the customer's price: per 1000, or per package."""
    if item.service.spec.per_package:
        text = _("{rate} {currency} per package")
    else:
        text = _("{rate} {currency} per 1000")
    return text.format(rate=rate(item.price_rate), currency=escape(currency))


def service_button(item: CatalogItem, currency: str) -> str:
    """Label a service in a list (plain text: buttons are not HTML)."""
    name = clip(item.service.name, BUTTON_NAME_SHOWN)
    if item.service.spec.per_package:
        price = _("{rate} {currency}/pkg")
    else:
        price = _("{rate} {currency}/1k")
    price = price.format(rate=rate(item.price_rate), currency=currency)
    return f"#{item.item_id} {name} · {price}"


def _yes_no(flag: bool) -> str:
    return _("✅ yes") if flag else _("✖ no")


def service_card(item: CatalogItem, currency: str) -> str:
    """Describe one service: name, price, limits and what it offers."""
    service = item.service
    type_name = escape(clip(service.type_name, PLACE_SHOWN)) if service.type_name else _("Default")
    lines = [
        f"<b>{escape(clip(service.name, NAME_SHOWN))}</b>",
        _("Service #{number} · {platform} › {category}").format(
            number=item.item_id,
            platform=escape(clip(item.platform, PLACE_SHOWN)),
            category=escape(clip(item.category, PLACE_SHOWN)),
        ),
        _("Type: {type}").format(type=type_name),
        "",
        _("💵 Price: {price}").format(price=price_line(item, currency)),
    ]
    if service.spec.per_package:
        lines.append(_("📦 Sold as a package"))
    else:
        lines.append(
            _("📏 Order from {minimum} to {maximum}").format(
                minimum=i18n.number(service.min), maximum=i18n.number(service.max)
            )
        )
    lines += [
        _("♻ Refill: {answer}").format(answer=_yes_no(service.refill)),
        _("🛑 Cancel: {answer}").format(answer=_yes_no(service.cancel)),
        _("💧 Drip-feed: {answer}").format(answer=_yes_no(service.dripfeed)),
    ]
    if service.description:
        lines += ["", escape(clip(service.description.strip(), DESCRIPTION_SHOWN))]
    if not service.orderable:
        lines += ["", _(NOT_ORDERABLE)]
    return fit("\n".join(lines))


# --------------------------------------------------------------------------- the form's steps

# How the summary, the Change menu and the questions name each answer.
_LABELS = {
    Field.LINK.value: N_("Link"),
    Field.QUANTITY.value: N_("Quantity"),
    Field.COMMENTS.value: N_("Comments"),
    Field.USERNAMES.value: N_("Usernames"),
    Field.HASHTAGS.value: N_("Hashtags"),
    Field.KEYWORDS.value: N_("Keywords"),
    Field.GROUPS.value: N_("Groups"),
    Field.USERNAME.value: N_("Username"),
    Field.MEDIA.value: N_("Media"),
    Field.ANSWER_NUMBER.value: N_("Poll answer"),
    Field.MIN.value: N_("Minimum per post"),
    Field.MAX.value: N_("Maximum per post"),
    Field.POSTS.value: N_("New posts"),
    Field.OLD_POSTS.value: N_("Existing posts"),
    Field.DELAY.value: N_("Delay"),
    Field.EXPIRY.value: N_("Expires"),
    Field.COUNTRY.value: N_("Country"),
    Field.DEVICE.value: N_("Device"),
    Field.TYPE_OF_TRAFFIC.value: N_("Traffic type"),
    Field.GOOGLE_KEYWORD.value: N_("Google keyword"),
    Field.REFERRING_URL.value: N_("Referrer"),
    "dripfeed": N_("Drip-feed"),
    Field.RUNS.value: N_("Runs"),
    Field.INTERVAL.value: N_("Interval"),
}
# The same answers named inside a refusal ("Send {what} on one line.", "That is too long for
# {what}"). Translators: the form the sentences "Send …" take (Russian: accusative).
_ANSWER_NAMES = {
    Field.LINK.value: N_("the link"),
    Field.QUANTITY.value: N_("the quantity"),
    Field.COMMENTS.value: N_("the comments"),
    Field.USERNAMES.value: N_("the usernames"),
    Field.HASHTAGS.value: N_("the hashtags"),
    Field.KEYWORDS.value: N_("the keywords"),
    Field.GROUPS.value: N_("the groups"),
    Field.USERNAME.value: N_("the username"),
    Field.MEDIA.value: N_("the media"),
    Field.ANSWER_NUMBER.value: N_("the poll answer"),
    Field.MIN.value: N_("the minimum per post"),
    Field.MAX.value: N_("the maximum per post"),
    Field.POSTS.value: N_("the new posts"),
    Field.OLD_POSTS.value: N_("the existing posts"),
    Field.DELAY.value: N_("the delay"),
    Field.EXPIRY.value: N_("the expires"),
    Field.COUNTRY.value: N_("the country"),
    Field.DEVICE.value: N_("the device"),
    Field.TYPE_OF_TRAFFIC.value: N_("the traffic type"),
    Field.GOOGLE_KEYWORD.value: N_("the google keyword"),
    Field.REFERRING_URL.value: N_("the referrer"),
    "dripfeed": N_("the drip-feed"),
    Field.RUNS.value: N_("the runs"),
    Field.INTERVAL.value: N_("the interval"),
}
# Translators: what a number is called in "Send {what} as a whole number…" (accusative).
NUMBER_NAMES = {
    Field.QUANTITY.value: N_("the quantity"),
    Field.ANSWER_NUMBER.value: N_("the answer's number"),
    Field.MIN.value: N_("the minimum"),
    Field.MAX.value: N_("the maximum"),
    Field.POSTS.value: N_("the number of posts"),
    Field.OLD_POSTS.value: N_("the number of existing posts"),
    Field.RUNS.value: N_("the number of runs"),
    Field.INTERVAL.value: N_("the interval in minutes"),
}
# Translators: "That is not {what}: send a full address…" (Russian: nominative).
A_LINK = N_("a link")
A_LINK_TO_A_POST = N_("a link to a post")
DEVICES = {
    1: N_("Desktop"),
    2: N_("Mobile (Android)"),
    3: N_("Mobile (iOS)"),
    4: N_("Mixed (Mobile)"),
    5: N_("Mixed (Mobile & Desktop)"),
}
TRAFFIC_KINDS = {1: N_("Google keyword"), 2: N_("Custom referrer"), 3: N_("Blank referrer")}
YES = N_("Yes")
NO = N_("No")
NO_ANSWER = "—"


def field_label(name: str) -> str:
    """How a form answer is named on the summary and the Change menu."""
    return _(_LABELS[name])


def answer_name(name: str) -> str:
    """How a form answer is named inside a refusal ("the link")."""
    return _(_ANSWER_NAMES[name])


def number_name(name: str) -> str:
    """How a number the form asks for is named inside a refusal ("the quantity")."""
    return _(NUMBER_NAMES[name])


def delay_label(minutes: int) -> str:
    """Name a subscription's delay on its button."""
    if minutes == 0:
        return _("No delay")
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("{count} hour", "{count} hours", hours).format(count=hours)
    return _("{count} min").format(count=minutes)


ASK_LINK = N_("Send the link (a full address starting with https://).")
ASK_HASHTAGS = N_("Send the hashtags to post with the mentions. Send one per line.")
ASK_KEYWORDS = N_("Send the search keywords. Send one per line.")
ASK_GROUPS = N_("Send the groups to invite from. Send one per line.")
ASK_USERNAME = N_("Send the username.")
ASK_FOLLOWERS_OF = N_("Send the username (or profile link) whose followers should be mentioned.")
ASK_COMMENT_AUTHOR = N_("Send the username of the comment's author.")
ASK_SUBSCRIBED_ACCOUNT = N_("Send the username of the account to follow new posts of.")
ASK_MEDIA = N_("Send the link to the post whose likers should be mentioned.")
ASK_ANSWER_NUMBER = N_(
    "Which answer should get the votes? Send its number: 1 for the first answer."
)
ASK_OLD_POSTS = N_("How many existing posts should be covered too? Send a number, or Skip.")
ASK_DELAY = N_("How long after a new post should delivery start?")
ASK_EXPIRY = N_(
    "When should the subscription end? Send a date as day/month/year (e.g. 31/12/2030), or Skip."
)
ASK_COUNTRY = N_("Which country should the visitors come from? E.g. US or Germany.")
ASK_DEVICE = N_("Which devices should the visitors use?")
ASK_TRAFFIC_TYPE = N_("Where should the visitors appear to come from?")
ASK_GOOGLE_KEYWORD = N_("Send the Google keyword visitors search for.")
ASK_REFERRER = N_("Send the referring address (starting with https://).")
ASK_DRIPFEED = N_("Drip-feed? Deliver the quantity in several runs spread over time.")
ASK_INTERVAL = N_("How many minutes between runs?")


def ask_quantity(low: int, high: int) -> str:
    """Ask for the quantity within the service's limits."""
    return _("How many? Send a number from {minimum} to {maximum}.").format(
        minimum=low, maximum=high
    )


def ask_comments(low: int, high: int, *, counted: bool) -> str:
    """Ask for the custom comments (``counted``: their number is the quantity)."""
    if counted:
        return _("Send {minimum} to {maximum} comments. Send one per line.").format(
            minimum=low, maximum=high
        )
    return _("Send the comments for this package. Send one per line.")


def ask_usernames(low: int, high: int, *, counted: bool) -> str:
    """Ask for the usernames (``counted``: their number is the quantity)."""
    if counted:
        return _("Send {minimum} to {maximum} usernames. Send one per line.").format(
            minimum=low, maximum=high
        )
    return _("Send the usernames to mention. Send one per line.")


def ask_minimum(low: int, high: int) -> str:
    """Ask for a subscription's minimum per post."""
    return _("Minimum per post: send a number from {minimum} to {maximum}.").format(
        minimum=low, maximum=high
    )


def ask_maximum(low: int, high: int) -> str:
    """Ask for a subscription's maximum per post."""
    return _("Maximum per post: send a number from {minimum} to {maximum}.").format(
        minimum=low, maximum=high
    )


def ask_posts(most: int) -> str:
    """Ask how many future posts a subscription covers."""
    return _(
        "How many future posts should be covered? Send a number from 1 to {maximum}. "
        "The price covers the maximum per post for each of them."
    ).format(maximum=i18n.number(most))


def ask_runs(most: int) -> str:
    """Ask how many drip-feed runs."""
    return _("How many runs? Each run delivers the quantity again (2 to {maximum}).").format(
        maximum=most
    )


# --------------------------------------------------------------------------- the form's refusals


def empty_answer(prompt: str) -> str:
    """Refuse an empty answer and ask again."""
    return _("That was empty. {question}").format(question=prompt)


def cannot_skip(prompt: str) -> str:
    """Refuse Skip on a question that must be answered."""
    return _("This question cannot be skipped. {question}").format(question=prompt)


def type_it(prompt: str) -> str:
    """Refuse a button where a typed answer is needed."""
    return _("Please type your answer. {question}").format(question=prompt)


def choose_a_button(options: Sequence[str]) -> str:
    """Refuse a typed answer that is none of the buttons."""
    return _("Choose one of the buttons: {options}.").format(options=", ".join(options))


ONE_USERNAME = N_("Send one username without spaces, e.g. @example.")
NEGATIVE_OLD_POSTS = N_("The number of existing posts cannot be negative.")
BAD_COUNTRY = N_("Send a country code like US or a country name like United States.")
TOO_FEW_RUNS = N_("Drip-feed needs at least 2 runs.")
NOT_BY_TEXT = N_("This question cannot be answered by text.")
USERNAMES_ONE_PER_LINE = N_("Each username goes on its own line, without spaces.")
HASHTAGS_ONE_PER_LINE = N_("Each hashtag goes on its own line, without spaces, e.g. #sale.")
DATE_PASSED = N_("That date has passed: send a date from today on.")
BAD_DATE = N_("Send the date as day/month/year, e.g. 31/12/2030.")


def answer_number_out_of_range(most: int) -> str:
    """Refuse a poll answer number outside 1..``most``."""
    return _("Send the answer's number from 1 to {maximum}: 1 for the first answer.").format(
        maximum=most
    )


def minimum_above_maximum(high: int) -> str:
    """Refuse a minimum per post above the maximum already given."""
    return _("The minimum cannot be above your maximum ({maximum}).").format(maximum=high)


def maximum_below_minimum(low: int) -> str:
    """Refuse a maximum per post below the minimum already given."""
    return _("The maximum must be at least your minimum ({minimum}).").format(minimum=low)


def posts_out_of_range(most: int) -> str:
    """Refuse a number of future posts outside 1..``most``."""
    return _("Send a number of posts from 1 to {maximum}.").format(maximum=i18n.number(most))


def too_many_old_posts(most: int) -> str:
    """Refuse more existing posts than allowed."""
    return _("At most {maximum} existing posts.").format(maximum=i18n.number(most))


def too_many_runs(most: int) -> str:
    """Refuse more drip-feed runs than allowed."""
    return _("At most {maximum} runs.").format(maximum=most)


def interval_out_of_range(most: int) -> str:
    """Refuse a drip-feed interval outside 1..``most`` minutes."""
    return _("The interval must be from 1 to {maximum} minutes (one week).").format(maximum=most)


def below_minimum(low: int) -> str:
    """Refuse a number under the service's minimum."""
    return _("The minimum for this service is {minimum}.").format(minimum=low)


def above_maximum(high: int) -> str:
    """Refuse a number over the service's maximum."""
    return _("The maximum for this service is {maximum}.").format(maximum=high)


def list_empty(name: str) -> str:
    """Refuse a list with no item in it."""
    messages = {
        Field.COMMENTS.value: N_("Send at least one comment, one per line."),
        Field.USERNAMES.value: N_("Send at least one username, one per line."),
        Field.HASHTAGS.value: N_("Send at least one hashtag, one per line."),
        Field.KEYWORDS.value: N_("Send at least one keyword, one per line."),
        Field.GROUPS.value: N_("Send at least one group, one per line."),
    }
    return _(messages[name])


def list_item_too_long(name: str, number: int, longest: int) -> str:
    """Refuse a list whose item ``number`` (from 1) is longer than ``longest``."""
    messages = {
        Field.COMMENTS.value: N_(
            "Comment {number} is too long: at most {maximum} characters each."
        ),
        Field.USERNAMES.value: N_(
            "Username {number} is too long: at most {maximum} characters each."
        ),
        Field.HASHTAGS.value: N_(
            "Hashtag {number} is too long: at most {maximum} characters each."
        ),
        Field.KEYWORDS.value: N_(
            "Keyword {number} is too long: at most {maximum} characters each."
        ),
        Field.GROUPS.value: N_("Group {number} is too long: at most {maximum} characters each."),
    }
    return _(messages[name]).format(number=number, maximum=longest)


def list_count_out_of_range(name: str, count: int, low: int, high: int) -> str:
    """Refuse a list whose number of items is not what the service needs."""
    if name == Field.COMMENTS:
        text = ngettext(
            "You sent {count} comment; this service needs {minimum} to {maximum}.",
            "You sent {count} comments; this service needs {minimum} to {maximum}.",
            count,
        )
    elif name == Field.USERNAMES:
        text = ngettext(
            "You sent {count} username; this service needs {minimum} to {maximum}.",
            "You sent {count} usernames; this service needs {minimum} to {maximum}.",
            count,
        )
    elif name == Field.HASHTAGS:
        text = ngettext(
            "You sent {count} hashtag; this service needs {minimum} to {maximum}.",
            "You sent {count} hashtags; this service needs {minimum} to {maximum}.",
            count,
        )
    elif name == Field.KEYWORDS:
        text = ngettext(
            "You sent {count} keyword; this service needs {minimum} to {maximum}.",
            "You sent {count} keywords; this service needs {minimum} to {maximum}.",
            count,
        )
    else:
        text = ngettext(
            "You sent {count} group; this service needs {minimum} to {maximum}.",
            "You sent {count} groups; this service needs {minimum} to {maximum}.",
            count,
        )
    return text.format(count=count, minimum=low, maximum=high)


# --------------------------------------------------------------------------- the form's answers


def list_answer(count: int, items: Sequence[str], more: int) -> str:
    """Show a list answer: how many, the first items, and how many more are not shown."""
    text = "\n".join(f"  • {item}" for item in items)
    if more > 0:
        text += "\n" + _("  … and {count} more").format(count=more)
    return f"{count}\n{text}"


def minutes_answer(minutes: object) -> str:
    """Show a drip-feed interval."""
    return _("{count} min").format(count=minutes)


def price_basis_posts(quantity: int, posts: int, new: int, old: int, units: int) -> str:
    """Say a subscription's total is the most per post times the posts it covers."""
    counted = ngettext("{count} post", "{count} posts", posts).format(count=i18n.number(posts))
    if old:
        counted += " " + _("({new} new + {old} existing)").format(
            new=i18n.number(new), old=i18n.number(old)
        )
    return _("Priced as up to {quantity} per post × {posts} = {units}").format(
        quantity=i18n.number(quantity), posts=counted, units=i18n.number(units)
    )


def price_basis_runs(quantity: int, runs: int) -> str:
    """Say a drip-feed total is the quantity times its runs."""
    return ngettext(
        "Priced as {quantity} × {runs} run = {units}",
        "Priced as {quantity} × {runs} runs = {units}",
        runs,
    ).format(
        quantity=i18n.number(quantity),
        runs=i18n.number(runs),
        units=i18n.number(quantity * runs),
    )


# --------------------------------------------------------------------------- the order form


def _title(item: CatalogItem) -> str:
    return f"🛒 <b>{escape(clip(item.service.name, NAME_SHOWN))}</b>"


def _answer_lines(rows: Sequence[tuple[str, str]]) -> list[str]:
    return [answer_line(label, clip(value, ANSWER_SHOWN)) for label, value in rows]


def answer_line(label: str, value: str) -> str:
    """One answer on the summary or the order card: its label and the value (escaped here)."""
    # Translators: a label and its value ("Link: https://…"); French puts a space before ":".
    return _("{label}: {value}").format(label=escape(label), value=escape(value))


def question(
    item: CatalogItem,
    step: Step,
    *,
    number: int,
    total: int,
    answers: Sequence[tuple[str, str]] = (),
    error: str | None = None,
) -> str:
    """Show the order form at one question: progress, the answers so far, the reason the
    last answer failed, then the question itself (kept whole when the answers are cut)."""
    lines = [_title(item), _("Step {step} of {total}").format(step=number, total=total)]
    if answers:
        lines += ["", *_answer_lines(answers)]
    tail = [""]
    if error:
        tail.append(f"⚠ {escape(clip(error, ANSWER_SHOWN))}")
    tail.append(f"<b>{escape(step.prompt)}</b>")
    if step.optional:
        tail.append(_("Or tap Skip."))
    tail += ["", _("/cancel to stop.")]
    return _fit_keeping_tail([*lines, *tail], money_lines=len(tail))


def change_menu(
    item: CatalogItem, answers: Sequence[tuple[str, str]], *, notice: str | None = None
) -> str:
    """Show the answers and ask which one to change."""
    lines = [_title(item), "", *_answer_lines(answers)]
    tail = [""]
    if notice:
        tail.append(f"⚠ {escape(notice)}")
    tail.append(_(CHOOSE_FIELD))
    return _fit_keeping_tail([*lines, *tail], money_lines=len(tail))


def more_options(item: CatalogItem, *, dripfeed: bool, notice: str | None = None) -> str:
    """Offer what an order can have besides its answers: drip-feed, for now."""
    if dripfeed:
        state = _(
            "💧 Drip-feed is on. With drip-feed the quantity is delivered again in several "
            "runs, spread over time; every run is charged."
        )
    else:
        state = _(
            "💧 Drip-feed is off. With drip-feed the quantity is delivered again in several "
            "runs, spread over time; every run is charged."
        )
    lines = [_title(item), "", _("⚙ <b>More options</b>"), state]
    if notice:
        lines += ["", f"⚠ {escape(notice)}"]
    return fit("\n".join(lines))


USE_BUTTONS_SUMMARY = N_("Please use the buttons under the summary: Confirm, Change or Cancel.")
USE_BUTTONS_CHANGE = N_("Please choose what to change with the buttons above.")
USE_BUTTONS_OPTIONS = N_("Please choose with the buttons above.")
SEND_TEXT = N_("Please answer with a text message (or the buttons).")
CHOOSE_FIELD = N_("What would you like to change?")
DRAFT_LOST = N_("Your order draft was lost. Please choose the service again from the catalog.")
DRAFT_EXPIRED = N_(
    "⌛ Your order draft expired. Nothing was charged. Start again from the catalog."
)
CANCELLED = N_("Order cancelled. Nothing was charged.")
SUMMARY_STALE = N_("This summary is out of date.")
QUESTION_STALE = N_("This question is out of date.")
PLACING = N_("Placing your order…")
NOT_ORDERABLE = N_("This service cannot be ordered through the bot.")


def summary(
    item: CatalogItem,
    rows: Sequence[tuple[str, str]],
    *,
    price: Decimal,
    balance: Decimal,
    currency: str,
    charged: bool,
    basis: str | None = None,
    notice: str | None = None,
) -> str:
    """Show the whole order before it is placed: the answers, the unit price and how the
    total is counted, the total, the user's balance, and last a notice (HTML) if any.

    ``basis`` says how the total is computed when it is more than quantity × rate.
    """
    lines = [
        _("🧾 <b>Check your order</b>"),
        "",
        _("Service: <b>{name}</b> (#{number})").format(
            name=escape(clip(item.service.name, NAME_SHOWN)), number=item.item_id
        ),
    ]
    lines += _answer_lines(rows)
    answers_end = len(lines)
    lines += ["", _("🏷 Price: {price}").format(price=price_line(item, currency))]
    if basis:
        lines.append(f"🧮 {escape(basis)}")
    lines.append(_("💵 Total: <b>{amount}</b>").format(amount=money(price, currency)))
    if charged:
        lines.append(_("👛 Your balance: {amount}").format(amount=money(balance, currency)))
        if balance < price:
            lines.append(
                _("⚠ You need {amount} more to place this order.").format(
                    amount=money(price - balance, currency)
                )
            )
    else:
        lines.append(_("👑 Admin order: your balance will not be charged."))
    if notice:
        lines += ["", notice]
    # The money lines go last, so a summary too long to send shows them first when cut.
    return _fit_keeping_tail(lines, money_lines=len(lines) - answers_end)


def placed(order: OrderRecord, balance: Decimal, currency: str) -> str:
    """Report an order our supplier accepted."""
    paid = (
        _("Charged {price}; your balance is now {balance}.").format(
            price=money(order.price, currency), balance=money(balance, currency)
        )
        if order.charged
        else _("Admin order: nothing was charged.")
    )
    return _(
        "✅ Order <b>#{number}</b> placed: {service}.\n{paid}\n"
        "You will be told when its status changes."
    ).format(
        number=order.order_id, service=escape(clip(order.service_name, NAME_SHOWN)), paid=paid
    )


def _nothing_charged(order: OrderRecord | None, balance: Decimal, currency: str) -> str:
    if order is not None and order.charged:
        return _(
            "Nothing was charged: the {price} went straight back to your balance ({balance})."
        ).format(price=money(order.price, currency), balance=money(balance, currency))
    return _("Nothing was charged.")


def refused(
    reason: str,
    order: OrderRecord | None,
    balance: Decimal,
    currency: str,
    *,
    refusal: str = "order",
) -> str:
    """Report an order that was not placed, in the customer's words (no supply chain).

    ``refusal`` says whose side it came from (``bot.services.ordering.Refusal``): the
    supplier not reached, the supplier unable to take orders, or the order itself refused;
    ``reason`` (the panel's words) is quoted only for the last, and only when it is safe.
    """
    money_line = _nothing_charged(order, balance, currency)
    number = order.order_id if order is not None else None
    if refusal == "unreachable":
        if number is None:
            text = _(
                "❌ We could not reach our supplier just now, so the order was not placed. "
                "{charged}\nPlease try again in a few minutes."
            )
        else:
            text = _(
                "❌ We could not reach our supplier just now, so order #{number} was not "
                "placed. {charged}\nPlease try again in a few minutes."
            )
        return text.format(number=number, charged=money_line)
    if refusal == "supplier":
        if number is None:
            text = _(
                "❌ Our supplier cannot take this order right now, so the order was not "
                "placed. {charged}\nThe shop has been told; please try again later."
            )
        else:
            text = _(
                "❌ Our supplier cannot take this order right now, so order #{number} was not "
                "placed. {charged}\nThe shop has been told; please try again later."
            )
        return text.format(number=number, charged=money_line)
    words = customer_reason(reason)
    if number is None and words:
        text = _("❌ The order was refused: {reason}\n{charged}\nTap the service to try again.")
    elif number is None:
        text = _("❌ The order was refused.\n{charged}\nTap the service to try again.")
    elif words:
        text = _(
            "❌ Order #{number} was refused: {reason}\n{charged}\nTap the service to try again."
        )
    else:
        text = _("❌ Order #{number} was refused.\n{charged}\nTap the service to try again.")
    return text.format(number=number, reason=escape(words or ""), charged=money_line)


def held(order: OrderRecord | None, currency: str, *, own: bool = False) -> str:
    """Report an order whose outcome is unknown and is now under review (``own``: the
    admin who placed it is the one who reviews it)."""
    if own:
        if order is None:
            return _(
                "⏳ The order could not be confirmed with the panel. It is held for review: "
                "check the panel, then settle it with /review."
            )
        return _(
            "⏳ Order <b>#{number}</b> could not be confirmed with the panel. It is held for "
            "review: check the panel, then settle it with /review."
        ).format(number=order.order_id)
    money_line = (
        _("The {price} stays held until then.").format(price=money(order.price, currency))
        if order is not None and order.charged
        else _("Nothing more will be sent until then.")
    )
    if order is None:
        text = _(
            "⏳ We could not confirm your order with our supplier. It is under review: an "
            "admin will check it and tell you the result.\n{held}"
        )
    else:
        text = _(
            "⏳ We could not confirm your order <b>#{number}</b> with our supplier. It is under "
            "review: an admin will check it and tell you the result.\n{held}"
        )
    return text.format(number=order.order_id if order else None, held=money_line)


def price_changed(old: Decimal, new: Decimal, currency: str) -> str:
    """Say the price moved since the summary was shown; nothing was charged."""
    return _(
        "⚠ The price of this order changed from {old} to <b>{new}</b> since it was shown. "
        "Nothing was charged: check the new summary and confirm again."
    ).format(old=money(old, currency), new=money(new, currency))


def no_funds(price: Decimal, balance: Decimal, currency: str) -> str:
    """Say how much is missing; nothing was charged."""
    missing = max(price - balance, CENT)
    return _(
        "👛 Not enough balance: this order costs {price} and you have {balance}; {missing} is "
        "missing. Nothing was charged. Top up, then tap Confirm again, or Cancel."
    ).format(
        price=money(price, currency),
        balance=money(balance, currency),
        missing=money(missing, currency),
    )


def duplicate(order: OrderRecord | None) -> str:
    """Say this summary was already placed as an order."""
    if order is None:
        return _("This order was already placed.")
    return _("This order was already placed: order <b>#{number}</b> ({status}).").format(
        number=order.order_id, status=escape(order.status)
    )


def already_placed_alert(order_id: int | None) -> str:
    """Answer a second tap on Confirm (plain text: callback alerts are not HTML)."""
    if order_id:
        return _("Already placed as order #{number}.").format(number=order_id)
    return _("Already placed.")


def invalid(reason: str) -> str:
    """Say the order cannot be placed as it is and how to fix it."""
    words = customer_reason(reason)
    if words:
        return _(
            "⚠ This order cannot be placed as it is: {reason}.\nTap Change to fix it."
        ).format(reason=escape(words))
    return _("⚠ This order cannot be placed as it is.\nTap Change to fix it.")


def unavailable(reason: str) -> str:
    """Say the service is gone (``reason`` is for the log: it may name the supplier)."""
    return _("This service is no longer available. Nothing was charged.")


def admin_order_refused(
    order: OrderRecord | None, panel: str, refusal: str, words: str, currency: str
) -> str:
    """Tell the admins an order was not placed for a reason on the supply side."""
    if order is None:
        number = _("An order")
    elif order.charged:
        number = _("Order <b>#{number}</b> of user <code>{user_id}</code> ({price}, refunded)")
    else:
        number = _("Order <b>#{number}</b> of user <code>{user_id}</code>")
    if order is not None:
        number = number.format(
            number=order.order_id, user_id=order.user_id, price=money(order.price, currency)
        )
    if refusal == "unreachable":
        text = _("⚠️ {order} was not placed: panel <b>{panel}</b> could not be reached.")
    else:
        text = _("⚠️ {order} was not placed: panel <b>{panel}</b> refused it.")
    said = _("The panel said: <code>{words}</code>").format(words=escape(clip(words, 1000)))
    return fit(
        text.format(order=number, panel=escape(clip(panel, 100)))
        + "\n"
        + said
        + "\n"
        + _("The customer was told nothing was charged. Check the panel (/panels).")
    )


def _fit_keeping_tail(lines: list[str], *, money_lines: int) -> str:
    """Join a screen, cutting the middle (the answers) rather than its last lines."""
    text = "\n".join(lines)
    if fit(text) == text:
        return text
    head, tail = lines[:-money_lines], lines[-money_lines:]
    tail_text = "\n".join(tail)
    budget = MAX_MESSAGE - visible_length(tail_text) - 2
    return fit("\n".join(head), budget) + "\n" + tail_text
