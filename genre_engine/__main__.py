"""``python -m genre_engine FILE... [--checkpoint PATH] [--json]``: classify files from a shell.

A bad file is reported on stderr as one line (the same sentence every front end shows) and the
others are still classified; the exit status is 1 when any file failed, so scripts can tell.
File names that are not valid UTF-8 are shown with U+FFFD in place of the bad bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from genre_engine.engine import GenreEngine, Prediction
from genre_engine.errors import CheckpointError, GenreEngineError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m genre_engine", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="audio files to classify")
    parser.add_argument("--checkpoint", type=Path, default=None, help="model checkpoint (default: the shipped one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    return parser.parse_args(argv)


def shown(path: Path) -> str:
    """``path`` printable on any terminal: bytes a non-UTF-8 file system gave (surrogate escapes)
    become U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def format_text(path: Path, prediction: Prediction) -> str:
    ranked = sorted(prediction.probabilities.items(), key=lambda kv: kv[1], reverse=True)
    dist = "  ".join(f"{genre} {p:.0%}" for genre, p in ranked if p >= 0.005)
    line = f"{shown(path)}: {prediction.genre} ({prediction.duration_s:.0f} s)  {dist}"
    if not prediction.confident:
        outside = ", ".join(list(prediction.outside)[:3])
        verdict = (
            "not one of my ten genres — sounds "
            if prediction.sounds_outside
            else "not sure — sounds "
            if outside
            else "not sure"
        )
        line = f"{shown(path)}: {verdict}{outside} ({prediction.duration_s:.0f} s)  closest: {dist}"
    for heading, tags in (("styles", prediction.styles), ("moods", prediction.moods), ("era", prediction.eras)):
        if tags:
            line += f"\n  {heading}: " + "  ".join(f"{tag} {p:.0%}" for tag, p in tags.items())
    return line


def _rounded(tags: dict[str, float]) -> dict[str, float]:
    return {tag: round(p, 6) for tag, p in tags.items()}


def format_json(path: Path, prediction: Prediction) -> str:
    """One object: ``file``, ``genre``, ``probabilities``, ``duration_s``, for a model with a
    tagger ``styles``, ``moods``, ``eras`` (the tags that apply, strongest first) and ``confident``,
    and for an input holding several audio tracks the ``track`` analysed (``number``, ``count``,
    ``title``, ``language``, ``chosen``: ``"default"`` or ``"first"``)."""
    fields = {
        "file": shown(path),
        "genre": prediction.genre,
        "probabilities": _rounded(prediction.probabilities),
        "duration_s": round(prediction.duration_s, 3),
    }
    if prediction.tags:
        fields |= {
            "styles": _rounded(prediction.styles),
            "moods": _rounded(prediction.moods),
            "eras": _rounded(prediction.eras),
            "confident": prediction.confident,
        }
    if prediction.track is not None:
        fields["track"] = asdict(prediction.track)
    return json.dumps(fields)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        engine = GenreEngine.from_checkpoint(args.checkpoint)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failures = 0
    for path in args.files:
        try:
            prediction = engine.classify(path, name=path.name)
        except (GenreEngineError, OSError) as exc:
            failures += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"{shown(path)}: {reason}", file=sys.stderr)
            continue
        print(format_json(path, prediction) if args.json else format_text(path, prediction), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
