"""The per-user update processor on its own: lines per user, no slot spent waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, Update, User

from bot.update_processor import SHARED_KEY, PerUserUpdateProcessor, ordering_key


def message_from(user_id: int, update_id: int) -> Update:
    user = User(user_id, f"user{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text="hi")
    return Update(update_id, message=message)


def test_updates_queue_by_user_then_chat_then_one_shared_line() -> None:
    assert ordering_key(message_from(5, 1)) == ("user", 5)
    user = User(5, "five", is_bot=False)
    tap = CallbackQuery("q1", user, chat_instance="c", data="x")
    assert ordering_key(Update(2, callback_query=tap)) == ("user", 5)
    channel = Chat(-100, Chat.CHANNEL)
    post = Message(3, datetime.now(UTC), channel, text="news")
    assert ordering_key(Update(3, channel_post=post)) == ("chat", -100)
    assert ordering_key(Update(4)) == SHARED_KEY
    assert ordering_key(object()) == SHARED_KEY


async def test_one_users_updates_run_in_order_and_others_run_meanwhile() -> None:
    processor = PerUserUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()
    log: list[str] = []

    async def slow(name: str) -> None:
        log.append(f"{name} start")
        await release.wait()
        log.append(f"{name} end")

    async def quick(name: str) -> None:
        log.append(name)

    async with processor:
        # Ann's first update waits on a slow panel; four more of hers queue behind it.
        tasks = [asyncio.create_task(processor.process_update(message_from(1, 1), slow("a1")))]
        tasks += [
            asyncio.create_task(processor.process_update(message_from(1, n), quick(f"a{n}")))
            for n in range(2, 6)
        ]
        await asyncio.sleep(0)
        assert processor.waiting_updates == 4
        # With two slots, Bob still gets one: Ann's waiting updates hold none.
        await processor.process_update(message_from(2, 6), quick("b"))
        assert log == ["a1 start", "b"]
        release.set()
        await asyncio.gather(*tasks)
    assert log == ["a1 start", "b", "a1 end", "a2", "a3", "a4", "a5"]
    assert processor.waiting_updates == 0


async def test_a_failure_outside_the_error_handlers_does_not_stop_the_line() -> None:
    processor = PerUserUpdateProcessor()
    release = asyncio.Event()
    done: list[int] = []

    async def fails() -> None:
        await release.wait()
        raise RuntimeError("boom")

    async def works(n: int) -> None:
        done.append(n)

    first = asyncio.create_task(processor.process_update(message_from(1, 1), fails()))
    await asyncio.sleep(0)
    second = asyncio.create_task(processor.process_update(message_from(1, 2), works(2)))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, second)
    assert done == [2]


async def test_updates_left_in_line_at_cancellation_are_closed_not_leaked() -> None:
    processor = PerUserUpdateProcessor()
    started = asyncio.Event()

    async def hangs() -> None:
        started.set()
        await asyncio.Event().wait()

    async def never() -> None:
        raise AssertionError("a cancelled line must not run what waited in it")

    queued = never()
    first = asyncio.create_task(processor.process_update(message_from(1, 1), hangs()))
    await started.wait()
    await processor.process_update(message_from(1, 2), queued)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert queued.cr_frame is None  # closed: no "never awaited" warning
    assert processor.waiting_updates == 0


async def test_order_holds_when_every_slot_is_busy() -> None:
    processor = PerUserUpdateProcessor(max_concurrent_updates=1)
    release = asyncio.Event()
    log: list[str] = []

    async def slow() -> None:
        await release.wait()
        log.append("ann")

    async def quick(name: str) -> None:
        log.append(name)
        await asyncio.sleep(0)

    tasks = [asyncio.create_task(processor.process_update(message_from(1, 1), slow()))]
    tasks += [
        asyncio.create_task(processor.process_update(message_from(2, n), quick(f"bob{n}")))
        for n in range(2, 7)
    ]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks)
    assert log == ["ann", "bob2", "bob3", "bob4", "bob5", "bob6"]
