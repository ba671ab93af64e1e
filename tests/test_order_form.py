"""The order form on its own: which questions each order type asks and how answers are read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot import order_form as form
from bot.order_form import DRIPFEED, FormError
from bot.panels.models import TYPE_SPECS, OrderType, Service

TODAY = date(2030, 6, 15)


def service(
    order_type: OrderType,
    *,
    low: int = 10,
    high: int = 1000,
    dripfeed: bool = False,
    flagged: bool = False,
) -> Service:
    return Service(
        service_id="77",
        name=f"Test {order_type.value}",
        type=order_type,
        type_name=order_type.value,
        category="Test category",
        rate=Decimal("1.20"),
        min=low,
        max=high,
        dripfeed=dripfeed,
        dripfeed_flagged=flagged,
    )


def answer(svc: Service, name: str, text: str, values: dict[str, Any] | None = None) -> Any:
    values = values or {}
    step = form.step_named(svc, name, values)
    assert step is not None, f"{name} is not asked for {svc.type}"
    return form.parse_answer(step, text, svc, values, today=TODAY)


def error_of(svc: Service, name: str, text: str, values: dict[str, Any] | None = None) -> str:
    with pytest.raises(FormError) as caught:
        answer(svc, name, text, values)
    return caught.value.message


def step_names(svc: Service, values: dict[str, Any] | None = None) -> list[str]:
    return [s.name for s in form.active_steps(svc, values or {})]


# --------------------------------------------------------------------------- which steps


def test_default_order_asks_link_then_quantity() -> None:
    assert step_names(service(OrderType.DEFAULT)) == ["link", "quantity"]


def test_dripfeed_question_only_when_the_panel_marks_the_service() -> None:
    svc = service(OrderType.DEFAULT, dripfeed=True, flagged=True)
    assert form.asks_dripfeed(svc)
    assert step_names(svc) == ["link", "quantity", DRIPFEED]
    assert step_names(svc, {DRIPFEED: True}) == ["link", "quantity", DRIPFEED, "runs", "interval"]
    assert step_names(svc, {DRIPFEED: False}) == ["link", "quantity", DRIPFEED]


def test_dripfeed_inferred_from_the_type_is_an_option_not_a_question() -> None:
    svc = service(OrderType.DEFAULT, dripfeed=True)
    assert form.offers_dripfeed(svc) and not form.asks_dripfeed(svc)
    assert step_names(svc) == ["link", "quantity"]
    on = form.set_dripfeed({"link": "https://a.example", "quantity": 10}, True)
    assert step_names(svc, on) == ["link", "quantity", "runs", "interval"]
    assert form.next_step(svc, on) is not None
    off = form.set_dripfeed({**on, "runs": 3, "interval": 10}, False)
    assert off == {"link": "https://a.example", "quantity": 10, DRIPFEED: False}
    assert step_names(svc, off) == ["link", "quantity"]
    assert not form.offers_dripfeed(service(OrderType.DEFAULT))
    assert not form.offers_dripfeed(service(OrderType.PACKAGE, dripfeed=True))


def test_subscriptions_skip_the_link_and_the_quantity() -> None:
    names = step_names(service(OrderType.SUBSCRIPTIONS))
    assert "link" not in names and "quantity" not in names
    assert names == ["username", "min", "max", "delay", "posts", "old_posts", "expiry"]


@pytest.mark.parametrize(
    "order_type",
    [
        OrderType.PACKAGE,
        OrderType.CUSTOM_COMMENTS,
        OrderType.MENTIONS_CUSTOM_LIST,
        OrderType.CUSTOM_COMMENTS_PACKAGE,
        OrderType.COMMENT_REPLIES,
    ],
)
def test_types_counted_from_a_list_or_a_package_never_ask_the_quantity(
    order_type: OrderType,
) -> None:
    assert "quantity" not in step_names(service(order_type))


def test_web_traffic_asks_the_keyword_or_referrer_only_for_its_traffic_type() -> None:
    svc = service(OrderType.WEB_TRAFFIC)
    base = ["link", "quantity", "country", "device", "type_of_traffic"]
    assert step_names(svc) == base
    assert step_names(svc, {"type_of_traffic": 1}) == [*base, "google_keyword"]
    assert step_names(svc, {"type_of_traffic": 2}) == [*base, "referring_url"]
    assert step_names(svc, {"type_of_traffic": 3}) == base


def test_small_answer_sets_are_buttons_and_optional_fields_can_be_skipped() -> None:
    subs = {s.name: s for s in form.active_steps(service(OrderType.SUBSCRIPTIONS), {})}
    assert [c.value for c in subs["delay"].choices][:3] == ["0", "5", "10"]
    # Posts are billed one by one, so their number is never skipped ("no limit" is not sold).
    assert not subs["posts"].optional
    assert subs["old_posts"].optional and subs["expiry"].optional
    assert not subs["username"].optional
    web = {s.name: s for s in form.active_steps(service(OrderType.WEB_TRAFFIC), {})}
    assert web["device"].choices[0].label == "Desktop"
    assert len(web["type_of_traffic"].choices) == 3


def test_next_step_walks_the_form_in_order_and_ends() -> None:
    svc = service(OrderType.DEFAULT)
    values: dict[str, Any] = {}
    asked = []
    while (step := form.next_step(svc, values)) is not None:
        asked.append(step.name)
        values[step.name] = {"link": "https://x.example/p", "quantity": 10}[step.name]
    assert asked == ["link", "quantity"]


def test_forget_drops_the_answers_that_depend_on_the_changed_one() -> None:
    values = {"link": "https://a.example", DRIPFEED: True, "runs": 3, "interval": 10}
    assert form.forget(values, DRIPFEED) == {"link": "https://a.example"}
    assert form.forget(values, "link") == {DRIPFEED: True, "runs": 3, "interval": 10}


def test_every_type_has_a_question_for_each_field_it_requires() -> None:
    for order_type, spec in TYPE_SPECS.items():
        svc = service(order_type)
        names = set(step_names(svc, {"type_of_traffic": 3}))
        for required in spec.required:
            if required.value == "quantity" and spec.quantity_from is not required:
                continue
            assert required.value in names, (order_type, required)


# --------------------------------------------------------------------------- parsers


def test_link_must_be_a_full_address() -> None:
    svc = service(OrderType.DEFAULT)
    assert answer(svc, "link", "  https://instagram.com/p/abc  ") == "https://instagram.com/p/abc"
    for bad in ["instagram.com/p/abc", "https://", "hello there", "ftp://x.com/a", "https://x"]:
        assert error_of(svc, "link", bad) == (
            "That is not a link: send a full address starting with https://"
        )


def test_quantity_respects_the_service_range() -> None:
    svc = service(OrderType.DEFAULT, low=50, high=10000)
    assert answer(svc, "quantity", "1 000") == 1000
    assert answer(svc, "quantity", "50") == 50
    assert error_of(svc, "quantity", "49") == "The minimum for this service is 50."
    assert error_of(svc, "quantity", "10001") == "The maximum for this service is 10000."
    assert error_of(svc, "quantity", "lots").startswith("Send the quantity as a whole number")
    assert error_of(svc, "quantity", "12.5").startswith("Send the quantity as a whole number")


def test_comments_count_must_fit_the_service_range() -> None:
    svc = service(OrderType.CUSTOM_COMMENTS, low=10, high=1000)
    ten = "\n".join(f"nice {i}" for i in range(10))
    assert answer(svc, "comments", ten + "\n\n") == [f"nice {i}" for i in range(10)]
    assert error_of(svc, "comments", "a\nb\nc") == (
        "You sent 3 comments; this service needs 10 to 1000."
    )
    assert error_of(svc, "comments", "only one") == (
        "You sent 1 comment; this service needs 10 to 1000."
    )


def test_comments_for_a_package_need_no_particular_count() -> None:
    svc = service(OrderType.CUSTOM_COMMENTS_PACKAGE, low=1, high=1)
    assert answer(svc, "comments", "great\nlove it") == ["great", "love it"]


def test_custom_usernames_list_counts_and_has_no_spaces() -> None:
    svc = service(OrderType.MENTIONS_CUSTOM_LIST, low=2, high=5)
    assert answer(svc, "usernames", "ann\r\nbob") == ["ann", "bob"]
    assert error_of(svc, "usernames", "ann") == "You sent 1 username; this service needs 2 to 5."
    assert "without spaces" in error_of(svc, "usernames", "ann smith\nbob")


def test_keywords_and_groups_need_at_least_one_line() -> None:
    svc = service(OrderType.SEO)
    assert answer(svc, "keywords", "buy shoes\ncheap shoes") == ["buy shoes", "cheap shoes"]
    assert error_of(svc, "keywords", "  \n ").startswith("That was empty")
    groups = service(OrderType.INVITES_FROM_GROUPS)
    assert answer(groups, "groups", "@one\n@two") == ["@one", "@two"]


def test_username_is_one_word_and_media_is_a_link() -> None:
    svc = service(OrderType.MENTIONS_USER_FOLLOWERS)
    assert answer(svc, "username", "@someone") == "@someone"
    assert (
        error_of(svc, "username", "some one") == "Send one username without spaces, e.g. @example."
    )
    likers = service(OrderType.MENTIONS_MEDIA_LIKERS)
    assert answer(likers, "media", "https://instagram.com/p/xyz") == "https://instagram.com/p/xyz"
    assert error_of(likers, "media", "xyz").startswith("That is not a link to a post")


def test_poll_answer_number_starts_at_one() -> None:
    svc = service(OrderType.POLL)
    assert answer(svc, "answer_number", "2") == 2
    assert error_of(svc, "answer_number", "0").startswith("Send the answer's number from 1")
    assert error_of(svc, "answer_number", "first").startswith("Send the answer's number as")


def test_subscription_min_and_max_stay_in_range_and_in_order() -> None:
    svc = service(OrderType.SUBSCRIPTIONS, low=100, high=5000)
    assert answer(svc, "min", "100") == 100
    assert error_of(svc, "min", "99") == "The minimum for this service is 100."
    assert answer(svc, "max", "300", {"min": 200}) == 300
    assert error_of(svc, "max", "150", {"min": 200}) == (
        "The maximum must be at least your minimum (200)."
    )
    assert error_of(svc, "max", "9000", {"min": 200}) == "The maximum for this service is 5000."
    assert error_of(svc, "min", "400", {"max": 300}) == (
        "The minimum cannot be above your maximum (300)."
    )


def test_subscription_optional_numbers_dates_and_delay() -> None:
    svc = service(OrderType.SUBSCRIPTIONS)
    assert error_of(svc, "posts", "skip").startswith("Send the number of posts as a whole")
    assert answer(svc, "posts", "5") == 5
    assert error_of(svc, "posts", "10001") == "Send a number of posts from 1 to 10,000."
    assert error_of(svc, "posts", "0") == "Send a number of posts from 1 to 10,000."
    assert answer(svc, "old_posts", "0") == 0
    assert answer(svc, "expiry", "31/12/2030") == "2030-12-31"
    assert answer(svc, "expiry", "2030-06-15") == "2030-06-15"
    assert error_of(svc, "expiry", "14/06/2030") == (
        "That date has passed: send a date from today on."
    )
    assert error_of(svc, "expiry", "next week") == (
        "Send the date as day/month/year, e.g. 31/12/2030."
    )
    assert answer(svc, "delay", "60") == 60
    assert error_of(svc, "delay", "7").startswith("Choose one of the buttons: No delay, 5 min")


def test_button_answers_and_skip() -> None:
    subs = service(OrderType.SUBSCRIPTIONS)
    delay = form.step_named(subs, "delay", {})
    posts = form.step_named(subs, "posts", {})
    assert delay is not None and posts is not None
    assert form.choose(delay, "120") == 120
    with pytest.raises(form.FormError, match="cannot be skipped"):
        form.choose(posts, form.SKIP)
    with pytest.raises(FormError, match="cannot be skipped"):
        form.choose(delay, form.SKIP)
    with pytest.raises(FormError, match="Choose one of the buttons"):
        form.choose(delay, "7")
    drip = form.step_named(service(OrderType.DEFAULT, dripfeed=True, flagged=True), DRIPFEED, {})
    assert drip is not None
    assert form.choose(drip, "yes") is True
    assert form.choose(drip, "no") is False


def test_web_traffic_answers() -> None:
    svc = service(OrderType.WEB_TRAFFIC)
    assert answer(svc, "country", "United States") == "United States"
    assert answer(svc, "country", "US") == "US"
    assert error_of(svc, "country", "12").startswith("Send a country code like US")
    assert answer(svc, "device", "Mobile (Android)") == 2
    assert answer(svc, "type_of_traffic", "1") == 1
    assert answer(svc, "google_keyword", "best shoes", {"type_of_traffic": 1}) == "best shoes"
    assert error_of(svc, "referring_url", "nope", {"type_of_traffic": 2}).startswith(
        "That is not a link"
    )


def test_dripfeed_runs_and_interval_limits() -> None:
    svc = service(OrderType.DEFAULT, dripfeed=True)
    values: dict[str, Any] = {DRIPFEED: True}
    assert answer(svc, "runs", "3", values) == 3
    assert error_of(svc, "runs", "1", values) == "Drip-feed needs at least 2 runs."
    assert error_of(svc, "runs", "5000", values) == "At most 1000 runs."
    assert answer(svc, "interval", "30", values) == 30
    assert error_of(svc, "interval", "0", values).startswith("The interval must be from 1")


def test_empty_and_oversized_answers_are_refused() -> None:
    svc = service(OrderType.DEFAULT)
    assert error_of(svc, "link", "   ").startswith("That was empty. Send the link")
    assert error_of(svc, "link", "https://a.example/" + "x" * 3000).startswith("That is too long")


# --------------------------------------------------------------------------- the request


def test_build_request_makes_a_request_the_service_accepts() -> None:
    svc = service(OrderType.WEB_TRAFFIC, dripfeed=True)
    values: dict[str, Any] = {
        "link": "https://site.example",
        "quantity": 100,
        "country": "US",
        "device": 5,
        "type_of_traffic": 1,
        "google_keyword": "shoes",
        "referring_url": "https://stale.example",  # from an earlier traffic type: ignored
        DRIPFEED: True,
        "runs": 2,
        "interval": 15,
    }
    request = form.build_request(svc, values)
    request.validate(svc)
    assert request.to_form() == {
        "link": "https://site.example",
        "quantity": "100",
        "runs": "2",
        "interval": "15",
        "country": "US",
        "device": "5",
        "type_of_traffic": "1",
        "google_keyword": "shoes",
    }


def test_build_request_for_a_subscription_with_skipped_fields() -> None:
    svc = service(OrderType.SUBSCRIPTIONS, low=10, high=100)
    values: dict[str, Any] = {
        "username": "star",
        "min": 10,
        "max": 20,
        "delay": 0,
        "posts": None,
        "old_posts": 2,
        "expiry": "2030-12-31",
    }
    request = form.build_request(svc, values)
    request.validate(svc)
    assert request.to_form() == {
        "username": "star",
        "min": "10",
        "max": "20",
        "old_posts": "2",
        "delay": "0",
        "expiry": "31/12/2030",
    }


def test_dripfeed_no_sends_no_runs() -> None:
    svc = service(OrderType.DEFAULT, dripfeed=True)
    values: dict[str, Any] = {"link": "https://a.example/x", "quantity": 10, DRIPFEED: False}
    assert form.build_request(svc, values).to_form() == {
        "link": "https://a.example/x",
        "quantity": "10",
    }


def test_describe_lists_every_answer_readably() -> None:
    svc = service(OrderType.CUSTOM_COMMENTS, low=1, high=100)
    comments = [f"c{i}" for i in range(12)]
    rows = dict(form.describe(svc, {"link": "https://a.example/p", "comments": comments}))
    assert rows["Link"] == "https://a.example/p"
    assert rows["Comments"].startswith("12\n  • c0")
    assert rows["Comments"].endswith("… and 2 more")
    subs = service(OrderType.SUBSCRIPTIONS)
    rows = dict(form.describe(subs, {"delay": 60, "posts": None, "expiry": "2030-12-31"}))
    assert rows == {"Delay": "1 hour", "New posts": "—", "Expires": "31/12/2030"}


def test_describe_shortens_long_answers_so_the_summary_fits_one_message() -> None:
    svc = service(OrderType.COMMENT_REPLIES, low=1, high=100)
    link = "https://a.example/" + "x" * 1900
    comments = ["y" * 1000] * 50
    rows = form.describe(svc, {"link": link, "username": "u" * 1500, "comments": comments})
    assert sum(len(label) + len(value) for label, value in rows) < 2500
    assert dict(rows)["Link"].endswith("…")
