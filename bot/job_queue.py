"""Classification as jobs on a PostgreSQL-backed queue (procrastinate), for workers on any machine.

With a database URL set, the front end (Discord, console) does not run the model: it stores the
upload in a row of ``genrebot_job_audio``, defers a ``genrebot.classify`` job naming that row, and
polls until a worker (``python -m bot worker``, any number, on any machine that reaches the
database) has written the prediction or the error into the same row. procrastinate keeps the line
in its own tables (``procrastinate_jobs``) in the same database: no broker.

- **Uploads travel in the database** (a ``bytea`` column), not as a file path or a URL: workers need
  no shared disk, and a Discord attachment URL expires and would be fetched a second time. An
  upload is at most ``max_attachment_bytes`` (25 MiB by default), which PostgreSQL stores out of
  line (TOAST) without trouble. The job's own arguments stay tiny (the row id), so procrastinate's
  jobs table stays small. The row is deleted once the front end has read the result.
- **A worker killed mid-job**: workers send heartbeats (procrastinate's worker table); every worker
  looks for jobs held by a worker whose heartbeat stopped (``retry_stalled``) and puts them back in
  line, and another worker does them. The job's only effect is its row's result, written again on a
  retry, so nothing is doubled; the listen event is recorded by the waiting front end, once, after
  the result arrives (``bot.services``), so nothing is lost either.
- **Place in line**: the jobs of the queue still to do that were deferred before this one, counted
  in procrastinate's jobs table, so the user sees the same "n songs ahead" as with the in-process
  pool; the same limits apply (per user, line length, how long the caller can wait).

The in-process :class:`~bot.workers.WorkerPool` stays the default (SQLite, the console without a
database URL); :class:`~bot.workers.Analyser` is what ``bot.services`` sees of either.
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
from procrastinate import App, JobContext, PsycopgConnector

from bot.classifier import Classifier
from bot.errors import BusyError, JobFailedError, QueueTooLongError, TooManyJobsError
from bot.workers import MEAN_WEIGHT, Place, PlaceCallback
from genre_engine import Prediction
from genre_engine import errors as engine_errors
from genre_engine.errors import GenreEngineError

log = logging.getLogger("genrebot.job_queue")

QUEUE = "classify"
TASK = "genrebot.classify"
POLL_S = 0.2  # how often a waiting front end looks at its job
STALLED_CHECK_S = 5.0  # how often a worker looks for jobs of dead workers
HEARTBEAT_S = 5.0  # a worker's heartbeat period
STALLED_AFTER_S = 20.0  # a worker silent this long is taken for dead, its jobs retried
MAX_ATTEMPTS = 3  # a job whose worker crashes (not bad audio: that is a result) is tried this often
SCHEMA_LOCK = 7_240_517_314  # advisory lock held while the schemas are created

AUDIO_TABLE = """
CREATE TABLE IF NOT EXISTS genrebot_job_audio (
    id bigserial PRIMARY KEY,
    owner text,
    name text,
    data bytea,
    result jsonb,
    embedding bytea,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


# -- what travels through the row -------------------------------------------------------------------

def encode_prediction(prediction: Prediction) -> tuple[str, bytes]:
    """The prediction as (JSON, float32 embedding bytes) for the job's row."""
    fields = asdict(prediction)
    fields.pop("embedding")
    fields["probabilities"] = list(prediction.probabilities.items())  # pairs: jsonb does not keep key order
    return json.dumps({"prediction": fields}), np.asarray(prediction.embedding, dtype=np.float32).tobytes()


def encode_error(error: GenreEngineError) -> str:
    """An engine error (unusable audio) as JSON: its class name and its attributes (its facts)."""
    return json.dumps({"error": type(error).__name__, "facts": vars(error)})


def decode_result(result: dict[str, Any], embedding: bytes | None) -> Prediction:
    """The prediction a worker wrote, or raise the engine error it wrote (same class, same facts)."""
    if "error" in result:
        cls = getattr(engine_errors, result["error"], None)
        if not (isinstance(cls, type) and issubclass(cls, GenreEngineError)):
            raise JobFailedError(result["error"])
        error = cls.__new__(cls)
        error.__dict__.update(result["facts"])
        raise error
    fields = result["prediction"]
    fields["segment_starts_s"] = tuple(fields["segment_starts_s"])
    fields["probabilities"] = dict(fields["probabilities"])
    return Prediction(embedding=np.frombuffer(embedding, dtype=np.float32).copy(), **fields)


# -- the app and its task ------------------------------------------------------------------------

async def classify_job(context: JobContext, *, row: int) -> None:
    """Classify the audio of ``genrebot_job_audio`` row ``row`` and write the result into it. Bad
    audio is a result (the error), not a failure; a row gone (the caller gave up) is nothing to do."""
    engine: Classifier = context.additional_context["engine"]
    async with context.app.connector.pool.connection() as connection:
        found = await (await connection.execute(
            "SELECT data, name FROM genrebot_job_audio WHERE id = %s", (row,))).fetchone()
        if found is None or found[0] is None:
            return
        data, name = found
    try:
        prediction = await asyncio.to_thread(engine.classify, bytes(data), name=name)
    except GenreEngineError as error:
        result, embedding = encode_error(error), None
        log.info("unusable audio", extra={"job": context.job.id, "error": type(error).__name__})
    else:
        result, embedding = encode_prediction(prediction)
        log.info("classified", extra={"job": context.job.id, "genre": prediction.genre,
                                      "ms": round(prediction.timings_ms.get("total", 0))})
    async with context.app.connector.pool.connection() as connection:
        await connection.execute("UPDATE genrebot_job_audio SET result = %s, embedding = %s, data = NULL "
                                 "WHERE id = %s", (result, embedding, row))


def make_app(database_url: str) -> App:
    """A procrastinate app on ``database_url`` (postgresql://...) with genrebot's task; open it with
    ``async with app.open_async()``."""
    app = App(connector=PsycopgConnector(conninfo=database_url))
    app.task(name=TASK, queue=QUEUE, pass_context=True, retry=MAX_ATTEMPTS - 1)(classify_job)
    return app


async def apply_schema(app: App) -> None:
    """Create procrastinate's schema (``procrastinate schema --apply``) and the upload table, once,
    whichever process gets there first (an advisory lock); idempotent."""
    async with app.connector.pool.connection() as connection:
        await connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            exists = await (await connection.execute(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if not exists[0]:
                await app.schema_manager.apply_schema_async()
            await connection.execute(AUDIO_TABLE)
            await connection.commit()
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


async def retry_stalled(app: App, *, stalled_after_s: float = STALLED_AFTER_S) -> int:
    """Put back in line the jobs held by workers whose heartbeat stopped ``stalled_after_s`` ago
    (killed, frozen, cut off); returns how many."""
    stalled = list(await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after_s))
    for job in stalled:
        log.warning("retrying the job of a dead worker", extra={"job": job.id})
        await app.job_manager.retry_job(job)
    await app.job_manager.prune_stalled_workers(stalled_after_s)
    return len(stalled)


async def run_worker(database_url: str, engine: Classifier, *, concurrency: int = 1,
                     heartbeat_s: float = HEARTBEAT_S, stalled_after_s: float = STALLED_AFTER_S,
                     stop: asyncio.Event | None = None) -> None:
    """``python -m bot worker``: take classification jobs until stopped (SIGINT/SIGTERM, or
    ``stop``), ``concurrency`` at once (threads), and put back the jobs of dead workers."""
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
        worker = asyncio.create_task(app.run_worker_async(
            queues=[QUEUE], concurrency=concurrency, name=f"genrebot@{socket.gethostname()}",
            additional_context={"engine": engine}, update_heartbeat_interval=heartbeat_s,
            stalled_worker_timeout=stalled_after_s, install_signal_handlers=stop is None,
            delete_jobs="successful"))
        waits = {worker} if stop is None else {worker, asyncio.create_task(stop.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (watcher, *waits):
                task.cancel()
            await asyncio.gather(watcher, *waits, return_exceptions=True)


# -- the front end's side ------------------------------------------------------------------------

class QueueAnalyser:
    """Classification by workers through the job queue. Limits as :class:`~bot.workers.WorkerPool`:
    ``per_owner`` jobs per caller, ``max_waiting`` jobs in line, and the estimate of when the job
    will be done against ``max_wait_s``. Open with :meth:`open`."""

    def __init__(self, app: App, *, max_waiting: int, per_owner: int, initial_job_s: float = 2.0) -> None:
        self.app = app
        self.max_waiting = max_waiting
        self.per_owner = per_owner
        self.mean_job_s = initial_job_s

    @classmethod
    async def open(cls, database_url: str, *, max_waiting: int, per_owner: int) -> QueueAnalyser:
        app = make_app(database_url)
        await app.open_async()
        try:
            await apply_schema(app)
        except BaseException:
            await app.close_async()
            raise
        return cls(app, max_waiting=max_waiting, per_owner=per_owner)

    async def close(self) -> None:
        await self.app.close_async()

    async def _query(self, sql: str, params: tuple = ()) -> tuple:
        async with self.app.connector.pool.connection() as connection:
            return await (await connection.execute(sql, params)).fetchone()

    async def line(self, job_id: int | None = None) -> tuple[int, int]:
        """(jobs running, jobs waiting) in the queue; with ``job_id``, waiting ahead of it only."""
        return await self._query(
            "SELECT count(*) FILTER (WHERE status = 'doing'), "
            "count(*) FILTER (WHERE status = 'todo' AND (%(id)s::bigint IS NULL OR id < %(id)s::bigint)) "
            "FROM procrastinate_jobs WHERE queue_name = %(queue)s", {"id": job_id, "queue": QUEUE})

    def estimate_s(self, place: int, running: int) -> float:
        return self.mean_job_s * (place / max(running, 1) + 1)

    async def _admit(self, owner: Hashable | None, max_wait_s: float | None) -> None:
        if owner is not None:
            (mine,) = await self._query("SELECT count(*) FROM genrebot_job_audio WHERE owner = %s", (str(owner),))
            if mine >= self.per_owner:
                raise TooManyJobsError(self.per_owner)
        running, waiting = await self.line()
        if waiting + 1 > self.max_waiting:
            raise BusyError()
        if max_wait_s is not None and waiting and (eta := self.estimate_s(waiting + 1, running)) > max_wait_s:
            raise QueueTooLongError(running + waiting, eta, max_wait_s)

    async def classify(self, data: bytes, *, name: str | None = None, owner: Hashable | None = None,
                       on_place: PlaceCallback | None = None, max_wait_s: float | None = None) -> Prediction:
        """Defer a job for ``data`` and wait for its result (see the module docstring); raises
        JobFailedError when workers failed it :data:`MAX_ATTEMPTS` times."""
        await self._admit(owner, max_wait_s)
        (row,) = await self._query("INSERT INTO genrebot_job_audio (owner, name, data) VALUES (%s, %s, %s) "
                                   "RETURNING id", (None if owner is None else str(owner), name, data))
        started = time.monotonic()
        job_id = None
        try:
            job_id = await self.app.configure_task(TASK).defer_async(row=row)
            await self._wait(job_id, row, on_place)
            result, embedding = await self._query(
                "SELECT result, embedding FROM genrebot_job_audio WHERE id = %s", (row,))
            self.mean_job_s += MEAN_WEIGHT * (time.monotonic() - started - self.mean_job_s)
            return decode_result(result, embedding)
        finally:
            await asyncio.shield(self._forget(row, job_id))

    async def _wait(self, job_id: int, row: int, on_place: PlaceCallback | None) -> None:
        """Until the worker has written the row's result (it does so before it finishes the job,
        which it then deletes); JobFailedError if the job ended without one."""
        told = None
        while True:
            done, status = await self._query(
                "SELECT a.result IS NOT NULL, j.status::text FROM genrebot_job_audio a "
                "LEFT JOIN procrastinate_jobs j ON j.id = %s WHERE a.id = %s", (job_id, row))
            if done:
                return
            if status not in ("todo", "doing"):  # failed MAX_ATTEMPTS times, cancelled, or gone
                raise JobFailedError(status or "deleted")
            running, ahead = await self.line(job_id)
            place = 0 if status == "doing" else ahead + 1
            if on_place is not None and place != told:
                told = place
                try:
                    on_place(Place(place, self.estimate_s(place, running)))
                except Exception:  # a front end's display must not break the wait
                    log.exception("place callback failed")
            await asyncio.sleep(POLL_S)

    async def _forget(self, row: int, job_id: int | None) -> None:
        """The row is read (or the caller gave up): delete it, and the job if it has not started."""
        if job_id is not None:
            await self.app.job_manager.cancel_job_by_id_async(job_id)
        async with self.app.connector.pool.connection() as connection:
            await connection.execute("DELETE FROM genrebot_job_audio WHERE id = %s", (row,))
