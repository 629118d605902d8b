"""``python -m studies.few_shot [--draws 20] [--checkpoint PATH]``: how well a server's taught genres
work from a handful of examples.

GTZAN's ten genres play the taught labels: for 1, 3 and 5 examples per genre drawn at random from
the 70 shared clips, one classifier per genre is fitted exactly as the bot fits a server's
(``recommender.taught.fit_label``: the engine's stored embeddings, L2 logistic regression, balanced
classes, one-vs-rest against every other clip of the pool, the unlabelled clips of its own genre
included, as they would be in a server), each remaining clip gets the genre whose model scores it
highest, and the accuracy over the remaining clips is averaged over ``--draws`` draws (mean ± std).
The embeddings are the engine's (``studies.reference``, cached). The bot itself only starts
predicting a label at ``MIN_EXAMPLES`` = 5; 1 and 3 show how quality grows towards it.
Caveat: the embedding's standardisation and compact projection were learnt on data including these
70 clips (unsupervised statistics only, no labels), and low-numbered GTZAN clips often share an artist.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from recommender.taught import fit_label
from studies.reference import load_reference

SHOTS = (1, 3, 5)


def few_shot_accuracy(embeddings: np.ndarray, genres: np.ndarray, shots: int, rng: np.random.Generator) -> float:
    """Accuracy on the clips left after drawing ``shots`` examples of every genre."""
    labels = np.unique(genres)
    taught = np.zeros(len(genres), bool)
    for label in labels:
        taught[rng.choice(np.flatnonzero(genres == label), shots, replace=False)] = True
    scores = np.empty((len(genres), len(labels)))
    for column, label in enumerate(labels):
        coef, intercept = fit_label(embeddings, taught & (genres == label))
        scores[:, column] = embeddings @ coef + intercept
    predicted = labels[scores.argmax(axis=1)]
    return float((predicted[~taught] == genres[~taught]).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.few_shot", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    reference = load_reference(args.checkpoint)
    embeddings = reference.embeddings[reference.gtzan].astype(np.float64)
    genres = reference.group[reference.gtzan]
    rng = np.random.default_rng(args.seed)
    print(
        f"{len(genres)} GTZAN clips, {len(np.unique(genres))} genres as taught labels, {args.draws} draws, "
        f"chance {1 / len(np.unique(genres)):.0%}"
    )
    print("| examples per genre | accuracy on the other clips (mean ± std) |")
    print("|---|---|")
    for shots in SHOTS:
        accuracies = [few_shot_accuracy(embeddings, genres, shots, rng) for _ in range(args.draws)]
        print(f"| {shots} | {100 * np.mean(accuracies):.1f}% ± {100 * np.std(accuracies, ddof=1):.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
