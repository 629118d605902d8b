"""``python -m studies.tag_thresholds [--checkpoint PATH] [--out data/tags.json]``: choose each tag's
"applies" threshold on data and write the tag vocabulary the engine ships.

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
prints how they were chosen); this script keeps the ones already in the file, or the defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

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


def build_vocabulary(reference: Reference, variant: str, previous: TagVocabulary | None) -> TagVocabulary:
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
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.tag_thresholds", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--out", type=Path, default=DEFAULT_TAGS_FILE)
    args = parser.parse_args(argv)
    reference = load_reference(args.checkpoint)
    thresholds, named, share = choose_thresholds(reference)
    medians = np.median(reference.tags, axis=0)
    print(
        f"reference set: {int(reference.gtzan.sum())} GTZAN clips, {len(reference.files) - int(reference.gtzan.sum())} "
        f"pool songs; s = {share:.3f} (median share of the reference set the genre-named tags apply to)"
    )
    print(f"{'tag':<18} {'group':<6} {'median':>7} {'threshold':>9}  how (share of reference songs it applies to)")
    for column, raw in enumerate(reference.tag_names):
        applies = float((reference.tags[:, column] >= thresholds[raw]).mean())
        how = (
            f"F1-best vs GTZAN {GTZAN_NAMED[raw]} (F1 {named[raw][1]:.2f})"
            if raw in named
            else f"{1 - share:.3f} quantile"
        )
        print(
            f"{tag_display_name(raw):<18} {MSD_TAG_KINDS[raw][0]:<6} {medians[column]:7.3f} "
            f"{thresholds[raw]:9.3f}  {how} ({applies:.0%})"
        )
    previous = load_vocabulary(args.out) if args.out.is_file() else None
    variant = load_runner(args.checkpoint).model_args.get("variant", "MSD_musicnn")
    write_vocabulary(build_vocabulary(reference, variant, previous), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
