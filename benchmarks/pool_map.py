"""``python -m benchmarks.pool_map``: how long the server's map takes, and why it is drawn with PCA.

For synthetic pools (``benchmarks.synthetic``: embeddings clustered by genre mix, 256 floats) of each
size: the projection (``recommender.layout``: scikit-learn's PCA), the songs whose titles are written
(``recommender.starter``'s k-means) and the drawing (``bot.pool_map``), each timed, their total, and
the PNG's size: what ``/pool map`` costs the first time (after that the layout and the titles are
kept for the pool). Beside it, the projections considered, on the smallest pool: PCA and
scikit-learn's t-SNE, timed, with the trustworthiness of each (scikit-learn's, 10 neighbours: how
far the songs nearest each song on the map are its nearest in sound; 1 is perfect), which is also
measured for PCA on a sample of the largest pool. The record goes to
``benchmarks/results/pool_map.json``, which :func:`render` turns into the measurement page; with
``--out DIR`` the maps are written there as PNG files to look at.

    python -m benchmarks.pool_map [--sizes 1000,100000] [--out DIR] [--record PATH]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.manifold import TSNE, trustworthiness

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option
from benchmarks.synthetic import EMBEDDING_DIM, make_pool
from bot.pool_map import draw_map
from bot.services import MAP_TITLES
from recommender.genres import GENRES
from recommender.layout import project
from recommender.starter import covering_rows

NEIGHBOURS = 10
TRUST_SAMPLE = 2_000  # trustworthiness compares every pair: measured on at most this many songs


def timed(work):
    began = time.perf_counter()
    result = work()
    return result, time.perf_counter() - began


def trust(embeddings: np.ndarray, placed: np.ndarray) -> float:
    rows = np.random.default_rng(0).choice(len(embeddings), min(len(embeddings), TRUST_SAMPLE), replace=False)
    return float(trustworthiness(embeddings[rows], placed[rows], n_neighbors=NEIGHBOURS))


def render_map(size: int, out: Path | None) -> dict:
    pool = make_pool(size, EMBEDDING_DIM, np.random.default_rng(size))
    placed, project_s = timed(lambda: project(pool.embeddings))
    rows, titles_s = timed(lambda: covering_rows(pool.embeddings, MAP_TITLES))
    mine = np.zeros(size, bool)
    mine[np.random.default_rng(1).choice(size, min(size, 20), replace=False)] = True
    labelled = [(int(row), f"#{row + 1} Song {row + 1}") for row in rows]
    title = f"This server's {size:,} song(s), placed by sound"
    png, draw_s = timed(lambda: draw_map(placed, pool.probabilities.argmax(axis=1), GENRES, mine, labelled, title))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"map-{size}.png").write_bytes(png)
    return {
        "songs": size,
        "project_s": project_s,
        "titles_s": titles_s,
        "draw_s": draw_s,
        "total_s": project_s + titles_s + draw_s,
        "png_kib": len(png) / 1024,
        "pca_trustworthiness": trust(pool.embeddings, placed),
    }


def compare_projections(size: int) -> list[dict]:
    embeddings = make_pool(size, EMBEDDING_DIM, np.random.default_rng(size)).embeddings
    found = []
    for name, method in (
        ("PCA (scikit-learn)", lambda: project(embeddings)),
        ("t-SNE (scikit-learn)", lambda: TSNE(2, init="pca", random_state=0).fit_transform(embeddings)),
    ):
        placed, seconds = timed(method)
        found.append({"method": name, "songs": size, "seconds": seconds, "trustworthiness": trust(embeddings, placed)})
    return found


def render(results: dict) -> str:
    """The measurement page's body: the map's cost per pool size, then the projections compared."""
    maps = table(
        ["songs", "projection (PCA), s", "titles (k-means), s", "drawing, s", "total, s", "PNG, KiB"]
        + ["trustworthiness"],
        (
            [f"{r['songs']:,}", f"{r['project_s']:.2f}", f"{r['titles_s']:.2f}", f"{r['draw_s']:.2f}"]
            + [f"{r['total_s']:.2f}", f"{r['png_kib']:.0f}", f"{r['pca_trustworthiness']:.3f}"]
            for r in results["maps"]
        ),
    )
    projections = table(
        ["projection", "songs", "seconds", "trustworthiness"],
        (
            [r["method"], f"{r['songs']:,}", f"{r['seconds']:.2f}", f"{r['trustworthiness']:.3f}"]
            for r in results["projections"]
        ),
    )
    return (
        "What `/pool map` costs the first time for a pool of each size (synthetic pools of "
        f"{results['dim']} floats, `benchmarks.synthetic`): the 2-D projection (`recommender.layout`), the songs "
        "whose titles are written (`recommender.starter`) and the drawing (`bot.pool_map`); the layout and the "
        "titles are then kept while the pool does not change. *Trustworthiness* (scikit-learn's, "
        f"{NEIGHBOURS} neighbours, on at most {TRUST_SAMPLE:,} songs) says how far a song's neighbours on the map "
        "are its neighbours in sound (1 is perfect).\n\n"
        + maps
        + "\n\nThe projections considered, on the same pool. t-SNE keeps more neighbours, at a cost that grows "
        "faster than the pool and a layout drawn anew at every run; PCA is a fixed linear map, so a song keeps "
        "its place as the pool grows.\n\n" + projections
    )


def main(argv: Sequence[str] | None = None) -> None:
    recorder = Recorder("pool_map", "The server's map: rendering time", "benchmarks.pool_map", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pool_map", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="pool sizes, comma-separated (default 1000,100000)")
    parser.add_argument("--out", type=Path, help="write the maps drawn here as PNG files")
    add_record_option(parser)
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",")]
    render_map(200, None)  # first use: imports, matplotlib's font cache, scikit-learn's start-up
    maps = []
    for size in sizes:
        maps.append(render_map(size, args.out))
        print(f"{size:>8,} songs: {maps[-1]['total_s']:.2f} s", flush=True)
    projections = compare_projections(min(sizes))
    for row in projections:
        print(f"{row['method']}: {row['seconds']:.2f} s, trustworthiness {row['trustworthiness']:.3f}", flush=True)
    recorder.write({"dim": EMBEDDING_DIM, "maps": maps, "projections": projections}, args.record)


if __name__ == "__main__":
    main()
