"""Genres a server teaches, as services: label songs, forget a label, list the labels, and the
per-server classifier behind them (``recommender.taught``), kept in the store (versioned) between runs.

Teaching is cheap for everyone else: a teach refits the one label it changed (``taught.refit``), a
forget drops one, in a worker pool of teaching's own (so no server's teaching ever waits in front of
anybody's classification), one job per server at a time, and a server has at most ``max_labels``
labels.

Framework-free like ``bot.services``; who may teach (admins, or members with the role an admin
named) is decided here from what the front end says about the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass

from bot.errors import NotTeacherError, TooManyLabelsError
from bot.jobs.threads import WorkerPool
from recommender import taught
from recommender.taught import LabelQuality, TaughtClassifier
from storage import Song, Store
from storage.validation import check_label, normalize_label

log = logging.getLogger("genrebot.teaching")


@dataclass(frozen=True)
class Taught:
    """After /genre teach: the label's quality now (examples, cross-validated accuracy)."""

    song: Song
    quality: LabelQuality


class Teaching:
    """Taught genres of every server over one store; ``workers`` is the pool fitting runs in (its
    own: never the classification pool), ``max_labels`` the most labels one server may teach."""

    def __init__(self, store: Store, workers: WorkerPool, *, max_labels: int) -> None:
        self.store = store
        self.workers = workers
        self.max_labels = max_labels
        self._classifiers: dict[int, TaughtClassifier | None] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def may_teach(self, guild_id: int, *, is_admin: bool, roles: Collection[int] = ()) -> bool:
        """Admins may; so may members holding the server's teacher role."""
        if is_admin:
            return True
        role = (await self.store.guild_settings(guild_id)).teacher_role
        return role is not None and role in roles

    async def _require_teacher(self, guild_id: int, is_admin: bool, roles: Collection[int]) -> None:
        if not await self.may_teach(guild_id, is_admin=is_admin, roles=roles):
            raise NotTeacherError()

    async def teach(
        self, guild_id: int, user_id: int, song_id: int, label: str, *, is_admin: bool, roles: Collection[int] = ()
    ) -> Taught:
        """Label a pool song, refit that label, and return its quality. Raises NotTeacherError,
        UnknownSongError, InvalidLabelError, TooManyLabelsError (a new label beyond ``max_labels``),
        BusyError."""
        await self._require_teacher(guild_id, is_admin, roles)
        label = check_label(label)
        song = await self.store.get_song(guild_id, song_id)
        known = await self.store.taught_examples(guild_id)
        if label not in known and len(known) >= self.max_labels:
            raise TooManyLabelsError(self.max_labels)
        await self.store.teach(guild_id, song_id, label, taught_by=user_id)
        classifier = await self.retrain(guild_id, label)
        return Taught(song, classifier.quality(label))

    async def forget(self, guild_id: int, label: str, *, is_admin: bool, roles: Collection[int] = ()) -> int:
        """Remove a label from every song, and its model; the examples removed."""
        await self._require_teacher(guild_id, is_admin, roles)
        removed = await self.store.forget_label(guild_id, label)
        await self.retrain(guild_id, normalize_label(label))
        return removed

    async def labels(self, guild_id: int) -> list[LabelQuality]:
        """Every taught label with its example count (as stored now) and the cross-validated
        accuracy of its last training (None before it had enough examples), by name."""
        examples = await self.store.taught_examples(guild_id)
        classifier = await self.classifier(guild_id)
        qualities = []
        for label in sorted(examples):
            trained = classifier.quality(label) if classifier else None
            qualities.append(LabelQuality(label, len(examples[label]), trained.cv_accuracy if trained else None))
        return qualities

    async def retrain(self, guild_id: int, label: str) -> TaughtClassifier:
        """Refit ``label`` of the server's classifier (every label when it has none yet) on its pool in
        the teaching pool (never on the event loop), store it, and keep it for predictions. One
        retrain per server at a time, so a server holds at most one of the pool's places."""
        async with self._locks.setdefault(guild_id, asyncio.Lock()):
            current = await self.classifier(guild_id)
            matrix = await self.store.pool_matrix(guild_id)
            sounding = matrix.sounding()  # fitted on the serving model's embeddings only
            examples = await self.store.taught_examples(guild_id)
            classifier = await self.workers.run(
                taught.refit,
                current,
                matrix.ids[sounding],
                matrix.embeddings[sounding],
                examples,
                label,
                owner=guild_id,
            )
            await self.store.save_taught_model(guild_id, taught.VERSION, classifier.to_bytes(), model_id=self._model_id)
            self._classifiers[guild_id] = classifier
        log.info(
            "taught genres retrained",
            extra={"guild": guild_id, "labels": len(classifier.qualities), "trained": len(classifier.labels)},
        )
        return classifier

    async def classifier(self, guild_id: int) -> TaughtClassifier | None:
        """The server's classifier: kept in memory, else read from the store (None when it has
        none, or one stored by another version of the code, which the next retrain replaces)."""
        if guild_id not in self._classifiers:
            stored = await self.store.taught_model(guild_id)
            usable = stored is not None and stored.version == taught.VERSION and stored.model_id == self._model_id
            self._classifiers[guild_id] = TaughtClassifier.from_bytes(stored.state) if usable else None
        return self._classifiers[guild_id]

    async def retrain_all(self, guild_id: int) -> None:
        """Fit every label of the server anew, on the serving model's embeddings (after its pool was
        analysed again by another model); nothing to do for a server that taught none."""
        examples = await self.store.taught_examples(guild_id)
        if examples:
            self._classifiers[guild_id] = None
            await self.retrain(guild_id, next(iter(examples)))

    @property
    def _model_id(self) -> str | None:
        """The model whose embeddings the classifiers are fitted on (None: no model told apart)."""
        return None if self.store.model is None else self.store.model.id

    async def labels_of(self, song: Song) -> tuple[str, ...]:
        """The taught labels a song has: taught it, or predicted by a trained label's model."""
        examples = await self.store.taught_examples(song.guild_id)
        found = {label for label, ids in examples.items() if song.id in ids}
        classifier = await self.classifier(song.guild_id)
        sounding = self.store.analysed_by_serving_model(song)
        if (
            sounding
            and classifier is not None
            and classifier.labels
            and song.embedding.shape[0] == classifier.coef.shape[1]
        ):
            predicted = classifier.predict(song.embedding[None, :])[0]
            found |= {label for label, hit in zip(classifier.labels, predicted) if hit}
        return tuple(sorted(found))

    async def pool_counts(self, guild_id: int) -> dict[str, int]:
        """``{label: pool songs that are it}`` (taught or predicted), most songs first."""
        examples = await self.store.taught_examples(guild_id)
        if not examples:
            return {}
        matrix = await self.store.pool_matrix(guild_id)
        classifier = await self.classifier(guild_id)
        if classifier is not None and classifier.labels and matrix.embeddings.shape[1] != classifier.coef.shape[1]:
            classifier = None
        counts = {
            label: int(taught.members(classifier, label, matrix.ids, matrix.embeddings, ids, matrix.sounding()).sum())
            for label, ids in examples.items()
        }
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def quality_text(quality: LabelQuality) -> str:
    """``12 examples · cross-validated accuracy 86%`` (or why there is none yet, or that it is poor)."""
    examples = f"{quality.examples} example{'s' if quality.examples != 1 else ''}"
    if quality.cv_accuracy is None:
        missing = taught.MIN_EXAMPLES - quality.examples
        if missing > 0:
            return f"{examples} · {missing} more to start predicting it"
        return f"{examples} · needs other songs in the pool to tell it from"
    accuracy = f"cross-validated accuracy {100 * quality.cv_accuracy:.0f}%"
    if quality.poor:
        return f"{examples} · {accuracy} — poor: I can't tell it apart reliably yet, teach more examples"
    return f"{examples} · {accuracy}"
