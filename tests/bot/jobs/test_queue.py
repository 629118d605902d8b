"""Classification through the PostgreSQL job queue (bot.jobs.queue): workers, places, limits, a dead
worker's job retried, and `python -m bot worker` end to end with the console."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from bot.jobs.children import InThread
from bot.jobs.errors import BusyError, TooManyJobsError
from bot.jobs.queue import (
    ANSWERED,
    CHECK_S,
    CLASSIFY,
    TASKS,
    WORKER_MODEL_THREADS,
    AnsweredRows,
    classify_queue,
    retry_stalled,
    run_worker,
)
from bot.jobs.threads import Place
from bot.links.errors import UnsupportedLinkError
from bot.services import AudioInput, Caller
from console.repl import LOCAL_GUILD_ID
from genre_engine import GenreEngine
from genre_engine.errors import NotAudioError
from genre_engine.labels import GENRES
from storage import PostgresStore
from tests.conftest import REPO_ROOT
from tests.support.bot_fixtures import (
    GUILD_ID,
    OTHER_USER_ID,
    USER_ID,
    FakeEngine,
    wav_bytes,
)
from tests.support.stores import NO_SERVER, TEST_DATABASE_URL

ROOT = REPO_ROOT
CALLER = Caller(GUILD_ID, USER_ID)


@pytest.fixture
def backend() -> str:
    if not TEST_DATABASE_URL:
        pytest.skip(NO_SERVER)
    return "postgresql"


@pytest.fixture
async def queued(make_services, databases, link_policy):
    """Services on a fresh PostgreSQL database (so on the job queue) and a way to start workers in
    this event loop, each with its own FakeEngine."""
    url = databases()
    services = await make_services(database_url=url, queue_size=50)
    stops: list[tuple[asyncio.Event, asyncio.Task]] = []

    def start_worker(engine: FakeEngine | None = None, **options) -> FakeEngine:
        engine, stop = engine or FakeEngine(), asyncio.Event()
        work = InThread(engine, link_policy)
        task = run_worker(url, work, model_id=engine.model_id, stop=stop, **options)
        stops.append((stop, asyncio.create_task(task)))
        return engine

    yield services, start_worker
    for stop, task in stops:
        stop.set()
        await task


async def test_a_waiting_front_end_hears_of_its_answer_at_once(backend, databases) -> None:
    """A worker's NOTIFY wakes the waiter of that row, not a later look (CHECK_S)."""
    url = databases()
    answered = AnsweredRows(url)
    try:
        await answered.ready()
        mine, other = answered.expect(7), answered.expect(8)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            await connection.execute("SELECT pg_notify(%s, '7')", (ANSWERED,))
        await asyncio.wait_for(mine.wait(), CHECK_S / 2)
        assert not other.is_set()
    finally:
        await answered.close()


async def events(services) -> int:
    return len(await services.store.history(GUILD_ID, USER_ID, limit=25, offset=0))


async def test_a_worker_classifies_the_upload_and_the_front_end_records_it_once(queued) -> None:
    services, start_worker = queued
    worker_engine = start_worker()
    data = wav_bytes()
    classified = await services.classify(CALLER, AudioInput(data, "tone"))
    assert classified.new and classified.song.title == "tone"
    assert worker_engine.calls == 1 and services.engine.calls == 0  # the worker did it, not the front end
    expected = services.engine.classify(data, name="tone")
    assert classified.probabilities == pytest.approx(expected.probabilities)
    assert await events(services) == 1


async def test_unusable_audio_comes_back_as_the_same_error(queued) -> None:
    services, start_worker = queued
    start_worker()
    with pytest.raises(NotAudioError) as caught:
        await services.classify(CALLER, AudioInput(b"this is not audio at all" * 10, "notes"))
    assert str(caught.value) == str(NotAudioError())
    assert await events(services) == 0


async def test_a_link_is_fetched_by_a_worker_and_a_refusal_comes_back_as_the_same_error(queued, audio_server) -> None:
    services, start_worker = queued
    start_worker()
    data = wav_bytes(550)
    audio = await services.fetch_link(audio_server.file("/song.wav", data), CALLER)
    assert audio.data == data and audio.source_url.endswith("/song.wav")
    assert (await services.classify(CALLER, audio)).song.source_url == audio.source_url
    with pytest.raises(UnsupportedLinkError) as caught:
        await services.fetch_link("ftp://example.com/song.mp3", CALLER)
    assert str(caught.value) == str(UnsupportedLinkError("ftp://example.com/song.mp3"))


async def test_the_caller_is_told_its_place_in_line_until_a_worker_takes_it(queued) -> None:
    services, start_worker = queued
    places: dict[str, list[Place]] = {"first": [], "second": []}
    first = asyncio.create_task(
        services.classify(CALLER, AudioInput(wav_bytes(440), "first"), on_place=places["first"].append)
    )
    second = asyncio.create_task(
        services.classify(
            Caller(GUILD_ID, OTHER_USER_ID), AudioInput(wav_bytes(660), "second"), on_place=places["second"].append
        )
    )
    while not (places["first"] and places["second"]):  # both in line, no worker yet
        await asyncio.sleep(0.05)
    assert sorted([places["first"][0].place, places["second"][0].place]) == [1, 2]
    engine = start_worker()
    engine.gate = threading.Event()  # holds the first job while we look
    while not any(told[-1].place == 0 for told in places.values()):
        await asyncio.sleep(0.05)
    running = "first" if places["first"][-1].place == 0 else "second"
    waiting = "second" if running == "first" else "first"
    for _ in range(100):  # the waiting caller hears it moved up at the queue's next look (CHECK_S)
        if places[waiting][-1].place == 1:
            break
        await asyncio.sleep(0.05)
    assert places[waiting][-1].place == 1  # moved up
    engine.gate.set()
    await asyncio.gather(first, second)


async def test_one_user_may_have_only_so_many_songs_in_line_and_giving_up_leaves_it(make_services, databases) -> None:
    services = await make_services(database_url=databases(), queue_size=50, per_user_jobs=1)
    waiting = asyncio.create_task(services.classify(CALLER, AudioInput(wav_bytes(440), "first")))
    while not (await services.jobs.line())[1]:
        await asyncio.sleep(0.05)
    with pytest.raises(TooManyJobsError):
        await services.classify(CALLER, AudioInput(wav_bytes(660), "second"))
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await services.jobs.line() == (0, 0)  # its job was cancelled, its upload deleted
    (rows,) = await services.jobs._query("SELECT count(*) FROM genrebot_job_audio")
    assert rows == 0


async def burst(services, songs: int, refused: int) -> tuple[list[BaseException], int]:
    """``songs`` songs sent at once by one member (no worker takes them): the errors of the
    ``refused`` that are answered at once, and the rows written for the others."""
    tasks = [
        asyncio.create_task(services.classify(CALLER, AudioInput(wav_bytes(300 + 50 * n), f"song {n}")))
        for n in range(songs)
    ]
    try:
        async with asyncio.timeout(20):  # (all of them in line would never be answered)
            while sum(task.done() for task in tasks) < refused:
                await asyncio.sleep(0.05)
        (rows,) = await services.jobs._query("SELECT count(*) FROM genrebot_job_audio")
        return [task.exception() for task in tasks if task.done()], rows
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_burst_from_one_member_is_admitted_within_the_limit(make_services, databases) -> None:
    """Six songs at once from a member allowed one: the count and the insert are one step, so one
    gets in and five are refused (counted, then inserted, all six got in)."""
    services = await make_services(database_url=databases(), queue_size=50, per_user_jobs=1)

    errors, rows = await burst(services, 6, refused=5)

    assert rows == 1 and all(isinstance(error, TooManyJobsError) for error in errors)


async def test_the_line_admits_no_more_than_its_length_in_a_burst(make_services, databases) -> None:
    services = await make_services(database_url=databases(), queue_size=2, per_user_jobs=10)

    errors, rows = await burst(services, 6, refused=4)

    assert rows == 2 and all(isinstance(error, BusyError) for error in errors)


async def test_a_worker_running_other_weights_never_answers_a_classification(queued, caplog) -> None:
    """The job names the bot's model and waits in that model's queue: a worker of other weights does
    not take it (it takes links, which need no model), one of the same weights does."""
    services, start_worker = queued
    other = start_worker(FakeEngine(model_id="other-weights"))
    task = asyncio.create_task(services.classify(CALLER, AudioInput(wav_bytes(), "tone")))
    while not (await services.jobs.line())[1]:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)
    assert await services.jobs.line() == (0, 1) and other.calls == 0 and not task.done()
    same = start_worker()
    classified = await task
    assert classified.song.model_id == same.model_id == services.engine.model_id and same.calls == 1


async def test_a_job_for_other_weights_that_reaches_a_worker_is_refused_and_logged(queued, caplog) -> None:
    services, start_worker = queued
    app = services.jobs.app
    start_worker(FakeEngine(model_id="other-weights"))
    row = await services.jobs._admit(classify_queue("other-weights"), {"kind": CLASSIFY, "owner": None}, None)
    job_id = await app.configure_task(TASKS[CLASSIFY], queue=classify_queue("other-weights")).defer_async(
        row=row, model=services.engine.model_id
    )
    for _ in range(100):
        status = str((await app.job_manager.list_jobs_async(id=job_id))[0].status)
        if status.endswith("failed"):
            break
        await asyncio.sleep(0.1)
    assert status.endswith("failed")
    assert "job for another model left unanswered" in caplog.text


async def test_the_job_of_a_dead_worker_is_retried_by_another_and_the_listen_counted_once(queued) -> None:
    services, start_worker = queued
    app = services.jobs.app
    task = asyncio.create_task(services.classify(CALLER, AudioInput(wav_bytes(), "tone")))
    while not (await services.jobs.line())[1]:
        await asyncio.sleep(0.05)
    dead = await app.job_manager.register_worker()  # takes the job, then never beats again
    job = await app.job_manager.fetch_job([services.jobs.classify_queue], dead)
    assert job is not None and job.task_name == TASKS[CLASSIFY]
    await asyncio.sleep(1.1)
    assert await retry_stalled(app, stalled_after_s=1) == 1
    engine = start_worker()
    classified = await task
    assert classified.new and engine.calls == 1
    assert await events(services) == 1


def test_a_console_session_is_classified_by_a_worker_process(databases, tmp_path: Path, shared_dir: Path) -> None:
    url = databases()
    env = {
        **os.environ,
        "GENREBOT_DATABASE_URL": url,
        "GENREBOT_MEDIA": str(tmp_path / "media"),
        "GENREBOT_LOG_LEVEL": "INFO",
    }
    song = shared_dir / "pool" / "muldjord" / "armygeddon.ogg"
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        console = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=env,
            input=f"/classify {song}\n",
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=60)
    assert console.returncode == 0, console.stderr
    assert "metal" in console.stdout
    assert "logger=genrebot.job_queue msg=classified" in worker_log

    async def pool():
        async with PostgresStore(url, genre_count=len(GENRES)) as store:
            return await store.pool_matrix(LOCAL_GUILD_ID)

    matrix = asyncio.run(pool())
    assert len(matrix) == 1
    # the worker's engine is the bot's: the shipped model with its compact embedding, one model thread
    engine = GenreEngine.from_checkpoint(onnx_options={"threads": WORKER_MODEL_THREADS})
    assert engine.runner.threads == 1 and matrix.embeddings.shape == (1, engine.embedding_dim)


async def test_a_job_another_worker_already_put_back_is_not_retried_twice(queued) -> None:
    services, _ = queued
    app = services.jobs.app
    task = asyncio.create_task(services.classify(CALLER, AudioInput(wav_bytes(), "tone")))
    while not (await services.jobs.line())[1]:
        await asyncio.sleep(0.05)
    dead = await app.job_manager.register_worker()
    job = await app.job_manager.fetch_job([services.jobs.classify_queue], dead)
    await asyncio.sleep(1.1)
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=1))
    await app.job_manager.retry_job(job)  # the other worker was quicker
    app.job_manager.get_stalled_jobs = lambda **_: asyncio.sleep(0, stalled)  # what this one saw before
    assert await retry_stalled(app, stalled_after_s=1) == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_rows_left_by_a_bot_that_died_while_waiting_neither_block_the_user_nor_stay(
    make_services, databases
) -> None:
    url = databases()
    services = await make_services(database_url=url, queue_size=50, per_user_jobs=1)
    await services.jobs._query(
        "INSERT INTO genrebot_job_audio (kind, owner, data, created_at) "
        "VALUES ('classify', %s, 'x', now() - interval '1 hour') RETURNING id",
        (str(USER_ID),),
    )
    waiting = asyncio.create_task(services.classify(CALLER, AudioInput(wav_bytes(440), "first")))
    while not (await services.jobs.line())[1]:  # accepted although an old row has the user's name
        assert not waiting.done(), waiting.exception()
        await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    restarted = await make_services(database_url=url)
    (rows,) = await restarted.jobs._query("SELECT count(*) FROM genrebot_job_audio")
    assert rows == 0
