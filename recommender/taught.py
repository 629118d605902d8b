"""Genres a server teaches: a per-server classifier over the stored song embeddings.

Members label pool songs with their own genres (``synthwave``, ``lo-fi``...). For every label with
at least :data:`MIN_EXAMPLES` examples, a regularised logistic regression (scikit-learn, L2,
``C`` = :data:`REGULARISATION_C`, classes balanced) learns that label against the rest of the pool
(one-vs-rest: every pool song not taught the label is a negative, which is what "the rest of the
pool" is), on the stored unit-length embeddings as they are. Not standardised: the shipped compact
embedding is a PCA projection whose last components hold almost no variance, and scaling them up to
unit variance let their noise swamp the signal (a 13-track soundtrack label fell from 94% to 42%
cross-validated balanced accuracy). Its quality is the balanced accuracy (mean of the recall
on the label's songs and on the rest) of a stratified k-fold cross-validation (k = min(5, examples)):
plain accuracy would flatter a label that covers 5 songs of 500. A label below
:data:`POOR_ACCURACY` says so wherever it is shown.

Pure functions and a small value type, no I/O: ``bot.teaching`` runs :func:`refit` (one label) or
:func:`fit` (every label) in a worker pool of its own and keeps :meth:`TaughtClassifier.to_bytes` in
the store, versioned by :data:`VERSION`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

VERSION = 1  # how TaughtClassifier.to_bytes encodes the state; bump when that changes
MIN_EXAMPLES = 5
POOR_ACCURACY = 0.7
REGULARISATION_C = 1.0
_MAX_FOLDS = 5


@dataclass(frozen=True)
class LabelQuality:
    """One taught label: its example count and, once it has ``MIN_EXAMPLES`` and the pool has other
    songs to tell it from, its cross-validated balanced accuracy (else None)."""

    label: str
    examples: int
    cv_accuracy: float | None

    @property
    def trained(self) -> bool:
        return self.cv_accuracy is not None

    @property
    def poor(self) -> bool:
        return self.cv_accuracy is not None and self.cv_accuracy < POOR_ACCURACY


@dataclass(frozen=True, eq=False)
class TaughtClassifier:
    """Linear one-vs-rest models for the trained labels: ``coef`` [L, D] and ``intercept`` [L] act on
    the stored (unit-length) embeddings. ``qualities`` covers every
    taught label, trained or not, in label order."""

    labels: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    qualities: tuple[LabelQuality, ...]

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Decision values [N, L] for embeddings [N, D]: positive means the label applies."""
        if not self.labels:
            return np.zeros((len(embeddings), 0), np.float32)
        return np.asarray(embeddings, np.float64) @ self.coef.T + self.intercept

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """Bool [N, L]: which trained labels apply to each embedding."""
        return self.scores(embeddings) > 0

    def quality(self, label: str) -> LabelQuality | None:
        return next((q for q in self.qualities if q.label == label), None)

    def replaced(self, label: str, fitted: TaughtClassifier) -> TaughtClassifier:
        """This classifier with ``label``'s model and quality taken from ``fitted`` (gone if ``fitted``
        has none), every other label's as it was."""
        models = {name: (coef, intercept) for name, coef, intercept in zip(self.labels, self.coef, self.intercept)}
        models.pop(label, None)
        models.update(zip(fitted.labels, zip(fitted.coef, fitted.intercept)))
        qualities = {quality.label: quality for quality in self.qualities if quality.label != label}
        qualities.update((quality.label, quality) for quality in fitted.qualities)
        names = sorted(models)
        dim = self.coef.shape[1]
        return TaughtClassifier(
            tuple(names),
            np.array([models[name][0] for name in names], np.float64).reshape(len(names), dim),
            np.array([models[name][1] for name in names], np.float64),
            tuple(qualities[name] for name in sorted(qualities)),
        )

    def to_bytes(self) -> bytes:
        """The state as an ``.npz`` (no pickles), for the store."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            labels=np.array(self.labels, dtype=str),
            coef=self.coef,
            intercept=self.intercept,
            quality_labels=np.array([q.label for q in self.qualities], dtype=str),
            quality_examples=np.array([q.examples for q in self.qualities], dtype=np.int64),
            quality_cv=np.array(
                [np.nan if q.cv_accuracy is None else q.cv_accuracy for q in self.qualities], dtype=np.float64
            ),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, state: bytes) -> TaughtClassifier:
        data = np.load(io.BytesIO(state), allow_pickle=False)
        qualities = tuple(
            LabelQuality(str(label), int(count), None if np.isnan(cv) else float(cv))
            for label, count, cv in zip(data["quality_labels"], data["quality_examples"], data["quality_cv"])
        )
        return cls(tuple(str(label) for label in data["labels"]), data["coef"], data["intercept"], qualities)


def fit_label(embeddings: np.ndarray, positive: np.ndarray, *, c: float = REGULARISATION_C) -> tuple[np.ndarray, float]:
    """One label's model over ``embeddings`` [N, D] with ``positive`` [N] bool: (coef [D], intercept).
    Needs both classes present."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit(embeddings, positive)
    return model.coef_[0], float(model.intercept_[0])


def cv_balanced_accuracy(
    embeddings: np.ndarray, positive: np.ndarray, *, seed: int = 0, c: float = REGULARISATION_C
) -> float:
    """Stratified k-fold (k = min(5, positives, negatives)) balanced accuracy of :func:`fit_label`."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold

    folds = min(_MAX_FOLDS, int(positive.sum()), int((~positive).sum()))
    predicted = np.zeros_like(positive)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(embeddings, positive):
        coef, intercept = fit_label(embeddings[train], positive[train], c=c)
        predicted[test] = embeddings[test] @ coef + intercept > 0
    return float(balanced_accuracy_score(positive, predicted))


def fit(song_ids: np.ndarray, embeddings: np.ndarray, examples: Mapping[str, Sequence[int]]) -> TaughtClassifier:
    """The server's classifier: ``song_ids`` [N] and ``embeddings`` [N, D] are its pool (a
    ``PoolMatrix``), ``examples`` each label's taught song ids (ids outside the pool are ignored).
    Labels with fewer than ``MIN_EXAMPLES`` pool examples, or leaving fewer than 2 other pool songs
    to cross-validate against, are listed but not trained."""
    embeddings = np.asarray(embeddings, np.float64)
    labels, coefs, intercepts, qualities = [], [], [], []
    for label in sorted(examples):
        positive = np.isin(song_ids, np.asarray(examples[label], dtype=np.int64))
        count = int(positive.sum())
        if count < MIN_EXAMPLES or len(song_ids) - count < 2:
            qualities.append(LabelQuality(label, len(examples[label]), None))
            continue
        coef, intercept = fit_label(embeddings, positive)
        labels.append(label)
        coefs.append(coef)
        intercepts.append(intercept)
        qualities.append(LabelQuality(label, len(examples[label]), cv_balanced_accuracy(embeddings, positive)))
    dim = embeddings.shape[1] if embeddings.ndim == 2 else 0
    return TaughtClassifier(
        tuple(labels),
        np.array(coefs, np.float64).reshape(len(labels), dim),
        np.array(intercepts, np.float64),
        tuple(qualities),
    )


def refit(
    classifier: TaughtClassifier | None,
    song_ids: np.ndarray,
    embeddings: np.ndarray,
    examples: Mapping[str, Sequence[int]],
    label: str,
) -> TaughtClassifier:
    """``classifier`` after ``label``'s examples changed: that one label fitted anew (or dropped, when
    it has no examples left), the others kept as they were. Labels are independent (one-vs-rest), so
    a teach costs one label's fit, not the server's every label; with no classifier yet, or one for
    embeddings of another size, every label is fitted."""
    dim = embeddings.shape[1] if np.ndim(embeddings) == 2 else 0
    if classifier is None or classifier.coef.shape[1] != dim:
        return fit(song_ids, embeddings, examples)
    only = {label: examples[label]} if label in examples else {}
    return classifier.replaced(label, fit(song_ids, embeddings, only))


def members(
    classifier: TaughtClassifier | None,
    label: str,
    song_ids: np.ndarray,
    embeddings: np.ndarray,
    examples: Sequence[int],
    sounding: np.ndarray | None = None,
) -> np.ndarray:
    """Bool [N]: the pool songs that are ``label``: taught it, or predicted it by a trained model
    (only among the ``sounding`` rows, whose embeddings the model's are; None: all)."""
    taught = np.isin(song_ids, np.asarray(examples, dtype=np.int64))
    if classifier is None or label not in classifier.labels:
        return taught
    column = classifier.labels.index(label)
    predicted = classifier.scores(embeddings)[:, column] > 0
    return taught | (predicted if sounding is None else predicted & sounding)
