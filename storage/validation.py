"""Checks on what callers hand the store, shared by every Store implementation.

They run before any I/O, so bad input fails with a specific error and leaves the database untouched.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from storage.base import Analysis, EventKind, NewSong
from storage.errors import (
    InvalidEventKindError,
    InvalidIdError,
    InvalidLabelError,
    InvalidSongError,
    InvalidVarietyError,
)

MAX_EMBEDDING_DIM = 4096
MAX_TITLE_CHARS = 256
MAX_URL_CHARS = 2048
MAX_HASH_CHARS = 128
MAX_MODEL_ID_CHARS = 64
MAX_TAGS = 256
MAX_LABEL_CHARS = 40
_MAX_ID = 2**63 - 1
_SUM_TOLERANCE = 1e-3


_SURROGATES = re.compile("[\ud800-\udfff]")
# bidirectional embeddings, overrides, marks and isolates, and characters that show as nothing
_HIDDEN = frozenset("\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff")
_WHITESPACE = re.compile(r"\s+")


def clean_title(text: str) -> str:
    """A title or name safe to store and show: every surrogate (how Python carries the bytes of a
    non-UTF-8 file name, e.g. ``caf\udce9.mp3``) becomes U+FFFD, line breaks and tabs become
    spaces, other control characters are removed, runs of whitespace collapse to one space, and
    the result is trimmed and cut to ``MAX_TITLE_CHARS``. Bidirectional overrides and isolates and
    invisible characters (zero-width space, word joiner, byte-order mark) are removed too: a title
    must not reverse the text shown after it, or hide a word's letters; the joiners that emoji
    sequences and some scripts need (U+200C, U+200D) stay. May return ``""``."""
    if text.isprintable() and len(text) <= MAX_TITLE_CHARS and text == text.strip() and "  " not in text:
        return text  # the common case, kept cheap for bulk indexing
    text = _SURROGATES.sub("\ufffd", text)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or (unicodedata.category(ch) != "Cc" and ch not in _HIDDEN)
    )
    return _WHITESPACE.sub(" ", text).strip()[:MAX_TITLE_CHARS].rstrip()


def check_id(what: str, value: object) -> int:
    """A Discord snowflake or store id: a positive int that fits SQLite's signed 64-bit integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidIdError(what, value)
    if not 0 < int(value) <= _MAX_ID:
        raise InvalidIdError(what, value)
    return int(value)


def check_variety(value: object) -> float:
    """The variety as a float in [0, 1]; NaN, infinities, bools and non-numbers are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidVarietyError(value)
    number = float(value)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise InvalidVarietyError(value)
    return number + 0.0  # -0.0 is 0


def check_kind(value: object) -> EventKind:
    try:
        return EventKind(value)
    except ValueError:
        raise InvalidEventKindError(value, tuple(kind.value for kind in EventKind)) from None


class CheckedSong(NamedTuple):
    """A NewSong whose fields are known good, with the vectors as float32 bytes ready to store.
    (A NamedTuple because bulk indexing builds a million of them.)"""

    guild_id: int
    title: str
    content_hash: str
    probabilities: bytes
    embedding: bytes
    embedding_dim: int
    added_by: int | None
    duration_s: float | None
    source_url: str | None
    message_url: str | None
    in_pool: bool
    tags: bytes | None
    confident: int | None
    model_id: str | None


class CheckedAnalysis(NamedTuple):
    """An Analysis whose fields are known good, with the vectors as float32 bytes ready to store."""

    model_id: str
    probabilities: bytes
    embedding: bytes
    embedding_dim: int
    duration_s: float | None
    tags: bytes | None
    confident: int | None


# Besides letters and digits of any script (with their combining marks), what a genre's name is made
# of: spaces and the few marks genre names use (lo-fi, r&b, 80's, drum'n'bass, 2.0, k-pop/j-pop,
# post-rock!). Nothing that means something to a renderer (the brackets and parentheses of links,
# *, _, ~, |, `, <, @, :, $) can be part of one.
LABEL_MARKS = " -&'+./!?"


def _label_character(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M") or ch in LABEL_MARKS


def normalize_label(value: object) -> str:
    """A label as labels are compared: NFC, trimmed, inner spaces collapsed, lower case, 1 to
    ``MAX_LABEL_CHARS`` characters (what finds a label taught before :func:`check_label` refused
    marks, so that it can be forgotten). Raises InvalidLabelError."""
    if not isinstance(value, str):
        raise InvalidLabelError(value, MAX_LABEL_CHARS)
    label = " ".join(unicodedata.normalize("NFC", value).split()).lower()
    if not 0 < len(label) <= MAX_LABEL_CHARS:
        raise InvalidLabelError(value, MAX_LABEL_CHARS)
    return label


def check_label(value: object) -> str:
    """A genre label as it is taught and stored: :func:`normalize_label`, of letters, digits and
    :data:`LABEL_MARKS` only. Raises InvalidLabelError."""
    label = normalize_label(value)
    if not all(_label_character(ch) for ch in label):
        raise InvalidLabelError(value, MAX_LABEL_CHARS)
    return label


def check_song(song: NewSong, genre_count: int) -> CheckedSong:
    """Validate and normalise a new song: ``genre_count`` probabilities (the model's label count),
    renormalised to sum to exactly 1 in float32, and the embedding re-normalised to unit length (so
    cosine similarity is a dot product downstream)."""
    embedding = _check_embedding(song.embedding)
    probabilities = _check_probabilities(song.probabilities, genre_count)
    return _checked(song, probabilities.tobytes(), embedding.tobytes(), embedding.size)


def check_songs(songs: Sequence[NewSong], genre_count: int) -> list[CheckedSong]:
    """:func:`check_song` for many songs, with the vector checks done on whole matrices: bulk
    indexing of a million songs would otherwise spend most of its time in per-row numpy calls. On
    any doubt it falls back to the per-song checks, which name the faulty song's problem."""
    try:
        probabilities = np.asarray([song.probabilities for song in songs], dtype=np.float64)
        embeddings = np.asarray([song.embedding for song in songs], dtype=np.float64)
    except (TypeError, ValueError):  # ragged or not numbers
        return [check_song(song, genre_count) for song in songs]
    if probabilities.ndim != 2 or embeddings.ndim != 2:
        return [check_song(song, genre_count) for song in songs]
    # NaN and infinities propagate into the sums and norms, so these two reductions check finiteness
    sums = _sums(probabilities)
    norms = _norms(embeddings)
    plausible = (
        probabilities.shape[1] == genre_count
        and 0 < embeddings.shape[1] <= MAX_EMBEDDING_DIM
        and bool((np.abs(sums - 1.0) <= _SUM_TOLERANCE).all())
        and bool(probabilities.min(initial=0.0) >= 0)
        and bool((np.isfinite(norms) & (norms > 0)).all())
    )
    if not plausible:
        return [check_song(song, genre_count) for song in songs]
    # one bytes object per matrix, sliced per row: much cheaper than per-row tobytes()
    p_bytes = (probabilities / sums).astype(np.float32).tobytes()
    e_bytes = (embeddings / norms).astype(np.float32).tobytes()
    p_step, e_step, dim = 4 * genre_count, 4 * embeddings.shape[1], embeddings.shape[1]
    return [
        _checked(song, p_bytes[i * p_step : (i + 1) * p_step], e_bytes[i * e_step : (i + 1) * e_step], dim)
        for i, song in enumerate(songs)
    ]


def _checked(song: NewSong, probabilities: bytes, embedding: bytes, dim: int) -> CheckedSong:
    guild_id = check_id("server", song.guild_id)
    added_by = None if song.added_by is None else check_id("user", song.added_by)
    title = _check_text("title", clean_title(song.title) if isinstance(song.title, str) else song.title)
    content_hash = _check_text("content hash", song.content_hash)
    if len(content_hash) > MAX_HASH_CHARS:
        raise InvalidSongError(f"the content hash is longer than {MAX_HASH_CHARS} characters")
    return CheckedSong(  # positional: measurably faster for a million songs
        guild_id,
        title,
        content_hash,
        probabilities,
        embedding,
        dim,
        added_by,
        _check_duration(song.duration_s),
        _check_url("source link", song.source_url),
        _check_url("message link", song.message_url),
        bool(song.in_pool),
        _check_tags(song.tags),
        None if song.confident is None else int(bool(song.confident)),
        None if song.model_id is None else check_model_id(song.model_id),
    )


def check_analysis(analysis: Analysis, genre_count: int) -> CheckedAnalysis:
    """Validate and normalise an analysis as :func:`check_song` does a new song's vectors."""
    embedding = _check_embedding(analysis.embedding)
    return CheckedAnalysis(
        check_model_id(analysis.model_id),
        _check_probabilities(analysis.probabilities, genre_count).tobytes(),
        embedding.tobytes(),
        embedding.size,
        _check_duration(analysis.duration_s),
        _check_tags(analysis.tags),
        None if analysis.confident is None else int(bool(analysis.confident)),
    )


def check_model_id(value: object) -> str:
    """A model id (``genre_engine.engine.model_id``): a short text of letters, digits and ``-``."""
    model_id = _check_text("model id", value)
    if len(model_id) > MAX_MODEL_ID_CHARS or not all(ch.isalnum() or ch == "-" for ch in model_id):
        raise InvalidSongError(f"a model id is at most {MAX_MODEL_ID_CHARS} letters, digits and dashes")
    return model_id


def _check_tags(value: object) -> bytes | None:
    """Tag probabilities as float32 bytes: up to MAX_TAGS values in [0, 1]; None stays None."""
    if value is None:
        return None
    vector = _as_float_vector("tag vector", value)
    if not 0 < vector.shape[0] <= MAX_TAGS or np.any(vector < 0) or np.any(vector > 1):
        raise InvalidSongError(f"the tag vector must have 1 to {MAX_TAGS} probabilities in [0, 1]")
    return vector.astype(np.float32).tobytes()


def _check_text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSongError(f"the {what} is missing")
    return value.strip()


def _check_url(what: str, value: object) -> str | None:
    if value is None:
        return None
    text = _check_text(what, value)
    if len(text) > MAX_URL_CHARS:
        raise InvalidSongError(f"the {what} is longer than {MAX_URL_CHARS} characters")
    return text


def _check_duration(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidSongError("the duration is not a number")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidSongError("the duration is negative or not finite")
    return seconds


def _as_float_vector(what: str, value: object) -> np.ndarray:
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidSongError(f"the {what} is not a vector of numbers") from None
    if vector.ndim != 1 or not np.all(np.isfinite(vector)):
        raise InvalidSongError(f"the {what} must be one row of finite numbers")
    return vector


def _check_probabilities(value: object, genre_count: int) -> np.ndarray:
    vector = _as_float_vector("genre probability vector", value)
    if vector.shape[0] != genre_count:
        raise InvalidSongError(f"the genre probability vector has {vector.shape[0]} values, expected {genre_count}")
    total = _sums(vector[None])[0]
    if np.any(vector < 0) or abs(total[0] - 1.0) > _SUM_TOLERANCE:
        raise InvalidSongError("the genre probabilities must be non-negative and sum to 1")
    return (vector / total).astype(np.float32)


def _check_embedding(value: object) -> np.ndarray:
    vector = _as_float_vector("embedding", value)
    if not 0 < vector.shape[0] <= MAX_EMBEDDING_DIM:
        raise InvalidSongError(f"the embedding must have 1 to {MAX_EMBEDDING_DIM} values")
    norm = _norms(vector[None])[0]
    if norm[0] == 0.0:
        raise InvalidSongError("the embedding is all zeros")
    return (vector / norm).astype(np.float32)


def _sums(rows: np.ndarray) -> np.ndarray:
    """Row sums ``[n, 1]`` in float64: one song and a bulk of them are normalised bit for bit alike."""
    return np.asarray(rows, np.float64).sum(axis=1, keepdims=True)


def _norms(rows: np.ndarray) -> np.ndarray:
    """Row L2 norms ``[n, 1]`` in float64, computed as :func:`_sums` are, for the same reason."""
    return np.sqrt(_sums(np.square(np.asarray(rows, np.float64))))


def check_loudness(loudness_lufs: float) -> float:
    """A measured integrated loudness (LUFS) as a float; ValueError unless finite."""
    value = float(loudness_lufs)
    if not math.isfinite(value):
        raise ValueError(f"loudness must be finite, got {loudness_lufs!r}")
    return value
