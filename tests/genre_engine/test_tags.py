"""Styles, moods, eras and ``confident``: the vocabulary, the tagger's output through the engine,
the shipped thresholds file and the CLI's JSON, on the shipped model and real audio."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from genre_engine import GenreEngine
from genre_engine.__main__ import main
from genre_engine.models.musicnn import N_TAGS, Musicnn
from genre_engine.tags import (
    DEFAULT_TAGS_FILE,
    GROUPS,
    MSD_TAG_KINDS,
    Tag,
    TagVocabulary,
    load_vocabulary,
    report,
)
from studies.reference import raw_tag_names

VOCABULARY = TagVocabulary(
    "test",
    (
        Tag("electronic", "style", 0.3),
        Tag("ambient", "style", 0.1),
        Tag("heavy metal", "style", 0.2, "metal"),
        Tag("chill", "mood", 0.05),
        Tag("80s", "era", 0.2),
        Tag("guitar", "sound", 0.1),
    ),
    min_top_probability=0.45,
    min_outside_styles=2,
)


def test_each_tag_applies_from_its_own_threshold_strongest_first() -> None:
    tags = np.array([0.35, 0.5, 0.19, 0.06, 0.2, 0.9])
    found = report(VOCABULARY, np.array([0.9, 0.1]), tags)
    assert list(found.styles.items()) == [("ambient", 0.5), ("electronic", pytest.approx(0.35))]
    assert found.moods == {"chill": pytest.approx(0.06)} and found.eras == {"80s": pytest.approx(0.2)}
    assert "guitar" not in found.styles | found.moods | found.eras and len(found.tags) == 6


def test_confident_needs_a_strong_top_genre_and_few_styles_outside_the_ten() -> None:
    one_outside = np.array([0.35, 0.0, 0.5, 0, 0, 0])
    two_outside = np.array([0.35, 0.2, 0.0, 0, 0, 0])
    assert VOCABULARY.is_confident(np.array([0.9, 0.1]), one_outside)
    assert not VOCABULARY.is_confident(np.array([0.4, 0.35, 0.25]), one_outside)  # weak answer
    assert not VOCABULARY.is_confident(np.array([0.9, 0.1]), two_outside)  # sounds like neither
    assert list(VOCABULARY.outside_styles(two_outside)) == ["electronic", "ambient"]


def test_tag_names_match_loosely() -> None:
    assert VOCABULARY.index("Heavy-Metal") == 2 and VOCABULARY.index("heavymetal") == 2
    assert VOCABULARY.index("polka") is None
    assert TagVocabulary.from_dict(VOCABULARY.to_dict()) == VOCABULARY


def test_what_wrote_a_vocabulary_travels_with_it() -> None:
    written = dataclasses.replace(VOCABULARY, written_by={"thresholds": "python -m studies.tag_thresholds"})
    assert TagVocabulary.from_dict(written.to_dict()).written_by == {"thresholds": "python -m studies.tag_thresholds"}
    older = {key: value for key, value in VOCABULARY.to_dict().items() if key != "written_by"}
    assert TagVocabulary.from_dict(older).written_by == {}  # files written before it was kept


def test_the_shipped_vocabulary_describes_the_msd_tagger() -> None:
    shipped = load_vocabulary(DEFAULT_TAGS_FILE)
    assert shipped.variant == "MSD_musicnn" and len(shipped.tags) == N_TAGS
    assert shipped.names == tuple(name.lower() for name in raw_tag_names())  # the weights' order
    assert set(MSD_TAG_KINDS) == set(raw_tag_names())
    assert all(tag.group in GROUPS and 0 < tag.threshold < 1 for tag in shipped.tags)
    assert len({tag.threshold for tag in shipped.tags}) > 40  # per tag, not one global cut-off
    assert 0 < shipped.min_top_probability < 1


def test_musicnn_gives_its_tag_probabilities_from_the_same_pass_as_the_embedding() -> None:
    torch.manual_seed(0)
    model = Musicnn(10, (96, 187)).eval()
    x = torch.randn(2, 1, 96, 187)
    with torch.inference_mode():
        embedding, tags = model.forward_features_and_tags(x)
        torch.testing.assert_close(embedding, model.forward_features(x))
        torch.testing.assert_close(tags, model.tag_probabilities(x))
    assert tags.shape == (2, N_TAGS)


def test_a_model_without_a_tagger_predicts_no_tags(tiny_checkpoint: Path, wav_file: Path) -> None:
    prediction = GenreEngine.from_checkpoint(tiny_checkpoint).classify(wav_file)
    assert prediction.tags == {} and prediction.tag_vector is None and prediction.confident


def test_cli_json_styles_moods_and_confident_on_real_music(shared_dir: Path, capsys) -> None:
    metal = shared_dir / "gtzan" / "clips" / "metal" / "metal.00000.wav"
    soundtrack = shared_dir / "pool" / "singularity" / "Through Space.ogg"

    assert main([str(metal), str(soundtrack), "--json"]) == 0

    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["genre"] == "metal" and first["confident"] is True and "metal" in first["styles"]
    assert second["confident"] is False
    assert list(second["styles"])[:2] == ["electronic", "ambient"]  # only tags that apply, strongest first
    assert list(second["styles"].values()) == sorted(second["styles"].values(), reverse=True)
    assert isinstance(second["moods"], dict)
    shipped = load_vocabulary(DEFAULT_TAGS_FILE)
    assert all(p >= shipped.tags[shipped.index(tag)].threshold for tag, p in second["styles"].items())


def test_a_song_sounds_outside_the_ten_only_with_enough_outside_styles() -> None:
    assert not VOCABULARY.sounds_outside(np.array([0.35, 0.0, 0, 0, 0, 0]))
    assert VOCABULARY.sounds_outside(np.array([0.35, 0.2, 0, 0, 0, 0]))
    never = TagVocabulary("test", VOCABULARY.tags, min_top_probability=0.45, min_outside_styles=None)
    assert not never.sounds_outside(np.array([0.35, 0.2, 0, 0, 0, 0]))
