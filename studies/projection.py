"""Study: fit the compact embedding (PCA) and measure how well it keeps nearest neighbours.

    python -m training.projection [CHECKPOINT] [--clips DIR] [--pool DIR] [--dims 32,64,128,256] [--ship 256] [--json]

Runs the model (default the shipped ``data/model.pt``, through its ONNX export) on the labelled
clips (default ``../shared/gtzan/clips``) and the pool songs (default ``../shared/pool``), fits a
PCA (numpy SVD) on the unit per-segment embeddings, and reports for each size, over the clips and
songs together (uncentred PCA: the principal axes of the rows' second moment), recall@10: the mean share
of each item's 10 nearest neighbours (cosine) under the
full embedding that are among its 10 nearest under the compact one, in float32 and rounded to
float16; beside it the same PCA fitted on the clips alone (the songs unseen by the fit) and a
Gaussian random projection (fitted on nothing), and a centred PCA. With ``--ship D`` it writes the size-D projection
fitted on everything beside the checkpoint (``data/model.projection.npz``), which the engine then
applies (``genre_engine.projection``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from genre_engine import GenreEngine
from genre_engine.audio import find_audio_files
from genre_engine.checkpoint import DEFAULT_CHECKPOINT, file_sha256
from genre_engine.projection import Projection, projection_path
from studies.neighbours import neighbours, recall_at
from training.projection import fit_pca, segment_embeddings, unit

DEFAULT_DIMS = (32, 64, 128, 256)


def embeddings_of(engine: GenreEngine, paths: list[Path]) -> tuple[list[np.ndarray], np.ndarray]:
    """Per file: its unit segment embeddings ``[n, D]``; and the files' unit clip embeddings ``[files, D]``."""
    segments = segment_embeddings(engine, paths)
    return segments, np.stack([unit(rows.mean(axis=0)) for rows in segments])


def random_projection(input_dim: int, dim: int, seed: int = 0) -> Projection:
    rng = np.random.default_rng(seed)
    components = rng.standard_normal((input_dim, dim)).astype(np.float32) / np.float32(np.sqrt(dim))
    return Projection(np.zeros(input_dim, np.float32), components, "")


def recall(projection: Projection, full: np.ndarray, reference: np.ndarray, dtype: type = np.float32) -> float:
    compact = projection.apply(full).astype(dtype).astype(np.float32)
    return recall_at(reference, neighbours(compact))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.projection", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", nargs="?", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--clips", type=Path, default=Path("../shared/gtzan/clips"))
    parser.add_argument("--pool", type=Path, default=Path("../shared/pool"))
    parser.add_argument("--dims", default=",".join(map(str, DEFAULT_DIMS)), help="comma-separated sizes to measure")
    parser.add_argument("--ship", type=int, help="write the projection of this size beside the checkpoint")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    dims = [int(d) for d in args.dims.split(",")]
    engine = GenreEngine.from_checkpoint(args.checkpoint, compact=False, stop_margin=None)
    sha = file_sha256(args.checkpoint)
    clip_segments, clip_full = embeddings_of(engine, find_audio_files([args.clips]))
    song_segments, song_full = embeddings_of(engine, find_audio_files([args.pool]))
    full = np.concatenate([clip_full, song_full])
    everything = np.concatenate(clip_segments + song_segments)
    clips_only = np.concatenate(clip_segments)
    reference = neighbours(full)
    rows = []
    for dim in dims:
        pca = fit_pca(everything, dim, sha)
        rows.append(
            {
                "dim": dim,
                "bytes_float16": 2 * dim,
                "pca": recall(pca, full, reference),
                "pca_float16": recall(pca, full, reference, np.float16),
                "pca_fit_on_clips": recall(fit_pca(clips_only, dim, sha), full, reference),
                "pca_centred": recall(fit_pca(everything, dim, sha, centred=True), full, reference),
                "random": recall(random_projection(full.shape[1], dim), full, reference),
                "items": len(full),
                "fit_rows": len(everything),
            }
        )
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(
            f"recall@10 vs the full {full.shape[1]}-d embedding over {len(full)} items "
            f"({len(clip_full)} clips + {len(song_full)} songs); PCA fitted on {len(everything)} segments"
        )
        print("| dims | PCA | PCA, float16 | PCA fitted on the clips only | centred PCA | random projection |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(
                f"| {r['dim']} | {r['pca']:.3f} | {r['pca_float16']:.3f} | {r['pca_fit_on_clips']:.3f} "
                f"| {r['pca_centred']:.3f} | {r['random']:.3f} |"
            )
    if args.ship:
        path = fit_pca(everything, args.ship, sha).save(projection_path(args.checkpoint))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
