"""``python -m training.compare --data DIR --out DIR [--folds 5 --repeats R] [--configs A,B] [--json]``

Trains named configurations over the same repeated stratified folds and tables their test clip
accuracy (mean ± std over folds), per-genre F1 and summed confusion matrices. Any other option is
a training option applied to every configuration (``--epochs 20``, ``--device cuda``, ...).

Each finished fold is saved under ``OUT/<config>/splits/``, so running the same command again
continues where it stopped. A configuration's figures are reproduced by the training command in
the table (``python -m training.train ... --folds K --repeats R``): same folds, same seeds.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from genre_engine.labels import GENRES
from genre_engine.models import model_names
from training.config import TrainConfig
from training.data import LabelledAudio, Split, kfold_splits
from training.errors import ConfigError, DatasetError, run_cli
from training.fit import TrainingData, fit
from training.metrics import plot_confusion, summarize
from training.options import parse_config
from training.run import check_resumable, load_audio, prepare
from training.runtime import describe_device, make_deterministic, resolve_device

logger = logging.getLogger(__name__)

MUSICNN_WEIGHTS = "data/pretrained/MSD_musicnn.pt"
_MUSICNN = f"--model musicnn --features musicnn --pretrained {MUSICNN_WEIGHTS}"
_AUGMENT = "--aug-copies 4 --freq-mask 0.1 --time-mask 0.1 --mixup-alpha 0.2"

# Every configuration the comparison knows: name -> options of `python -m training.train`.
CONFIGS: dict[str, str] = {
    "cnn-logmel": "--model cnn --features logmel",
    "cnn-stft": "--model cnn --features stft",
    "resnet18-logmel": "--model resnet18 --features logmel",
    "resnet18-stft": "--model resnet18 --features stft",
    "cnn-logmel-aug": f"--model cnn --features logmel {_AUGMENT}",
    "musicnn-linear": f"{_MUSICNN} --model-arg head=linear --model-arg finetune=none",
    "musicnn-mlp": f"{_MUSICNN} --model-arg head=mlp --model-arg finetune=none",
    "musicnn-finetune": f"{_MUSICNN} --model-arg head=mlp --model-arg finetune=upper --lr 1e-4",
    "musicnn-mlp-aug": f"{_MUSICNN} --model-arg head=mlp --model-arg finetune=none {_AUGMENT}",
    "musicnn-finetune-aug": f"{_MUSICNN} --model-arg head=mlp --model-arg finetune=upper --lr 1e-4 {_AUGMENT}",
}

PAPER_FIGURES = (
    "CNN from scratch 65%, ImageNet ResNet18 with its last layer retrained 71% (seed paper, its GTZAN split)"
)


def available(name: str) -> bool:
    """A configuration runs when its model is registered and its pretrained weights exist."""
    args = shlex.split(CONFIGS[name])
    model = args[args.index("--model") + 1]
    return model in model_names() and (
        "--pretrained" not in args or Path(args[args.index("--pretrained") + 1]).is_file()
    )


def select_configs(requested: str | None) -> list[str]:
    if requested is None:
        names = [name for name in CONFIGS if available(name)]
        skipped = [name for name in CONFIGS if name not in names]
        if skipped:
            logger.warning("skipping %s: model or pretrained weights not available", ", ".join(skipped))
        return names
    names = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = [name for name in names if name not in CONFIGS]
    if unknown:
        raise ConfigError(f"unknown configuration {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
    missing = [name for name in names if not available(name)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} needs a model or pretrained weights that are not here "
            f"(musicnn: {MUSICNN_WEIGHTS}, made by `python -m training.convert_musicnn`)"
        )
    return names


class SharedFolds:
    """The same folds for every configuration, made once from the clips that decode."""

    def __init__(self, folds: int, repeats: int, valid_fraction: float, seed: int) -> None:
        self.options = (folds, repeats, valid_fraction, seed)
        self.keys: tuple[str, ...] | None = None
        self.splits: list[Split] = []

    def __call__(self, data: LabelledAudio) -> list[Split]:
        keys = tuple(clip.key for clip in data.clips)
        if self.keys is None:
            self.keys = keys
            self.splits = kfold_splits(data.targets, *self.options)
        elif keys != self.keys:
            changed = sorted(set(keys) ^ set(self.keys))
            raise DatasetError(
                f"clips {', '.join(changed[:5])} decode for one configuration but not another; "
                "remove or repair them so every configuration sees the same folds."
            )
        return self.splits


# Per worker process: the prepared data of the configuration it last trained, reused across folds.
_prepared: dict[str, TrainingData] = {}


def run_fold(name: str, config: TrainConfig, folds: SharedFolds, index: int) -> tuple[str, int, dict[str, Any]]:
    """Train one configuration on one fold; the report is also saved, so a rerun skips it."""
    device = resolve_device(config.device)
    if name not in _prepared:
        _prepared.clear()
        _prepared[name] = prepare(config, folds, device, progress=False)[2]
    split = folds.splits[index]
    report = fit(config, _prepared[name], split, seed=config.seed + index, progress=False).report
    report["device"] = describe_device(device)
    path = config.out / "splits" / f"{split.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report))
    return name, index, report


def _init_worker(seed: int, threads: int, device: torch.device) -> None:
    torch.set_num_threads(threads)
    make_deterministic(seed, device)


def run_all(
    tasks: list[tuple[str, TrainConfig, SharedFolds, int]], jobs: int, device: torch.device, seed: int
) -> list[tuple[str, int, dict[str, Any]]]:
    """Run fold tasks here (``jobs=1``) or in ``jobs`` processes sharing the device.

    Each fold of these small models keeps a GPU only partly busy (the host launches its kernels),
    so several processes training different folds at once finish a sweep sooner.
    """
    bar = tqdm(total=len(tasks), desc="folds", unit="fold")
    results = []
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            results.append(run_fold(*task))
            bar.set_postfix(config=task[0], acc=f"{results[-1][2]['test']['clip_accuracy']:.2f}")
            bar.update()
    else:
        threads = 2 if device.type == "cuda" else max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(
            jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(seed, threads, device),
        ) as pool:
            for result in pool.map(run_fold, *zip(*tasks)):
                results.append(result)
                bar.set_postfix(config=result[0], acc=f"{result[2]['test']['clip_accuracy']:.2f}")
                bar.update()
    bar.close()
    return results


def config_summary(
    name: str, config: TrainConfig, reports: list[dict[str, Any]], protocol: dict[str, Any]
) -> dict[str, Any]:
    command = shlex.join(
        [
            "python",
            "-m",
            "training.train",
            "--data",
            protocol["data"],
            "--out",
            f"runs/{name}",
            "--folds",
            str(protocol["folds"]),
            "--repeats",
            str(protocol["repeats"]),
            "--seed",
            str(protocol["seed"]),
            *shlex.split(CONFIGS[name]),
            *protocol["options"],
        ]
    )
    return {
        "options": config.options(),
        "command": command,
        "test": summarize([r["test"] for r in reports]),
        "valid": summarize([r["valid"] for r in reports]) if reports[0]["valid"] else None,
        "epochs_run": float(np.mean([r["epochs_run"] for r in reports])),
        "seconds_per_fold": float(np.mean([r["seconds_per_epoch"] * r["epochs_run"] for r in reports])),
    }


def markdown_table(results: dict[str, Any]) -> str:
    protocol = results["protocol"]
    labels = next(iter(results["configs"].values()))["test"]["labels"] if results["configs"] else list(GENRES)
    header = ["config", "clip accuracy", "segment accuracy", *labels, "epochs", "s/fold"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, config in results["configs"].items():
        test = config["test"]
        cells = [
            f"`{name}`",
            f"{test['clip_accuracy']['mean']:.1%} ± {test['clip_accuracy']['std']:.1%}",
            f"{test['segment_accuracy']['mean']:.1%} ± {test['segment_accuracy']['std']:.1%}",
            *(f"{test['per_class_f1'][label]['mean']:.2f}" for label in labels),
            f"{config['epochs_run']:.0f}",
            f"{config['seconds_per_fold']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Test clip accuracy, segment accuracy and per-genre F1 over {protocol['repeats']}x repeated stratified "
        f"{protocol['folds']}-fold "
        f"cross-validation on {protocol['n_clips']} clips of `{protocol['data']}` (seed {protocol['seed']}; the same "
        f"folds for every configuration; mean ± sample std over {protocol['folds'] * protocol['repeats']} folds). "
        f"Early stopping uses {protocol['valid_fraction']:.0%} of each fold's training clips, never the test fold. "
        f"Trained on: {', '.join(protocol['devices'])}; s/fold is wall time with {protocol['jobs']} "
        f"fold(s) training at once. Seed paper for comparison: {PAPER_FIGURES}.",
        "",
        "Clips of one genre in a small GTZAN sample often share an artist, so these figures are optimistic "
        "for unseen artists.",
        "",
        "Reproduce one row (same folds and seeds): the `command` of that configuration in `results.json`.",
    ]
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.compare",
        allow_abbrev=False,
        description="Train named configurations over the same folds and table them.",
        epilog="Other options are passed to every configuration's training.",
    )
    parser.add_argument("--data", type=Path, required=True, help="labelled audio laid out as DIR/<genre>/<file>")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--configs", default=None, help=f"comma-separated, from: {', '.join(CONFIGS)} (default: all available)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="folds trained at once, in separate processes")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, options = get_args_parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    names = select_configs(args.configs)
    configs = {
        name: parse_config(
            [
                "--data",
                str(args.data),
                "--out",
                str(args.out / name),
                "--seed",
                str(args.seed),
                *shlex.split(CONFIGS[name]),
                *options,
            ]
        )
        for name in names
    }
    if not configs:
        raise ConfigError("no configuration to run")
    first = next(iter(configs.values()))
    device = resolve_device(first.device)
    make_deterministic(args.seed, device)
    folds = SharedFolds(args.folds, args.repeats, first.split.valid_fraction, args.seed)
    tasks = []
    done: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in names}
    for name, config in configs.items():
        config.out.mkdir(parents=True, exist_ok=True)
        check_resumable(config.out, config.options(), resume=True)
        # Decode, cache and augment here, once, so fold workers only ever read the cache.
        data = load_audio(config, folds)[0]
        for index, split in enumerate(folds.splits):
            saved = config.out / "splits" / f"{split.name}.json"
            if saved.is_file():
                done[name][index] = json.loads(saved.read_text())
            else:
                tasks.append((name, config, folds, index))
    for name, index, report in run_all(tasks, args.jobs, device, args.seed):
        done[name][index] = report

    protocol = {
        "data": str(args.data),
        "folds": args.folds,
        "repeats": args.repeats,
        "seed": args.seed,
        "valid_fraction": first.split.valid_fraction,
        "n_clips": len(data.clips),
        "options": options,
        "jobs": args.jobs,
        "devices": sorted({r["device"] for d in done.values() for r in d.values()}),
    }
    results: dict[str, Any] = {"protocol": protocol, "configs": {}}
    for name, config in configs.items():
        reports = [done[name][i] for i in range(len(folds.splits))]
        summary = config_summary(name, config, reports, protocol)
        results["configs"][name] = summary
        plot_confusion(
            summary["test"]["confusion_matrix"],
            summary["test"]["labels"],
            config.out / "confusion_matrix.png",
            f"{name}: test clips summed over {len(reports)} folds",
        )
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown_table(results)
    (args.out / "results.md").write_text(table + "\n")
    print(json.dumps(results) if args.json else table)
    return results


if __name__ == "__main__":
    sys.exit(run_cli(main))
