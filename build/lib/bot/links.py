"""Fetch the audio behind a ``url:`` with yt-dlp, without letting a link reach inside our network.

A link is untrusted input that makes the bot open connections (SSRF). Three guards:

1. The link itself: http/https only, and its host must resolve to public addresses only.
2. Every URL yt-dlp requests (web pages, APIs, media), through :class:`_GuardedYoutubeDL.urlopen`.
3. Every address yt-dlp's download thread is about to connect to, through ``socket.getaddrinfo``:
   both of yt-dlp's HTTP backends (urllib and requests/urllib3) resolve each host, redirect hops
   included, with that call right before connecting, so the check sees the very addresses used and
   leaves no window for a redirect or a DNS answer that changes between check and connect. The
   hook is a no-op except on a thread inside :func:`fetch_audio`.

Size is capped by yt-dlp's ``max_filesize`` (declared length), by a progress hook (bytes actually
received, for servers that declare nothing) and on the finished file; time by a socket timeout and
a deadline checked on every request and every received block. The temporary folder goes away
whatever happens. The duration cap is checked here on the site's metadata and again by the
caller on the decoded audio, since metadata can lie.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.utils import DownloadError

from bot.config import IPNetwork
from bot.errors import (
    DownloadTimeoutError,
    DownloadTooLargeError,
    InternalAddressError,
    LinkError,
    NoAudioAtLinkError,
    PlaylistLinkError,
    TooLongError,
    UnresolvableHostError,
    UnsupportedLinkError,
)

log = logging.getLogger("genrebot.links")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class LinkPolicy:
    max_bytes: int
    max_duration_s: float
    timeout_s: float
    allowed_internal_networks: tuple[IPNetwork, ...] = ()  # tests only: see Config
    temp_root: Path | None = None  # None: the system temporary folder


@dataclass(frozen=True)
class FetchedAudio:
    data: bytes
    title: str
    url: str  # the page the user would open (for a direct file, the file itself)
    duration_s: float | None  # as the site claims it; None if it doesn't say


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_internal(address: IPAddress) -> bool:
    """True for anything that is not a plain public unicast address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_internal(embedded)
    return (
        address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified or not address.is_global
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def _refused(address: str, policy: LinkPolicy) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if any(ip in network for network in policy.allowed_internal_networks):
        return False
    return is_internal(ip)


def _check_url(url: str, policy: LinkPolicy) -> None:
    """Refuse a URL by scheme or by where its host resolves to."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsupportedLinkError(url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsupportedLinkError(url)
    try:
        addresses = _original_getaddrinfo(parts.hostname, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnresolvableHostError(parts.hostname) from None
    if any(_refused(sockaddr[0], policy) for *_, sockaddr in addresses):
        raise InternalAddressError(parts.hostname)


# -- guard 3: the resolver hook ---------------------------------------------------------------------

_original_getaddrinfo = socket.getaddrinfo
_active = threading.local()  # .policy while this thread is inside fetch_audio; .error once refused
_install_lock = threading.Lock()


def _guarded_getaddrinfo(host, port, *args, **kwargs):
    results = _original_getaddrinfo(host, port, *args, **kwargs)
    policy: LinkPolicy | None = getattr(_active, "policy", None)
    if policy is not None and any(_refused(sockaddr[0], policy) for *_, sockaddr in results):
        _active.error = InternalAddressError(str(host))
        raise OSError(errno.EACCES, f"genrebot refuses to connect to internal address of {host}")
    return results


def _install_resolver_guard() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


# -- yt-dlp -----------------------------------------------------------------------------------------


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    def __init__(self, params: dict[str, Any], policy: LinkPolicy, deadline: float) -> None:
        super().__init__(params)
        self._policy = policy
        self._deadline = deadline

    def urlopen(self, req):
        if time.monotonic() > self._deadline:
            _active.error = DownloadTimeoutError(self._policy.timeout_s)
            raise _active.error
        try:
            _check_url(req if isinstance(req, str) else req.url, self._policy)
        except LinkError as exc:
            _active.error = exc
            raise
        return super().urlopen(req)


class _YtDlpLogger:
    """yt-dlp's chatter goes to our log, never to standard output (the console's screen)."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp", extra={"detail": msg})

    def info(self, msg: str) -> None:
        log.debug("yt-dlp", extra={"detail": msg})

    def warning(self, msg: str) -> None:
        log.info("yt-dlp warning", extra={"detail": msg})

    def error(self, msg: str) -> None:
        log.info("yt-dlp error", extra={"detail": msg})


def _params(policy: LinkPolicy, folder: str, deadline: float) -> dict[str, Any]:
    def watch(status: dict[str, Any]) -> None:
        received = status.get("downloaded_bytes") or 0
        declared = status.get("total_bytes") or 0
        if max(received, declared) > policy.max_bytes:
            _active.error = DownloadTooLargeError(policy.max_bytes)
            raise _active.error
        if time.monotonic() > deadline:
            _active.error = DownloadTimeoutError(policy.timeout_s)
            raise _active.error

    return {
        "format": "bestaudio/best",
        "noplaylist": True,
        "extract_flat": "in_playlist",  # a playlist link costs one page, not one per entry
        "max_filesize": policy.max_bytes,
        "socket_timeout": max(1.0, min(policy.timeout_s, 20.0)),
        "retries": 0,
        "extractor_retries": 0,
        "fragment_retries": 0,
        "concurrent_fragment_downloads": 1,  # stay on the guarded thread
        "external_downloader": {"default": "native"},  # no ffmpeg subprocess doing its own networking
        "fixup": "never",
        "paths": {"home": folder, "temp": folder},
        "outtmpl": {"default": "audio.%(ext)s"},
        "cachedir": False,
        "quiet": True,
        "noprogress": True,
        "no_color": True,
        "logger": _YtDlpLogger(),
        "progress_hooks": [watch],
    }


def _check_metadata(info: dict[str, Any], policy: LinkPolicy) -> None:
    if info.get("_type") in ("playlist", "multi_video") or info.get("entries") is not None:
        raise PlaylistLinkError()
    duration = info.get("duration")
    if duration and duration > policy.max_duration_s:
        raise TooLongError(duration, policy.max_duration_s)
    size = info.get("filesize") or info.get("filesize_approx")
    if size and size > policy.max_bytes:
        raise DownloadTooLargeError(policy.max_bytes)


def _read_download(info: dict[str, Any], policy: LinkPolicy) -> bytes:
    downloads = info.get("requested_downloads") or [{}]
    path = downloads[0].get("filepath")
    if not path or not Path(path).is_file():
        # yt-dlp skips silently, without an error, only when the declared size exceeds max_filesize.
        raise DownloadTooLargeError(policy.max_bytes)
    if Path(path).stat().st_size > policy.max_bytes:
        raise DownloadTooLargeError(policy.max_bytes)
    return Path(path).read_bytes()


def fetch_audio(url: str, policy: LinkPolicy) -> FetchedAudio:
    """Download the audio behind ``url`` (blocking: run it in a worker). Raises LinkError subclasses
    or TooLongError."""
    url = url.strip()
    _check_url(url, policy)
    _install_resolver_guard()
    deadline = time.monotonic() + policy.timeout_s
    _active.policy, _active.error = policy, None
    try:
        with tempfile.TemporaryDirectory(prefix="genrebot-link-", dir=policy.temp_root) as folder:
            with _GuardedYoutubeDL(_params(policy, folder, deadline), policy, deadline) as ydl:
                info = ydl.extract_info(url, download=False)
                _check_metadata(info, policy)
                info = ydl.process_ie_result(info, download=True)
            data = _read_download(info, policy)
    except DownloadError as exc:
        if _active.error is not None:
            raise _active.error from None
        log.info("link failed", extra={"url": url, "error": str(exc)})
        raise NoAudioAtLinkError() from None
    finally:
        _active.policy = None
    title = info.get("title") or info.get("webpage_url_basename") or "untitled"
    return FetchedAudio(data, title, info.get("webpage_url") or url, info.get("duration"))
