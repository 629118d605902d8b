"""The radio's packets as a discord.py audio source: already Opus, 20 ms per read()."""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.radio.stream import Packet


class RadioAudioSource(discord.AudioSource):
    """Feeds a :class:`bot.radio.stream.PacketStream` (or any iterable of packets) to discord.py's
    ``AudioPlayer``, which calls :meth:`read` from its own thread every 20 ms. An empty read ends
    playback, as discord.py expects."""

    def __init__(self, packets: Iterable[Packet]) -> None:
        self._packets = iter(packets)

    def is_opus(self) -> bool:
        return True

    def read(self) -> bytes:
        packet = next(self._packets, None)
        return b"" if packet is None else packet.data

    def cleanup(self) -> None:
        close = getattr(self._packets, "close", None)
        if close is not None:
            close()
