"""Chained Ogg files (internet-radio rips, some recorders): complete Ogg streams one after the other.

FFmpeg reads a chain as one stream only while its links keep their parameters (a link at another
sample rate stops it with "patches welcome"), and libsndfile gives up on any chain. So the links
are found here, by walking the Ogg page headers (27 bytes each, ``"OggS"`` ...; a link begins
with the first of its "beginning of stream" pages), and each is handed to FFmpeg as a file of its
own, a window onto the original bytes (nothing is copied).
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

# capture pattern, version, flags, granule position, serial, sequence, checksum, segment count
_PAGE = struct.Struct("<4sBBqIIIB")
_BEGINNING = 0x02  # flag of a logical stream's first page


def ogg_links(handle: BinaryIO) -> list[tuple[int, int | None]]:
    """The byte ranges ``(start, end)`` of the links of a chained Ogg (``end`` None: to the end of
    the file); ``[(0, None)]`` for anything else, one link or not Ogg. A page that doesn't parse
    ends the walk: the rest belongs to the last link found. The handle is left at its start."""
    starts: list[int] = []
    position, previous_began = 0, False
    while True:
        handle.seek(position)
        header = handle.read(_PAGE.size)
        if len(header) < _PAGE.size or not header.startswith(b"OggS"):
            break
        *_, flags, _granule, _serial, _sequence, _checksum, segments = _PAGE.unpack(header)
        began = bool(flags & _BEGINNING)
        if began and not previous_began:  # several streams of one link (audio + video) begin together
            starts.append(position)
        previous_began = began
        table = handle.read(segments)
        position += _PAGE.size + segments + sum(table)
    handle.seek(0)
    if len(starts) < 2:
        return [(0, None)]
    return list(zip(starts, [*starts[1:], None]))


class _ByteRange(io.RawIOBase):
    """Bytes ``start`` to ``end`` of ``handle``, read and seeked as a file of their own."""

    def __init__(self, handle: BinaryIO, start: int, end: int | None) -> None:
        super().__init__()
        self._handle = handle
        self._start = start
        self._end = end if end is not None else handle.seek(0, io.SEEK_END)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        count = max(min(len(buffer), self._end - self._start - self._position), 0)
        self._handle.seek(self._start + self._position)
        data = self._handle.read(count)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._end - self._start}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def tell(self) -> int:
        return self._position


def link(handle: BinaryIO, start: int, end: int | None) -> BinaryIO:
    """Link ``(start, end)`` of ``handle`` as a file (the handle itself, at its start, for a whole file)."""
    if start == 0 and end is None:
        handle.seek(0)
        return handle
    return io.BufferedReader(_ByteRange(handle, start, end))
