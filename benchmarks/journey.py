"""``python -m benchmarks.journey``: how smooth a sonic journey is, and how long it takes.

A journey (``recommender.journey``) against two baselines of the same length between the same two
songs: **interpolation**, the song nearest each point of the straight (great-circle) way between the
two embeddings, none twice; and **random**, pool songs drawn at random, put in order of their
closeness to the goal. For each, over many pairs of songs: the largest step and the mean step
(cosine distance, 1 - cosine, between consecutive songs' embeddings) and the share of steps that
get closer to the goal; for the journey, milliseconds per journey (``plan_journey``, the whole
pool's pass included). Two pools: the shared pool (``../shared/pool``, classified once with the
shipped engine as the bot stores it, compact embeddings, cached in ``state/cache``; every ordered
pair of its songs) and a synthetic pool (``benchmarks.synthetic``, 256 floats). The record goes to
``benchmarks/results/journey.json`` (``benchmarks.record``), which :func:`render` turns into the
measurement page.

    python -m benchmarks.journey [--size 100000] [--pairs 40] [--songs 6,10] [--record PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.markdown import percent, table
from benchmarks.record import Recorder, add_record_option
from benchmarks.shared import POOL, SHARED
from benchmarks.synthetic import EMBEDDING_DIM, make_pool
from benchmarks.timing import quantile
from genre_engine.audio import find_audio_files
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.engine import GenreEngine
from genre_engine.files import atomic_write
from genre_engine.locations import DEFAULT_CACHE
from genre_engine.projection import projection_path
from recommender.config import RecommenderConfig
from recommender.journey import plan_journey, waypoints

DEDUP = RecommenderConfig().dedup_threshold
VARIETIES = (0.0, 0.5)


def shared_pool_embeddings(cache_dir: Path = DEFAULT_CACHE) -> np.ndarray:
    """The shared pool's songs as the bot stores them (the shipped engine's compact embeddings),
    analysed once and cached by the model, its projection and the files."""
    files = sorted(find_audio_files([POOL]))
    digest = hashlib.sha256(DEFAULT_CHECKPOINT.read_bytes() + projection_path(DEFAULT_CHECKPOINT).read_bytes())
    for path in files:
        digest.update(f"{path.relative_to(SHARED)}|{path.stat().st_size}".encode())
    cache = cache_dir / f"journey-pool-{digest.hexdigest()[:16]}.npy"
    if not cache.is_file():
        engine = GenreEngine.from_checkpoint()
        embeddings = np.stack([engine.classify(path).embedding for path in files]).astype(np.float32)
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(cache) as tmp, open(tmp, "wb") as handle:
            np.save(handle, embeddings)
    return np.load(cache)


def steps_of(path: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, float]:
    """Cosine distance of each step of ``path`` (embeddings ``[S, D]``) and the share of steps that
    get closer to ``goal``."""
    distance = 1.0 - np.einsum("nd,nd->n", path[:-1], path[1:]).astype(np.float64)
    closeness = path @ goal
    return distance, float(np.mean(closeness[1:] > closeness[:-1]))


def interpolation_rows(embeddings: np.ndarray, start: int, goal: int, songs: int) -> list[int]:
    """The song nearest each inner point of the straight way, none twice, never an end."""
    used = {start, goal}
    rows = []
    for point in waypoints(embeddings[start], embeddings[goal], songs)[1:-1]:
        similarity = embeddings @ point
        similarity[list(used)] = -np.inf
        best = int(np.argmax(similarity))
        used.add(best)
        rows.append(best)
    return rows


def random_rows(embeddings: np.ndarray, start: int, goal: int, songs: int, rng: np.random.Generator) -> list[int]:
    """Random songs (never an end), in order of their closeness to the goal."""
    others = np.setdiff1d(np.arange(len(embeddings)), [start, goal])
    rows = rng.choice(others, songs - 2, replace=False)
    return rows[np.argsort(embeddings[rows] @ embeddings[goal])].tolist()


def journey_rows(embeddings: np.ndarray, start: int, goal: int, songs: int, variety: float, seed: int) -> list[int]:
    excluded = np.zeros(len(embeddings), bool)
    excluded[[start, goal]] = True
    plan = plan_journey(
        embeddings,
        embeddings[start],
        embeddings[goal],
        songs,
        excluded=excluded,
        variety=variety,
        dedup_threshold=DEDUP,
        rng=np.random.default_rng(seed),
    )
    return plan.rows.tolist()


def bench(name: str, embeddings: np.ndarray, pairs: Sequence[tuple[int, int]], songs: int) -> list[dict]:
    """One row per method for journeys of ``songs`` songs between each of ``pairs``."""
    rng = np.random.default_rng(0)
    methods: dict[str, list] = {f"journey, variety {v:g}": [] for v in VARIETIES}
    methods |= {"interpolation": [], "random": []}
    timings: dict[str, list[float]] = {key: [] for key in methods}
    lengths: dict[str, list[int]] = {key: [] for key in methods}
    for index, (start, goal) in enumerate(pairs):
        for key in methods:
            began = time.perf_counter()
            if key.startswith("journey"):
                rows = journey_rows(embeddings, start, goal, songs, float(key.rsplit(" ", 1)[1]), index)
            elif key == "interpolation":
                rows = interpolation_rows(embeddings, start, goal, songs)
            else:
                rows = random_rows(embeddings, start, goal, songs, rng)
            timings[key].append((time.perf_counter() - began) * 1000)
            path = embeddings[[start, *rows, goal]]
            methods[key].append(steps_of(path, embeddings[goal]))
            lengths[key].append(len(rows) + 2)
    return [
        {
            "pool": name,
            "songs_in_pool": len(embeddings),
            "journey_songs": songs,
            "pairs": len(pairs),
            "method": key,
            "largest_step": float(np.mean([distance.max() for distance, _ in found])),
            "mean_step": float(np.mean([distance.mean() for distance, _ in found])),
            "closer_share": float(np.mean([share for _, share in found])),
            "mean_length": float(np.mean(lengths[key])),
            "p50_ms": quantile(timings[key], 0.5),
            "p95_ms": quantile(timings[key], 0.95),
        }
        for key, found in methods.items()
    ]


def render(results: dict) -> str:
    """The measurement page's body: per pool and length, one row per method."""
    rows = table(
        ["pool", "songs", "journey length", "method", "largest step", "mean step", "steps closer to the goal"]
        + ["songs per journey", "p50 ms", "p95 ms"],
        (
            [r["pool"], f"{r['songs_in_pool']:,}", r["journey_songs"], r["method"], f"{r['largest_step']:.3f}"]
            + [f"{r['mean_step']:.3f}", percent(r["closer_share"]), f"{r['mean_length']:.1f}"]
            + [f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}"]
            for r in results["rows"]
        ),
    )
    return (
        "Sonic journeys (`recommender.journey`, what `/journey` and `/radio start from: to:` play) against two "
        "baselines of the same length between the same songs: the song nearest each point of the straight "
        "way between the two embeddings (*interpolation*), and random songs put in order of their closeness "
        "to the goal (*random*). A step's length is the cosine distance (1 - cosine) of the two songs' "
        "embeddings; *largest step* and *mean step* are averaged over the pairs of songs, *steps closer to the "
        "goal* is the share of steps that end nearer the goal than they began. Milliseconds are per journey "
        "(the whole pool's pass included; the baselines' times are for comparison only). The shared pool is "
        f"`../shared/pool` as the shipped engine stores it, every ordered pair of its songs; the synthetic "
        f"pool has {results['dim']} floats per song (`benchmarks.synthetic`), {results['pairs']} random pairs."
        "\n\n" + rows
    )


def main(argv: Sequence[str] | None = None) -> None:
    recorder = Recorder("journey", "Sonic journeys: smoothness and latency", "benchmarks.journey", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journey", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="songs in the synthetic pool (default 100000)")
    parser.add_argument("--pairs", type=int, default=40, help="random pairs of songs in the synthetic pool")
    parser.add_argument("--songs", default="6,10", help="journey lengths, comma-separated (default 6,10)")
    parser.add_argument("--no-shared", action="store_true", help="leave out the shared pool")
    add_record_option(parser)
    args = parser.parse_args(argv)
    lengths = [int(part) for part in args.songs.split(",")]
    rows = []
    if not args.no_shared:
        shared = shared_pool_embeddings()
        pairs = [(a, b) for a in range(len(shared)) for b in range(len(shared)) if a != b]
        for songs in lengths:
            rows += bench("shared", shared, pairs, min(songs, len(shared)))
    rng = np.random.default_rng(1)
    synthetic = make_pool(args.size, EMBEDDING_DIM, rng).embeddings
    pairs = [tuple(int(row) for row in rng.choice(args.size, 2, replace=False)) for _ in range(args.pairs)]
    for songs in lengths:
        rows += bench("synthetic", synthetic, pairs, songs)
    for row in rows:
        print(
            f"{row['pool']:>9} {row['songs_in_pool']:>7,} {row['journey_songs']:>3} {row['method']:>20} "
            f"largest {row['largest_step']:.3f} mean {row['mean_step']:.3f} closer {row['closer_share']:.0%} "
            f"p50 {row['p50_ms']:.1f} ms",
            flush=True,
        )
    recorder.write({"dim": EMBEDDING_DIM, "pairs": args.pairs, "rows": rows}, args.record)


if __name__ == "__main__":
    main()
