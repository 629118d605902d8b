"""The tagger's 50 Last.fm tags beyond the ten genres: styles, moods and eras, and which apply.

The shipped model is musicnn trained on the Million Song Dataset's 50 most frequent Last.fm tags
(Pons & Serra, 2019); its tag layer is still in the network, so every song gets a probability per
tag for free. Tag base rates differ widely (on the reference audio the tagger gives "rock" up to
0.38 and "happy" never above 0.01), so each tag has its own "applies" threshold, chosen on data by
``python -m studies.tag_thresholds`` and shipped in ``data/tags.json`` with the tag names (from
the converted weights' ``tags``), their group and, for genre-like tags, the GTZAN genre they fall
within. Torch-free: the store, the recommender and the front ends use it too.

``confident``: whether the ten-genre answer deserves to be shown as a verdict; see
``TagVocabulary.is_confident`` (its two parameters are in ``data/tags.json`` as well, chosen by
``python -m studies.not_sure``). The file's ``written_by`` names the command that wrote each part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from genre_engine.locations import DATA_DIR

DEFAULT_TAGS_FILE = DATA_DIR / "tags.json"
FORMAT = "genrebot-tags"
GROUPS = ("style", "mood", "era", "sound")


@dataclass(frozen=True)
class Tag:
    """One tag of the tagger. ``name``: as shown and as filtered on (lower case, e.g. ``hip-hop``);
    ``group``: style, mood, era or sound (voices, instruments: neither shown nor filtered);
    ``threshold``: the probability from which it applies; ``within``: the GTZAN genre a genre-like
    tag falls within (``heavy metal`` -> ``metal``), None for styles outside the ten."""

    name: str
    group: str
    threshold: float
    within: str | None = None


@dataclass(frozen=True)
class TagVocabulary:
    """The tags of one tagger in its output order, and the ``confident`` rule's parameters:
    a prediction is confident when its top genre probability reaches ``min_top_probability`` and
    fewer than ``min_outside_styles`` styles outside the ten apply (None: styles do not decide,
    they only describe). ``written_by``: the command that chose each part, ``{"thresholds": ...,
    "confident": ...}`` (provenance only; nothing reads it)."""

    variant: str
    tags: tuple[Tag, ...]
    min_top_probability: float
    min_outside_styles: int | None
    written_by: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(tag.name for tag in self.tags)

    def group(self, group: str) -> tuple[str, ...]:
        return tuple(tag.name for tag in self.tags if tag.group == group)

    def index(self, name: str) -> int | None:
        """Position of a tag named loosely (case, spaces, dashes ignored: ``hiphop`` = ``hip-hop``)."""
        wanted = normalise(name)
        return next((i for i, tag in enumerate(self.tags) if normalise(tag.name) == wanted), None)

    def thresholds(self) -> np.ndarray:
        return np.array([tag.threshold for tag in self.tags], dtype=np.float32)

    def applying(self, probabilities: np.ndarray, group: str) -> dict[str, float]:
        """``{tag: probability}`` of the tags of ``group`` that apply, strongest first."""
        found = [
            (tag.name, float(p))
            for tag, p in zip(self.tags, probabilities)
            if tag.group == group and p >= tag.threshold
        ]
        return dict(sorted(found, key=lambda item: -item[1]))

    def outside_styles(self, probabilities: np.ndarray) -> dict[str, float]:
        """Styles outside the ten genres that apply, strongest first: what a song that is none of
        the ten sounds like."""
        found = [
            (tag.name, float(p))
            for tag, p in zip(self.tags, probabilities)
            if tag.group == "style" and tag.within is None and p >= tag.threshold
        ]
        return dict(sorted(found, key=lambda item: -item[1]))

    def is_confident(self, genre_probabilities: np.ndarray, tag_probabilities: np.ndarray | None) -> bool:
        """Whether the ten-genre answer is a verdict worth showing: see the class docstring."""
        if float(np.max(genre_probabilities)) < self.min_top_probability:
            return False
        return tag_probabilities is None or not self.sounds_outside(tag_probabilities)

    def sounds_outside(self, tag_probabilities: np.ndarray) -> bool:
        """Whether enough styles outside the ten apply to call the song none of them."""
        if self.min_outside_styles is None:
            return False
        return len(self.outside_styles(tag_probabilities)) >= self.min_outside_styles

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "variant": self.variant,
            "written_by": dict(self.written_by),
            "confident": {
                "min_top_probability": self.min_top_probability,
                "min_outside_styles": self.min_outside_styles,
            },
            "tags": [
                {"name": t.name, "group": t.group, "threshold": round(t.threshold, 6), "within": t.within}
                for t in self.tags
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TagVocabulary:
        if data.get("format") != FORMAT:
            raise ValueError("not a genrebot tags file")
        confident = data["confident"]
        return cls(
            variant=data["variant"],
            tags=tuple(Tag(t["name"], t["group"], float(t["threshold"]), t.get("within")) for t in data["tags"]),
            min_top_probability=float(confident["min_top_probability"]),
            min_outside_styles=None
            if confident["min_outside_styles"] is None
            else int(confident["min_outside_styles"]),
            written_by=dict(data.get("written_by", {})),
        )


def normalise(name: str) -> str:
    """A tag or label name for matching: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


@lru_cache(maxsize=4)
def load_vocabulary(path: Path = DEFAULT_TAGS_FILE) -> TagVocabulary:
    """The vocabulary in ``path`` (default: the shipped ``data/tags.json``); read once per process."""
    return TagVocabulary.from_dict(json.loads(Path(path).read_text()))


def write_vocabulary(vocabulary: TagVocabulary, path: Path = DEFAULT_TAGS_FILE) -> Path:
    path.write_text(json.dumps(vocabulary.to_dict(), indent=1) + "\n")
    return path


@dataclass(frozen=True)
class TagReport:
    """What the tagger says about one song: every tag's probability, the ones that apply by group,
    and whether the ten-genre answer is a verdict (``confident``); ``sounds_outside``: enough styles
    outside the ten apply to call it none of them (else a lost verdict is only a weak answer)."""

    tags: dict[str, float]
    styles: dict[str, float]
    moods: dict[str, float]
    eras: dict[str, float]
    outside: dict[str, float]
    confident: bool
    sounds_outside: bool


def report(vocabulary: TagVocabulary, genre_probabilities: np.ndarray, tag_probabilities: np.ndarray) -> TagReport:
    """Everything :class:`TagReport` holds for one song's genre and tag probabilities."""
    return TagReport(
        tags={name: float(p) for name, p in zip(vocabulary.names, tag_probabilities)},
        styles=vocabulary.applying(tag_probabilities, "style"),
        moods=vocabulary.applying(tag_probabilities, "mood"),
        eras=vocabulary.applying(tag_probabilities, "era"),
        outside=vocabulary.outside_styles(tag_probabilities),
        confident=vocabulary.is_confident(genre_probabilities, tag_probabilities),
        sounds_outside=vocabulary.sounds_outside(tag_probabilities),
    )


# What each of the MSD tagger's 50 tags is, keyed by its name in the weights (``tags`` of
# data/pretrained/MSD_musicnn.pt): its group, and for genre-like tags the GTZAN genre it falls
# within (GTZAN's disco clips are largely 1970s soul and funk, its hip-hop includes R&B, its pop
# dance-pop; rock takes its sub-styles and punk). Styles with None are outside the ten: electronic,
# electronica, electro, house, ambient, chillout, experimental, folk, easy listening. Used by
# studies.tag_thresholds to write data/tags.json.
MSD_TAG_KINDS: dict[str, tuple[str, str | None]] = {
    "rock": ("style", "rock"),
    "pop": ("style", "pop"),
    "alternative": ("style", "rock"),
    "indie": ("style", "rock"),
    "electronic": ("style", None),
    "female vocalists": ("sound", None),
    "dance": ("style", "pop"),
    "00s": ("era", None),
    "alternative rock": ("style", "rock"),
    "jazz": ("style", "jazz"),
    "beautiful": ("mood", None),
    "metal": ("style", "metal"),
    "chillout": ("style", None),
    "male vocalists": ("sound", None),
    "classic rock": ("style", "rock"),
    "soul": ("style", "disco"),
    "indie rock": ("style", "rock"),
    "Mellow": ("mood", None),
    "electronica": ("style", None),
    "80s": ("era", None),
    "folk": ("style", None),
    "90s": ("era", None),
    "chill": ("mood", None),
    "instrumental": ("sound", None),
    "punk": ("style", "rock"),
    "oldies": ("era", None),
    "blues": ("style", "blues"),
    "hard rock": ("style", "rock"),
    "ambient": ("style", None),
    "acoustic": ("sound", None),
    "experimental": ("style", None),
    "female vocalist": ("sound", None),
    "guitar": ("sound", None),
    "Hip-Hop": ("style", "hiphop"),
    "70s": ("era", None),
    "party": ("mood", None),
    "country": ("style", "country"),
    "easy listening": ("style", None),
    "sexy": ("mood", None),
    "catchy": ("mood", None),
    "funk": ("style", "disco"),
    "electro": ("style", None),
    "heavy metal": ("style", "metal"),
    "Progressive rock": ("style", "rock"),
    "60s": ("era", None),
    "rnb": ("style", "hiphop"),
    "indie pop": ("style", "pop"),
    "sad": ("mood", None),
    "House": ("style", None),
    "happy": ("mood", None),
}

# Tags whose name is a GTZAN genre (or its spelling in Last.fm): their threshold can be chosen
# against the genre labels of the GTZAN clips.
GTZAN_NAMED = {
    "rock": "rock",
    "pop": "pop",
    "jazz": "jazz",
    "metal": "metal",
    "heavy metal": "metal",
    "classic rock": "rock",
    "blues": "blues",
    "Hip-Hop": "hiphop",
    "country": "country",
}


def tag_display_name(raw: str) -> str:
    """A tag as shown and filtered on: ``Hip-Hop`` -> ``hip-hop``."""
    return raw.lower()
