"""Every file in ../shared/field/ (real-world trouble reported for audio tools) gets its right answer.

The music in them is an excerpt of a metal song, so the shipped model must answer metal over the
file's true duration; the unusable ones must get the one clear error every front end shows.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from genre_engine import GenreEngine
from genre_engine.__main__ import main
from genre_engine.audio import scan_folder
from genre_engine.errors import NotAudioError, SilentAudioError
from storage.validation import clean_title

MUSIC = {  # file -> true duration (s)
    "mka_pcm_u8_8bit.mka": 30.0,
    "wav_header_sizes_zero.wav": 45.0,
    "mp3_leading_silence_20s_then_5s_music.mp3": 25.0,
    "mp3_vbr_no_xing_60s.mp3": 60.0,
    "wav_stereo_out_of_phase.wav": 30.0,
}
UNUSABLE = {"wav_dc_only_5s.wav": SilentAudioError, "zip_archive_named.mp3": NotAudioError}


@pytest.fixture(scope="module")
def engine() -> GenreEngine:
    return GenreEngine.from_checkpoint()


@pytest.fixture(scope="module")
def field(shared_dir: Path) -> Path:
    return shared_dir / "field"


def test_every_field_file_is_covered_here(field: Path) -> None:
    assert {p.name for p in field.iterdir() if p.name != "README.md"} == set(MUSIC) | set(UNUSABLE)


@pytest.mark.parametrize("name", sorted(MUSIC))
def test_music_gets_metal_over_its_true_duration(engine: GenreEngine, field: Path, name: str) -> None:
    prediction = engine.classify(field / name)
    assert prediction.genre == "metal"
    assert prediction.duration_s == pytest.approx(MUSIC[name], rel=0.01)
    assert prediction.segments == len(prediction.segment_starts_s) > 0
    segment_s = engine.features.segment_s
    assert max(prediction.segment_starts_s) + segment_s <= prediction.duration_s + 1e-6  # inside real audio


def test_windows_of_the_vbr_mp3_cover_all_60_seconds(engine: GenreEngine, field: Path) -> None:
    starts = engine.classify(field / "mp3_vbr_no_xing_60s.mp3").segment_starts_s
    assert starts[0] == 0.0 and starts[-1] > 55.0


def test_the_silent_intro_is_left_out(engine: GenreEngine, field: Path) -> None:
    starts = engine.classify(field / "mp3_leading_silence_20s_then_5s_music.mp3").segment_starts_s
    assert min(starts) > 20.0 - engine.features.segment_s


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_files_get_the_clear_error(engine: GenreEngine, field: Path, name: str) -> None:
    with pytest.raises(UNUSABLE[name]):
        engine.classify(field / name)


def test_a_file_name_that_is_not_utf8_is_classified(engine: GenreEngine, field: Path, tmp_path: Path) -> None:
    folder = tmp_path / "songs"
    folder.mkdir()
    bad_name = os.fsdecode(os.path.join(os.fsencode(folder), b"caf\xe9.mp3"))
    shutil.copy(field / "mp3_vbr_no_xing_60s.mp3", bad_name)
    shutil.copy(field / "zip_archive_named.mp3", folder / "archive.mp3")
    scan = scan_folder(folder)
    assert [(path, reason.kind) for path, reason in scan.skipped] == [(folder / "archive.mp3", "zip archive")]
    ((path, prediction),) = engine.classify_many(scan.audio)  # beside, not instead of, the skipped one
    assert path == Path(bad_name)
    assert prediction.genre == "metal"
    assert clean_title(prediction.name) == "caf\ufffd.mp3"


def test_cli_reports_bad_files_in_one_line_each_and_classifies_the_rest(
    field: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / os.fsdecode(b"caf\xe9.wav")
    shutil.copy(field / "wav_stereo_out_of_phase.wav", good)
    files = [field / "zip_archive_named.mp3", field / "wav_dc_only_5s.wav", good]
    assert main(["--json", *map(str, files)]) == 1
    out, err = capsys.readouterr()
    zip_archive = NotAudioError(kind="zip archive")
    assert err.splitlines() == [f"{files[0]}: {zip_archive}", f"{files[1]}: {SilentAudioError()}"]
    (row,) = map(json.loads, out.splitlines())
    assert (
        row["genre"] == "metal" and row["file"].endswith("caf\ufffd.wav") and row["duration_s"] == pytest.approx(30.0)
    )
