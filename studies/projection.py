"""Study: fit the compact embedding (PCA) and measure how well it keeps nearest neighbours.

    python -m studies.projection [CHECKPOINT] [--clips DIR] [--pool DIR] [--dims 32,64,128,256] [--ship 256] [--json]
                                 [--record PATH]

Runs the model (default the shipped ``data/model.pt``, through its ONNX export) on the labelled
clips (default ``../shared/gtzan/clips``) and the pool songs (default ``../shared/pool``), fits a
PCA (numpy SVD) on the unit per-segment embeddings, and reports for each size, over the clips and
songs together (uncentred PCA: the principal axes of the rows' second moment), recall@10: the mean share
of each item's 10 nearest neighbours (cosine) under the
full embedding that are among its 10 nearest under the compact one, in float32 and rounded to
float16; beside it the same PCA fitted on the clips alone (the songs unseen by the fit) and a
Gaussian random projection (fitted on nothing), and a centred PCA. With ``--ship D`` it writes the size-D projection
fitted on everything beside the checkpoint (``data/model.projection.npz``, with this command in it),
which the engine then applies (``genre_engine.projection``). The record goes to
``studies/results/projection.json`` (``benchmarks.record``; it names the file shipped, if any), which
:func:`render` turns into the measurement page. About 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.markdown import table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option, shown_path
from benchmarks.shared import CLIPS, POOL
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


def recall_table(rows: list[dict]) -> str:
    return table(
        ["dims", "PCA", "PCA, float16", "PCA fitted on the clips only", "centred PCA", "random projection"],
        (
            [r["dim"]]
            + [f"{r[key]:.3f}" for key in ("pca", "pca_float16", "pca_fit_on_clips", "pca_centred", "random")]
            for r in rows
        ),
    )


def render(results: dict) -> str:
    """The measurement page's body: recall@10 per size and method, and the file shipped if any."""
    shipped = (
        f"This run wrote the size-{results['shipped_dim']} projection to `{results['wrote']}`, which the engine "
        "applies to every embedding it hands out."
        if results["wrote"]
        else "This run measured only (no `--ship`): the shipped projection was not rewritten."
    )
    return (
        f"recall@10 of a compact embedding against the full {results['full_dim']}-float one, over "
        f"{results['items']} items ({results['clips']} GTZAN clips and {results['songs']} pool songs): the mean "
        "share of each item's 10 nearest neighbours (cosine) under the full embedding that are among its 10 "
        f"nearest under the compact one. The PCA (uncentred, numpy SVD) is fitted on {results['fit_rows']} unit "
        "segment embeddings of all of them; beside it the same rounded to float16, a PCA fitted on the clips "
        "alone (the songs unseen by the fit), a centred PCA, and a Gaussian random projection (fitted on "
        f"nothing).\n\n{recall_table(results['rows'])}\n\n{shipped}"
    )


def main(argv: list[str] | None = None) -> None:
    recorder = Recorder("projection", "The compact embedding", "studies.projection", argv, STUDY_RESULTS)
    parser = argparse.ArgumentParser(prog="python -m studies.projection", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", nargs="?", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--clips", type=Path, default=CLIPS)
    parser.add_argument("--pool", type=Path, default=POOL)
    parser.add_argument("--dims", default=",".join(map(str, DEFAULT_DIMS)), help="comma-separated sizes to measure")
    parser.add_argument("--ship", type=int, help="write the projection of this size beside the checkpoint")
    parser.add_argument("--json", action="store_true")
    add_record_option(parser)
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
        print(recall_table(rows))
    wrote = None
    if args.ship:
        path = fit_pca(everything, args.ship, sha).save(projection_path(args.checkpoint), recorder.command)
        print(f"wrote {path}")
        wrote = shown_path(path)
    results = {
        "full_dim": int(full.shape[1]),
        "items": len(full),
        "clips": len(clip_full),
        "songs": len(song_full),
        "fit_rows": len(everything),
        "rows": rows,
        "shipped_dim": args.ship,
        "wrote": wrote,
    }
    recorder.write(results, args.record)


if __name__ == "__main__":
    main()
