"""Every container the engine decodes is taken by every front end, by one definition of what counts as
audio (genre_engine.audio), and a file is judged by its content: a zip named .mp3 is "not audio" in
the same words in the engine's CLI, the console and Discord."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from bot.config import Config
from bot.services import Services, check_upload
from console.repl import Console
from genre_engine import GenreEngine
from genre_engine.errors import NotAudioError
from tests.conftest import REPO_ROOT
from tests.genre_engine.test_formats import RATE, write_case

NOT_AUDIO = str(NotAudioError())
# containers named in issue 9 beyond the usual ones: AIFF-C, QuickTime (a video container holding an
# audio track), Matroska audio, Core Audio
CONTAINERS = ("aifc", "mov", "mka", "caf")


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        *((f"song.{container}", None) for container in CONTAINERS),
        ("voice-message.ogg", "audio/ogg"),  # a Discord voice message
        ("clip.mp4", "video/mp4"),
        ("recording.bin", "audio/x-caf"),
    ],
)
def test_uploads_the_engine_decodes_are_accepted(filename, content_type):
    check_upload(filename, content_type, 1000, 25 * 2**20)


def test_an_upload_plainly_not_audio_is_refused_in_the_engines_words():
    with pytest.raises(NotAudioError) as refused:
        check_upload("notes.txt", "text/plain", 1000, 25 * 2**20)
    assert str(refused.value) == NOT_AUDIO


@pytest.fixture
def engine(tiny_checkpoint) -> GenreEngine:
    return GenreEngine.from_checkpoint(tiny_checkpoint)


def tone_file(path, seconds: float = 3.0):
    t = np.arange(int(seconds * RATE)) / RATE
    signal = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    write_case(path, path.suffix.lstrip("."), "s16", "mono", signal[None])
    return path


async def test_console_indexes_every_container_and_reports_bad_files_beside_them(engine, tmp_path, shared_dir):
    music = tmp_path / "music"
    music.mkdir()
    for number, container in enumerate(CONTAINERS):
        tone_file(music / f"song{number}.{container}", seconds=2.0 + number)  # distinct audio
    (music / "archive.mp3").write_bytes((shared_dir / "field" / "zip_archive_named.mp3").read_bytes())
    services = await Services.open(Config(db=tmp_path / "db.sqlite"), engine)
    stdout = io.StringIO()
    try:
        await Console(services, io.StringIO(f"/index {music}\n/classify {music / 'archive.mp3'}\n"), stdout).run()
        titles = sorted(song.title for song in await services.store.get_songs(1, [1, 2, 3, 4]))
    finally:
        await services.close()

    out = stdout.getvalue()
    assert f"Indexed {music}: 4 added, 0 already in the pool, 1 failed." in out
    assert f"   ✗ {music / 'archive.mp3'}: {NOT_AUDIO}" in out
    assert f"⚠ {NOT_AUDIO}" in out
    assert titles == ["song0", "song1", "song2", "song3"]


def test_the_engines_cli_says_the_same_words(shared_dir, tiny_checkpoint):
    archive = shared_dir / "field" / "zip_archive_named.mp3"

    done = subprocess.run(
        [sys.executable, "-m", "genre_engine", "--checkpoint", str(tiny_checkpoint), str(archive)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )

    assert done.returncode == 1 and done.stderr.strip().endswith(f"{archive}: {NOT_AUDIO}")


async def test_discord_says_the_same_words(make_bot, engine, shared_dir, tmp_path):
    harness = await make_bot(engine=engine)
    archive = harness.upload("song.mp3", (shared_dir / "field" / "zip_archive_named.mp3").read_bytes(), "audio/mpeg")
    caf = harness.upload("memo.caf", tone_file(tmp_path / "memo.caf").read_bytes(), None)

    *_, refused = await harness.command("classify", file=archive)
    *_, accepted = await harness.command("classify", file=caf)

    assert refused.ephemeral and refused.text == NOT_AUDIO
    assert not accepted.ephemeral and accepted.message["embeds"][0]["title"] == "memo"
