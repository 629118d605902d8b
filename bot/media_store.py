"""Where the radio finds each song's audio: a content-addressed folder with a size cap.

Two kinds of entry, both named by the song's ``content_hash`` (sha256 hex of the audio bytes, as
``genre_engine.engine.content_hash`` computes it):

- ``copies/<hash>``: the bytes of an upload or a downloaded link. The file's modification time is
  when it was last played (set on :meth:`MediaStore.put` and on every :meth:`MediaStore.open`);
  while the copies exceed the cap, the least recently played is deleted.
- ``references/<hash>``: a symbolic link to the file of a song indexed from a local folder, which
  is played from its path and never copied (a link takes no room and is never evicted).

Files are written to a temporary name and renamed, so a reader never sees half a file, and a
handle opened before an eviction stays readable (POSIX unlink semantics). Several processes (the
bot, ``python -m bot radio``) may share the folder.

diskcache was tried first: its least-recently-used policy does track reads, but its public culling
evicts ten entries at a time (``cull()``) or leaves the cache over its limit (``cull_limit``), so it
could not keep an exact cap with least-recently-played eviction.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

GiB = 1024**3
DEFAULT_CAP_BYTES = 4 * GiB
_HASH = re.compile(r"[0-9a-f]{16,128}")


class InvalidContentHashError(ValueError):
    def __init__(self, content_hash: str) -> None:
        self.content_hash = content_hash
        super().__init__(content_hash)

    def __str__(self) -> str:
        return f"{self.content_hash!r} is not a content hash (lower-case hex)"


class MediaStore:
    """Audio by content hash under ``folder`` (created if missing); ``cap_bytes`` bounds the copies.
    Raises InvalidContentHashError for a key that is not lower-case hex (keys become file names)."""

    def __init__(self, folder: str | Path, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        if cap_bytes < 1:
            raise ValueError("the media store's size cap must be positive")
        self.folder = Path(folder)
        self.cap_bytes = cap_bytes
        self._copies = self.folder / "copies"
        self._references = self.folder / "references"
        self._copies.mkdir(parents=True, exist_ok=True)
        self._references.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _name(content_hash: str) -> str:
        if not _HASH.fullmatch(content_hash):
            raise InvalidContentHashError(content_hash)
        return content_hash

    def put(self, content_hash: str, data: bytes) -> None:
        """Keep a copy of ``data`` (an upload, a download) as just played, then evict the least
        recently played copies while the cap is exceeded. Audio larger than the cap is not kept."""
        name = self._name(content_hash)
        if len(data) > self.cap_bytes:
            return
        handle, temporary = tempfile.mkstemp(dir=self._copies, prefix=".incoming-")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, self._copies / name)
        self._played(self._copies / name)
        self._evict(keep=name)

    def put_reference(self, content_hash: str, path: str | Path) -> None:
        """Play this song from ``path`` (a song indexed from a local folder): nothing is copied."""
        link = self._references / self._name(content_hash)
        temporary = link.with_name(f".incoming-{os.getpid()}-{link.name}")
        temporary.unlink(missing_ok=True)
        os.symlink(Path(path).resolve(), temporary)
        os.replace(temporary, link)

    def open(self, content_hash: str) -> BinaryIO | None:
        """The song's audio as an open binary file (close it), or None when it is not here (never
        stored, evicted, or its referenced file is gone). Opening a copy counts as playing it."""
        name = self._name(content_hash)
        try:
            return open(self._references / name, "rb")
        except OSError:
            pass
        path = self._copies / name
        try:
            handle = open(path, "rb")
        except OSError:
            return None
        self._played(path)
        return handle

    def touch(self, content_hash: str) -> bool:
        """Count a play of a copy without reading it; False when there is no copy."""
        return self._played(self._copies / self._name(content_hash))

    def has(self, content_hash: str) -> bool:
        name = self._name(content_hash)
        return (self._references / name).exists() or (self._copies / name).exists()

    @property
    def copies_bytes(self) -> int:
        return sum(size for _, _, size in self._entries())

    _last_ns = 0

    @classmethod
    def _played(cls, path: Path) -> bool:
        """Stamp ``path`` as played now. Nanoseconds from the clock, never equal to the previous
        stamp: file systems' own timestamps are as coarse as the kernel tick (4 ms)."""
        now = max(time.time_ns(), MediaStore._last_ns + 1)
        try:
            os.utime(path, ns=(now, now))
        except FileNotFoundError:
            return False
        MediaStore._last_ns = now
        return True

    def _entries(self) -> list[tuple[float, str, int]]:
        """(last played, name, bytes) of every copy."""
        entries = []
        with os.scandir(self._copies) as found:
            for entry in found:
                if entry.name.startswith("."):
                    continue
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # evicted by another process meanwhile
                    continue
                entries.append((stat.st_mtime, entry.name, stat.st_size))
        return entries

    def _evict(self, keep: str) -> None:
        entries = sorted(self._entries())
        total = sum(size for _, _, size in entries)
        for _, name, size in entries:
            if total <= self.cap_bytes:
                return
            if name == keep:
                continue
            (self._copies / name).unlink(missing_ok=True)
            total -= size
