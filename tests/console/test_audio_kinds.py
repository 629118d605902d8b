"""Every front end accepts and refuses the same files, judged by their content with the engine's one
definition (genre_engine.audio), never by their names, and says the same sentence for each refusal:
the engine's CLI, the console's /classify and /index, and Discord's /classify upload.

The files: containers named in issue 9 (AIFF-C, QuickTime, Matroska audio, Core Audio), issue 20's
Musepack (../shared/field2), DSD and an Ogg voice note without an extension, all accepted; a video
without a sound track, a zip archive named .mp3 (../shared/field), a text and an empty file, refused.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from bot.config import Config
from bot.services import Services
from cogs.markdown import literal
from console.repl import Console
from genre_engine import GenreEngine
from genre_engine.__main__ import main
from genre_engine.errors import EmptyAudioError, NoSoundTrackError, NotAudioError
from tests.genre_engine.test_formats import RATE, write_case
from tests.support.audio_files import dsf, ogg_opus

# containers named in issue 9 beyond the usual ones: AIFF-C, QuickTime (a video container holding an
# audio track), Matroska audio, Core Audio
CONTAINERS = ("aifc", "mov", "mka", "caf")
REFUSED = {  # file -> the one sentence every front end says
    "screen.mp4": str(NoSoundTrackError(["video"])),
    "archive.mp3": str(NotAudioError(kind="zip archive")),
    "notes.txt": str(NotAudioError()),
    "empty.mp3": str(EmptyAudioError()),
}


def tone(seconds: float, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def files(tmp_path: Path, shared_dir: Path) -> dict[str, Path]:
    """Each kind of file once, with distinct audio (so none is "already known" as another)."""
    folder = tmp_path / "music"
    folder.mkdir()
    for number, container in enumerate(CONTAINERS):
        write_case(folder / f"song{number}.{container}", container, "s16", "mono", tone(2.0, 300 + 100 * number)[None])
    (folder / "musepack_sv8.mpc").write_bytes((shared_dir / "field2" / "musepack_sv8.mpc").read_bytes())
    (folder / "tone.dsf").write_bytes(dsf(2.0))
    (folder / "voice-message").write_bytes(ogg_opus(tone(3.0, 700), RATE))
    (folder / "screen.mp4").write_bytes(
        (shared_dir / "field2" / "mp4_screen_recording_no_audio_track.mp4").read_bytes()
    )
    (folder / "archive.mp3").write_bytes((shared_dir / "field" / "zip_archive_named.mp3").read_bytes())
    (folder / "notes.txt").write_text("side A: 1. intro 2. outro\n")
    (folder / "empty.mp3").write_bytes(b"")
    return {path.name: path for path in sorted(folder.iterdir())}


def accepted(files: dict[str, Path]) -> list[str]:
    return [name for name in files if name not in REFUSED]


@pytest.fixture
def engine(tiny_checkpoint) -> GenreEngine:
    return GenreEngine.from_checkpoint(tiny_checkpoint)


def test_the_engines_cli(files, tiny_checkpoint, capsys):
    assert main(["--checkpoint", str(tiny_checkpoint), *map(str, files.values())]) == 1
    out, err = capsys.readouterr()

    assert [line.split(": ", 1)[0] for line in out.splitlines() if not line.startswith(" ")] == [
        str(files[name]) for name in accepted(files)
    ]
    assert sorted(err.splitlines()) == sorted(f"{files[name]}: {sentence}" for name, sentence in REFUSED.items())


async def test_the_console_classify_and_index(files, engine, tmp_path):
    folder = files["notes.txt"].parent
    script = f"/index {folder}\n" + "".join(f"/classify {path}\n" for path in files.values())
    services = await Services.open(Config(db=tmp_path / "db.sqlite"), engine)
    stdout = io.StringIO()
    try:
        await Console(services, io.StringIO(script), stdout).run()
    finally:
        await services.close()

    out = stdout.getvalue()
    added, skipped = len(accepted(files)), len(REFUSED)
    assert f"Indexed {folder}: {added} added, 0 already in the pool, 0 failed, {skipped} skipped." in out
    for name, sentence in REFUSED.items():
        assert f"   – skipped {name}: {sentence}" in out
    answers = [line for line in out.splitlines() if line.startswith(("🎵", "⚠"))]
    expected = [f"⚠ {REFUSED[name]}" if name in REFUSED else f"🎵 {Path(name).stem}: " for name in files]
    assert len(answers) == len(expected) and all(a.startswith(e) for a, e in zip(answers, expected)), answers


async def test_the_console_indexes_a_single_file_too(files, engine, tmp_path):
    song, notes = files["tone.dsf"], files["notes.txt"]
    services = await Services.open(Config(db=tmp_path / "db.sqlite"), engine)
    stdout = io.StringIO()
    try:
        await Console(services, io.StringIO(f"/index {song}\n/index {notes}\n"), stdout).run()
    finally:
        await services.close()

    out = stdout.getvalue()
    assert f"Indexed {song}: 1 added, 0 already in the pool, 0 failed." in out
    assert f"Indexed {notes}: 0 added, 0 already in the pool, 0 failed, 1 skipped." in out
    assert f"   – skipped notes.txt: {REFUSED['notes.txt']}" in out


async def test_discord_uploads(files, make_bot, engine):
    harness = await make_bot(engine=engine)

    for name, path in files.items():
        *_, answer = await harness.command("classify", file=harness.upload(name, path.read_bytes(), None))
        if name in REFUSED:
            assert answer.ephemeral and answer.text == REFUSED[name], name
        else:
            assert not answer.ephemeral and answer.message["embeds"][0]["title"] == literal(Path(name).stem), name
