"""The memory a benchmark process holds, from Linux's ``/proc/self/statm`` (resident pages now) and
``getrusage`` (the most it ever held)."""

from __future__ import annotations

import os
import resource

MB = 1_000_000


def resident_bytes() -> int:
    """The process's resident set now: the memory it really occupies, not what it reserved."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes() -> int:
    """The largest resident set the process has had so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
