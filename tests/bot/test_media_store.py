"""The media store: copies under a cap with least-recently-played eviction, references by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.media_store import InvalidContentHashError, MediaStore

KiB = 1024


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", cap_bytes=400 * KiB)


def key(name: str) -> str:
    """A content hash for a short name."""
    return name.encode().hex().ljust(64, "0")


def blob(tag: int, size: int = 100 * KiB) -> bytes:
    return bytes([tag]) * size


def read(media: MediaStore, key: str) -> bytes | None:
    handle = media.open(key)
    if handle is None:
        return None
    with handle:
        return handle.read()


def test_a_copy_comes_back_byte_for_byte(media: MediaStore) -> None:
    media.put(key("a"), blob(1))
    assert read(media, key("a")) == blob(1)
    assert media.has(key("a")) and not media.has(key("b"))
    assert media.open(key("b")) is None


def test_the_least_recently_played_copy_is_evicted_first(media: MediaStore) -> None:
    for tag, name in enumerate("abc"):
        media.put(key(name), blob(tag))
    read(media, key("a"))  # played: "b" is now the least recently played
    media.put(key("d"), blob(3))
    media.put(key("e"), blob(4))
    assert media.copies_bytes <= media.cap_bytes
    assert read(media, key("a")) == blob(0)
    assert media.open(key("b")) is None
    assert read(media, key("e")) == blob(4)


def test_touch_counts_as_a_play(media: MediaStore) -> None:
    for tag, name in enumerate("abc"):
        media.put(key(name), blob(tag))
    assert media.touch(key("a")) and not media.touch(key("zz"))
    media.put(key("d"), blob(3))
    media.put(key("e"), blob(4))
    assert media.has(key("a")) and not media.has(key("b"))


def test_audio_larger_than_the_cap_is_not_kept(media: MediaStore) -> None:
    media.put(key("a"), blob(1))
    media.put(key("b"), blob(2, 500 * KiB))
    assert not media.has(key("b")) and media.has(key("a"))


def test_an_open_copy_stays_readable_when_evicted(media: MediaStore) -> None:
    media.put(key("a"), blob(1))
    handle = media.open(key("a"))
    for tag, name in enumerate("bcdef"):
        media.put(key(name), blob(tag + 2))
    assert not media.has(key("a"))
    with handle:
        assert handle.read() == blob(1)


def test_references_play_from_their_path_without_copying(media: MediaStore, tmp_path: Path) -> None:
    song = tmp_path / "song with spaces.ogg"
    song.write_bytes(blob(7, 300 * KiB))
    media.put_reference(key("s"), song)
    assert read(media, key("s")) == blob(7, 300 * KiB)
    assert media.copies_bytes < 100 * KiB  # nothing was copied
    for tag, name in enumerate("abcde"):  # references are never evicted
        media.put(key(name), blob(tag))
    assert media.has(key("s"))
    song.unlink()  # the file went away: no audio
    assert media.open(key("s")) is None and not media.has(key("s"))


def test_the_store_persists_across_restarts(tmp_path: Path, media: MediaStore) -> None:
    media.put(key("a"), blob(1))
    media.put_reference(key("s"), tmp_path)
    again = MediaStore(tmp_path / "media", cap_bytes=400 * KiB)
    assert read(again, key("a")) == blob(1) and again.has(key("s"))


def test_keys_must_be_content_hashes(media: MediaStore) -> None:
    with pytest.raises(InvalidContentHashError):
        media.put("../../etc/passwd", b"x")
