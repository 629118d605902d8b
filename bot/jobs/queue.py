"""Classification and link downloads as jobs on a PostgreSQL-backed queue (procrastinate), for
workers on any machine.

With a database URL set, the front end (Discord, console) runs neither the model nor yt-dlp: it
writes the job's input into a row of ``genrebot_job_audio`` (the upload's bytes, or the link),
defers a ``genrebot.classify`` or ``genrebot.fetch`` job naming that row, and waits until a worker
(``python -m bot worker``, any number, on any machine that reaches the database) has written the
result, or the error that is the answer (bad audio, a refused link), into the same row and announced
it with PostgreSQL's ``NOTIFY`` (one ``LISTEN`` connection per front end; a look at the row every
:data:`CHECK_S` catches a failed job or a lost notification and updates the place in line).
procrastinate keeps the line in its own tables (``procrastinate_jobs``) in the same database: no
broker.

- **Uploads travel in the database** (a ``bytea`` column), not as a file path or a URL: workers need
  no shared disk, and a Discord attachment URL expires and would be fetched a second time. An
  upload is at most ``max_attachment_bytes`` (25 MiB by default), which PostgreSQL stores out of
  line (TOAST) without trouble. A fetched link comes back the same way (the front end keeps a copy
  for the radio, then sends it to be classified). The job's own arguments stay tiny (the row id).
  The row is deleted once the front end has read the result.
- **A worker killed mid-job**: workers send heartbeats (procrastinate's worker table); every worker
  looks for jobs held by a worker whose heartbeat stopped (:func:`retry_stalled`) and puts them back
  in line, and another worker does them. A job's only effect is its row's result, written again on
  a retry, so nothing is doubled; the listen event is recorded by the waiting front end, once, after
  the result arrives (``bot.services``), so nothing is lost either.
- **Place in line**: the jobs of the same queue still to do that were deferred before this one,
  counted in procrastinate's jobs table, so the user sees the same "n songs ahead" as with the
  in-process pool; the same limits apply (per user and kind, line length, how long the caller can
  wait).

The in-process :class:`~bot.jobs.threads.ThreadJobs` stays the default (SQLite, the console without a
database URL); :class:`~bot.jobs.threads.Jobs` is what ``bot.services`` sees of either.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Hashable
from dataclasses import asdict
from typing import Any

import numpy as np
import psycopg
from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import ConnectorException

from bot import errors as bot_errors
from bot.errors import GenreBotError
from bot.jobs import errors as job_errors
from bot.jobs.children import Work
from bot.jobs.errors import (
    BusyError,
    JobFailedError,
    JobMemoryError,
    JobTimeoutError,
    QueueTooLongError,
    TooManyJobsError,
    WrongModelError,
)
from bot.jobs.threads import MEAN_WEIGHT, Place, PlaceCallback
from bot.links import errors as link_errors
from bot.links.fetch import FetchedAudio
from genre_engine import Prediction
from genre_engine import errors as engine_errors
from genre_engine.audio_report import AudioTrack
from genre_engine.errors import GenreEngineError, rebuilt_error

log = logging.getLogger("genrebot.job_queue")

CLASSIFY, FETCH = "classify", "fetch"  # the kinds of jobs
TASKS = {CLASSIFY: "genrebot.classify", FETCH: "genrebot.fetch"}


def classify_queue(model_id: str) -> str:
    """The queue of classifications for one model: a worker takes only those of the model it runs,
    so an analysis is never made by weights other than the bot's (issue 19)."""
    return f"{CLASSIFY}:{model_id}"


def task_of(queue: str) -> str:
    """The task a queue's jobs run: ``classify:<model>`` queues classify, ``fetch`` fetches."""
    return TASKS[FETCH] if queue == FETCH else TASKS[CLASSIFY]


ANSWERED = "genrebot_job_answered"  # the NOTIFY channel a worker announces an answered row on (payload: its id)
# How often a waiting front end looks at its job without being told: its place in line, a job that
# failed, a notification lost with the listening connection. Polling every 0.05-0.2 s instead made
# ~300 queries/s with 24 songs in line, on the cores the workers need (benchmarks.workers).
WORKER_MODEL_THREADS = 1  # ONNX Runtime intra-op threads per classification in `python -m bot worker`
CHECK_S = 1.0
RECONNECT_S = 1.0  # how long the listener waits before it connects again after losing its connection
STALLED_CHECK_S = 5.0  # how often a worker looks for jobs of dead workers
HEARTBEAT_S = 5.0  # a worker's heartbeat period
STALLED_AFTER_S = 20.0  # a worker silent this long is taken for dead, its jobs retried
MAX_ATTEMPTS = 3  # a job whose worker crashes (not bad audio: that is a result) is tried this often
SCHEMA_LOCK = 7_240_517_314  # advisory lock held while the schemas are created
ADMISSION_LOCK = 724_051  # with the queue's name: the transaction lock under which a job is admitted
# A row older than this belongs to a bot that died while waiting (Discord's interactions live 15
# minutes): it no longer counts against its user's limit, and the next bot to start deletes it.
ORPHANED_AFTER = "15 minutes"

# Rows live seconds to minutes, so the table is UNLOGGED (no WAL for megabytes of audio; after a
# PostgreSQL crash it is empty and the waiting callers get JobFailedError, as for any lost job), and
# the audio is stored out of line uncompressed (EXTERNAL: mp3/ogg/opus do not compress, and pglz on a
# 25 MiB WAV would cost the database a core for a moment).
AUDIO_TABLE = """
CREATE UNLOGGED TABLE IF NOT EXISTS genrebot_job_audio (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    owner text,
    name text,
    url text,
    data bytea,
    result jsonb,
    embedding bytea,
    created_at timestamptz NOT NULL DEFAULT now()
)"""

# The errors that are answers, not failures: they travel back by class name and facts.
ANSWER_MODULES = (engine_errors, bot_errors, link_errors, job_errors)
Answer = GenreEngineError | GenreBotError


# -- what travels through the row -------------------------------------------------------------------

# the Prediction mappings whose order means something: genres and tags in the model's order, the
# tags that apply strongest first
_ORDERED = ("probabilities", "tags", "styles", "moods", "eras", "outside")


def encode_prediction(prediction: Prediction) -> tuple[str, bytes]:
    """The prediction as (JSON, float32 embedding bytes) for the job's row."""
    fields = asdict(prediction)
    fields.pop("embedding")
    for name in _ORDERED:  # pairs: jsonb does not keep key order (tags follow the tagger's order)
        fields[name] = list(getattr(prediction, name).items())
    return json.dumps({"prediction": fields}), np.asarray(prediction.embedding, dtype=np.float32).tobytes()


def encode_error(error: Answer) -> str:
    """An error that answers the job (unusable audio, a refused link) as JSON: its class name and
    its attributes (its facts; what ``__str__`` is built from)."""
    return json.dumps({"error": type(error).__name__, "facts": vars(error)}, default=str)


def raise_if_error(result: dict[str, Any]) -> None:
    """Raise the error a worker wrote (same class, same facts), if it wrote one."""
    if "error" not in result:
        return
    for module in ANSWER_MODULES:
        cls = getattr(module, result["error"], None)
        if isinstance(cls, type) and issubclass(cls, Answer):
            raise rebuilt_error(cls, (), result["facts"])
    raise JobFailedError(result["error"])


def decode_prediction(result: dict[str, Any], embedding: bytes) -> Prediction:
    """The prediction a worker wrote (see :func:`encode_prediction`)."""
    fields = result["prediction"]
    fields["segment_starts_s"] = tuple(fields["segment_starts_s"])
    if fields.get("track") is not None:
        fields["track"] = AudioTrack(**fields["track"])
    for name in _ORDERED:
        fields[name] = dict(fields.get(name, ()))
    return Prediction(embedding=np.frombuffer(embedding, dtype=np.float32).copy(), **fields)


# -- the tasks, in the worker ------------------------------------------------------------------------


async def _row(context: JobContext, row: int, columns: str) -> tuple | None:
    async with context.app.connector.pool.connection() as connection:  # binary: audio without hex text
        return await (
            await connection.execute(
                f"SELECT {columns} FROM genrebot_job_audio WHERE id = %s AND result IS NULL", (row,), binary=True
            )
        ).fetchone()


async def _answer(context: JobContext, row: int, result: str, **columns: Any) -> None:
    sets = "".join(f", {name} = %({name})s" for name in columns)
    async with context.app.connector.pool.connection() as connection:
        await connection.execute(
            f"UPDATE genrebot_job_audio SET result = %(result)s{sets} WHERE id = %(row)s",
            {"result": result, "row": row, **columns},
        )
        await connection.execute("SELECT pg_notify(%s, %s)", (ANSWERED, str(row)))


async def classify_job(context: JobContext, *, row: int, model: str | None = None) -> None:
    """Classify the audio of ``genrebot_job_audio`` row ``row`` and write the result into it. Bad
    audio, and audio that takes more time or memory than a job may, is a result (the error), not a
    failure; a row gone or answered (the caller gave up, or a stalled attempt finished after all) is
    nothing to do. A job for another ``model`` than this worker runs is not answered: the queues keep
    such jobs from it (:func:`classify_queue`), so one here means a job deferred by hand."""
    work: Work = context.additional_context["work"]
    serving = context.additional_context["model"]
    if model is not None and model != serving:
        log.warning(
            "job for another model left unanswered",
            extra={"job": context.job.id, "job_model": model, "worker_model": serving},
        )
        raise WrongModelError(model, serving)
    found = await _row(context, row, "data, name")
    if found is None:
        return
    data, name = found
    try:
        prediction = await asyncio.to_thread(work.classify, bytes(data), name)
    except (GenreEngineError, JobTimeoutError, JobMemoryError) as error:
        log.info("unusable audio", extra={"job": context.job.id, "error": type(error).__name__})
        await _answer(context, row, encode_error(error), data=None)
        return
    result, embedding = encode_prediction(prediction)
    log.info(
        "classified",
        extra={"job": context.job.id, "genre": prediction.genre, "ms": round(prediction.timings_ms.get("total", 0))},
    )
    await _answer(context, row, result, embedding=embedding, data=None)


async def fetch_job(context: JobContext, *, row: int) -> None:
    """Download the link of row ``row`` within the worker's link policy (bot.links.fetch) and write the
    audio, or the refusal, into it."""
    work: Work = context.additional_context["work"]
    found = await _row(context, row, "url")
    if found is None:
        return
    try:
        fetched = await asyncio.to_thread(work.fetch, found[0])
    except GenreBotError as error:  # LinkError, TooLongError, JobMemoryError
        log.info("link refused", extra={"job": context.job.id, "error": type(error).__name__})
        await _answer(context, row, encode_error(error))
        return
    log.info("fetched", extra={"job": context.job.id, "bytes": len(fetched.data)})
    await _answer(
        context,
        row,
        json.dumps({"fetched": {"url": fetched.url, "duration_s": fetched.duration_s}}),
        data=fetched.data,
        name=fetched.title,
    )


def make_app(database_url: str) -> App:
    """A procrastinate app on ``database_url`` (postgresql://...) with genrebot's tasks; open it
    with ``async with app.open_async()``."""
    app = App(connector=PsycopgConnector(conninfo=database_url))
    for queue, task in ((CLASSIFY, classify_job), (FETCH, fetch_job)):
        app.task(name=TASKS[queue], queue=queue, pass_context=True, retry=MAX_ATTEMPTS - 1)(task)
    return app


async def apply_schema(app: App) -> None:
    """Create procrastinate's schema (``procrastinate schema --apply``) and the upload table, once,
    whichever process gets there first (an advisory lock); idempotent."""
    async with app.connector.pool.connection() as connection:
        await connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            exists = await (await connection.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if not exists[0]:
                await app.schema_manager.apply_schema_async()
            await connection.execute(AUDIO_TABLE)
            (storage,) = await (
                await connection.execute(
                    "SELECT attstorage FROM pg_attribute WHERE attrelid = 'genrebot_job_audio'::regclass "
                    "AND attname = 'data'"
                )
            ).fetchone()
            if storage != "e":  # a new table (ALTER TABLE locks it, so not on every start)
                await connection.execute("ALTER TABLE genrebot_job_audio ALTER COLUMN data SET STORAGE EXTERNAL")
            await connection.commit()
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


async def retry_stalled(app: App, *, stalled_after_s: float = STALLED_AFTER_S) -> int:
    """Put back in line the jobs held by workers whose heartbeat stopped ``stalled_after_s`` ago
    (killed, frozen, cut off); returns how many."""
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s):
        try:
            await app.job_manager.retry_job(job)
        except ConnectorException:  # another worker put it back first
            continue
        log.warning("retrying the job of a dead worker", extra={"job": job.id})
        retried += 1
    await app.job_manager.prune_stalled_workers(stalled_after_s)
    return retried


async def run_worker(
    database_url: str,
    work: Work,
    *,
    model_id: str,
    concurrency: int = 1,
    heartbeat_s: float = HEARTBEAT_S,
    stalled_after_s: float = STALLED_AFTER_S,
    stop: asyncio.Event | None = None,
) -> None:
    """``python -m bot worker``: take classification and download jobs until stopped (SIGINT/SIGTERM,
    or ``stop``), ``concurrency`` at once (threads, each doing its job's ``work``: in a child process
    within the job limits), and put back the jobs of dead workers. Classifications are taken only
    from the queue of ``model_id``, the model ``work`` runs."""
    app = make_app(database_url)
    async with app.open_async():
        await apply_schema(app)

        async def watch_stalled() -> None:
            while True:
                try:
                    await retry_stalled(app, stalled_after_s=stalled_after_s)
                except Exception:  # a lost connection must not stop the worker
                    log.exception("looking for stalled jobs failed")
                await asyncio.sleep(STALLED_CHECK_S)

        watcher = asyncio.create_task(watch_stalled())
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[classify_queue(model_id), FETCH],
                concurrency=concurrency,
                name=f"genrebot@{socket.gethostname()}",
                additional_context={"work": work, "model": model_id},
                update_heartbeat_interval=heartbeat_s,
                stalled_worker_timeout=stalled_after_s,
                install_signal_handlers=stop is None,
                delete_jobs="successful",
            )
        )
        waits = {worker} if stop is None else {worker, asyncio.create_task(stop.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (watcher, *waits):
                task.cancel()
            await asyncio.gather(watcher, *waits, return_exceptions=True)


# -- the front end's side ------------------------------------------------------------------------


class AnsweredRows:
    """The rows workers announce as answered (``LISTEN genrebot_job_answered`` on a connection of
    its own, connected again after a loss), as an :class:`asyncio.Event` per row a caller expects."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._events: dict[int, asyncio.Event] = {}
        self._listening = asyncio.Event()
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {ANSWERED}")
                    self._listening.set()
                    async for notify in connection.notifies():
                        if (event := self._events.get(int(notify.payload))) is not None:
                            event.set()
            except psycopg.Error:
                log.warning(
                    "lost the connection that listens for answers; waiters look every %s s meanwhile",
                    CHECK_S,
                    exc_info=True,
                )
            self._listening.clear()
            await asyncio.sleep(RECONNECT_S)

    async def ready(self) -> None:
        """Until the first LISTEN is in place (an answer announced before it would only be seen by
        the next :data:`CHECK_S` look)."""
        await self._listening.wait()

    def expect(self, row: int) -> asyncio.Event:
        return self._events.setdefault(row, asyncio.Event())

    def discard(self, row: int) -> None:
        self._events.pop(row, None)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class QueueJobs:
    """Classifications and downloads done by workers through the job queue. Limits as
    :class:`~bot.jobs.threads.WorkerPool`: ``per_owner`` jobs of a kind per caller, ``max_waiting`` jobs
    in a queue, and the estimate of when the job will be done against ``max_wait_s``. Open with
    :meth:`open`."""

    def __init__(
        self,
        app: App,
        answered: AnsweredRows,
        *,
        model_id: str,
        max_waiting: int,
        per_owner: int,
        initial_job_s: float = 2.0,
    ) -> None:
        self.app = app
        self.answered = answered
        self.model_id = model_id
        self.classify_queue = classify_queue(model_id)
        self.max_waiting = max_waiting
        self.per_owner = per_owner
        self.mean_job_s = {self.classify_queue: initial_job_s, FETCH: initial_job_s}

    @classmethod
    async def open(cls, database_url: str, *, model_id: str, max_waiting: int, per_owner: int) -> QueueJobs:
        """Jobs through the queue of ``database_url``, classified by workers running ``model_id``."""
        app = make_app(database_url)
        await app.open_async()
        answered = AnsweredRows(database_url)
        try:
            await apply_schema(app)
            async with app.connector.pool.connection() as connection:
                await connection.execute(
                    "DELETE FROM genrebot_job_audio WHERE created_at < now() - %s::interval", (ORPHANED_AFTER,)
                )
            await answered.ready()
        except BaseException:
            await answered.close()
            await app.close_async()
            raise
        return cls(app, answered, model_id=model_id, max_waiting=max_waiting, per_owner=per_owner)

    async def close(self) -> None:
        await self.answered.close()
        await self.app.close_async()

    async def _query(self, sql: str, params: tuple | dict = (), *, binary: bool = False) -> tuple:
        async with self.app.connector.pool.connection() as connection:
            return await (await connection.execute(sql, params, binary=binary)).fetchone()

    async def line(self, queue: str | None = None, job_id: int | None = None) -> tuple[int, int]:
        """(jobs running, jobs waiting) in ``queue`` (default: the classifications of the bot's model);
        with ``job_id``, those waiting ahead of it."""
        queue = queue or self.classify_queue
        return await self._query(
            "SELECT count(*) FILTER (WHERE status = 'doing'), "
            "count(*) FILTER (WHERE status = 'todo' AND (%(id)s::bigint IS NULL OR id < %(id)s::bigint)) "
            "FROM procrastinate_jobs WHERE queue_name = %(queue)s",
            {"id": job_id, "queue": queue},
        )

    def estimate_s(self, queue: str, place: int, running: int) -> float:
        return self.mean_job_s[queue] * (place / max(running, 1) + 1)

    async def classify(
        self,
        data: bytes,
        *,
        name: str | None = None,
        owner: Hashable | None = None,
        on_place: PlaceCallback | None = None,
        max_wait_s: float | None = None,
    ) -> Prediction:
        """The prediction for ``data``, by a worker; raises the engine's error for unusable audio,
        the line's refusals, JobFailedError when workers failed it :data:`MAX_ATTEMPTS` times."""
        values = {"name": name, "data": data}
        result, embedding, _, _ = await self._run(self.classify_queue, values, owner, on_place, max_wait_s)
        return decode_prediction(result, embedding)

    async def fetch(
        self,
        url: str,
        *,
        owner: Hashable | None = None,
        on_place: PlaceCallback | None = None,
        max_wait_s: float | None = None,
    ) -> FetchedAudio:
        """The audio behind ``url``, downloaded by a worker within its link policy (bot.links.fetch);
        raises the link errors, the line's refusals, JobFailedError."""
        result, _, data, title = await self._run(FETCH, {"url": url}, owner, on_place, max_wait_s)
        return FetchedAudio(bytes(data), title, **result["fetched"])

    async def _run(
        self,
        queue: str,
        values: dict[str, Any],
        owner: Hashable | None,
        on_place: PlaceCallback | None,
        max_wait_s: float | None,
    ) -> tuple:
        """Write the row, defer the job, wait for the answer: (result, embedding, data, name)."""
        owner = None if owner is None else str(owner)
        row = await self._admit(queue, {"kind": queue, "owner": owner, **values}, max_wait_s)
        started = time.monotonic()
        job_id = None
        try:
            task = self.app.configure_task(task_of(queue), queue=queue)
            job_id = await (
                task.defer_async(row=row, model=self.model_id) if queue != FETCH else task.defer_async(row=row)
            )
            await self._wait(queue, job_id, row, on_place)
            answer = await self._query(
                "SELECT result, embedding, data, name FROM genrebot_job_audio WHERE id = %s", (row,), binary=True
            )
            self.mean_job_s[queue] += MEAN_WEIGHT * (time.monotonic() - started - self.mean_job_s[queue])
            raise_if_error(answer[0])
            return answer
        finally:
            await asyncio.shield(self._forget(row, job_id))

    async def _admit(self, queue: str, columns: dict[str, Any], max_wait_s: float | None) -> int:
        """Check the limits and write the job's row, in one step: a transaction holding the queue's
        admission lock, so that a burst of requests is counted one after the other and none gets in
        past a limit (counted, then inserted, without it, six songs at once from a member allowed
        one all got in). The line is the kind's unanswered rows less the jobs being done."""
        async with self.app.connector.pool.connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (ADMISSION_LOCK, queue))
            (mine, unanswered) = await (
                await connection.execute(
                    "SELECT count(*) FILTER (WHERE owner = %(owner)s), count(*) FROM genrebot_job_audio "
                    "WHERE kind = %(kind)s AND result IS NULL AND created_at > now() - %(orphaned)s::interval",
                    {"owner": columns["owner"], "kind": queue, "orphaned": ORPHANED_AFTER},
                )
            ).fetchone()
            if columns["owner"] is not None and mine >= self.per_owner:
                raise TooManyJobsError(self.per_owner)
            (running,) = await (
                await connection.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = %s AND status = 'doing'", (queue,)
                )
            ).fetchone()
            waiting = max(unanswered - running, 0)
            if waiting + 1 > self.max_waiting:
                raise BusyError()
            if (
                max_wait_s is not None
                and waiting
                and (eta := self.estimate_s(queue, waiting + 1, running)) > max_wait_s
            ):
                raise QueueTooLongError(running + waiting, eta, max_wait_s)
            (row,) = await (
                await connection.execute(
                    f"INSERT INTO genrebot_job_audio ({', '.join(columns)}) "
                    f"VALUES ({', '.join(f'%({name})s' for name in columns)}) RETURNING id",
                    columns,
                )
            ).fetchone()
        return row

    async def _wait(self, queue: str, job_id: int, row: int, on_place: PlaceCallback | None) -> None:
        """Until the worker has written the row's result (it does so, and NOTIFYs, before it
        finishes the job, which it then deletes); JobFailedError if the job ended without one."""
        answered = self.answered.expect(row)
        told = None
        try:
            while True:
                done, status = await self._query(
                    "SELECT a.result IS NOT NULL, j.status::text FROM genrebot_job_audio a "
                    "LEFT JOIN procrastinate_jobs j ON j.id = %s WHERE a.id = %s",
                    (job_id, row),
                )
                if done:
                    return
                if status not in ("todo", "doing"):  # failed MAX_ATTEMPTS times, cancelled, or gone
                    raise JobFailedError(status or "deleted")
                if on_place is not None:
                    running, ahead = await self.line(queue, job_id)
                    place = 0 if status == "doing" else ahead + 1
                    if place != told:
                        told = place
                        try:
                            on_place(Place(place, self.estimate_s(queue, place, running)))
                        except Exception:  # a front end's display must not break the wait
                            log.exception("place callback failed")
                try:
                    await asyncio.wait_for(answered.wait(), CHECK_S)
                except TimeoutError:
                    pass
        finally:
            self.answered.discard(row)

    async def _forget(self, row: int, job_id: int | None) -> None:
        """The row is read (or the caller gave up): delete it, and the job if it has not started."""
        if job_id is not None:
            await self.app.job_manager.cancel_job_by_id_async(job_id)
        async with self.app.connector.pool.connection() as connection:
            await connection.execute("DELETE FROM genrebot_job_audio WHERE id = %s", (row,))
