"""``python -m benchmarks.ann``: exact "more like this" against usearch's HNSW index.

For each pool size, a synthetic pool (``benchmarks.synthetic``: embeddings clustered by genre mix,
256 floats, the genre CNN's size) and 200 query songs from it: recall@10 of the approximate search
against the exact one (the share of the exact top 10 the index finds), p50/p95 milliseconds per
query of each, for a few search expansions (HNSW's ef), and the index's build time (usearch,
``recommender.ann``'s settings, all cores). The record goes to ``benchmarks/results/ann.json``
(``benchmarks.record``), which :func:`render` turns into the measurement page.

    python -m benchmarks.ann [--sizes 10000,100000,300000] [--dim 256] [--queries 200] [--ef 256,512,1024]
                             [--connectivity 32] [--vectors f16] [--record PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option, load_average
from benchmarks.synthetic import make_pool
from benchmarks.timing import quantile
from recommender.ann import CONNECTIVITY, EXPANSION_SEARCH, VECTORS, AnnIndex
from recommender.similarity import nearest

K = 10


def bench(
    size: int, dim: int, queries: int, expansions: list[int], seed: int = 0, **settings
) -> list[dict[str, float]]:
    """One row per search expansion (HNSW's ef; one index built for all of them); ``settings``:
    :class:`AnnIndex`'s (connectivity, vectors)."""
    rng = np.random.default_rng(seed)
    embeddings = make_pool(size, dim, rng).embeddings
    ids = np.arange(size, dtype=np.int64)
    started = time.perf_counter()
    index = AnnIndex.build(ids, embeddings, **settings)
    build_s = time.perf_counter() - started
    rows = rng.choice(size, queries, replace=False)
    exact_ms, truths = [], []
    for row in rows:
        excluded = np.zeros(size, bool)
        excluded[row] = True
        started = time.perf_counter()
        truths.append(set(nearest(embeddings, embeddings[row], K, excluded=excluded)[0].tolist()))
        exact_ms.append((time.perf_counter() - started) * 1000)
    results = []
    for expansion in expansions:
        index.index.expansion_search = expansion
        ann_ms, recalls = [], []
        for row, truth in zip(rows, truths):
            excluded = np.zeros(size, bool)
            excluded[row] = True
            started = time.perf_counter()
            found, _ = index.nearest(ids, embeddings, embeddings[row], K, excluded=excluded)
            ann_ms.append((time.perf_counter() - started) * 1000)
            recalls.append(len(truth & set(found.tolist())) / K)
        results.append(
            {
                "songs": size,
                "build_s": build_s,
                "ef": expansion,
                "recall_at_10": statistics.mean(recalls),
                "exact_p50_ms": quantile(exact_ms, 0.5),
                "exact_p95_ms": quantile(exact_ms, 0.95),
                "ann_p50_ms": quantile(ann_ms, 0.5),
                "ann_p95_ms": quantile(ann_ms, 0.95),
            }
        )
    return results


def render(results: dict) -> str:
    """The measurement page's body: one row per pool size and search expansion."""
    rows = table(
        ["songs", "index build, s", "ef", "recall@10", "exact p50 ms", "exact p95 ms", "HNSW p50 ms", "HNSW p95 ms"],
        (
            [f"{r['songs']:,}", f"{r['build_s']:.1f}", r["ef"], f"{r['recall_at_10']:.3f}"]
            + [f"{r[key]:.2f}" for key in ("exact_p50_ms", "exact_p95_ms", "ann_p50_ms", "ann_p95_ms")]
            for r in results["rows"]
        ),
    )
    return (
        f'"More like this" on synthetic pools (`benchmarks.synthetic`, embeddings clustered by genre mix) of '
        f"{results['dim']} floats: for {results['queries']} query songs per pool, the exact search "
        "(`recommender.similarity.nearest`) against usearch's HNSW index (`recommender.ann`, "
        f"M {results['connectivity']}, {results['vectors']} vectors, built on all {results['cores']} cores). "
        f"recall@{K} is the share of the exact top {K} the index finds; milliseconds are per query, "
        "for each search expansion (HNSW's ef).\n\n" + rows
    )


def main(argv: Sequence[str] | None = None) -> None:
    recorder = Recorder("ann", "Exact against approximate nearest neighbours", "benchmarks.ann", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ann", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000", help="pool sizes, comma-separated")
    parser.add_argument("--dim", type=int, default=256, help="embedding size (default 256)")
    parser.add_argument("--queries", type=int, default=200, help="query songs per size (default 200)")
    parser.add_argument(
        "--ef",
        default=f"256,512,{EXPANSION_SEARCH}",
        help=f"search expansions to try (default 256,512,{EXPANSION_SEARCH}; recommender.ann uses {EXPANSION_SEARCH})",
    )
    parser.add_argument(
        "--connectivity",
        type=int,
        default=CONNECTIVITY,
        help=f"HNSW's M, links per node (default {CONNECTIVITY}, recommender.ann's)",
    )
    parser.add_argument(
        "--vectors",
        default=VECTORS,
        choices=("f32", "f16", "i8"),
        help=f"how the index stores the vectors (default {VECTORS}, recommender.ann's)",
    )
    add_record_option(parser)
    args = parser.parse_args(argv)
    print(
        f"{os.cpu_count()} cores, load {load_average()[0]:.2f}, {args.dim}-float embeddings, "
        f"{args.queries} queries, k={K}, M {args.connectivity}, {args.vectors} vectors"
    )
    print(
        f"{'songs':>9} {'build_s':>8} {'ef':>4} {'recall@10':>9} {'exact_p50':>9} {'exact_p95':>9} "
        f"{'ann_p50':>8} {'ann_p95':>8}"
    )
    rows = []
    for size in (int(part) for part in args.sizes.split(",")):
        for row in bench(
            size,
            args.dim,
            args.queries,
            [int(part) for part in args.ef.split(",")],
            connectivity=args.connectivity,
            vectors=args.vectors,
        ):
            rows.append(row)
            print(
                f"{size:>9,} {row['build_s']:>8.1f} {row['ef']:>4} {row['recall_at_10']:>9.3f} "
                f"{row['exact_p50_ms']:>9.2f} {row['exact_p95_ms']:>9.2f} {row['ann_p50_ms']:>8.2f} "
                f"{row['ann_p95_ms']:>8.2f}",
                flush=True,
            )
    settings = {"connectivity": args.connectivity, "vectors": args.vectors, "cores": os.cpu_count()}
    recorder.write({"dim": args.dim, "queries": args.queries, **settings, "rows": rows}, args.record)


if __name__ == "__main__":
    main()
