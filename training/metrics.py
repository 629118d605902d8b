"""Evaluation figures as plain JSON-able dicts, their summary over folds, and the paper's plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # training runs on headless machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support  # noqa: E402


def classification_report(
    labels: Sequence[str],
    clip_true: np.ndarray,
    clip_probs: np.ndarray,
    segment_true: np.ndarray,
    segment_probs: np.ndarray,
) -> dict[str, Any]:
    """Clip- and segment-level accuracy, per-class precision/recall/F1 and the clip confusion matrix."""
    classes = list(range(len(labels)))
    clip_pred = clip_probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        clip_true, clip_pred, labels=classes, zero_division=0
    )
    segment_nll = -np.log(np.clip(segment_probs[np.arange(len(segment_true)), segment_true], 1e-12, None))
    return {
        "clip_accuracy": float(np.mean(clip_pred == clip_true)),
        "segment_accuracy": float(np.mean(segment_probs.argmax(axis=1) == segment_true)),
        "loss": float(segment_nll.mean()),
        "n_clips": int(len(clip_true)),
        "n_segments": int(len(segment_true)),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": list(labels),
        "confusion_matrix": confusion_matrix(clip_true, clip_pred, labels=classes).tolist(),
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    # Sample standard deviation: the folds are a sample of the ways the data could have been split.
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0}


def summarize(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over folds of one side (e.g. every fold's test report)."""
    labels = reports[0]["labels"]
    return {
        "folds": len(reports),
        "clip_accuracy": _spread([r["clip_accuracy"] for r in reports]),
        "segment_accuracy": _spread([r["segment_accuracy"] for r in reports]),
        "per_class_f1": {label: _spread([r["per_class"][label]["f1"] for r in reports]) for label in labels},
        "labels": labels,
        "confusion_matrix": np.sum([r["confusion_matrix"] for r in reports], axis=0).tolist(),
    }


def plot_losses(histories: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Train (solid) and valid (dashed) loss per epoch, one colour per split: the paper's curves."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (name, history) in enumerate(histories.items()):
        colour = f"C{i % 10}"
        epochs = [h["epoch"] for h in history]
        suffix = f" ({name})" if len(histories) > 1 else ""
        ax.plot(epochs, [h["train_loss"] for h in history], color=colour, label=f"train{suffix}")
        valid = [(h["epoch"], h["valid_loss"]) for h in history if h.get("valid_loss") is not None]
        if valid:
            ax.plot(*zip(*valid), color=colour, linestyle="--", label=f"valid{suffix}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.legend(fontsize="small", ncol=2 if len(histories) > 3 else 1)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_confusion(matrix: Sequence[Sequence[int]], labels: Sequence[str], path: Path, title: str) -> None:
    """Clip counts, true genre by row: the paper's confusion matrix figure."""
    counts = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = counts.max() / 2 if counts.size else 0
    for (row, col), value in np.ndenumerate(counts):
        ax.text(
            col, row, str(value), ha="center", va="center", fontsize=8, color="white" if value > threshold else "black"
        )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
