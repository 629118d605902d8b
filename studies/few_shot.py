"""``python -m studies.few_shot [--draws 20] [--checkpoint PATH] [--record PATH]``: how well a server's taught genres
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
The record goes to ``studies/results/few_shot.json`` (``benchmarks.record``), which :func:`render`
turns into the measurement page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.markdown import percent, table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from recommender.taught import MIN_EXAMPLES, fit_label
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


def accuracy_table(rows: list[dict]) -> str:
    return table(
        ["examples per genre", "accuracy on the other clips (mean ± std)"],
        ([r["shots"], f"{percent(r['mean'])} ± {percent(r['std'])}"] for r in rows),
    )


def render(results: dict) -> str:
    """The measurement page's body: accuracy per number of examples, and how it was measured."""
    return (
        f"GTZAN's {results['genres']} genres play a server's taught labels: for each number of examples per "
        f"genre, drawn at random from the {results['clips']} shared clips, one classifier per genre is fitted "
        "exactly as the bot fits a server's (`recommender.taught.fit_label`: the engine's stored embeddings, L2 "
        "logistic regression, balanced classes, one-vs-rest against every other clip), each remaining clip "
        "gets the genre whose model scores it highest, and the accuracy over the remaining clips is averaged "
        f"over {results['draws']} draws (seed {results['seed']}; chance is {percent(results['chance'], 0)}). The "
        f"bot starts predicting a label at {results['min_examples']} examples.\n\n"
        + accuracy_table(results["rows"])
        + "\n\nCaveat: the embedding's standardisation and compact projection were learnt on data including "
        "these clips (unsupervised statistics only, no labels), and low-numbered GTZAN clips often share an artist."
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("few_shot", "Taught genres from a few examples", "studies.few_shot", argv, STUDY_RESULTS)
    parser = argparse.ArgumentParser(prog="python -m studies.few_shot", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    add_record_option(parser)
    args = parser.parse_args(argv)
    reference = load_reference(args.checkpoint)
    embeddings = reference.embeddings[reference.gtzan].astype(np.float64)
    genres = reference.group[reference.gtzan]
    rng = np.random.default_rng(args.seed)
    count = len(np.unique(genres))
    print(f"{len(genres)} GTZAN clips, {count} genres as taught labels, {args.draws} draws, chance {1 / count:.0%}")
    rows = []
    for shots in SHOTS:
        accuracies = [few_shot_accuracy(embeddings, genres, shots, rng) for _ in range(args.draws)]
        rows.append({"shots": shots, "mean": float(np.mean(accuracies)), "std": float(np.std(accuracies, ddof=1))})
    print(accuracy_table(rows))
    results = {"clips": len(genres), "genres": count, "draws": args.draws, "seed": args.seed, "chance": 1 / count}
    recorder.write(results | {"min_examples": MIN_EXAMPLES, "rows": rows}, args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
