"""Indexing a folder with the real engine: what gets in, what is skipped and why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import soundfile as sf

from bot.config import Config
from bot.services import Services
from genre_engine.errors import NotAudioError
from tests.conftest import tone


async def test_index_reports_bad_and_too_long_files_and_skips_known_ones(tmp_path, tiny_checkpoint):
    music = tmp_path / "music"
    (music / "sub dir").mkdir(parents=True)
    sf.write(music / "short one.wav", tone(440, seconds=3), 22050)
    sf.write(music / "sub dir" / "other.flac", tone(660, seconds=3), 22050)
    sf.write(music / "long.wav", tone(220, seconds=12), 22050)
    (music / "broken.mp3").write_bytes(b"this is not audio at all")
    (music / "notes.txt").write_text("skipped: not audio, whatever its name")
    services = await Services.start(
        Config(db=tmp_path / "db.sqlite", checkpoint=tiny_checkpoint, max_duration_s=10, media=tmp_path / "media")
    )
    progress: list[int] = []
    try:
        first = await services.index_folder(7, music, progress=progress.append)
        songs = await services.store.get_songs(7, [1, 2, 3, 4])
        playable = [await asyncio.to_thread(services.media.open, song.content_hash) for song in songs]
        await services.store.set_audio_missing(7, songs[0].id, True)
        second = await services.index_folder(7, music)
        titles = sorted(song.title for song in songs)
        missing_after = await services.store.audio_missing_ids(7)
    finally:
        await services.close()

    assert (first.added, first.duplicates) == (2, 0)
    assert [(path.rsplit("/", 1)[-1], why[:25]) for path, why in first.failed] == [
        ("long.wav", "That track is 0:12 long; ")
    ]
    not_audio = str(NotAudioError())
    assert [(Path(path).name, why) for path, why in first.skipped] == [
        ("broken.mp3", not_audio),
        ("notes.txt", not_audio),
    ]
    assert progress[-1] == 3  # what is not audio is never classified
    assert titles == ["other", "short one"]
    assert (second.added, second.duplicates, len(second.failed), len(second.skipped)) == (0, 2, 1, 2)  # retried
    # the radio plays indexed songs from their files (no copy), and indexing again finds a lost one
    assert sorted(handle.read() for handle in playable) == sorted(
        path.read_bytes() for path in (music / "short one.wav", music / "sub dir" / "other.flac")
    )
    for handle in playable:
        handle.close()
    assert services.media.copies_bytes == 0
    assert missing_after == []


async def test_a_song_storage_refuses_is_reported_and_the_rest_are_added(tmp_path, tiny_checkpoint):
    music = tmp_path / "music"
    music.mkdir()
    sf.write(music / "good.wav", tone(440, seconds=3), 22050)
    sf.write(music / "   .wav", tone(550, seconds=3), 22050)  # a title of spaces: refused by storage
    services = await Services.start(Config(db=tmp_path / "db.sqlite", checkpoint=tiny_checkpoint))
    try:
        report = await services.index_folder(7, music)
        titles = [song.title for song in await services.store.get_songs(7, [1, 2])]
    finally:
        await services.close()

    assert report.added == 1 and titles == ["good"]
    assert [(Path(path).name, why) for path, why in report.failed] == [
        ("   .wav", "This song could not be saved: the title is missing.")
    ]
