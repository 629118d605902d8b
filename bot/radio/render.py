"""``python -m bot radio``: the radio's stream, written to an Ogg Opus file instead of a voice channel.

The same session (selection for the listeners, songs not repeated), the same decode, gain, limiter
and fades (:class:`bot.radio.stream.PacketStream`) and the same Opus encoder settings; the packets are
muxed into Ogg rather than sent to Discord. Nobody hears a render, so no listening events are
recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from bot.media_store import MediaStore
from bot.radio.errors import InvalidSongCountError, RenderWriteError
from bot.radio.session import RadioSession, RadioTrack
from bot.radio.stream import FRAME_S, OpusEncoder, PacketStream
from recommender.config import RecommenderConfig
from recommender.genres import GENRES
from recommender.service import DEFAULT_CONFIG
from storage import Store

MAX_RENDER_SONGS = 50


@dataclass(frozen=True)
class RenderedSong:
    id: int
    title: str
    start_s: float  # where the song starts in the file
    duration_s: float  # how long it plays in the file
    loudness_lufs: float | None  # measured loudness before normalisation


@dataclass(frozen=True)
class RadioRender:
    songs: tuple[RenderedSong, ...]
    duration_s: float

    def as_json(self) -> dict:
        return {
            "songs": [
                {
                    "id": song.id,
                    "title": song.title,
                    "start_s": round(song.start_s, 3),
                    "duration_s": round(song.duration_s, 3),
                    "loudness_lufs": song.loudness_lufs,
                }
                for song in self.songs
            ],
            "duration_s": round(self.duration_s, 3),
        }


def write_ogg(tracks: list[RadioTrack], out: Path) -> None:
    """Stream the tracks through a PacketStream into an Ogg Opus file (blocking: run in a thread)."""
    pending = iter(tracks)

    def next_track():
        played = next(pending, None)
        return None if played is None else played.track

    with av.open(str(out), mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000)
        encoder = OpusEncoder(stream.codec_context)
        for packet in PacketStream(next_track, encoder=encoder):
            packet.packet.stream = stream
            container.mux(packet.packet)


async def render_radio(
    store: Store,
    media: MediaStore,
    guild_id: int,
    user_id: int,
    songs: int,
    out: Path,
    *,
    variety: float | None = None,
    seed: int | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
    labels: Sequence[str] = GENRES,
) -> RadioRender:
    """Render ``songs`` songs of the radio for one listener (``user_id`` in ``guild_id``) to ``out``;
    ``config`` and ``labels`` as for :class:`bot.radio.session.RadioSession`. Raises InvalidSongCountError,
    EmptyPoolError, NothingPlayableError."""
    if isinstance(songs, bool) or not isinstance(songs, int) or not 1 <= songs <= MAX_RENDER_SONGS:
        raise InvalidSongCountError(songs, MAX_RENDER_SONGS)
    session = RadioSession(store, media, guild_id, variety=variety, seed=seed, config=config, labels=labels)
    await session.join(user_id)
    tracks = [await session.next_track() for _ in range(songs)]
    try:
        await asyncio.to_thread(write_ogg, tracks, out)
    except OSError as error:  # av's FileNotFoundError, PermissionError... are OSErrors
        raise RenderWriteError(str(out), error.strerror or type(error).__name__) from None
    rendered, start = [], 0.0
    for played in tracks:
        length = played.track.frames * FRAME_S
        rendered.append(RenderedSong(played.song.id, played.song.title, start, length, played.song.loudness_lufs))
        start += length
    return RadioRender(tuple(rendered), start)
