"""Where the radio finds each song's audio: a content-addressed folder with a size cap that every
server, and every member of it, shares fairly.

Two kinds of entry, both named by the song's ``content_hash`` (sha256 hex of the audio bytes, as
``genre_engine.engine.content_hash`` computes it):

- ``copies/<hash>``: the bytes of an upload or a downloaded link, once whoever shared it. The file's
  modification time is when it was last played (set on :meth:`MediaStore.put` and on every
  :meth:`MediaStore.open`). ``owners/<server>/<member>/<hash>`` is a hard link to it for every
  member of every server who shared it: who keeps it, at no extra room.
- ``references/<hash>``: a symbolic link to the file of a song indexed from a local folder, which
  is played from its path and never copied (a link takes no room and is never evicted).

**Fair shares.** While the copies (with the writes under way) exceed the cap, the server that keeps
the most gives way: its member who keeps the most lets go of their least recently played copy, and a
copy nobody keeps any more is deleted. So a member sharing without end only ever evicts their own
server's audio, and their own first, once their server keeps more than the others; every server
keeps at least its equal part of the cap. A copy several servers keep counts fully for each (each
would need it alone). Copies kept before owners were recorded belong to nobody, a server of their own.

Files are written to a temporary name (``.incoming-*``, counted against the cap while they exist)
and renamed, so a reader never sees half a file, and a handle opened before an eviction stays
readable (POSIX unlink semantics). A write that failed or was killed leaves its temporary file; the
next start deletes those older than :data:`STALE_INCOMING_S`. Several processes (the bot, ``python
-m bot radio``) may share the folder.

diskcache was tried first: its least-recently-used policy does track reads, but its public culling
evicts ten entries at a time (``cull()``) or leaves the cache over its limit (``cull_limit``), so it
could not keep an exact cap with least-recently-played eviction.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("genrebot.media")

GiB = 1024**3
DEFAULT_CAP_BYTES = 4 * GiB
_HASH = re.compile(r"[0-9a-f]{16,128}")
INCOMING = ".incoming-"
# A temporary file older than this at start-up belongs to a write that failed or was killed (writing
# the largest upload takes seconds; another process sharing the folder may be writing one right now).
STALE_INCOMING_S = 600.0


@dataclass(frozen=True)
class Owner:
    """Who keeps a copy: the member (0: nobody in particular) of the server (0: copies from before
    owners were recorded) who shared it."""

    guild_id: int
    user_id: int

    @property
    def parts(self) -> tuple[str, str]:
        return str(self.guild_id), str(self.user_id)


NOBODY = Owner(0, 0)


@dataclass
class _Copy:
    name: str
    played: float
    size: int
    owners: set[Owner]


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
        self._owners = self.folder / "owners"
        for folder_ in (self._copies, self._references, self._owners):
            folder_.mkdir(parents=True, exist_ok=True)
        self.removed_incoming = self._remove_stale_incoming()

    @staticmethod
    def _name(content_hash: str) -> str:
        if not _HASH.fullmatch(content_hash):
            raise InvalidContentHashError(content_hash)
        return content_hash

    def put(self, content_hash: str, data: bytes, owner: Owner = NOBODY) -> None:
        """Keep a copy of ``data`` (an upload, a download) for ``owner``, as just played, then let the
        largest keepers give way while the cap is exceeded (module docstring). Audio larger than the
        cap is not kept."""
        name = self._name(content_hash)
        if len(data) > self.cap_bytes:
            return
        copy = self._copies / name
        if not copy.exists():  # content-addressed: a copy there is these very bytes
            handle, temporary = tempfile.mkstemp(dir=self._copies, prefix=INCOMING)
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                os.replace(temporary, copy)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        self._keep(copy, owner)
        self._played(copy)
        self._evict(keep=name)

    def _keep(self, copy: Path, owner: Owner) -> None:
        link = self._owners.joinpath(*owner.parts, copy.name)
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(copy, link)
        except FileExistsError:
            pass

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
        """The room taken: every copy, and every write under way."""
        return sum(copy.size for copy in self._entries().values()) + self._incoming_bytes()

    def kept_bytes(self, guild_id: int, user_id: int | None = None) -> int:
        """The room the copies a server (or one member of it) keeps would take on their own."""
        return sum(
            copy.size
            for copy in self._entries().values()
            if any(o.guild_id == guild_id and user_id in (None, o.user_id) for o in copy.owners)
        )

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

    def _entries(self) -> dict[str, _Copy]:
        """Every copy with when it was last played, its size and who keeps it."""
        copies: dict[str, _Copy] = {}
        with os.scandir(self._copies) as found:
            for entry in found:
                if entry.name.startswith("."):
                    continue
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # evicted by another process meanwhile
                    continue
                copies[entry.name] = _Copy(entry.name, stat.st_mtime, stat.st_size, set())
        for link in self._owners.glob("*/*/*"):
            found_copy = copies.get(link.name)
            if found_copy is not None and link.parent.parent.name.isdigit() and link.parent.name.isdigit():
                found_copy.owners.add(Owner(int(link.parent.parent.name), int(link.parent.name)))
        for found_copy in copies.values():
            found_copy.owners = found_copy.owners or {NOBODY}
        return copies

    def _incoming(self) -> list[os.DirEntry]:
        with os.scandir(self._copies) as found:
            return [entry for entry in found if entry.name.startswith(INCOMING)]

    def _incoming_bytes(self) -> int:
        total = 0
        for entry in self._incoming():
            try:
                total += entry.stat().st_size
            except FileNotFoundError:  # renamed into place meanwhile
                continue
        return total

    def _remove_stale_incoming(self) -> int:
        """Delete what failed or killed writes left (older than :data:`STALE_INCOMING_S`); how many."""
        removed = 0
        for folder in (self._copies, self._references):
            for path in folder.glob(f"{INCOMING}*"):
                try:
                    if time.time() - path.lstat().st_mtime > STALE_INCOMING_S:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
        if removed:
            log.warning("removed the leftovers of unfinished writes", extra={"files": removed})
        return removed

    def _evict(self, keep: str) -> None:
        """While the copies exceed the cap, the largest keeper lets go of its least recently played
        copy (never ``keep``, the copy just put); a copy nobody keeps is deleted."""
        copies = self._entries()
        total = sum(copy.size for copy in copies.values()) + self._incoming_bytes()
        while total > self.cap_bytes:
            victim = _next_to_let_go(copies, keep)
            if victim is None:
                return
            name, owner = victim
            copy = copies[name]
            copy.owners.discard(owner)
            self._owners.joinpath(*owner.parts, name).unlink(missing_ok=True)
            if not copy.owners:
                (self._copies / name).unlink(missing_ok=True)
                del copies[name]
                total -= copy.size


def _next_to_let_go(copies: dict[str, _Copy], keep: str) -> tuple[str, Owner] | None:
    """(copy, owner) to let go next: of the server keeping the most, its member keeping the most,
    their least recently played copy; None when only ``keep`` is left."""
    by_server: dict[int, int] = defaultdict(int)
    by_member: dict[Owner, list[_Copy]] = defaultdict(list)
    for copy in copies.values():
        for server in {owner.guild_id for owner in copy.owners}:
            by_server[server] += copy.size
        for owner in copy.owners:
            by_member[owner].append(copy)
    members = [(owner, kept) for owner, kept in by_member.items() if any(copy.name != keep for copy in kept)]
    if not members:
        return None
    owner, kept = max(
        members, key=lambda item: (by_server[item[0].guild_id], sum(copy.size for copy in item[1]), item[0].user_id)
    )
    oldest = min((copy for copy in kept if copy.name != keep), key=lambda copy: copy.played)
    return oldest.name, owner
