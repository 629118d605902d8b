"""yt-dlp as a library against a real loopback HTTP server: what gets fetched and what gets refused."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket

import pytest
import yt_dlp

from bot.links import fetch as links
from bot.links.errors import (
    DownloadTimeoutError,
    DownloadTooLargeError,
    InternalAddressError,
    NoAudioAtLinkError,
    PlaylistLinkError,
    UnresolvableHostError,
    UnsupportedLinkError,
)
from bot.links.fetch import fetch_audio, is_internal
from tests.support.bot_fixtures import wav_bytes
from tests.support.link_servers import serve


def test_direct_audio_link_is_fetched_and_temp_files_removed(audio_server, link_policy):
    body = wav_bytes()
    url = audio_server.file("/music/My Song.wav", body)

    fetched = fetch_audio(url, link_policy)

    assert fetched.data == body
    assert fetched.title == "My Song"
    assert fetched.url == url
    assert list(link_policy.temp_root.iterdir()) == []


def test_loopback_refused_without_the_explicit_test_setting(audio_server, link_policy):
    url = audio_server.file("/a.wav", wav_bytes())
    production = dataclasses.replace(link_policy, allowed_internal_networks=())

    with pytest.raises(InternalAddressError):
        fetch_audio(url, production)
    assert audio_server.requests == []  # refused before any connection


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
        "http://127.0.0.2/a.wav",  # loopback outside the one address the test allows
        "http://10.0.0.1/a.wav",
        "http://[::1]/a.wav",
        "http://[::ffff:192.168.0.1]/a.wav",
    ],
)
def test_redirect_to_internal_address_is_refused(audio_server, link_policy, target):
    url = audio_server.redirect("/go.wav", target)

    with pytest.raises(InternalAddressError):
        fetch_audio(url, link_policy)
    assert audio_server.requests == ["/go.wav"]
    assert list(link_policy.temp_root.iterdir()) == []


def test_hostname_resolving_to_internal_address_is_refused(link_policy, monkeypatch):
    real = socket.getaddrinfo

    def fake_dns(host, *args, **kwargs):
        if host == "music.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr("bot.links.fetch._original_getaddrinfo", fake_dns)
    with pytest.raises(InternalAddressError, match="music.example"):
        fetch_audio("http://music.example/song.mp3", link_policy)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/a.mp3", "javascript:alert(1)", "http://", "not a link", "http://[::1/"],
)
def test_non_http_links_are_refused(link_policy, url):
    with pytest.raises(UnsupportedLinkError):
        fetch_audio(url, link_policy)


def test_unknown_host(link_policy):
    with pytest.raises(UnresolvableHostError):
        fetch_audio("http://no-such-host.invalid/a.wav", link_policy)


@pytest.mark.parametrize("declares_length", [True, False])
def test_size_cap(audio_server, link_policy, declares_length):
    url = audio_server.file("/big.wav", wav_bytes(seconds=5), length=declares_length)  # ~220 kB
    small = dataclasses.replace(link_policy, max_bytes=100_000)

    with pytest.raises(DownloadTooLargeError):
        fetch_audio(url, small)
    assert list(link_policy.temp_root.iterdir()) == []


def test_download_deadline(audio_server, link_policy):
    url = audio_server.trickle("/slow.wav", wav_bytes(seconds=3), pause_s=0.2)
    impatient = dataclasses.replace(link_policy, timeout_s=1.0)

    with pytest.raises(DownloadTimeoutError):
        fetch_audio(url, impatient)
    assert list(link_policy.temp_root.iterdir()) == []


def test_playlist_link_is_refused(audio_server, link_policy):
    items = "".join(
        f'<item><title>{n}</title><enclosure url="{audio_server.file(f"/{n}.wav", wav_bytes())}" '
        f'type="audio/wav" length="1"/></item>'
        for n in ("one", "two")
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>mix</title>{items}</channel></rss>'
    url = audio_server.file("/feed.xml", feed.encode(), "application/rss+xml")

    with pytest.raises(PlaylistLinkError):
        fetch_audio(url, link_policy)
    assert audio_server.requests == ["/feed.xml"]  # no entry was downloaded


def test_page_of_many_players_is_refused_as_a_playlist_before_any_entry_is_processed(
    audio_server, link_policy, monkeypatch
):
    """A page of 3,000 ``<audio>`` tags is a playlist in disguise: refused on what the page says,
    without yt-dlp working through its entries (which cost minutes for 30,000)."""
    processed = []
    process = yt_dlp.YoutubeDL.process_video_result
    monkeypatch.setattr(
        yt_dlp.YoutubeDL,
        "process_video_result",
        lambda self, info, **kw: processed.append(info) or process(self, info, **kw),
    )
    page = "<html><body>" + "".join(f'<audio src="/a{n}.wav"></audio>' for n in range(3000)) + "</body></html>"
    url = audio_server.file("/players.html", page.encode(), "text/html")

    with pytest.raises(PlaylistLinkError):
        fetch_audio(url, link_policy)
    assert processed == [] and audio_server.requests == ["/players.html"]


def test_page_without_audio(audio_server, link_policy):
    url = audio_server.file("/page.html", b"<html><body>just words</body></html>", "text/html")

    with pytest.raises(NoAudioAtLinkError):
        fetch_audio(url, link_policy)


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("fec0::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("64:ff9b::a00:1", True),  # NAT64 of 10.0.0.1
        ("2002:c0a8:0101::1", True),  # 6to4 of 192.168.1.1
    ],
)
def test_address_classification(address, internal):
    assert is_internal(ipaddress.ip_address(address)) is internal


def test_guard_is_inactive_outside_a_fetch(audio_server, link_policy):
    """The resolver hook must not affect the rest of the process (Discord, the database)."""
    fetch_audio(audio_server.file("/a.wav", wav_bytes()), link_policy)
    assert socket.getaddrinfo("10.0.0.1", 80)  # would raise if the guard leaked


def test_connect_is_checked_even_when_resolution_bypasses_the_hook(link_policy, monkeypatch):
    """The last guard is the connect itself: a resolver the getaddrinfo hook doesn't see (a library's
    own DNS cache, a rebinding answer) still can't take the fetch to an internal address."""
    real = links._original_getaddrinfo

    def first_answer(host, *args, **kwargs):  # what the link check is told: the allowed address
        return real("127.0.0.1" if host == "music.example" else host, *args, **kwargs)

    def own_cache(host, *args, **kwargs):  # what the HTTP library is told: an internal one
        return real("127.0.0.2" if host == "music.example" else host, *args, **kwargs)

    with serve("127.0.0.2") as internal:
        internal.file("/a.wav", wav_bytes())
        monkeypatch.setattr(links, "_original_getaddrinfo", first_answer)
        monkeypatch.setattr(links, "_install_guards", lambda: None)  # of the two hooks, only connect's
        monkeypatch.setattr(socket.socket, "connect", links._guarded_connect)
        monkeypatch.setattr(socket, "getaddrinfo", own_cache)

        with pytest.raises(InternalAddressError, match="127.0.0.2"):
            fetch_audio(f"http://music.example:{internal.port}/a.wav", link_policy)
    assert internal.requests == []
