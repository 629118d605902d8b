"""One deadline for the whole fetch and a cap on every body read, against hostile loopback servers."""

from __future__ import annotations

import dataclasses
import gzip
import tracemalloc

import pytest

from bot.links.errors import DownloadTimeoutError, DownloadTooLargeError
from bot.links.fetch import fetch_audio
from tests.support.bot_fixtures import wav_bytes


def warm_up(server, policy) -> None:
    """One fetch first, so yt-dlp's one-off start-up (compiling every extractor's URL pattern, seconds
    under tracemalloc) is neither measured nor counted against the deadline."""
    fetch_audio(server.file("/warm-up.wav", wav_bytes(seconds=0.1)), policy)


def test_page_dripping_a_byte_at_a_time_is_cut_off_at_the_deadline(public, link_policy):
    """The socket timeout never fires (a byte arrives every 0.5 s; the deadline is 2 s): only the
    fetch's deadline stops it."""
    url = public.drip("/drip.html", pause_s=0.5)
    impatient = dataclasses.replace(link_policy, timeout_s=2)
    warm_up(public, link_policy)

    with pytest.raises(DownloadTimeoutError, match="took longer than 2 s"):
        fetch_audio(url, impatient)
    assert public.hung_up["/drip.html"].wait(10)  # cut off, not read to the end a minute later
    assert list(link_policy.temp_root.iterdir()) == []


def test_media_dripping_a_byte_at_a_time_is_cut_off_at_the_deadline(public, link_policy):
    url = public.drip("/drip.wav", pause_s=0.5, content_type="audio/wav")
    impatient = dataclasses.replace(link_policy, timeout_s=2)
    warm_up(public, link_policy)

    with pytest.raises(DownloadTimeoutError):
        fetch_audio(url, impatient)
    assert public.hung_up["/drip.wav"].wait(10)
    assert list(link_policy.temp_root.iterdir()) == []


def test_slow_redirect_chain_is_cut_off_at_the_deadline(public, link_policy):
    final = public.file("/song.wav", wav_bytes())
    url = public.slow_redirects("/hop", hops=25, pause_s=0.3, final=final)
    impatient = dataclasses.replace(link_policy, timeout_s=2)

    with pytest.raises(DownloadTimeoutError):
        fetch_audio(url, impatient)
    assert "/song.wav" not in public.requests
    assert len(public.requests) < 25


def test_endless_page_is_not_read_into_memory(public, link_policy):
    url = public.endless("/endless.html", stop_bytes=64 * 2**20)
    small = dataclasses.replace(link_policy, max_bytes=100_000)
    warm_up(public, link_policy)

    tracemalloc.start()
    try:
        with pytest.raises(DownloadTooLargeError):
            fetch_audio(url, small)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # the 64 MiB page was never held whole (measured: 0.3 MiB)


def test_compressed_page_is_capped_on_what_it_expands_to(public, link_policy):
    """A gzip bomb: 64 kB on the wire, 64 MiB once decoded."""
    bomb = gzip.compress(b"<html><body>" + b" " * (64 * 2**20), compresslevel=9)

    def send(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    public.routes["/bomb.html"] = send
    small = dataclasses.replace(link_policy, max_bytes=100_000)
    warm_up(public, link_policy)

    tracemalloc.start()
    try:
        with pytest.raises(DownloadTooLargeError):
            fetch_audio(public.url("/bomb.html"), small)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
