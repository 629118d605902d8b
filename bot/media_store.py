"""Where the radio finds each song's audio: a content-addressed folder with a size cap.

Two kinds of entry, both keyed by the song's ``content_hash`` (sha256 hex of the audio bytes, as
``genre_engine.engine.content_hash`` computes it):

- **copies**: the bytes of an upload or a downloaded link, kept in a ``diskcache.Cache`` whose
  ``size_limit`` is the cap and whose eviction policy is least-recently-used. The radio reads a song
  through :meth:`MediaStore.open` and nothing else does, so "least recently used" is "least recently
  played" (a fresh copy counts as just played). diskcache keeps large values as files in its folder
  and evicts in its own SQLite index, safe across threads and processes.
- **references**: songs indexed from a local folder are played from their path, never copied. They
  live in a ``diskcache.Index`` (a persistent dict, no eviction: a reference costs a few bytes).

Library: diskcache (https://grantjenks.com/docs/diskcache/).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import diskcache

GiB = 1024**3
DEFAULT_CAP_BYTES = 4 * GiB
DEFAULT_FOLDER = Path("data") / "media"


class MediaStore:
    """Audio by content hash. ``folder`` is created if missing; ``cap_bytes`` bounds the copies
    (references take no room). Thread-safe; close with :meth:`close`."""

    def __init__(self, folder: str | Path = DEFAULT_FOLDER, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        if cap_bytes < 1:
            raise ValueError("the media store's size cap must be positive")
        self.folder = Path(folder)
        self.cap_bytes = cap_bytes
        # every value on disk as a file (disk_min_file_size=0), so open() can hand out a file handle;
        # cull_limit=0 + explicit cull() after each put: evict as much as needed, not 10 at a time
        self._copies = diskcache.Cache(
            str(self.folder / "copies"),
            size_limit=cap_bytes,
            eviction_policy="least-recently-used",
            disk_min_file_size=0,
            cull_limit=0,
        )
        self._references = diskcache.Index(str(self.folder / "references"))

    def put(self, content_hash: str, data: bytes) -> None:
        """Keep a copy of ``data`` (an upload, a download), evicting the least recently played copies
        while the cap is exceeded. Audio larger than the cap is not kept."""
        if len(data) >= self.cap_bytes:
            return
        self._copies.set(content_hash, data)
        self._copies.cull()

    def put_reference(self, content_hash: str, path: str | Path) -> None:
        """Play this song from ``path`` (a song indexed from a local folder): nothing is copied."""
        self._references[content_hash] = str(Path(path).resolve())

    def open(self, content_hash: str) -> BinaryIO | None:
        """The song's audio as an open binary file (close it), or None when it is not here (never
        stored, evicted, or its referenced file is gone). Counts as a play for eviction. An open
        handle stays readable even if the copy is evicted meanwhile."""
        path = self._references.get(content_hash)
        if path is not None:
            try:
                return open(path, "rb")
            except OSError:
                pass
        handle = self._copies.get(content_hash, read=True)  # read=True: a file handle, LRU touched
        return handle

    def touch(self, content_hash: str) -> bool:
        """Count a play without reading (e.g. a song queued next); False when there is no copy."""
        handle = self._copies.get(content_hash, read=True)
        if handle is None:
            return False
        handle.close()
        return True

    def has(self, content_hash: str) -> bool:
        path = self._references.get(content_hash)
        return (path is not None and os.path.exists(path)) or content_hash in self._copies

    @property
    def copies_bytes(self) -> int:
        """Bytes taken by copies (diskcache's own count, including its index)."""
        return int(self._copies.volume())

    def close(self) -> None:
        self._copies.close()
