"""Every way yt-dlp fails ends as a LinkError whose text is ours, never yt-dlp's."""

from __future__ import annotations

import socket
import sys

import pytest
from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import (
    HTTPError,
    RequestError,
    TransportError,
    UnsupportedRequest,
)
from yt_dlp.utils import (
    DownloadError,
    ExtractorError,
    GeoRestrictedError,
    UnsupportedError,
)

from bot.errors import GENERIC_APOLOGY, user_message
from bot.links.errors import (
    GeoBlockedLinkError,
    LinkError,
    LinkNotFoundError,
    LinkRefusedError,
    NoAudioAtLinkError,
    SiteError,
    UnreachableSiteError,
)
from bot.links.fetch import fetch_audio, link_error

URL = "https://music.example/track/1"


def wrapped(error: Exception) -> DownloadError:
    """What YoutubeDL.report_error raises: a DownloadError carrying the original in exc_info."""
    try:
        raise error
    except Exception:
        return DownloadError(f"ERROR: {error}", sys.exc_info())


def http_error(status: int) -> HTTPError:
    return HTTPError(Response(fp=None, url=URL, headers={}, status=status))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (wrapped(GeoRestrictedError("This video is not available from your location")), GeoBlockedLinkError),
        (wrapped(ExtractorError("This video is private", expected=True)), LinkRefusedError),
        (wrapped(ExtractorError("This video is only available for registered users", expected=True)), LinkRefusedError),
        (wrapped(ExtractorError("Sign in to confirm your age", expected=True)), LinkRefusedError),
        (wrapped(ExtractorError("Unable to extract title")), NoAudioAtLinkError),
        (wrapped(UnsupportedError(URL)), NoAudioAtLinkError),
        (wrapped(ExtractorError("Unable to download webpage", cause=http_error(403))), LinkRefusedError),
        (wrapped(ExtractorError("Unable to download webpage", cause=http_error(401))), LinkRefusedError),
        (wrapped(ExtractorError("Unable to download webpage", cause=http_error(404))), LinkNotFoundError),
        (wrapped(ExtractorError("Unable to download webpage", cause=http_error(410))), LinkNotFoundError),
        (wrapped(ExtractorError("Unable to download webpage", cause=http_error(500))), SiteError),
        (
            wrapped(ExtractorError("Unable to download webpage", cause=TransportError(cause=ConnectionResetError()))),
            UnreachableSiteError,
        ),
        (wrapped(UnsupportedRequest("Unsupported url scheme: file")), SiteError),
        (RequestError("No connection adapters were found for 'ftp://host/a.mp3'"), SiteError),
        (DownloadError("ERROR: unable to download video data"), NoAudioAtLinkError),
    ],
)
def test_each_yt_dlp_failure_family_has_its_message(error, expected):
    mapped = link_error(error, URL)

    assert type(mapped) is expected
    message = user_message(mapped)
    assert message == str(mapped) != GENERIC_APOLOGY
    assert "ERROR" not in message and "yt-dlp" not in message and "--" not in message


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/a.mp3", "gopher://127.0.0.1/"])
def test_redirect_to_another_scheme_gets_a_message_of_ours(public, link_policy, target):
    url = public.redirect("/go.mp3", target)

    with pytest.raises(LinkError) as refused:
        fetch_audio(url, link_policy)
    assert user_message(refused.value) == str(refused.value) != GENERIC_APOLOGY


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (403, LinkRefusedError),
        (404, LinkNotFoundError),
        (410, LinkNotFoundError),
        (500, SiteError),
    ],
)
def test_http_errors(public, link_policy, status, expected):
    url = public.status("/song.mp3", status)

    with pytest.raises(expected):
        fetch_audio(url, link_policy)


def test_nothing_listening(link_policy):
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(UnreachableSiteError, match="127.0.0.1"):
        fetch_audio(f"http://127.0.0.1:{port}/song.mp3", link_policy)
