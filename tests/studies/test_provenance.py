"""The data files the studies ship name the command that wrote them, and the studies' records name
the files they wrote."""

from __future__ import annotations

import numpy as np

from benchmarks.record import STUDY_RESULTS, read
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.projection import projection_path
from genre_engine.tags import DEFAULT_TAGS_FILE, load_vocabulary


def test_the_shipped_tag_vocabulary_names_the_studies_that_chose_it() -> None:
    written_by = load_vocabulary(DEFAULT_TAGS_FILE).written_by
    assert written_by["thresholds"].startswith("python -m studies.tag_thresholds")
    assert written_by["confident"].startswith("python -m studies.not_sure") and "--write" in written_by["confident"]


def test_the_shipped_projection_names_the_command_that_wrote_it() -> None:
    with np.load(projection_path(DEFAULT_CHECKPOINT)) as data:
        command = str(data["command"])
    assert command.startswith("python -m studies.projection") and "--ship" in command


def test_the_records_of_the_studies_that_ship_a_file_name_it() -> None:
    wrote = {
        name: read(STUDY_RESULTS / f"{name}.json")["results"]["wrote"] for name in ("tag_thresholds", "projection")
    }
    assert wrote == {"tag_thresholds": "data/tags.json", "projection": "data/model.projection.npz"}
    assert read(STUDY_RESULTS / "not_sure.json")["results"]["wrote"] in (None, "data/tags.json")
