"""The line in front of the workers (bot.jobs.threads): waiting instead of "busy", places, per-user limits,
refusals only for what could not finish in time; and how both front ends show it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.jobs.errors import BusyError, QueueTooLongError, TooManyJobsError
from bot.jobs.threads import Place, WorkerPool
from bot.services import Caller
from tests.support.bot_fixtures import GUILD_ID, OTHER_USER_ID, USER_ID, wav_bytes


def pool(**overrides) -> WorkerPool:
    settings = {"workers": 1, "max_waiting": 100, "per_owner": 3, **overrides}
    return WorkerPool("test", **settings)


async def until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_jobs_beyond_the_workers_wait_in_order_and_are_told_their_place():
    workers = pool()
    gate = threading.Event()
    order: list[str] = []
    places: dict[str, list[int]] = {"b": [], "c": []}

    def job(name: str) -> str:
        gate.wait(5)
        order.append(name)
        return name

    first = asyncio.create_task(workers.run(job, "a", owner=1))
    second = asyncio.create_task(workers.run(job, "b", owner=2, on_place=lambda p: places["b"].append(p.place)))
    third = asyncio.create_task(workers.run(job, "c", owner=3, on_place=lambda p: places["c"].append(p.place)))
    await until(lambda: workers.waiting == 2)
    gate.set()

    assert await asyncio.gather(first, second, third) == ["a", "b", "c"]
    assert order == ["a", "b", "c"]
    assert places == {"b": [1, 0], "c": [2, 1, 0]}  # joined at 1 and 2, moved up, started
    await workers.close()


async def test_one_owner_cannot_fill_the_line():
    workers = pool(per_owner=2)
    gate = threading.Event()
    mine = [asyncio.create_task(workers.run(gate.wait, 5, owner="me")) for _ in range(2)]
    await until(lambda: workers.in_flight == 2)

    with pytest.raises(TooManyJobsError) as refused:
        await workers.run(gate.wait, 5, owner="me")
    other = asyncio.create_task(workers.run(lambda: "queued", owner="you"))  # others still get in line
    gate.set()

    assert refused.value.limit == 2 and "2 request(s) in line" in str(refused.value)
    assert await other == "queued" and await asyncio.gather(*mine) == [True, True]
    await workers.close()


async def test_the_line_is_bounded_by_count_and_by_bytes():
    workers = pool(max_waiting=1, max_waiting_bytes=1000)
    gate = threading.Event()
    running = asyncio.create_task(workers.run(gate.wait, 5))
    waiting = asyncio.create_task(workers.run(gate.wait, 5, weight=600))
    await until(lambda: workers.waiting == 1)

    with pytest.raises(BusyError):
        await workers.run(lambda: None)  # a second waiting job: over max_waiting
    workers.max_waiting = 10
    with pytest.raises(BusyError):
        await workers.run(lambda: None, weight=500)  # 1100 bytes waiting: over max_waiting_bytes
    small = asyncio.create_task(workers.run(lambda: "fits", weight=300))
    gate.set()

    assert await small == "fits" and await asyncio.gather(running, waiting) == [True, True]
    await workers.close()


async def test_refused_only_when_the_estimate_passes_the_callers_deadline():
    workers = pool(workers=2, initial_job_s=100)
    gate = threading.Event()
    running = [asyncio.create_task(workers.run(gate.wait, 5)) for _ in range(2)]
    await until(lambda: workers.in_flight == 2)

    assert workers.estimate_s(1) == pytest.approx(150)  # mean x (place / workers + 1)
    queued = asyncio.create_task(workers.run(lambda: "in time", max_wait_s=160))  # place 1: 150 s
    await until(lambda: workers.waiting == 1)
    with pytest.raises(QueueTooLongError) as refused:
        await workers.run(lambda: None, max_wait_s=160)  # place 2: 200 s
    gate.set()

    assert (refused.value.ahead, refused.value.eta_s) == (3, pytest.approx(200))  # 2 running, 1 waiting
    assert "3 song(s) are ahead of yours; that would take about 3:20" in str(refused.value)
    assert await queued == "in time" and len(await asyncio.gather(*running)) == 2
    assert workers.mean_job_s < 100  # the running mean moved towards the real (short) job times
    await workers.close()


async def test_a_caller_who_gives_up_while_waiting_leaves_the_line():
    workers = pool()
    gate = threading.Event()
    ran: list[str] = []
    places: list[int] = []
    running = asyncio.create_task(workers.run(gate.wait, 5))
    leaving = asyncio.create_task(workers.run(ran.append, "leaving"))
    staying = asyncio.create_task(workers.run(ran.append, "staying", on_place=lambda p: places.append(p.place)))
    await until(lambda: workers.waiting == 2)

    leaving.cancel()
    await until(lambda: workers.waiting == 1)
    gate.set()
    await asyncio.gather(running, staying)

    assert ran == ["staying"] and places == [2, 1, 0]
    await workers.close()


async def test_cancelled_callers_keep_their_slot_until_the_work_ends():
    workers = pool(max_waiting=0)
    gate = threading.Event()
    caller = asyncio.create_task(workers.run(gate.wait, 5))
    await until(lambda: workers.in_flight == 1)
    caller.cancel()  # e.g. the interaction expired; the thread still runs
    await asyncio.sleep(0)

    with pytest.raises(BusyError):
        await workers.run(lambda: None)
    gate.set()
    await until(lambda: workers.in_flight == 0)
    await workers.close()


async def test_closing_turns_away_waiting_jobs_and_refuses_new_ones():
    workers = pool()
    gate = threading.Event()
    running = asyncio.create_task(workers.run(gate.wait, 5))
    waiting = asyncio.create_task(workers.run(lambda: "never"))
    await until(lambda: workers.waiting == 1)

    closing = asyncio.create_task(workers.close())
    await asyncio.sleep(0.05)
    gate.set()
    await closing

    assert await running is True
    with pytest.raises(BusyError):
        await waiting
    with pytest.raises(BusyError):
        await workers.run(lambda: None)


async def test_services_tell_the_waiting_caller_its_place(make_services):
    services = await make_services(workers=1, queue_size=50)
    engine = services.engine
    engine.gate = threading.Event()
    first = asyncio.create_task(services.classify(Caller(GUILD_ID, USER_ID), _audio(300)))
    await asyncio.to_thread(engine.started.acquire, timeout=5)
    places: list[Place] = []

    second = asyncio.create_task(
        services.classify(Caller(GUILD_ID, OTHER_USER_ID), _audio(400), on_place=places.append)
    )
    await until(lambda: places)
    engine.gate.set()
    await asyncio.gather(first, second)

    assert [place.place for place in places] == [1, 0] and places[0].eta_s > 0
    assert await services.store.pool_size(GUILD_ID) == 2


def _audio(freq: float):
    from bot.services import AudioInput

    return AudioInput(wav_bytes(freq), f"song {freq:.0f}")


async def test_discord_shows_the_place_in_line_then_the_answer(make_bot):
    harness = await make_bot(workers=1, queue_size=50)
    engine = harness.services.engine
    engine.gate = threading.Event()
    first = asyncio.create_task(harness.command("classify", file=harness.upload("a.wav", wav_bytes(300))))
    await asyncio.to_thread(engine.started.acquire, timeout=5)

    second = asyncio.create_task(
        harness.command("classify", user_id=OTHER_USER_ID, file=harness.upload("b.wav", wav_bytes(400)))
    )
    await until(lambda: any("in line" in call.text for call in harness.recorder.calls))
    engine.gate.set()
    calls = await second
    await first

    defer, place, *_, answer = calls
    assert defer.response_type == 5
    assert place.method == "PATCH" and place.path.endswith("/messages/@original")
    assert place.text.startswith("You're **#1** in line (about ")
    assert answer.method == "PATCH" and answer.message["embeds"][0]["title"] == "b"  # the placeholder became it
    assert answer.files == ["genres.png"] and not answer.ephemeral
    assert await harness.services.store.pool_size(GUILD_ID) == 2


async def test_slow_links_hold_neither_classification_nor_other_users(make_bot, audio_server):
    harness = await make_bot(per_user_jobs=1, download_workers=2)
    slow = audio_server.trickle("/slow.wav", wav_bytes(seconds=2), pause_s=0.1)  # about 2 s
    hanging = asyncio.create_task(harness.command("classify", url=slow))
    await until(lambda: harness.services.downloader.in_flight == 1)

    *_, refused = await harness.command("classify", url=slow)  # the same user's second link
    _, uploaded = await harness.command("classify", user_id=OTHER_USER_ID, file=harness.upload("c.wav", wav_bytes(500)))
    _, linked = await harness.command(
        "classify", user_id=OTHER_USER_ID + 1, url=audio_server.file("/fast.wav", wav_bytes(600))
    )

    assert refused.ephemeral and "already have 1 request(s) in line" in refused.text
    assert not uploaded.ephemeral and uploaded.message["embeds"][0]["title"] == "c"
    assert not linked.ephemeral and linked.message["embeds"][0]["title"] == "fast"
    assert (await hanging)[-1].message["embeds"][0]["title"] == "slow"


async def test_the_console_prints_the_place_in_line(make_services, tmp_path):
    import io

    from console.repl import Console

    services = await make_services(workers=1, queue_size=50)
    gate = threading.Event()
    busy = asyncio.create_task(services.classifier.run(gate.wait, 5))  # e.g. an /index still running
    await until(lambda: services.classifier.in_flight == 1)
    song = tmp_path / "song.wav"
    song.write_bytes(wav_bytes(440))
    stdout = io.StringIO()
    console = asyncio.create_task(Console(services, io.StringIO(f"/classify {song}\n"), stdout).run())

    await until(lambda: "in line" in stdout.getvalue())
    gate.set()
    await asyncio.gather(busy, console)

    lines = stdout.getvalue().splitlines()
    assert lines[2].startswith("You're #1 in line (about 0:") and lines[3].startswith("🎵 song: ")


async def test_discord_refuses_what_could_not_finish_within_the_interaction(make_bot):
    harness = await make_bot(workers=1, queue_size=50)
    harness.services.classifier.mean_job_s = 600.0  # ten minutes a song: a second one would end after 15
    engine = harness.services.engine
    engine.gate = threading.Event()
    first = asyncio.create_task(harness.command("classify", file=harness.upload("a.wav", wav_bytes(300))))
    await asyncio.to_thread(engine.started.acquire, timeout=5)

    *_, refused = await harness.command("classify", user_id=OTHER_USER_ID, file=harness.upload("b.wav", wav_bytes(400)))
    engine.gate.set()
    await first

    assert refused.ephemeral and "1 song(s) are ahead of yours; that would take about 20:00" in refused.text
    assert await harness.services.store.pool_size(GUILD_ID) == 1
