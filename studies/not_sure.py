"""``python -m studies.not_sure [--checkpoint PATH] [--write]``: choose the ``confident`` rule's two
parameters on data, print the rates, and (``--write``) store them in ``data/tags.json``.

The rule (``TagVocabulary.is_confident``): a prediction is a verdict when its top genre probability
reaches ``min_top_probability`` and fewer than ``min_outside_styles`` styles outside the ten genres
(electronic, electronica, electro, house, ambient, chillout, experimental, folk, easy listening)
apply (None: the top probability alone decides; the styles then only describe what a song that
lost its verdict sounds like). One outside style is common inside the ten (classical clips sound
"easy listening", disco "house"); several at once is what music outside them does.

Chosen on the reference set (``studies.reference``): music inside the ten genres (the 70 GTZAN
clips and the 8 rock and metal songs of the pool) should keep its verdict; the 13 tracks of the
Singularity game soundtrack (orchestral and electronic score) are outside them and should lose it.
Over a grid of both parameters the pair kept is the one flagging the most soundtrack tracks while
flagging at most ``MAX_GTZAN_FLAGGED`` of the GTZAN clips and at most one of the 8 pool songs (ties:
fewer GTZAN clips flagged, then the more lenient rule: lower top-probability bar, more styles needed).
Caveats, printed too: the GTZAN clips are the genre head's training clips (their top probabilities
are optimistic), and 13 soundtrack tracks from one game are a small sample of "outside the ten".
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.tags import (
    DEFAULT_TAGS_FILE,
    TagVocabulary,
    load_vocabulary,
    write_vocabulary,
)
from studies.reference import Reference, load_reference

MAX_GTZAN_FLAGGED = 0.05
MIN_TOP_GRID = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
COUNT_GRID = (1, 2, 3, 4, 5, 6, None)  # None: styles never decide


def flagged(reference: Reference, vocabulary: TagVocabulary) -> np.ndarray:
    """Bool [N]: the reference songs whose answer is not a verdict under ``vocabulary``'s rule."""
    return np.array([not vocabulary.is_confident(p, t) for p, t in zip(reference.probabilities, reference.tags)])


def rates(reference: Reference, flags: np.ndarray) -> tuple[float, float, float]:
    """Shares flagged: GTZAN clips, rock/metal pool songs, soundtrack tracks."""
    return (
        float(flags[reference.gtzan].mean()),
        float(flags[reference.rows("pool")].mean()),
        float(flags[reference.rows("soundtrack")].mean()),
    )


def choose(reference: Reference, base: TagVocabulary) -> tuple[TagVocabulary, list[tuple]]:
    table = []
    for min_top in MIN_TOP_GRID:
        for count in COUNT_GRID:
            rule = dataclasses.replace(base, min_top_probability=min_top, min_outside_styles=count)
            table.append((min_top, count, *rates(reference, flagged(reference, rule))))
    pool_limit = 1 / max(int(reference.rows("pool").sum()), 1) + 1e-9
    allowed = [row for row in table if row[2] <= MAX_GTZAN_FLAGGED and row[3] <= pool_limit]
    best = max(allowed, key=lambda row: (row[4], -row[2], -row[0], np.inf if row[1] is None else row[1]))
    return dataclasses.replace(base, min_top_probability=best[0], min_outside_styles=best[1]), table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.not_sure", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--tags", type=Path, default=DEFAULT_TAGS_FILE, help="tag vocabulary with thresholds")
    parser.add_argument("--write", action="store_true", help="store the chosen parameters in --tags")
    args = parser.parse_args(argv)
    reference = load_reference(args.checkpoint)
    chosen, table = choose(reference, load_vocabulary(args.tags))
    print("min_top  outside  GTZAN flagged  pool rock/metal flagged  soundtrack flagged")
    for min_top, count, gtzan, pool, soundtrack in table:
        shown = "never" if count is None else str(count)
        print(f"{min_top:7.2f} {shown:>8} {gtzan:14.1%} {pool:24.1%} {soundtrack:19.1%}")
    flags = flagged(reference, chosen)
    gtzan, pool, soundtrack = rates(reference, flags)
    print(f"\nchosen: min_top_probability={chosen.min_top_probability}, min_outside_styles={chosen.min_outside_styles}")
    print(f"GTZAN clips flagged: {int(flags[reference.gtzan].sum())}/{int(reference.gtzan.sum())} ({gtzan:.1%})")
    print(
        f"pool rock/metal songs flagged: {int(flags[reference.rows('pool')].sum())}/"
        f"{int(reference.rows('pool').sum())} ({pool:.1%})"
    )
    print(
        f"Singularity soundtrack flagged: {int(flags[reference.rows('soundtrack')].sum())}/"
        f"{int(reference.rows('soundtrack').sum())} ({soundtrack:.1%})"
    )
    for name, flag, group, probs, tags in zip(
        reference.files, flags, reference.group, reference.probabilities, reference.tags
    ):
        if flag or group == "soundtrack" or chosen.outside_styles(tags):
            outside = ", ".join(chosen.outside_styles(tags)) or "-"  # as the front ends word it
            top = reference.labels[int(np.argmax(probs))]
            print(f"  {'flagged' if flag else 'kept   '} {name}: {top} {probs.max():.0%}; outside styles: {outside}")
    print(
        "caveat: the GTZAN clips trained the genre head, so their top probabilities are optimistic; "
        "the soundtrack is 13 tracks of one game."
    )
    if args.write:
        write_vocabulary(chosen, args.tags)
        print(f"wrote {args.tags}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
