"""``python -m studies.tag_thresholds [--checkpoint PATH] [--out data/tags.json] [--record PATH]``: choose each
tag's "applies" threshold on data and write the tag vocabulary the engine ships.

No tag-labelled audio is at hand, so the thresholds come from two sources, both on the reference set
of ``studies.reference`` (70 GTZAN clips + 21 pool songs):

1. Tags named after a GTZAN genre (``rock``, ``classic rock``, ``pop``, ``jazz``, ``metal``,
   ``heavy metal``, ``blues``, ``Hip-Hop``, ``country``): the threshold that maximises the F1 of
   "tag applies" against "the clip is of that genre" over the 70 labelled clips (placed midway
   between the two probabilities it separates), provided that F1 reaches ``MIN_F1``: a tag that
   marks its genre worse than that on these clips (``classic rock`` against GTZAN's rock, whose
   best F1 comes from applying to almost everything) is treated as in (2).
2. Every other tag: its own ``1 - s`` quantile over the whole reference set, where ``s`` is the
   median, over the tags kept in (1), of the share of reference songs they apply to at their F1-best
   threshold (about a tenth: each GTZAN genre is a tenth of the clips). A tag thus applies to
   the songs where it stands out from its own base rate as much as a genre tag must to mark its
   genre best. Absolute levels would not do: the tagger's mood outputs are small (``happy`` never
   exceeds 0.01 on the reference set, ``rock`` reaches 0.38) yet rank songs sensibly (the ballad
   ``Feelings`` tops ``sad``, ``mellow`` and ``beautiful``; disco clips top ``party``).

The ``confident`` rule's parameters are written beside them, from ``studies.not_sure`` (which
prints how they were chosen); this script keeps the ones already in the file, or the defaults. The
file's ``written_by`` gets this command as what wrote the thresholds. The record goes to
``studies/results/tag_thresholds.json`` (``benchmarks.record``; it names the file written), which
:func:`render` turns into the measurement page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.markdown import percent, table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option, shown_path
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.runners import load_runner
from genre_engine.tags import (
    DEFAULT_TAGS_FILE,
    GTZAN_NAMED,
    MSD_TAG_KINDS,
    Tag,
    TagVocabulary,
    load_vocabulary,
    tag_display_name,
    write_vocabulary,
)
from studies.reference import Reference, load_reference

MIN_F1 = 0.5

DEFAULT_MIN_TOP = 0.5
DEFAULT_MIN_OUTSIDE = None


def f1_best_threshold(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising the F1 of ``scores >= threshold`` against ``positive``; the
    threshold lies midway between the lowest score kept and the highest one below it."""
    order = np.sort(np.unique(scores))[::-1]
    best = (float(order[0]), 0.0)
    for i, cut in enumerate(order):
        predicted = scores >= cut
        tp = int((predicted & positive).sum())
        f1 = 2 * tp / (predicted.sum() + positive.sum()) if tp else 0.0
        if f1 > best[1]:
            below = order[i + 1] if i + 1 < len(order) else 0.0
            best = (float((cut + below) / 2), float(f1))
    return best


def choose_thresholds(reference: Reference) -> tuple[dict[str, float], dict[str, tuple[float, float]], float]:
    """({raw tag: threshold}, {genre-named tag kept: (threshold, F1)}, s): see the module docstring."""
    gtzan = reference.gtzan
    genre_of = reference.group[gtzan]
    named: dict[str, tuple[float, float]] = {}
    for column, raw in enumerate(reference.tag_names):
        if raw in GTZAN_NAMED:
            threshold, f1 = f1_best_threshold(reference.tags[gtzan, column], genre_of == GTZAN_NAMED[raw])
            if f1 >= MIN_F1:
                named[raw] = (threshold, f1)
    shares = [
        float((reference.tags[:, reference.tag_names.index(raw)] >= threshold).mean())
        for raw, (threshold, _) in named.items()
    ]
    share = float(np.median(shares))
    thresholds = {}
    for column, raw in enumerate(reference.tag_names):
        thresholds[raw] = named[raw][0] if raw in named else float(np.quantile(reference.tags[:, column], 1 - share))
    return thresholds, named, share


def build_vocabulary(reference: Reference, variant: str, previous: TagVocabulary | None, command: str) -> TagVocabulary:
    """The vocabulary with the thresholds chosen on ``reference``, the ``confident`` rule of ``previous``
    (or the defaults) and ``command`` as what wrote the thresholds."""
    thresholds, _, _ = choose_thresholds(reference)
    tags = tuple(
        Tag(tag_display_name(raw), MSD_TAG_KINDS[raw][0], thresholds[raw], MSD_TAG_KINDS[raw][1])
        for raw in reference.tag_names
    )
    return TagVocabulary(
        variant,
        tags,
        min_top_probability=previous.min_top_probability if previous else DEFAULT_MIN_TOP,
        min_outside_styles=previous.min_outside_styles if previous else DEFAULT_MIN_OUTSIDE,
        written_by={**(previous.written_by if previous else {}), "thresholds": command},
    )


def tag_rows(reference: Reference) -> tuple[list[dict], float]:
    """One row per tag (its threshold, how it was chosen, the share of reference songs it applies
    to), and ``s`` (see the module docstring)."""
    thresholds, named, share = choose_thresholds(reference)
    medians = np.median(reference.tags, axis=0)
    rows = []
    for column, raw in enumerate(reference.tag_names):
        rows.append(
            {
                "tag": tag_display_name(raw),
                "group": MSD_TAG_KINDS[raw][0],
                "median": float(medians[column]),
                "threshold": thresholds[raw],
                "f1_against": GTZAN_NAMED[raw] if raw in named else None,
                "f1": named[raw][1] if raw in named else None,
                "applies": float((reference.tags[:, column] >= thresholds[raw]).mean()),
            }
        )
    return rows, share


def _how(row: dict, share: float) -> str:
    if row["f1_against"] is None:
        return f"{1 - share:.3f} quantile"
    return f"F1-best vs GTZAN {row['f1_against']} (F1 {row['f1']:.2f})"


def render(results: dict) -> str:
    """The measurement page's body: every tag's threshold and how it was chosen."""
    share = results["share"]
    rows = table(
        ["tag", "group", "median probability", "threshold", "chosen by", "applies to"],
        (
            [r["tag"], r["group"], f"{r['median']:.3f}", f"{r['threshold']:.3f}", _how(r, share)]
            + [percent(r["applies"], 0)]
            for r in results["rows"]
        ),
    )
    return (
        f'Each tag\'s "applies" threshold, chosen on the reference set ({results["gtzan_clips"]} GTZAN clips and '
        f"{results['pool_songs']} pool songs; `studies.reference`). A tag named after a GTZAN genre takes the "
        "threshold that best separates that genre's clips (F1), when that F1 reaches "
        f"{results['min_f1']}; every other tag applies to the songs where it stands out from its own base rate: "
        f"its own {1 - share:.3f} quantile over the reference set, where s = {share:.3f} is the median share of "
        'the reference songs the genre-named tags kept apply to. "Applies to" is the share of the reference '
        f"songs each tag applies to at its threshold. This run wrote `{results['wrote']}`, the vocabulary the "
        "engine ships.\n\n" + rows
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("tag_thresholds", "Tag thresholds", "studies.tag_thresholds", argv, STUDY_RESULTS)
    parser = argparse.ArgumentParser(prog="python -m studies.tag_thresholds", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--out", type=Path, default=DEFAULT_TAGS_FILE)
    add_record_option(parser)
    args = parser.parse_args(argv)
    reference = load_reference(args.checkpoint)
    rows, share = tag_rows(reference)
    gtzan = int(reference.gtzan.sum())
    print(
        f"reference set: {gtzan} GTZAN clips, {len(reference.files) - gtzan} "
        f"pool songs; s = {share:.3f} (median share of the reference set the genre-named tags apply to)"
    )
    print(f"{'tag':<18} {'group':<6} {'median':>7} {'threshold':>9}  how (share of reference songs it applies to)")
    for row in rows:
        print(
            f"{row['tag']:<18} {row['group']:<6} {row['median']:7.3f} "
            f"{row['threshold']:9.3f}  {_how(row, share)} ({row['applies']:.0%})"
        )
    previous = load_vocabulary(args.out) if args.out.is_file() else None
    variant = load_runner(args.checkpoint).model_args.get("variant", "MSD_musicnn")
    write_vocabulary(build_vocabulary(reference, variant, previous, recorder.command), args.out)
    print(f"wrote {args.out}")
    results = {
        "gtzan_clips": gtzan,
        "pool_songs": len(reference.files) - gtzan,
        "min_f1": MIN_F1,
        "share": share,
        "rows": rows,
        "wrote": shown_path(args.out),
    }
    recorder.write(results, args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
