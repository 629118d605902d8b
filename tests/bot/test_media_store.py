"""The media store: copies under a cap with least-recently-played eviction, references by path."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.media_store import STALE_INCOMING_S, InvalidContentHashError, MediaStore, Owner

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


def test_a_member_sharing_without_end_evicts_only_their_own_servers_audio(media: MediaStore) -> None:
    """Server A keeps two songs; a member of server B shares song after song: B's copies give way,
    never A's, and within B the member sharing most lets go first."""
    server_a, flooder, neighbour = Owner(1, 11), Owner(2, 21), Owner(2, 22)
    media.put(key("a1"), blob(1), server_a)
    media.put(key("a2"), blob(2), server_a)
    media.put(key("b0"), blob(3, 50 * KiB), neighbour)
    for n in range(10):
        media.put(key(f"f{n}"), blob(10 + n), flooder)

    assert media.copies_bytes <= media.cap_bytes
    assert read(media, key("a1")) == blob(1) and read(media, key("a2")) == blob(2)  # A keeps its equal part
    assert media.has(key("b0")) and media.has(key("f9")) and not media.has(key("f0"))
    assert media.kept_bytes(1) == 200 * KiB and media.kept_bytes(2, 21) == 100 * KiB


def test_a_copy_two_servers_keep_stays_while_either_keeps_it(media: MediaStore) -> None:
    media.put(key("s"), blob(1), Owner(1, 11))
    media.put(key("s"), blob(1), Owner(2, 21))
    for n in range(4):
        media.put(key(f"b{n}"), blob(2 + n), Owner(2, 21))

    assert media.has(key("s")) and media.kept_bytes(1) == 100 * KiB  # server 2 let it go, server 1 keeps it
    assert media.kept_bytes(2) == 300 * KiB and not media.has(key("b0"))  # then server 2 gave its own way


def test_leftovers_of_killed_writes_are_counted_and_removed_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    MediaStore(folder, cap_bytes=400 * KiB)
    stale, fresh = folder / "copies" / ".incoming-dead", folder / "copies" / ".incoming-writing"
    stale.write_bytes(blob(1, 300 * KiB))
    fresh.write_bytes(blob(2, 50 * KiB))
    os.utime(stale, (time.time() - STALE_INCOMING_S - 1,) * 2)
    media = MediaStore(folder, cap_bytes=400 * KiB)

    assert media.removed_incoming == 1 and not stale.exists() and fresh.exists()
    assert media.copies_bytes == 50 * KiB  # a write under way takes its room
    for name in "abcd":
        media.put(key(name), blob(3))
    assert media.copies_bytes <= media.cap_bytes and not media.has(key("a"))


def test_a_failed_write_leaves_nothing_behind(media: MediaStore, monkeypatch) -> None:
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError(28, "No space left on device")))

    with pytest.raises(OSError):
        media.put(key("a"), blob(1))
    assert [path.name for path in (media.folder / "copies").iterdir()] == []
