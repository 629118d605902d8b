"""Names never break storage: bad bytes, control characters and huge titles are cleaned, not refused."""

from __future__ import annotations

import os

import pytest

from storage import SQLiteStore
from storage.validation import MAX_TITLE_CHARS, clean_title
from tests.support.stores import GUILD, make_song


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (os.fsdecode(b"caf\xe9.mp3"), "caf\ufffd.mp3"),  # a Latin-1 file name on a UTF-8 system
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("line\nbreak\ttab", "line break tab"),
        ("bell\x07 and \x1b[31mescape\x00", "bell and [31mescape"),
        ("  padded  title  ", "padded title"),
        ("Ünïcödé ♫ song", "Ünïcödé ♫ song"),
        ("\u202etxt.exe\u202c song", "txt.exe song"),  # a right-to-left override would turn what follows
        ("ad\u200bmin\ufeff", "admin"),  # invisible letters
        ("family \U0001f468\u200d\U0001f469\u200d\U0001f467", "family \U0001f468\u200d\U0001f469\u200d\U0001f467"),
    ],
)
def test_clean_title(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


def test_a_huge_title_is_cut_to_the_one_cap() -> None:
    assert clean_title("x" * 10_000) == "x" * MAX_TITLE_CHARS


async def test_the_store_cleans_every_title_it_stores(store: SQLiteStore) -> None:
    added = await store.add_song(make_song(1, title=os.fsdecode(b"caf\xe9 \x00mix.mp3") + " " + "y" * 10_000))
    stored = await store.get_song(GUILD, added.song.id)
    assert stored.title.startswith("caf\ufffd mix.mp3 y") and len(stored.title) == MAX_TITLE_CHARS
    stored.title.encode("utf-8")  # would raise on a surrogate


async def test_a_title_of_only_control_characters_is_missing(store: SQLiteStore) -> None:
    from storage.errors import InvalidSongError

    with pytest.raises(InvalidSongError, match="title is missing"):
        await store.add_song(make_song(1, title="\x00\x01"))
