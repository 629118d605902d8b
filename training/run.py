"""A whole training run as a library call: data, splits, one ``fit`` per split, and the outputs.

``run_training(config)`` is what ``python -m training.train`` does after parsing its flags;
``load_audio`` and ``prepare`` are also used by ``training.compare`` to share decoded audio and
folds between configurations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genre_engine.checkpoint import export_path, file_sha256, load_checkpoint, save_checkpoint
from genre_engine.engine import GenreEngine
from genre_engine.projection import projection_path
from training.augment import precompute_copies
from training.config import TrainConfig
from training.data import (
    LabelledAudio,
    SegmentCache,
    Split,
    choose_splits,
    describe,
    discover,
    load_segments,
)
from training.errors import ConfigError
from training.export import export
from training.fit import TrainingData, build_training_data, fit
from training.metrics import plot_confusion, plot_losses, summarize
from training.projection import COMPACT_DIM, fit_projection
from training.runtime import describe_device, make_deterministic, resolve_device

SplitChooser = Callable[[LabelledAudio], list[Split]]


def load_audio(
    config: TrainConfig, splits_for: SplitChooser, progress: bool = True
) -> tuple[LabelledAudio, list[Split], list[np.ndarray], dict[int, list[np.ndarray]]]:
    """Decode (or read from the cache), split, and make the augmented copies of the training clips.

    ``splits_for(data)`` picks the splits once the readable clips are known, so a file skipped as
    unreadable can never shift a split. Returns the readable clips, the splits, each clip's
    ``[n_segments, segment_samples]`` float32 segments at ``config.features.sample_rate``, and
    the augmented copies (clip index -> ``config.augment.wave.copies`` arrays of that form).
    Raises ``DatasetError`` when the folder holds no usable labelled audio.
    """
    cache = SegmentCache(config.cache_dir)
    data, segments = load_segments(discover(config.data), config.features, cache, progress)
    splits = splits_for(data)
    train_clips = np.unique(np.concatenate([split.train for split in splits]))
    copies = precompute_copies(
        data, segments, train_clips, config.features, config.augment.wave, cache, config.seed, config.workers, progress
    )
    return data, splits, segments, copies


def prepare(
    config: TrainConfig, splits_for: SplitChooser, device: torch.device, progress: bool = True
) -> tuple[LabelledAudio, list[Split], TrainingData]:
    """``load_audio``, then every segment's features computed on ``device``: what ``fit`` takes."""
    data, splits, segments, copies = load_audio(config, splits_for, progress)
    return data, splits, build_training_data(data, segments, copies, config.features, device)


def config_splits(config: TrainConfig) -> SplitChooser:
    """The splits ``config.split`` asks for, made with ``config.seed`` (``training.data.choose_splits``)."""
    s = config.split

    def splits_for(data: LabelledAudio) -> list[Split]:
        return choose_splits(
            data,
            split_dir=s.split_dir,
            folds=s.folds,
            repeats=s.repeats,
            full=s.full,
            valid_fraction=s.valid_fraction,
            test_fraction=s.test_fraction,
            seed=config.seed,
        )

    return splits_for


def check_resumable(out: Path, options: dict[str, Any], resume: bool) -> None:
    """Record ``options`` in ``out/options.json``; with ``resume``, first refuse ones that differ.

    Raises ``ConfigError`` naming the options that changed since the run in ``out`` started.
    """
    saved = out / "options.json"
    if resume and saved.is_file():
        previous = json.loads(saved.read_text())
        changed = sorted(k for k in previous.keys() | options.keys() if previous.get(k) != options.get(k))
        if changed:
            raise ConfigError(
                f"{out} holds a run with different {', '.join(changed)}; resume with the same "
                "options plus --resume, or train into a new --out folder."
            )
    saved.write_text(json.dumps(options, indent=2))


def _better(report: dict[str, Any], best: dict[str, Any] | None) -> bool:
    loss = report["best_valid_loss"]
    return best is None or (loss is not None and (best["best_valid_loss"] is None or loss < best["best_valid_loss"]))


def write_outputs(
    out: Path, base: dict[str, Any], splits: list[Split], reports: list[dict[str, Any]], targets: np.ndarray
) -> dict[str, Any]:
    """``metrics.json`` and the two figures; with several splits, per split plus mean and std."""
    for split, report in zip(splits, reports):
        report["split"] = describe(split, targets)
    if len(reports) == 1:
        metrics = {**base, **reports[0]}
    else:
        summary = {side: summarize([r[side] for r in reports]) for side in ("valid", "test") if reports[0][side]}
        metrics = {**base, "summary": summary, "folds": reports}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_losses({r["split"]["name"]: r["history"] for r in reports}, out / "loss_curves.png")
    side = next((s for s in ("test", "valid") if reports[0][s]), None)
    if side is not None:
        source = metrics["summary"][side] if len(reports) > 1 else reports[0][side]
        title = f"{side} clips" + (f", summed over {len(reports)} folds" if len(reports) > 1 else "")
        plot_confusion(source["confusion_matrix"], source["labels"], out / "confusion_matrix.png", title)
    return metrics


def run_training(config: TrainConfig, *, command: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Train ``config`` on every split it asks for and write the run's outputs to ``config.out``.

    Writes ``model.pt`` (the split with the lowest valid loss, in the engine's checkpoint format),
    ``metrics.json``, ``loss_curves.png``, ``confusion_matrix.png`` (when something is held out),
    ``options.json``, ``last.pt`` and ``splits/<name>.json`` (what ``config.resume`` continues
    from), and ``command.txt`` when ``command`` (the command line that asked for the run) is given.
    Returns the contents of ``metrics.json``: per-genre precision/recall/F1, clip and segment
    accuracy (0-1) and the confusion matrix of the valid and test clips; with several splits,
    ``folds`` (one report each) and ``summary`` (mean and sample std over them).

    Seeds every generator with ``config.seed`` (split ``i`` trains with ``seed + i``). Raises
    ``ConfigError`` (bad options, a resume with changed options, no CUDA for ``device="cuda"``)
    and ``DatasetError`` (no usable labelled audio, bad split lists).
    """
    device = resolve_device(config.device)
    make_deterministic(config.seed, device)
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    options = config.options()
    check_resumable(out, options, config.resume)
    if command is not None:
        with open(out / "command.txt", "a" if config.resume else "w") as f:
            f.write(command + "\n")

    data, splits, training_data = prepare(config, config_splits(config), device, progress)
    reports: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    for i, split in enumerate(splits):
        done = out / "splits" / f"{split.name}.json"
        if config.resume and done.is_file():
            report = json.loads(done.read_text())
        else:
            extra = {
                "command": command,
                "data": str(data.root),
                "split": describe(split, data.targets),
                "seed": config.seed + i,
                "options": options,
            }
            result = fit(
                config,
                training_data,
                split,
                seed=config.seed + i,
                state_path=out / "last.pt",
                progress=progress,
                extra=extra,
            )
            report = result.report
            if _better(report, best):
                save_checkpoint(out / "model.pt", result.bundle)
            done.parent.mkdir(exist_ok=True)
            done.write_text(json.dumps(report))
        if _better(report, best):
            best = report
        reports.append(report)

    base = {
        "command": command,
        "data": str(data.root),
        "model": config.model.arch,
        "model_args": dict(config.model.args),
        "pretrained": config.model.pretrained,
        "features": training_data.features.to_dict(),
        "labels": list(data.labels),
        "device": describe_device(device),
        "model_pt_split": best["split"],
    }
    metrics = write_outputs(out, base, splits, reports, data.targets)
    if len(splits) > 1:
        bundle = load_checkpoint(out / "model.pt")
        bundle.metrics["cross_validation"] = metrics["summary"]
        save_checkpoint(out / "model.pt", bundle)
    metrics["serving"] = make_servable(out / "model.pt", training_data.segments)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def make_servable(checkpoint: Path, segments: list[np.ndarray]) -> dict[str, str | None]:
    """Write beside ``checkpoint`` what serving it needs, and say what was written: its ONNX export
    (ONNX Runtime runs it without torch), and for a model whose embedding is larger than the compact
    one, the projection fitted on the training clips' segments (``segments``). A model that is also
    a tagger is served with the tag thresholds of its tagger (``data/tags.json`` for musicnn's)."""
    onnx = export(checkpoint, export_path(checkpoint))
    engine = GenreEngine.from_checkpoint(checkpoint, runtime="onnx", compact=False)
    projection = None
    if engine.embedding_dim > COMPACT_DIM:
        fitted = fit_projection(engine, segments, file_sha256(checkpoint))
        projection = fitted.save(projection_path(checkpoint), command="python -m training.train").name
    return {
        "onnx": onnx.name,
        "projection": projection,
        "projection_why": None
        if projection
        else f"the embedding has {engine.embedding_dim} values, no more than the compact {COMPACT_DIM}",
        "tags": "the tagger's thresholds in data/tags.json" if engine.vocabulary is not None else None,
    }


def summary_line(metrics: dict[str, Any], out: Path) -> str:
    """Two lines for the end of a run: held-out accuracy (per side, or mean ± std over folds) and time."""
    if "summary" in metrics:
        parts = [
            f"{side} clip accuracy {s['clip_accuracy']['mean']:.3f} ± {s['clip_accuracy']['std']:.3f} "
            f"over {s['folds']} folds"
            for side, s in metrics["summary"].items()
        ]
        seconds = np.mean([f["seconds_per_epoch"] for f in metrics["folds"]])
    else:
        parts = [
            f"{side}: clip accuracy {metrics[side]['clip_accuracy']:.3f}, segment accuracy "
            f"{metrics[side]['segment_accuracy']:.3f} ({metrics[side]['n_clips']} clips)"
            for side in ("valid", "test")
            if metrics[side]
        ]
        seconds = metrics["seconds_per_epoch"]
    held_out = "; ".join(parts) or "no held-out clips (--full)"
    serving = metrics.get("serving", {})
    beside = ", ".join(name for name in (serving.get("onnx"), serving.get("projection")) if name)
    return (
        f"{held_out}; {seconds:.1f} s per epoch\nwrote {out}/ (model.pt, {beside}); serve it with "
        f"`python -m bot --checkpoint {out / 'model.pt'}`"
    )
