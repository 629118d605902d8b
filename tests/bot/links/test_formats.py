"""Only yt-dlp's guarded Python downloaders touch the network: every format path (progressive HTTP,
HLS, AES-128 HLS, DASH, live, non-HTTP protocols) against a loopback server allowed to the test
(127.0.0.1) and one standing in for an internal address (127.0.0.2), with a fake ``ffmpeg`` on
PATH that records every call (the Docker image installs a real one)."""

from __future__ import annotations

import os
import stat
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
from Cryptodome.Cipher import AES
from Cryptodome.Util.Padding import pad

from bot.links.errors import (
    InternalAddressError,
    LinkError,
    LiveStreamLinkError,
    NoSafeFormatError,
)
from bot.links.fetch import fetch_audio
from tests.support.link_servers import HostServer

SEGMENTS = [bytes([n]) * 3000 for n in (1, 2, 3)]
KEY = bytes(range(16))
IV = bytes(15) + b"\x01"


@dataclass
class FakeFfmpeg:
    log: Path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def downloads(self) -> list[str]:
        """Calls that would make ffmpeg open an input (``-i URL``): its own, unguarded connections."""
        return [call for call in self.calls() if " -i " in f" {call} "]


@pytest.fixture
def fake_ffmpeg(tmp_path: Path, monkeypatch) -> FakeFfmpeg:
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "ffmpeg-calls.log"
    for name in ("ffmpeg", "ffprobe"):
        script = folder / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$*" >> "{log}"\n'
            'case " $* " in *" -i "*) exit 1;; esac\n'
            f'echo "{name} version 6.1.1 Copyright (c) 2000-2023 the FFmpeg developers"\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return FakeFfmpeg(log)


@pytest.fixture(params=["with pycryptodomex", "without pycryptodomex"])
def cryptodome(request, monkeypatch) -> bool:
    """yt-dlp decrypts AES-128 HLS itself with pycryptodomex; without it, it hands the stream to FFmpeg."""
    if request.param == "without pycryptodomex":
        monkeypatch.setattr("yt_dlp.downloader.hls.Cryptodome", types.SimpleNamespace(AES=None))
        return False
    return True


def media_playlist(segment_urls: list[str], *, key_url: str | None = None, ended: bool = True) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    if key_url:
        lines.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key_url}",IV=0x{IV.hex()}')
    for url in segment_urls:
        lines += ["#EXTINF:1.0,", url]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def serve_segments(server: HostServer, segments: list[bytes], prefix: str = "/seg") -> list[str]:
    return [server.file(f"{prefix}{n}.ts", body, "video/mp2t") for n, body in enumerate(segments)]


def encrypt(segment: bytes) -> bytes:
    return AES.new(KEY, AES.MODE_CBC, IV).encrypt(pad(segment, 16))


M3U8 = "application/vnd.apple.mpegurl"


def test_progressive_http_without_ffmpeg(public, link_policy, fake_ffmpeg):
    url = public.file("/song.wav", b"RIFF" + bytes(5000), "audio/wav")

    assert fetch_audio(url, link_policy).data == b"RIFF" + bytes(5000)
    assert fake_ffmpeg.downloads() == []


def test_hls_segments_downloaded_natively(public, link_policy, fake_ffmpeg):
    url = public.text("/song.m3u8", media_playlist(serve_segments(public, SEGMENTS)), M3U8)

    assert fetch_audio(url, link_policy).data == b"".join(SEGMENTS)
    assert fake_ffmpeg.downloads() == []


def test_hls_segments_on_an_internal_address_are_never_fetched(public, internal, link_policy, fake_ffmpeg):
    url = public.text("/song.m3u8", media_playlist(serve_segments(internal, SEGMENTS)), M3U8)

    with pytest.raises(InternalAddressError):
        fetch_audio(url, link_policy)
    assert internal.requests == []
    assert fake_ffmpeg.downloads() == []


def test_aes_hls_decrypted_natively(public, link_policy, fake_ffmpeg, cryptodome):
    key_url = public.file("/key", KEY, "application/octet-stream")
    segments = serve_segments(public, [encrypt(segment) for segment in SEGMENTS])
    url = public.text("/song.m3u8", media_playlist(segments, key_url=key_url), M3U8)

    if cryptodome:
        assert fetch_audio(url, link_policy).data == b"".join(SEGMENTS)
    else:  # yt-dlp would hand the stream to FFmpeg: refused instead
        with pytest.raises(LinkError):
            fetch_audio(url, link_policy)
    assert fake_ffmpeg.downloads() == []


def test_aes_hls_key_on_an_internal_address_is_never_fetched(public, internal, link_policy, fake_ffmpeg, cryptodome):
    key_url = internal.file("/key", KEY, "application/octet-stream")
    segments = serve_segments(public, [encrypt(segment) for segment in SEGMENTS])
    url = public.text("/song.m3u8", media_playlist(segments, key_url=key_url), M3U8)

    with pytest.raises(LinkError):
        fetch_audio(url, link_policy)
    assert internal.requests == []
    assert fake_ffmpeg.downloads() == []


def test_live_hls_is_refused(public, internal, link_policy, fake_ffmpeg):
    url = public.text("/live.m3u8", media_playlist(serve_segments(internal, SEGMENTS), ended=False), M3U8)

    with pytest.raises(LiveStreamLinkError):
        fetch_audio(url, link_policy)
    assert internal.requests == []
    assert set(public.requests) == {"/live.m3u8"}  # only the manifest, to see what it is
    assert fake_ffmpeg.downloads() == []


def mpd(segment_urls: list[str], *, dynamic: bool = False) -> str:
    segments = "".join(f'<SegmentURL media="{url}"/>' for url in segment_urls)
    kind = 'type="dynamic" availabilityStartTime="2020-01-01T00:00:00Z"' if dynamic else 'type="static"'
    return (
        '<?xml version="1.0"?>'
        f'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" {kind} mediaPresentationDuration="PT3S" minBufferTime="PT1S"'
        ' profiles="urn:mpeg:dash:profile:isoff-main:2011">'
        '<Period id="0"><AdaptationSet mimeType="audio/mp4" contentType="audio">'
        '<Representation id="a" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="44100">'
        f'<SegmentList duration="1" timescale="1">{segments}</SegmentList>'
        "</Representation></AdaptationSet></Period></MPD>"
    )


def test_dash_segments_downloaded_natively(public, link_policy, fake_ffmpeg):
    url = public.text("/song.mpd", mpd(serve_segments(public, SEGMENTS, "/dash")), "application/dash+xml")

    assert fetch_audio(url, link_policy).data == b"".join(SEGMENTS)
    assert fake_ffmpeg.downloads() == []


def test_dash_segments_on_an_internal_address_are_never_fetched(public, internal, link_policy, fake_ffmpeg):
    url = public.text("/song.mpd", mpd(serve_segments(internal, SEGMENTS, "/dash")), "application/dash+xml")

    with pytest.raises(InternalAddressError):
        fetch_audio(url, link_policy)
    assert internal.requests == []
    assert fake_ffmpeg.downloads() == []


def test_live_dash_is_refused(public, internal, link_policy, fake_ffmpeg):
    url = public.text(
        "/live.mpd", mpd(serve_segments(internal, SEGMENTS, "/dash"), dynamic=True), "application/dash+xml"
    )

    with pytest.raises(LiveStreamLinkError):
        fetch_audio(url, link_policy)
    assert internal.requests == []
    assert fake_ffmpeg.downloads() == []


@pytest.mark.parametrize("source", ["rtmp://127.0.0.2/live/song", "rtsp://127.0.0.2/song", "mms://127.0.0.2/song"])
def test_formats_no_native_downloader_serves_are_refused(public, link_policy, fake_ffmpeg, source):
    """rtmp goes to rtmpdump, rtsp/mms to external tools: a page offering only those gets a clear no."""
    url = public.text("/page.html", f'<html><body><audio src="{source}"></audio></body></html>', "text/html")

    with pytest.raises(NoSafeFormatError):
        fetch_audio(url, link_policy)
    assert fake_ffmpeg.downloads() == []
