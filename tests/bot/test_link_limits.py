"""One deadline for the whole fetch and a cap on every body read, against hostile loopback servers."""

from __future__ import annotations

import dataclasses
import tracemalloc

import pytest

from bot.errors import DownloadTimeoutError, DownloadTooLargeError
from bot.links import fetch_audio
from tests.bot.conftest import wav_bytes
from tests.bot.link_servers import public  # noqa: F401 (fixture)


def test_page_dripping_a_byte_at_a_time_is_cut_off_at_the_deadline(public, link_policy):
    """The socket timeout never fires (a byte arrives every 0.5 s): only the fetch's deadline stops it."""
    url = public.drip("/drip.html", pause_s=0.5)
    impatient = dataclasses.replace(link_policy, timeout_s=1.5)

    with pytest.raises(DownloadTimeoutError, match="took longer than 2 s"):
        fetch_audio(url, impatient)
    assert public.hung_up["/drip.html"].wait(10)  # cut off, not read to the end a minute later
    assert list(link_policy.temp_root.iterdir()) == []


def test_media_dripping_a_byte_at_a_time_is_cut_off_at_the_deadline(public, link_policy):
    url = public.drip("/drip.wav", pause_s=0.5, content_type="audio/wav")
    impatient = dataclasses.replace(link_policy, timeout_s=1.5)

    with pytest.raises(DownloadTimeoutError):
        fetch_audio(url, impatient)
    assert public.hung_up["/drip.wav"].wait(10)
    assert list(link_policy.temp_root.iterdir()) == []


def test_slow_redirect_chain_is_cut_off_at_the_deadline(public, link_policy):
    final = public.file("/song.wav", wav_bytes())
    url = public.slow_redirects("/hop", hops=25, pause_s=0.3, final=final)
    impatient = dataclasses.replace(link_policy, timeout_s=1.5)

    with pytest.raises(DownloadTimeoutError):
        fetch_audio(url, impatient)
    assert "/song.wav" not in public.requests
    assert len(public.requests) < 25


def test_endless_page_is_not_read_into_memory(public, link_policy):
    url = public.endless("/endless.html", stop_bytes=64 * 2**20)
    small = dataclasses.replace(link_policy, max_bytes=100_000)

    tracemalloc.start()
    try:
        with pytest.raises(DownloadTooLargeError):
            fetch_audio(url, small)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # the 64 MiB page was never held whole (measured: 0.3 MiB)
