"""How many segments a clip needs: accuracy and embedding neighbours against work per clip.

    python -m studies.segments [--clips DIR] [--pool DIR] [--folds 5] [--repeats 2] [--json] [--record PATH]

For every strategy the engine could use (a fixed number of evenly spread segments, or the early
stop of ``genre_engine.segment_plan.predict_staged``: ``min_segments`` first, the rest only when
the top-1 minus top-2 mean probability is at most ``margin``) it reports, on real audio:

- ``segments``: mean segments the network runs per GTZAN clip (with the early stop decided by
  the fold's probe on its test clips, and by the shipped model, which saw every clip, so is
  more sure of them) and per pool song (the cost);
- ``cv_acc``: clip accuracy on the labelled clips (default ``../shared/gtzan/clips``) by repeated
  stratified k-fold cross-validation (``training.data.kfold_splits``, the folds of
  ``training.compare``), with a linear probe (multinomial logistic regression, scikit-learn)
  trained per fold on every content segment of the training clips' frozen features (the shipped
  model's embedding output: musicnn's 1,756 transfer features after the head's batch norm, so the
  probe is the shipped head's form); mean ± sample std over the folds;
- ``same_top``: share of clips and pool songs (default ``../shared/pool``) whose top genre under the
  shipped model is the one it gives with 10 segments;
- ``recall@10``: over the clips and songs together, the mean share of each item's 10 nearest
  neighbours (cosine, embeddings of the strategy) that are among its 10 nearest with 10 segments.

Fixed counts decode what the engine decodes with ``max_segments=k`` (for long songs, k windows
spread over the song); the early stop works on the 10 segments the engine decodes by default.
Needs the ``train`` extra (scikit-learn); runs the shipped ONNX model, about 2 minutes on 2 cores.
The record goes to ``studies/results/segments.json`` (``benchmarks.record``), which :func:`render`
turns into the measurement page.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.markdown import percent, table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option
from benchmarks.shared import CLIPS, POOL
from genre_engine import GenreEngine
from genre_engine.audio import find_audio_files
from genre_engine.segment_plan import predict_staged, spread
from studies.neighbours import neighbours, recall_at
from training.data import discover, kfold_splits
from training.projection import unit

REFERENCE = 10
FIXED = (10, 6, 4, 3, 2, 1)
EARLY = tuple((k, m) for k in (2, 3, 4) for m in (0.3, 0.5, 0.7))


@dataclass(frozen=True)
class Strategy:
    name: str
    max_segments: int
    min_segments: int | None = None  # early stop when set
    stop_margin: float | None = None

    def choose(self, probs: np.ndarray) -> np.ndarray:
        """Which of the rows of ``probs`` ([n, classes], the decoded segments) the engine would run."""
        n = len(probs)
        if self.min_segments is None:
            return spread(n, self.max_segments)
        used, _, _ = predict_staged(
            lambda rows: (probs[rows], probs[rows]), n, min_segments=self.min_segments, stop_margin=self.stop_margin
        )
        return used


STRATEGIES = tuple(Strategy(f"{k} segments", k) for k in FIXED) + tuple(
    Strategy(f"early stop: {k} first, margin {m}", REFERENCE, k, m) for k, m in EARLY
)


@dataclass
class Item:
    """One input's per-segment outputs of the shipped model, keyed by the ``max_segments`` it was
    decoded with (None: every content segment, which is how the clips are decoded, all at most 10)."""

    probs: dict[int | None, np.ndarray]
    embeddings: dict[int | None, np.ndarray]

    def key(self, strategy: Strategy) -> int | None:
        return strategy.max_segments if None not in self.probs else None


def analyse(engine: GenreEngine, path: Path, counts: tuple[int | None, ...]) -> Item:
    probs, embeddings = {}, {}
    for k in counts:
        engine.max_segments = k
        probs[k], embeddings[k] = engine.predict_segments(engine.decode(path).samples)
    return Item(probs, embeddings)


def outputs(item: Item, strategy: Strategy, probs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean probabilities, unit embedding, segments run) of one item under ``strategy``;
    ``probs`` replaces the shipped model's per-segment probabilities (a fold's probe)."""
    key = item.key(strategy)
    probs = item.probs[key] if probs is None else probs
    rows = strategy.choose(probs)
    return probs[rows].mean(axis=0), unit(item.embeddings[key][rows].mean(axis=0)), len(rows)


def probe_accuracies(
    clips: list[Item], targets: np.ndarray, folds: int, repeats: int, seed: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Per strategy name: clip accuracy per test fold of a linear probe trained on the fold's
    training clips, and the mean segments run per test clip when the probe decides the early stop."""
    classes = int(targets.max()) + 1
    scores: dict[str, list[float]] = {s.name: [] for s in STRATEGIES}
    segments: dict[str, list[int]] = {s.name: [] for s in STRATEGIES}
    for split in kfold_splits(targets, folds, repeats, valid_fraction=0.15, seed=seed):
        train = np.concatenate([split.train, split.valid])
        x = np.concatenate([clips[i].embeddings[None] for i in train])
        y = np.concatenate([np.full(len(clips[i].embeddings[None]), targets[i]) for i in train])
        probe = LogisticRegression(C=0.1, max_iter=3000).fit(x, y)
        tested = []
        for i in split.test:
            probs = np.zeros((len(clips[i].embeddings[None]), classes))
            probs[:, probe.classes_] = probe.predict_proba(clips[i].embeddings[None])
            tested.append((i, probs))
        for strategy in STRATEGIES:
            out = [(outputs(clips[i], strategy, probs), targets[i]) for i, probs in tested]
            scores[strategy.name].append(float(np.mean([p.argmax() == target for (p, _, _), target in out])))
            segments[strategy.name].extend(n for (_, _, n), _ in out)
    return scores, {name: float(np.mean(counts)) for name, counts in segments.items()}


def study(clip_dir: Path, pool_dir: Path, folds: int, repeats: int, seed: int) -> list[dict]:
    engine = GenreEngine.from_checkpoint(stop_margin=None)
    data = discover(clip_dir)
    targets = np.asarray(data.targets)
    clips = [analyse(engine, clip.path, (None,)) for clip in data.clips]
    songs = [analyse(engine, path, FIXED) for path in find_audio_files([pool_dir])]
    items = clips + songs
    accuracy, cv_segments = probe_accuracies(clips, targets, folds, repeats, seed)
    reference = STRATEGIES[0]
    ref_out = [outputs(item, reference) for item in items]
    ref_top = np.array([p.argmax() for p, _, _ in ref_out])
    ref_neighbours = neighbours(np.stack([e for _, e, _ in ref_out]))
    rows = []
    for strategy in STRATEGIES:
        out = [outputs(item, strategy) for item in items]
        cost = np.array([n for _, _, n in out], dtype=float)
        acc = np.array(accuracy[strategy.name])
        rows.append(
            {
                "strategy": strategy.name,
                "segments_clip": float(cost[: len(clips)].mean()),
                "segments_clip_cv": cv_segments[strategy.name],
                "segments_song": float(cost[len(clips) :].mean()) if songs else None,
                "cv_acc_mean": float(acc.mean()),
                "cv_acc_std": float(acc.std(ddof=1)),
                "same_top": float(np.mean([p.argmax() for p, _, _ in out] == ref_top)),
                "recall_at_10": recall_at(ref_neighbours, neighbours(np.stack([e for _, e, _ in out]))),
                "n_clips": len(clips),
                "n_songs": len(songs),
            }
        )
    return rows


def strategy_table(rows: list[dict]) -> str:
    return table(
        ["strategy", "segments per clip (CV probe)", "per clip (shipped)", "per song", "CV clip accuracy"]
        + ["same top genre", "neighbour recall@10"],
        (
            [r["strategy"], f"{r['segments_clip_cv']:.1f}", f"{r['segments_clip']:.1f}"]
            + ["" if r["segments_song"] is None else f"{r['segments_song']:.1f}"]
            + [f"{percent(r['cv_acc_mean'])} ± {percent(r['cv_acc_std'])}", percent(r["same_top"])]
            + [f"{r['recall_at_10']:.3f}"]
            for r in rows
        ),
    )


def render(results: dict) -> str:
    """The measurement page's body: the table, and what each column is."""
    rows = results["rows"]
    return (
        "Work per clip against quality, for every way the engine could choose segments: a fixed number spread "
        "over the song, or the early stop (the first k segments, the rest only when the top-1 minus top-2 mean "
        f"probability is at most the margin). On {rows[0]['n_clips']} labelled GTZAN clips and "
        f"{rows[0]['n_songs']} pool songs. Segments are the mean the network runs per clip (the early stop "
        "decided by the fold's probe, and by the shipped model, which saw every clip) and per pool song. The CV "
        f"clip accuracy is a linear probe on the shipped model's embedding over {results['repeats']}x repeated "
        f"stratified {results['folds']}-fold cross-validation (seed {results['seed']}; mean ± sample std over "
        "the folds). Same top genre and neighbour recall@10 compare each strategy with 10 segments, over the "
        "clips and the songs together.\n\n" + strategy_table(rows)
    )


def main(argv: list[str] | None = None) -> None:
    recorder = Recorder("segments", "How many segments a clip needs", "studies.segments", argv, STUDY_RESULTS)
    parser = argparse.ArgumentParser(prog="python -m studies.segments", description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=Path, default=CLIPS, help="labelled clips, DIR/<genre>/<file>")
    parser.add_argument("--pool", type=Path, default=POOL, help="unlabelled songs for neighbours")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="one JSON object per strategy")
    add_record_option(parser)
    args = parser.parse_args(argv)
    rows = study(args.clips, args.pool, args.folds, args.repeats, args.seed)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(strategy_table(rows))
    recorder.write({"folds": args.folds, "repeats": args.repeats, "seed": args.seed, "rows": rows}, args.record)


if __name__ == "__main__":
    main()
