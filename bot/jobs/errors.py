"""What the job pools and the job queue refuse: a full line, too many jobs of one person, a wait
too long, a job that failed. ``str()`` is the sentence the user sees (see :mod:`bot.errors`)."""

from __future__ import annotations

from bot.errors import GenreBotError
from bot.render import duration


class BusyError(GenreBotError):
    """Every worker is busy and the line is full (or the bot is shutting down)."""

    def __str__(self) -> str:
        return "I'm busy classifying other songs right now. Please try again in a moment."


class TooManyJobsError(GenreBotError):
    """The caller already has as many requests waiting or running as one person may."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(limit)

    def __str__(self) -> str:
        return (
            f"You already have {self.limit} request(s) in line, as many as I take from one person. "
            "Wait for one to finish, then try again."
        )


class QueueTooLongError(GenreBotError):
    """The line is so long that the request could not be answered before the caller stops waiting.
    ``ahead``: songs running or waiting before it; ``eta_s``: the estimate; ``limit_s``: the caller's."""

    def __init__(self, ahead: int, eta_s: float, limit_s: float) -> None:
        self.ahead = ahead
        self.eta_s = eta_s
        self.limit_s = limit_s
        super().__init__(ahead, eta_s, limit_s)

    def __str__(self) -> str:
        return (
            f"{self.ahead} song(s) are ahead of yours; that would take about {duration(self.eta_s)}, "
            "longer than I can keep your request open. Please try again later."
        )


class JobFailedError(GenreBotError):
    """A queued classification ended without a result: its workers failed it on every attempt (a
    crash that is not bad audio), or it was cancelled. ``status``: the job's last status."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(status)

    def __str__(self) -> str:
        return "Sorry, I couldn't analyse that song this time. It has been logged; please try again later."


class JobTimeoutError(GenreBotError):
    """A job ran past its time limit and its child process was killed (bot.jobs.children); nothing
    was stored. ``limit_s``: the limit (the ``--job-timeout`` setting for a classification)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        super().__init__(limit_s)

    def __str__(self) -> str:
        return (
            f"Analysing that took longer than {duration(self.limit_s)}, the most I give one song, so I "
            "stopped and stored nothing. The file may be damaged or built to be slow to decode."
        )


class JobMemoryError(GenreBotError):
    """A job needed more memory than a job may have and its child process was stopped; nothing was
    stored. ``limit_bytes``: the cap (the ``--job-memory-mb`` setting; None: the machine ran out)."""

    def __init__(self, limit_bytes: int | None) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(limit_bytes)

    def __str__(self) -> str:
        return (
            "Analysing that needed more memory than I give one song, so I stopped and stored nothing. "
            "The file may be damaged or built to expand without end when decoded."
        )


class WrongModelError(GenreBotError):
    """A classification job for another model than the worker runs (``job_model``, ``worker_model``):
    left for a worker of that model. Members never read it: their wait ends in JobFailedError."""

    def __init__(self, job_model: str, worker_model: str) -> None:
        self.job_model = job_model
        self.worker_model = worker_model
        super().__init__(job_model, worker_model)

    def __str__(self) -> str:
        return f"a job for model {self.job_model} reached a worker of model {self.worker_model}"
