"""Study: does the answer depend on how loud the file is? Accuracy and stability across playback gains.

    python -m studies.level [--clips DIR] [--gains 0,-6,-12,-20,-30,6] [--targets none,-12,-14,-17,-20,-23]
                            [--folds 5] [--repeats 2] [--seed 0] [--json]

Every labelled clip (default ``../shared/gtzan/clips``) is played at each gain as a real file would
be: its samples scaled, clipped to full scale (so +6 dB clips) and stored again as 16-bit PCM, then
analysed by the engine end to end (decode, resample, content check, loudness normalisation, network,
every segment). A linear probe (multinomial logistic regression, as in ``studies.segments``) is
trained per fold of repeated stratified k-fold cross-validation on the full-level segments of the
training clips, so every figure is for clips the classifier never saw. Per gain it reports:

- ``accuracy``: clip accuracy of the probe (mean ± sample std over the folds);
- ``confident``: share of clips whose answer is a verdict (``genre_engine.tags``: top probability
  and the tagger's styles outside the ten);
- ``same_top``: share of clips whose top genre equals their full-level one;
- ``delta_p``: mean and largest change of any genre's probability against full level;
- ``delta_embedding``: mean cosine distance of the clip embedding to its full-level one;
- ``shipped_same_top`` and ``shipped_delta_p_max``: the same two checks on the shipped model's own
  answers (its head, every segment), which are what users get.

Each table is computed twice in one run: without loudness normalisation (the model as it was:
``loudness_lufs`` None) and with the target the shipped model's features name, side by side. A
second table chooses the target: full-level cross-validated accuracy for each candidate target.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from benchmarks.markdown import percent, table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option
from benchmarks.shared import CLIPS
from genre_engine import GenreEngine
from genre_engine.tags import report
from training.data import discover, kfold_splits
from training.projection import unit

DEFAULT_GAINS = (0.0, -6.0, -12.0, -20.0, -30.0, 6.0)
DEFAULT_TARGETS = (None, -12.0, -14.0, -17.0, -20.0, -23.0)


@dataclass(frozen=True)
class Played:
    """One clip at one gain: the shipped model's genre probabilities ``[classes]`` (the mean over the
    segments), per-segment embeddings ``[n, D]`` and mean tag probabilities ``[T]`` (or None)."""

    probabilities: np.ndarray
    embeddings: np.ndarray
    tags: np.ndarray | None


def at_gain(samples: np.ndarray, rate: int, gain_db: float) -> bytes:
    """``samples`` (float ``[frames]`` or ``[frames, channels]``) played ``gain_db`` louder, clipped
    to full scale and stored as a 16-bit PCM WAV file."""
    louder = np.clip(samples * 10 ** (gain_db / 20), -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, louder, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def play(engine: GenreEngine, samples: np.ndarray, rate: int, gain_db: float) -> Played:
    """Analyse the clip at ``gain_db`` through the engine, every segment."""
    segments = engine.decode(at_gain(samples, rate, gain_db)).samples
    probabilities, embeddings, tags = engine.predict_segments_with_tags(segments)
    return Played(probabilities.mean(axis=0), embeddings, None if tags is None else tags.mean(axis=0))


def with_target(engine: GenreEngine, target: float | None) -> GenreEngine:
    """``engine`` normalising its input to ``target`` LUFS (None: not at all)."""
    engine.features = dataclasses.replace(engine.features, loudness_lufs=target)
    return engine


def clip_probabilities(probe: LogisticRegression, item: Played, classes: int) -> np.ndarray:
    """The probe's genre probabilities for a clip, ``[classes]``: the mean over its segments."""
    probs = np.zeros((len(item.embeddings), classes))
    probs[:, probe.classes_] = probe.predict_proba(item.embeddings)
    return probs.mean(axis=0)


def shipped_answers(full: list[Played], items: list[Played]) -> dict[str, float]:
    """How the shipped model's own answers at a gain compare with its full-level ones: the share of
    clips with the same top genre and the largest change of any genre's probability."""
    return {
        "shipped_same_top": float(
            np.mean([a.probabilities.argmax() == b.probabilities.argmax() for a, b in zip(full, items)])
        ),
        "shipped_delta_p_max": float(max(np.abs(a.probabilities - b.probabilities).max() for a, b in zip(full, items))),
    }


def cross_validate(
    engine: GenreEngine,
    played: dict[float, list[Played]],
    targets: np.ndarray,
    folds: int,
    repeats: int,
    seed: int,
) -> dict[float, dict[str, Any]]:
    """Per gain: the probe's figures over every test fold (see the module docstring)."""
    classes = int(targets.max()) + 1
    reference = played[0.0]
    per_gain: dict[float, dict[str, list]] = {
        gain: {"accuracy": [], "confident": [], "same_top": [], "delta_p": [], "delta_embedding": []} for gain in played
    }
    for split in kfold_splits(targets, folds, repeats, valid_fraction=0.15, seed=seed):
        train = np.concatenate([split.train, split.valid])
        probe = LogisticRegression(C=0.1, max_iter=3000).fit(
            np.concatenate([reference[i].embeddings for i in train]),
            np.concatenate([np.full(len(reference[i].embeddings), targets[i]) for i in train]),
        )
        full = {i: clip_probabilities(probe, reference[i], classes) for i in split.test}
        for gain, items in played.items():
            figures = per_gain[gain]
            answers = {i: clip_probabilities(probe, items[i], classes) for i in split.test}
            figures["accuracy"].append(float(np.mean([answers[i].argmax() == targets[i] for i in split.test])))
            for i in split.test:
                confident = (
                    engine.vocabulary is None
                    or items[i].tags is None
                    or report(engine.vocabulary, answers[i], items[i].tags).confident
                )
                figures["confident"].append(bool(confident))
                figures["same_top"].append(bool(answers[i].argmax() == full[i].argmax()))
                figures["delta_p"].append(float(np.abs(answers[i] - full[i]).max()))
                cosine = float(unit(items[i].embeddings.mean(axis=0)) @ unit(reference[i].embeddings.mean(axis=0)))
                figures["delta_embedding"].append(1.0 - cosine)
    return {
        gain: {
            **shipped_answers(played[0.0], played[gain]),
            "accuracy_mean": float(np.mean(f["accuracy"])),
            "accuracy_std": float(np.std(f["accuracy"], ddof=1)),
            "confident": float(np.mean(f["confident"])),
            "same_top": float(np.mean(f["same_top"])),
            "delta_p_mean": float(np.mean(f["delta_p"])),
            "delta_p_max": float(np.max(f["delta_p"])),
            "delta_embedding_mean": float(np.mean(f["delta_embedding"])),
        }
        for gain, f in per_gain.items()
    }


def study(
    clip_dir: Path, gains: Sequence[float], targets: Sequence[float | None], folds: int, repeats: int, seed: int
) -> dict[str, Any]:
    engine = GenreEngine.from_checkpoint(stop_margin=None)
    shipped = engine.features.loudness_lufs
    data = discover(clip_dir)
    labels = np.asarray(data.targets)
    audio = [sf.read(clip.path, dtype="float32") for clip in data.clips]
    gains = [0.0, *[g for g in gains if g != 0.0]]

    def played_at(target: float | None, at: Sequence[float]) -> dict[float, list[Played]]:
        with_target(engine, target)
        return {
            gain: [
                play(engine, samples, rate, gain) for samples, rate in tqdm(audio, desc=f"{target} LUFS, {gain:+g} dB")
            ]
            for gain in at
        }

    compared = {}
    for target in dict.fromkeys([None, shipped]):
        compared[str(target)] = cross_validate(engine, played_at(target, gains), labels, folds, repeats, seed)
    choice = {}
    for target in targets:
        full = cross_validate(engine, played_at(target, [0.0]), labels, folds, repeats, seed)[0.0]
        choice[str(target)] = {"accuracy_mean": full["accuracy_mean"], "accuracy_std": full["accuracy_std"]}
    with_target(engine, shipped)
    return {
        "clips": len(audio),
        "folds": folds,
        "repeats": repeats,
        "seed": seed,
        "shipped_target_lufs": shipped,
        "gains_db": gains,
        "by_target": {target: {str(gain): row for gain, row in rows.items()} for target, rows in compared.items()},
        "target_choice": choice,
    }


def _target_name(target: str) -> str:
    return "no normalisation" if target == "None" else f"normalised to {float(target):g} LUFS"


def _accuracy(row: dict[str, float]) -> str:
    return f"{percent(row['accuracy_mean'])} ± {percent(row['accuracy_std'])}"


def render(results: dict[str, Any]) -> str:
    """The study's page: one table per normalisation, then the choice of target."""
    lines = [
        f"{results['clips']} labelled GTZAN clips, each played at every gain as a 16-bit file (+6 dB clipped), "
        f"analysed end to end; a linear probe per fold of {results['repeats']}x repeated stratified "
        f"{results['folds']}-fold cross-validation, trained at full level. Target of the shipped model: "
        f"{_target_name(str(results['shipped_target_lufs']))}.",
        "",
    ]
    header = (
        "gain",
        "shipped model: same top genre / largest change of a probability",
        "CV accuracy",
        "confident",
        "same top genre as at full level",
        "probe: mean / largest change of a probability",
        "mean cosine distance of the embedding",
    )
    for target, rows in results["by_target"].items():
        name = _target_name(target)
        lines += [f"### {name[0].upper()}{name[1:]}", ""]
        cells = [
            (
                f"{float(gain):+g} dB",
                f"{percent(r['shipped_same_top'], 0)} / {r['shipped_delta_p_max']:.4f}",
                _accuracy(r),
                percent(r["confident"], 0),
                percent(r["same_top"], 0),
                f"{r['delta_p_mean']:.4f} / {r['delta_p_max']:.4f}",
                f"{abs(r['delta_embedding_mean']):.5f}",
            )
            for gain, r in rows.items()
        ]
        lines += [table(header, cells), ""]
    choice = [(_target_name(target), _accuracy(r)) for target, r in results["target_choice"].items()]
    lines += ["### Choosing the target", "", table(("loudness target", "CV accuracy at full level"), choice)]
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    """The study in one table, for the README and the model card: per gain, how often the shipped
    model keeps its full-level top genre and how far a probability moves at most, and the
    cross-validated accuracy, with the shipped loudness normalisation and without any."""
    shipped = results["by_target"][str(results["shipped_target_lufs"])]
    before = results["by_target"]["None"]
    header = (
        "gain",
        "same top genre as at full level (normalised / not)",
        "largest change of a probability (normalised / not)",
        "CV accuracy (normalised / not)",
    )
    cells = [
        (
            f"{float(gain):+g} dB",
            f"{percent(row['shipped_same_top'], 0)} / {percent(before[gain]['shipped_same_top'], 0)}",
            f"{row['shipped_delta_p_max']:.4f} / {before[gain]['shipped_delta_p_max']:.4f}",
            f"{_accuracy(row)} / {_accuracy(before[gain])}",
        )
        for gain, row in shipped.items()
    ]
    return table(header, cells)


def _target(text: str) -> float | None:
    return None if text.strip().lower() == "none" else float(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.level", description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=CLIPS, help="labelled clips, DIR/<genre>/<file>")
    parser.add_argument("--gains", default=",".join(f"{g:g}" for g in DEFAULT_GAINS), help="gains in dB")
    parser.add_argument(
        "--targets",
        default=",".join("none" if t is None else f"{t:g}" for t in DEFAULT_TARGETS),
        help="loudness targets (LUFS, or none) to choose from",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    add_record_option(parser)
    args = parser.parse_args(argv)
    recorder = Recorder("level", "The same song at other levels", "studies.level", argv, STUDY_RESULTS)
    results = study(
        args.clips,
        [float(g) for g in args.gains.split(",")],
        [_target(t) for t in args.targets.split(",")],
        args.folds,
        args.repeats,
        args.seed,
    )
    recorder.write(results, args.record)
    print(json.dumps(results) if args.json else render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
