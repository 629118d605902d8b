"""``python -m training.train --data DIR --model NAME --epochs N --out OUTDIR``: train a genre model.

Reads labelled audio laid out as ``DIR/<genre>/<file>`` and writes to OUTDIR: ``model.pt`` (the
best model in the engine's checkpoint format, metrics inside), ``metrics.json``, ``loss_curves.png``,
``confusion_matrix.png``, ``command.txt``, and ``last.pt`` to continue an interrupted run with
``--resume``. Split: the fault-filtered GTZAN lists when the full GTZAN is given, a seeded
stratified split otherwise, ``--split-dir`` for other lists, ``--folds K [--repeats R]`` for
cross-validation, or ``--full`` to train the final model on every clip.

This script only parses flags: the library behind it is ``training.run.run_training`` with a
``training.config.TrainConfig``.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from training.errors import run_cli
from training.options import parse_config
from training.run import run_training, summary_line


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run ``python -m training.train`` with ``argv`` (default: ``sys.argv[1:]``); returns ``metrics.json``."""
    argv = sys.argv[1:] if argv is None else argv
    config = parse_config(argv)
    metrics = run_training(config, command=shlex.join(["python", "-m", "training.train", *argv]))
    print(summary_line(metrics, config.out))
    return metrics


if __name__ == "__main__":
    sys.exit(run_cli(main))
