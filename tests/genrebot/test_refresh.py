"""Refreshing the weights end to end, as a user does it (issue 19): index real songs with the shipped
model, train a one-epoch CNN with ``python -m training.train``, re-analyse the pool with it on an
install without torch, and go back to the shipped model, which restores the first answers exactly.
A kill -9 in the middle of a re-analysis loses nothing, and the next run finishes it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_engine.checkpoint import export_path, save_checkpoint
from storage import SQLiteStore
from tests.conftest import REPO_ROOT, tiny_bundle, tone
from tests.support.no_torch import run_module_without_torch
from training.export import export

SONGS = ("muldjord/armygeddon.ogg", "sectoid/Feelings.ogg", "singularity/Coherence.ogg")
KILLED_SONGS = 120  # enough that the first few are done well before the last
GENRES_TRAINED = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


def genrebot(*args: str, env: dict[str, str], torch: bool = True) -> subprocess.CompletedProcess[str]:
    if not torch:
        return run_module_without_torch("bot", *args, env=env, timeout=600)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def stored(db: Path) -> dict[str, tuple[str | None, np.ndarray]]:
    """Each stored song's (model id, probabilities), by title."""

    async def read() -> dict[str, tuple[str | None, np.ndarray]]:
        async with SQLiteStore(db) as store:
            matrix = await store.pool_matrix(1)
            songs = await store.get_songs(1, matrix.ids.tolist())
        return {song.title: (song.model_id, song.probabilities) for song in songs}

    return asyncio.run(read())


@pytest.fixture
def user(tmp_path: Path, shared_dir: Path) -> dict:
    music, clips = tmp_path / "music", tmp_path / "clips"
    music.mkdir()
    for song in SONGS:
        (music / Path(song).name).symlink_to(shared_dir / "pool" / song)
    for genre in GENRES_TRAINED:  # three clips of each genre: enough for one epoch and its splits
        (clips / genre).mkdir(parents=True)
        for number in (3, 4, 5):
            name = f"{genre}.0000{number}.wav"
            (clips / genre / name).symlink_to(shared_dir / "gtzan" / "clips" / genre / name)
    env = {**os.environ, "GENREBOT_HOME": str(tmp_path / "home"), "GENREBOT_LOG_LEVEL": "WARNING"}
    return {"music": music, "clips": clips, "env": env, "db": tmp_path / "home" / "genrebot.db", "runs": tmp_path}


@pytest.mark.slow
def test_train_serve_reanalyse_and_back(user: dict) -> None:
    env, db = user["env"], user["db"]
    indexed = genrebot("index", "--guild", "1", str(user["music"]), env=env)
    assert indexed.returncode == 0, indexed.stderr
    first = stored(db)
    assert len(first) == len(SONGS)

    out = user["runs"] / "runs" / "try"
    trained = subprocess.run(
        [sys.executable, "-m", "training.train", "--data", str(user["clips"]), "--model", "cnn", "--epochs", "1",
         "--out", str(out), "--device", "cpu"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert (out / "model.onnx").is_file() and f"--checkpoint {out / 'model.pt'}" in trained.stdout
    serving = json.loads((out / "metrics.json").read_text())["serving"]
    assert serving["projection"] is None and "256 values" in serving["projection_why"] and serving["tags"] is None

    checkpoint = str(out / "model.pt")
    refreshed = genrebot("--checkpoint", checkpoint, "reanalyse", "--json", env=env, torch=False)
    assert refreshed.returncode == 0, refreshed.stderr
    report = json.loads(refreshed.stdout)
    assert report["songs"] == report["reanalysed"] == report["current"] == len(SONGS) and report["unavailable"] == 0
    state = json.loads(genrebot("--checkpoint", checkpoint, "model", "--json", env=env, torch=False).stdout)
    assert state["model"] == report["model"] and state["runtime"] == "onnx"
    assert state["songs"] == {"current": len(SONGS), "other_model": 0, "unavailable": 0}

    now = stored(db)
    for path in sorted(user["music"].iterdir()):
        answer = run_module_without_torch(
            "genre_engine", "--checkpoint", checkpoint, "--json", str(path), env=env, timeout=600
        )
        assert answer.returncode == 0, answer.stderr
        probabilities = json.loads(answer.stdout)["probabilities"]
        model_id, vector = now[path.stem]
        assert model_id == report["model"]
        assert vector == pytest.approx(list(probabilities.values()), abs=2e-6)

    back = genrebot("reanalyse", "--json", env=env, torch=False)
    assert back.returncode == 0, back.stderr
    restored = stored(db)
    for title, (model_id, vector) in first.items():
        assert restored[title][0] == model_id and np.array_equal(restored[title][1], vector), title


def test_a_kill_in_the_middle_of_a_reanalysis_loses_nothing_and_the_next_run_finishes_it(
    tmp_path: Path, exported: Path
) -> None:
    """Songs indexed with one tiny model, re-analysed by another, killed (-9) after the first few."""
    other = tmp_path / "other" / "tiny.pt"
    other.parent.mkdir()
    bundle = tiny_bundle()
    for parameter in bundle.model.parameters():  # other weights, the same labels and shapes
        parameter.data.mul_(-1.0)
    export(save_checkpoint(other, bundle), export_path(other))
    music = tmp_path / "music"
    music.mkdir()
    for n in range(KILLED_SONGS):
        sf.write(music / f"tone {n}.wav", tone(200 + 7 * n, seconds=2, sr=8000), 8000)
    env = {**os.environ, "GENREBOT_HOME": str(tmp_path / "home"), "GENREBOT_LOG_LEVEL": "WARNING"}
    db = tmp_path / "home" / "genrebot.db"
    assert genrebot("--checkpoint", str(exported), "index", "--guild", "1", str(music), env=env).returncode == 0
    before = stored(db)
    old = {model for model, _ in before.values()}

    running = subprocess.Popen(
        [sys.executable, "-m", "bot", "--checkpoint", str(other), "reanalyse"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while running.poll() is None and time.monotonic() < deadline:
        if sum(model not in old for model, _ in stored(db).values()) >= 3:
            break
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.wait()
    halfway = stored(db)
    moved = sum(model not in old for model, _ in halfway.values())
    assert set(halfway) == set(before) and 0 < moved < len(before)  # nothing lost; some done, some not

    finished = genrebot("--checkpoint", str(other), "reanalyse", "--json", env=env)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["reanalysed"] == len(before) - moved and report["current"] == len(before) == report["songs"]
    after = stored(db)
    assert set(after) == set(before) and {model for model, _ in after.values()} == {report["model"]}
