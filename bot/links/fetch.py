"""Fetch the audio behind a ``url:`` with yt-dlp, without letting a link reach inside our network.

A link is untrusted input that makes the bot open connections (SSRF). The guards:

1. The link itself: http/https only, and its host must resolve to public addresses only
   (:data:`DENIED_NETWORKS`, the IANA special-purpose registries, plus IPv4 embedded in IPv6).
2. Every URL yt-dlp requests (web pages, APIs, manifests, keys, media), through
   :class:`_GuardedYoutubeDL.urlopen`.
3. Every address yt-dlp's download thread resolves (``socket.getaddrinfo``) or connects to
   (``socket.socket.connect``): both of yt-dlp's HTTP backends (urllib and requests/urllib3) resolve
   each host, redirect hops included, right before connecting, so the check sees the very addresses
   used. The hooks are no-ops except on a thread inside :func:`fetch_audio`.
4. Only yt-dlp's own Python downloaders run, so every byte goes through 2 and 3: formats are
   filtered to :data:`ALLOWED_PROTOCOLS`, live streams are refused (yt-dlp hands those to FFmpeg),
   no external downloader may be picked, and ``ffmpeg_location`` points nowhere, so even yt-dlp's
   internal fallbacks to FFmpeg (HLS features its native downloader lacks) fail instead of letting
   FFmpeg connect on its own, unguarded, whether or not an ffmpeg binary is on PATH.

One deadline covers the whole fetch: a watchdog shuts down every socket the fetch opened when it
expires, which interrupts a server that drips a byte a second or a chain of slow redirects, and no
new connection is allowed after it. Size is capped on every body read (web pages included, so an
endless page is never read into memory), by a progress hook and on the finished file. The
temporary folder goes away whatever happens. The duration cap is checked here on the site's
metadata and again by the caller on the decoded audio, since metadata can lie.

Every failure ends as a :class:`~bot.links.errors.LinkError` (or TooLongError) written for users; yt-dlp's
own text only reaches the log, and links are logged and returned without credentials
(:func:`clean_link`).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.networking.exceptions import HTTPError, RequestError, TransportError
from yt_dlp.utils import (
    ExtractorError,
    GeoRestrictedError,
    UnsupportedError,
    YoutubeDLError,
    determine_protocol,
)

from bot.config import IPNetwork
from bot.errors import TooLongError
from bot.links.errors import (
    DownloadTimeoutError,
    DownloadTooLargeError,
    GeoBlockedLinkError,
    InternalAddressError,
    LinkError,
    LinkNotFoundError,
    LinkRefusedError,
    LiveStreamLinkError,
    NoAudioAtLinkError,
    NoSafeFormatError,
    PlaylistLinkError,
    SiteError,
    UnreachableSiteError,
    UnresolvableHostError,
    UnsupportedLinkError,
)

log = logging.getLogger("genrebot.links")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class LinkPolicy:
    max_bytes: int  # cap on every body read and on the downloaded file
    max_duration_s: float
    timeout_s: float  # one deadline for the whole fetch, pages, redirects and media included
    allowed_internal_networks: tuple[IPNetwork, ...] = ()  # tests only: see Config
    temp_root: Path | None = None  # None: the system temporary folder


@dataclass(frozen=True)
class FetchedAudio:
    data: bytes
    title: str
    url: str  # the page the user would open (for a direct file, the file itself), without credentials
    duration_s: float | None  # as the site claims it; None if it doesn't say


# -- credentials ------------------------------------------------------------------------------------

# Query parameter names (lower-cased, split at anything not a letter or digit) that carry secrets:
# access tokens, API keys, signed-URL signatures (AWS "X-Amz-Signature", GCS "X-Goog-Signature"),
# passwords and session ids.
_SECRET_WORDS = frozenset(
    {
        "token",
        "accesstoken",
        "apikey",
        "key",
        "sig",
        "signature",
        "auth",
        "authorization",
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "session",
        "sessionid",
        "sid",
        "credential",
        "credentials",
        "jwt",
        "code",
        "otp",
        "hmac",
        "policy",
    }
)


def _is_secret_parameter(name: str) -> bool:
    words = [word for word in re.split(r"[^a-z0-9]+", name.lower()) if word]
    return any(word in _SECRET_WORDS for word in words) or "".join(words) in _SECRET_WORDS


def clean_link(url: str) -> str:
    """``url`` without credentials, for storing, logging and showing: drops ``user:pass@`` and the
    query (and fragment) parameters whose names look like secrets (``token``, ``api_key``,
    ``X-Amz-Signature``, ``password``, ``session``...). Everything else is kept as written.
    Something that doesn't parse as a URL comes back unchanged."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return url

    def keep(query: str) -> str:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if not any(_is_secret_parameter(name) for name, _ in pairs):
            return query  # untouched, byte for byte
        return urllib.parse.urlencode([(name, value) for name, value in pairs if not _is_secret_parameter(name)])

    fragment = keep(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, keep(parts.query), fragment))


# -- addresses --------------------------------------------------------------------------------------

# Everything a link may not reach: the IANA IPv4 and IPv6 Special-Purpose Address Registries
# (https://www.iana.org/assignments/iana-ipv4-special-registry, .../iana-ipv6-special-registry) with
# the RFC that defines each block. Whole blocks are refused even where the registry marks a few
# addresses inside them globally reachable (anycast services no song is served from).
DENIED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), source)
    for net, source in (
        ("0.0.0.0/8", "RFC 791: this network"),
        ("10.0.0.0/8", "RFC 1918: private use"),
        ("100.64.0.0/10", "RFC 6598: shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "RFC 1122: loopback"),
        ("169.254.0.0/16", "RFC 3927: link local (cloud metadata 169.254.169.254)"),
        ("172.16.0.0/12", "RFC 1918: private use"),
        ("192.0.0.0/24", "RFC 6890: IETF protocol assignments (DS-Lite, NAT64 discovery, 192.0.0.192 metadata)"),
        ("192.0.2.0/24", "RFC 5737: documentation (TEST-NET-1)"),
        ("192.31.196.0/24", "RFC 7535: AS112-v4"),
        ("192.52.193.0/24", "RFC 7450: AMT"),
        ("192.88.99.0/24", "RFC 7526: deprecated 6to4 relay anycast"),
        ("192.168.0.0/16", "RFC 1918: private use"),
        ("192.175.48.0/24", "RFC 7534: direct delegation AS112 service"),
        ("198.18.0.0/15", "RFC 2544: benchmarking"),
        ("198.51.100.0/24", "RFC 5737: documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "RFC 5737: documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "RFC 5771: multicast"),
        ("240.0.0.0/4", "RFC 1112: reserved"),
        ("255.255.255.255/32", "RFC 919, RFC 8190: limited broadcast"),
        ("::/128", "RFC 4291: unspecified"),
        ("::1/128", "RFC 4291: loopback"),
        ("64:ff9b:1::/48", "RFC 8215: local-use IPv4/IPv6 translation"),
        ("100::/64", "RFC 6666: discard-only"),
        ("2001::/23", "RFC 2928: IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID)"),
        ("2001:db8::/32", "RFC 3849: documentation"),
        ("2002::/16", "RFC 3056, RFC 7526: 6to4 (deprecated; carries an IPv4 address)"),
        ("2620:4f:8000::/48", "RFC 7534: direct delegation AS112 service"),
        ("3fff::/20", "RFC 9637: documentation"),
        ("5f00::/16", "RFC 9602: segment routing SIDs"),
        ("fc00::/7", "RFC 4193: unique local"),
        ("fe80::/10", "RFC 4291: link-local unicast"),
        ("fec0::/10", "RFC 3879: deprecated site-local"),
        ("ff00::/8", "RFC 4291: multicast"),
    )
)

# IPv6 blocks that carry an IPv4 address, judged by that address.
EMBEDDING_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), source)
    for net, source in (
        ("::ffff:0:0/96", "RFC 4291: IPv4-mapped"),
        ("64:ff9b::/96", "RFC 6052: IPv4/IPv6 translation (NAT64 well-known prefix)"),
    )
)

# RFC 4291 section 2.4 and the IANA IPv6 Address Space registry: only 2000::/3 is global unicast;
# the rest (IPv4-compatible ::/96, reserved and unassigned space) is refused as a whole.
GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")


def is_internal(address: IPAddress) -> bool:
    """True for anything a link may not reach: an address in :data:`DENIED_NETWORKS`, an IPv6
    address outside global unicast, or an IPv4-mapped/NAT64 address of such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network, _ in EMBEDDING_NETWORKS):
            return is_internal(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address not in GLOBAL_UNICAST_V6:
            return True
    return any(address in network for network, _ in DENIED_NETWORKS)


def _refused(address: str, policy: LinkPolicy) -> bool:
    """Whether ``address`` (an IP literal, maybe with an IPv6 zone) is off limits; a name is refused,
    since whatever resolves it would bypass the check."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return True
    if any(ip in network for network in policy.allowed_internal_networks):
        return False
    return is_internal(ip)


def _check_url(url: str, policy: LinkPolicy) -> None:
    """Refuse a URL by scheme or by where its host resolves to."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsupportedLinkError(clean_link(url)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsupportedLinkError(clean_link(url))
    try:
        addresses = _original_getaddrinfo(parts.hostname, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnresolvableHostError(parts.hostname) from None
    if any(_refused(str(sockaddr[0]), policy) for *_, sockaddr in addresses):
        raise InternalAddressError(parts.hostname)


# -- one fetch: its deadline, its sockets, its first refusal ----------------------------------------


@dataclass
class _Fetch:
    policy: LinkPolicy
    url: str  # clean_link of what the user gave
    deadline: float  # time.monotonic()
    error: LinkError | None = None  # the first refusal; it wins over whatever yt-dlp makes of it
    expired: bool = False
    twins: list[socket.socket] = field(default_factory=list)  # dup()s of every socket the fetch opened
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, error: LinkError) -> LinkError:
        with self.lock:
            if self.error is None:
                self.error = error
            return self.error

    def check_time(self) -> None:
        if self.expired or time.monotonic() > self.deadline:
            raise self.fail(DownloadTimeoutError(self.policy.timeout_s))

    def expire(self) -> None:
        """The watchdog: at the deadline, shut down every connection, which wakes any read blocked on
        it (a drip-feeding server, a slow redirect), TLS included, since a dup shares the socket."""
        self.fail(DownloadTimeoutError(self.policy.timeout_s))
        with self.lock:
            self.expired = True
            for twin in self.twins:
                try:
                    twin.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # not connected yet, or already gone

    def admit(self, sock: socket.socket, address: Any) -> None:
        """Called before ``sock`` connects to ``address``: refuse an internal address or a late start."""
        if sock.family in (socket.AF_INET, socket.AF_INET6) and _refused(str(address[0]), self.policy):
            self.fail(InternalAddressError(str(address[0])))
            raise OSError(errno.EACCES, f"genrebot refuses to connect to {address[0]}")
        with self.lock:
            if self.expired:
                raise OSError(errno.ETIMEDOUT, "genrebot's deadline for this link has passed")
            self.twins.append(sock.dup())

    def close(self) -> None:
        with self.lock:
            for twin in self.twins:
                twin.close()
            self.twins.clear()


# -- guard 3: the resolver and connect hooks --------------------------------------------------------

_original_getaddrinfo = socket.getaddrinfo
_original_connect = socket.socket.connect
_active = threading.local()  # .fetch while this thread is inside fetch_audio
_install_lock = threading.Lock()


def _guarded_getaddrinfo(host, port, *args, **kwargs):
    results = _original_getaddrinfo(host, port, *args, **kwargs)
    fetch: _Fetch | None = getattr(_active, "fetch", None)
    if fetch is not None:
        fetch.check_time()
        if any(_refused(str(sockaddr[0]), fetch.policy) for *_, sockaddr in results):
            fetch.fail(InternalAddressError(str(host)))
            raise OSError(errno.EACCES, f"genrebot refuses to connect to internal address of {host}")
    return results


def _guarded_connect(self: socket.socket, address: Any) -> None:
    fetch: _Fetch | None = getattr(_active, "fetch", None)
    if fetch is not None:
        fetch.admit(self, address)
    return _original_connect(self, address)


def _install_guards() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo
        if socket.socket.connect is not _guarded_connect:
            socket.socket.connect = _guarded_connect


# -- yt-dlp -----------------------------------------------------------------------------------------

# The protocols yt-dlp serves with its own Python downloaders, which fetch every byte (media,
# playlists, HLS segments and AES keys, DASH segments) through YoutubeDL.urlopen: HttpFD, HlsFD
# ("m3u8_native"; "m3u8" means FFmpeg) and DashSegmentsFD. See yt_dlp.downloader.PROTOCOL_MAP.
ALLOWED_PROTOCOLS = frozenset({"http", "https", "m3u8_native", "http_dash_segments"})
_LIVE_STATUSES = frozenset({"is_live", "is_upcoming", "post_live"})  # yt-dlp's live_status values
_READ_CHUNK = 64 * 1024


def _cap_reads(response: Any, fetch: _Fetch) -> None:
    """Make ``response.read`` refuse a body longer than the policy's cap, reading an unbounded
    ``read()`` in chunks, so a web page that never ends is never held in memory."""
    limit = fetch.policy.max_bytes
    read = response.read
    received = 0

    def capped(amt: int | None = None) -> bytes:
        nonlocal received
        if amt is None or amt < 0:
            chunks = []
            while chunk := capped(_READ_CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        data = read(min(amt, limit + 1 - received))
        received += len(data)
        if received > limit:
            response.close()
            raise fetch.fail(DownloadTooLargeError(limit))
        return data

    response.read = capped


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    def __init__(self, params: dict[str, Any], fetch: _Fetch) -> None:
        super().__init__(params)
        self._fetch = fetch
        self._best_audio = self.build_format_selector("bestaudio/best")
        self.format_selector = self._select_safe_format

    def _select_safe_format(self, ctx: dict[str, Any]):
        """yt-dlp's "bestaudio/best" among the formats whose protocol a native downloader serves."""
        formats = ctx["formats"]
        safe = [fmt for fmt in formats if determine_protocol(fmt) in ALLOWED_PROTOCOLS]
        if formats and not safe:
            offered = tuple(sorted({determine_protocol(fmt) for fmt in formats}))
            raise self._fetch.fail(NoSafeFormatError(self._fetch.url, offered))
        yield from self._best_audio({**ctx, "formats": safe})

    def urlopen(self, req):
        self._fetch.check_time()
        try:
            _check_url(req if isinstance(req, str) else req.url, self._fetch.policy)
        except LinkError as exc:
            raise self._fetch.fail(exc) from None
        response = super().urlopen(req)
        _cap_reads(response, self._fetch)
        return response


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


def _params(fetch: _Fetch, folder: str) -> dict[str, Any]:
    policy = fetch.policy

    def watch(status: dict[str, Any]) -> None:
        received = status.get("downloaded_bytes") or 0
        declared = status.get("total_bytes") or 0
        if max(received, declared) > policy.max_bytes:
            raise fetch.fail(DownloadTooLargeError(policy.max_bytes))
        fetch.check_time()

    return {
        "noplaylist": True,
        "extract_flat": "in_playlist",  # a playlist link costs one page, not one per entry
        "playlistend": 1,  # and a link that leads to one is processed no further than its first entry
        "max_filesize": policy.max_bytes,
        "socket_timeout": max(1.0, min(policy.timeout_s, 20.0)),
        "retries": 0,
        "extractor_retries": 0,
        "fragment_retries": 0,
        "concurrent_fragment_downloads": 1,  # stay on the guarded thread
        # No external downloader for any protocol, native HLS even where yt-dlp would prefer FFmpeg,
        # and an FFmpeg that doesn't exist for yt-dlp's own fallbacks (FFmpegFD, postprocessors).
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "ffmpeg_location": str(Path(folder) / "no-ffmpeg"),
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


def _check_metadata(info: dict[str, Any], fetch: _Fetch) -> None:
    policy = fetch.policy
    if info.get("_type") in ("playlist", "multi_video") or info.get("entries") is not None:
        raise PlaylistLinkError()
    if info.get("is_live") or info.get("live_status") in _LIVE_STATUSES:
        raise LiveStreamLinkError(fetch.url)
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


# -- yt-dlp's failures, as users read them ----------------------------------------------------------

_REFUSAL_WORDS = re.compile(
    r"private|log ?in|sign ?in|registered users|members[- ]only|premium|age[- ]restricted", re.IGNORECASE
)


def _causes(error: BaseException):
    """``error`` and what it wraps: DownloadError.exc_info, ExtractorError.cause, __cause__, __context__."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        wrapped = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
        cause = getattr(current, "cause", None)
        pending += [
            wrapped,
            cause if isinstance(cause, BaseException) else None,
            current.__cause__,
            current.__context__,
        ]


def link_error(error: YoutubeDLError, url: str) -> LinkError:
    """The LinkError a user reads for a failure yt-dlp reported, chosen by its kind (geo block, HTTP
    status, connection failure, broken or unsupported answer such as a redirect to ``file://``,
    private or login-only item); yt-dlp's text never reaches the user. ``url`` should be clean."""
    host = urllib.parse.urlsplit(url).hostname or url
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, LinkError):
            return cause
        if isinstance(cause, GeoRestrictedError):
            return GeoBlockedLinkError(url)
        if isinstance(cause, HTTPError):
            if cause.status in (401, 403):
                return LinkRefusedError(url, cause.status)
            if cause.status in (404, 410):
                return LinkNotFoundError(url, cause.status)
            return SiteError(url, host)
        if isinstance(cause, TransportError):
            return UnreachableSiteError(url, host)
        if isinstance(cause, RequestError):
            return SiteError(url, host)
    for cause in causes:
        if (
            isinstance(cause, ExtractorError)
            and not isinstance(cause, UnsupportedError)
            and _REFUSAL_WORDS.search(str(getattr(cause, "orig_msg", None) or cause))
        ):
            return LinkRefusedError(url)
    return NoAudioAtLinkError()


def warm_up() -> None:
    """Pay yt-dlp's one-off start-up (compiling every extractor's URL pattern, about a second) now,
    not within the first link's deadline: a fetching child process calls it as it starts."""
    for extractor in gen_extractor_classes():
        extractor.suitable("https://example.com/")


def fetch_audio(url: str, policy: LinkPolicy) -> FetchedAudio:
    """Download the audio behind ``url`` (blocking: run it in a worker) within ``policy``'s deadline
    and size cap. Raises LinkError subclasses (every yt-dlp failure is mapped to one) or
    TooLongError. The returned ``url`` is the page without credentials (:func:`clean_link`)."""
    url = url.strip()
    fetch = _Fetch(policy, clean_link(url), time.monotonic() + policy.timeout_s)
    _check_url(url, policy)
    _install_guards()
    watchdog = threading.Timer(policy.timeout_s, fetch.expire)
    watchdog.daemon = True
    _active.fetch = fetch
    watchdog.start()
    try:
        with tempfile.TemporaryDirectory(prefix="genrebot-link-", dir=policy.temp_root) as folder:
            with _GuardedYoutubeDL(_params(fetch, folder), fetch) as ydl:
                # process=False: a playlist is refused on what the page says, before any entry is
                # looked at (processing 30,000 entries of a page of <audio> tags took minutes)
                info = ydl.extract_info(url, download=False, process=False)
                _check_metadata(info, fetch)
                info = ydl.process_ie_result(info, download=True)
                _check_metadata(info, fetch)  # a link that led to a playlist (at most its first entry was fetched)
            data = _read_download(info, policy)
    except Exception as exc:
        if fetch.error is not None:
            raise fetch.error from None
        if isinstance(exc, YoutubeDLError):
            log.info("link failed", extra={"url": fetch.url, "error": str(exc)})
            raise link_error(exc, fetch.url) from None
        raise
    finally:
        watchdog.cancel()
        _active.fetch = None
        fetch.close()
    title = info.get("title") or info.get("webpage_url_basename") or "untitled"
    return FetchedAudio(data, title, clean_link(info.get("webpage_url") or url), info.get("duration"))
