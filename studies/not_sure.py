"""``python -m studies.not_sure [--checkpoint PATH] [--write] [--record PATH]``: choose the ``confident`` rule's
two parameters on data, print the rates, and (``--write``) store them in ``data/tags.json``.

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
With ``--write`` the file's ``written_by`` gets this command as what wrote the rule. The record goes
to ``studies/results/not_sure.json`` (``benchmarks.record``; it names the file written, if any), which
:func:`render` turns into the measurement page.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from benchmarks.markdown import percent, table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option, shown_path
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


CAVEAT = (
    "the GTZAN clips trained the genre head, so their top probabilities are optimistic; "
    "the soundtrack is 13 tracks of one game."
)


def _styles(count: int | None) -> str:
    return "never" if count is None else str(count)


def outcome(reference: Reference, chosen: TagVocabulary) -> dict:
    """What the chosen rule does on the reference set: songs flagged per group, and every song that is
    flagged, is a soundtrack track or sounds like a style outside the ten."""
    flags = flagged(reference, chosen)
    counts = {
        group: [int(flags[rows].sum()), int(rows.sum())]
        for group, rows in (
            ("gtzan", reference.gtzan),
            ("pool", reference.rows("pool")),
            ("soundtrack", reference.rows("soundtrack")),
        )
    }
    songs = [
        {
            "file": name,
            "flagged": bool(flag),
            "top": reference.labels[int(np.argmax(probs))],
            "top_probability": float(probs.max()),
            "outside_styles": list(chosen.outside_styles(tags)),  # as the front ends word it
        }
        for name, flag, group, probs, tags in zip(
            reference.files, flags, reference.group, reference.probabilities, reference.tags
        )
        if flag or group == "soundtrack" or chosen.outside_styles(tags)
    ]
    return {"flagged": counts, "songs": songs}


def render(results: dict) -> str:
    """The measurement page's body: the grid, the rule chosen, and the songs it concerns."""
    grid = table(
        ["min top probability", "outside styles needed", "GTZAN flagged", "pool rock/metal flagged"]
        + ["soundtrack flagged"],
        (
            [f"{row['min_top']:.2f}", _styles(row["styles"]), percent(row["gtzan"]), percent(row["pool"])]
            + [percent(row["soundtrack"])]
            for row in results["grid"]
        ),
    )
    flagged_counts = "; ".join(
        f"{name}: {done}/{of}"
        for name, (done, of) in zip(
            ("GTZAN clips", "pool rock/metal songs", "Singularity soundtrack"), results["flagged"].values()
        )
    )
    songs = table(
        ["song", "verdict", "top genre", "outside styles"],
        (
            [s["file"], "flagged" if s["flagged"] else "kept", f"{s['top']} {percent(s['top_probability'], 0)}"]
            + [", ".join(s["outside_styles"]) or "-"]
            for s in results["songs"]
        ),
    )
    written = f" This run wrote them to `{results['wrote']}`." if results["wrote"] else ""
    return "\n\n".join(
        [
            "The `confident` rule (a verdict needs the top genre probability to reach a bar and fewer than a "
            "number of styles outside the ten genres to apply), chosen on the reference set: music inside the ten "
            "(the GTZAN clips, the pool's rock and metal songs) should keep its verdict, the Singularity game "
            "soundtrack (outside the ten) should lose it. The pair kept flags the most soundtrack tracks while "
            f"flagging at most {percent(results['max_gtzan_flagged'], 0)} of the GTZAN clips and at most one "
            "pool song.",
            grid,
            f"Chosen: `min_top_probability` {results['chosen']['min_top_probability']}, `min_outside_styles` "
            f"{_styles(results['chosen']['min_outside_styles'])}. Flagged: {flagged_counts}.{written}",
            "The songs flagged, the soundtrack, and the songs where a style outside the ten applies:",
            songs,
            f"Caveat: {CAVEAT}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("not_sure", "When an answer is not a verdict", "studies.not_sure", argv, STUDY_RESULTS)
    parser = argparse.ArgumentParser(prog="python -m studies.not_sure", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--tags", type=Path, default=DEFAULT_TAGS_FILE, help="tag vocabulary with thresholds")
    parser.add_argument("--write", action="store_true", help="store the chosen parameters in --tags")
    add_record_option(parser)
    args = parser.parse_args(argv)
    reference = load_reference(args.checkpoint)
    chosen, grid = choose(reference, load_vocabulary(args.tags))
    print("min_top  outside  GTZAN flagged  pool rock/metal flagged  soundtrack flagged")
    for min_top, count, gtzan, pool, soundtrack in grid:
        print(f"{min_top:7.2f} {_styles(count):>8} {gtzan:14.1%} {pool:24.1%} {soundtrack:19.1%}")
    results = outcome(reference, chosen)
    print(f"\nchosen: min_top_probability={chosen.min_top_probability}, min_outside_styles={chosen.min_outside_styles}")
    for name, (done, of) in zip(
        ("GTZAN clips", "pool rock/metal songs", "Singularity soundtrack"), results["flagged"].values()
    ):
        print(f"{name} flagged: {done}/{of} ({done / of:.1%})")
    for song in results["songs"]:
        print(
            f"  {'flagged' if song['flagged'] else 'kept   '} {song['file']}: {song['top']} "
            f"{song['top_probability']:.0%}; outside styles: {', '.join(song['outside_styles']) or '-'}"
        )
    print(f"caveat: {CAVEAT}")
    wrote = None
    if args.write:
        written_by = {**chosen.written_by, "confident": recorder.command}
        write_vocabulary(dataclasses.replace(chosen, written_by=written_by), args.tags)
        print(f"wrote {args.tags}")
        wrote = shown_path(args.tags)
    results |= {
        "max_gtzan_flagged": MAX_GTZAN_FLAGGED,
        "grid": [dict(zip(("min_top", "styles", "gtzan", "pool", "soundtrack"), row)) for row in grid],
        "chosen": {"min_top_probability": chosen.min_top_probability, "min_outside_styles": chosen.min_outside_styles},
        "wrote": wrote,
    }
    recorder.write(results, args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
