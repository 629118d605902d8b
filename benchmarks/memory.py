"""The memory a benchmark process holds, from Linux's ``/proc/self/statm`` (resident pages now) and
``getrusage`` (the most it ever held), and measurements run in a fresh process, so that what an
earlier step allocated does not count."""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable
from typing import Any

MB = 1_000_000


def resident_bytes() -> int:
    """The process's resident set now: the memory it really occupies, not what it reserved."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes() -> int:
    """The largest resident set the process has had so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a new Python process (spawned, not forked), and what it returns."""
    with multiprocessing.get_context("spawn").Pool(1) as worker:
        return worker.apply(function, args)
