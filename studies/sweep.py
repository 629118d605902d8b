"""How the variety knob moves playlists, measured on a synthetic server.

    python -m studies.sweep [--songs 10000] [--users 1000] [--seed 0] [--json] [--record PATH]

For each variety in {0, 0.25, 0.5, 0.75, 1}, every synthetic listener gets a playlist of 10 songs
(the /playlist default) and the means over listeners are printed: KL(taste || playlist mix),
KL(target || playlist mix), normalised genre entropy of the playlist mix, intra-list diversity
(mean pairwise cosine distance) and the share of the pool that reached at least one listener. The
expected shape, asserted by the tests on a small instance: KL to the target stays small at every
variety, while entropy and KL to the taste rise with it. The record goes to
``studies/results/sweep.json`` (``benchmarks.record``), which :func:`render` turns into the
measurement page.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from benchmarks.markdown import table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option
from benchmarks.synthetic import EMBEDDING_DIM, SyntheticPool, make_listener, make_pool
from recommender.config import RecommenderConfig
from recommender.metrics import (
    coverage,
    intra_list_diversity,
    kl_divergence,
    normalised_entropy,
    playlist_mix,
)
from recommender.playlist import excluded_rows, plan_playlist
from recommender.pool import PoolArrays
from recommender.profile import TasteProfile, build_profile, event_weights

VARIETIES = (0.0, 0.25, 0.5, 0.75, 1.0)
PLAYLIST_SIZE = 10


@dataclass(frozen=True)
class SweepRow:
    variety: float
    kl_taste: float
    kl_target: float
    entropy: float
    ild: float
    coverage: float


def _listeners(
    pool: SyntheticPool, users: int, config: RecommenderConfig, rng: np.random.Generator
) -> list[tuple[TasteProfile, np.ndarray]]:
    """Each listener's taste profile (as the recommender sees it) and the mask of songs they have."""
    size = len(pool.probabilities)
    nobody = np.zeros(size, np.int64)
    listeners = []
    for _ in range(users):
        listener = make_listener(pool, int(rng.integers(10, 60)), rng)
        weights = event_weights(listener.kinds, listener.ages_days, config)
        rows = listener.rows
        profile = build_profile(rows, pool.probabilities[rows], pool.embeddings[rows], weights, config)
        listeners.append((profile, excluded_rows(size, rows, nobody, user_id=1)))
    return listeners


def run_sweep(
    songs: int,
    users: int,
    seed: int,
    *,
    varieties: Sequence[float] = VARIETIES,
    config: RecommenderConfig | None = None,
    progress: bool = False,
) -> list[SweepRow]:
    rng = np.random.default_rng(seed)
    pool = make_pool(songs, EMBEDDING_DIM, rng)
    config = config or RecommenderConfig()
    listeners = _listeners(pool, users, config, rng)
    arrays = PoolArrays.of(pool.probabilities, pool.embeddings)
    results = []
    for variety in varieties:
        kl_taste, kl_target, entropy, ild, playlists = [], [], [], [], []
        for index, (profile, excluded) in enumerate(listeners):
            plan = plan_playlist(
                arrays,
                excluded,
                profile,
                variety,
                PLAYLIST_SIZE,
                config,
                np.random.default_rng([seed, index]),
            )
            mix = playlist_mix(pool.probabilities[plan.rows])
            kl_taste.append(kl_divergence(profile.vector, mix, config.kl_smoothing))
            kl_target.append(kl_divergence(plan.target, mix, config.kl_smoothing))
            entropy.append(normalised_entropy(mix))
            ild.append(intra_list_diversity(pool.embeddings[plan.rows]))
            playlists.append(plan.rows)
        results.append(
            SweepRow(
                variety=variety,
                kl_taste=float(np.mean(kl_taste)),
                kl_target=float(np.mean(kl_target)),
                entropy=float(np.mean(entropy)),
                ild=float(np.mean(ild)),
                coverage=coverage(playlists, songs),
            )
        )
        if progress:
            print(f"variety {variety:.2f}: {users} playlists done", file=sys.stderr, flush=True)
    return results


def format_table(rows: Sequence[SweepRow]) -> str:
    header = "variety  kl_taste  kl_target  entropy    ild  coverage"
    lines = [header]
    for row in rows:
        lines.append(
            f"{row.variety:7.2f}  {row.kl_taste:8.4f}  {row.kl_target:9.4f}  {row.entropy:7.3f}"
            f"  {row.ild:5.3f}  {row.coverage:8.3f}"
        )
    return "\n".join(lines)


def render(results: dict) -> str:
    """The measurement page's body: one row per variety, and how to read it."""
    rows = table(
        ["variety", "KL(taste ‖ mix)", "KL(target ‖ mix)", "genre entropy", "intra-list diversity", "coverage"],
        (
            [f"{r['variety']:.2f}", f"{r['kl_taste']:.4f}", f"{r['kl_target']:.4f}", f"{r['entropy']:.3f}"]
            + [f"{r['ild']:.3f}", f"{r['coverage']:.3f}"]
            for r in results["rows"]
        ),
    )
    return (
        f"How the variety knob moves playlists on a synthetic server (`benchmarks.synthetic`): {results['songs']:,} "
        f"songs, {results['users']:,} listeners (seed {results['seed']}), each given a playlist of "
        f"{results['playlist_size']} songs at every variety. Means over the listeners: the KL divergence of the "
        "playlist's genre mix from the listener's taste and from the target mix the variety asks for, the "
        "normalised genre entropy of the mix, the intra-list diversity (mean pairwise cosine distance), and the "
        "share of the pool that reached at least one listener. Calibration holds when KL to the target stays "
        "small at every variety while entropy and KL to the taste rise with it.\n\n" + rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    recorder = Recorder("sweep", "The variety knob", "studies.sweep", argv, STUDY_RESULTS)
    parser = argparse.ArgumentParser(
        prog="python -m studies.sweep",
        description="Measure how the variety knob shapes playlists on a synthetic server.",
    )
    parser.add_argument("--songs", type=int, default=10_000, help="songs in the pool (10000)")
    parser.add_argument("--users", type=int, default=1_000, help="synthetic listeners (1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_record_option(parser)
    args = parser.parse_args(argv)
    if args.songs < PLAYLIST_SIZE or args.users < 1:
        parser.error(f"need --songs >= {PLAYLIST_SIZE} and --users >= 1")
    print(
        f"sweep: {args.songs} songs, {args.users} listeners, seed {args.seed}",
        file=sys.stderr,
        flush=True,
    )
    rows = run_sweep(args.songs, args.users, args.seed, progress=True)
    if args.json:
        print(json.dumps({"rows": [asdict(row) for row in rows]}))
    else:
        print(format_table(rows))
    results = {"songs": args.songs, "users": args.users, "seed": args.seed, "playlist_size": PLAYLIST_SIZE}
    recorder.write(results | {"rows": [asdict(row) for row in rows]}, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
