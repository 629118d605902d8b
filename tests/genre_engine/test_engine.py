from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_engine import GENRES, GenreEngine
from genre_engine.__main__ import main
from genre_engine.errors import NotAudioError
from tests.conftest import tone


@pytest.fixture(scope="module")
def engine(tiny_checkpoint: Path) -> GenreEngine:
    return GenreEngine.from_checkpoint(tiny_checkpoint)


def test_prediction_contract(engine: GenreEngine, wav_file: Path) -> None:
    prediction = engine.classify(wav_file, name="tone.wav")
    assert tuple(prediction.probabilities) == GENRES
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert prediction.genre == max(prediction.probabilities, key=prediction.probabilities.get)
    assert prediction.embedding.shape == (engine.embedding_dim,) and prediction.embedding.dtype == np.float32
    assert np.linalg.norm(prediction.embedding) == pytest.approx(1.0, abs=1e-5)
    assert prediction.duration_s == pytest.approx(4.0, abs=0.01)
    assert prediction.segments == 4  # 1-s segments of the tiny checkpoint
    assert set(prediction.timings_ms) == {"decode", "model", "total"}
    np.testing.assert_allclose(prediction.vector, list(prediction.probabilities.values()))


def test_bytes_and_path_agree_including_the_dedup_hash(engine: GenreEngine, wav_file: Path) -> None:
    a = engine.classify(wav_file)
    b = engine.classify(wav_file.read_bytes())
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    np.testing.assert_allclose(a.vector, b.vector, atol=1e-6)


def test_long_input_is_capped_to_max_segments(tiny_checkpoint: Path, tmp_path: Path) -> None:
    engine = GenreEngine.from_checkpoint(tiny_checkpoint, max_segments=6)
    path = tmp_path / "long.wav"
    sf.write(path, tone(seconds=120.0, sr=8000), 8000)
    prediction = engine.classify(path)
    assert prediction.segments == 6 and prediction.duration_s == pytest.approx(120.0)


def test_batch_api_yields_errors_beside_results(engine: GenreEngine, wav_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("nope" * 100)
    seen: list[int] = []
    results = list(engine.classify_many([wav_file, bad, wav_file], progress=seen.append))
    assert [source for source, _ in results] == [wav_file, bad, wav_file]
    assert isinstance(results[1][1], NotAudioError)
    assert results[0][1].genre == results[2][1].genre and results[0][1].name == "tone.wav"
    assert seen == [1, 2, 3]


def test_cli_json_and_a_bad_file(
    tiny_checkpoint: Path, wav_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.ogg"
    bad.write_text("not audio" * 100)
    code = main(
        [str(wav_file), str(bad), str(tmp_path / "missing.wav"), "--checkpoint", str(tiny_checkpoint), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    record = json.loads(out.strip())
    assert set(record) == {"file", "genre", "probabilities", "duration_s"} and record["file"] == str(wav_file)
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "doesn't look like audio" in lines[0] and "No such file" in lines[1]
    assert "Traceback" not in err


def test_cli_text_output(tiny_checkpoint: Path, wav_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(wav_file), "--checkpoint", str(tiny_checkpoint)]) == 0
    assert capsys.readouterr().out.startswith(f"{wav_file}: ")


def test_cli_missing_checkpoint(tmp_path: Path, wav_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(wav_file), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "No model checkpoint" in capsys.readouterr().err
