"""``/radio start|stop``, ``/skip``, ``/nowplaying``, ``/queue``: the server's radio in a voice channel.

The choosing, the feedback rules and the audio path are the core's (:class:`bot.radio.session.RadioSession`,
:class:`bot.radio.stream.PacketStream`); this module owns what is Discord's: the voice connection, who is
in the channel, the buttons, and the thread discord.py's ``AudioPlayer`` reads the packets from.

Threads: the player thread calls the stream, which asks for each next song and reports each end;
both go to the event loop (``run_coroutine_threadsafe``), where the session and the store live, and
the thread waits for the answer, so the next pick sees the feedback of the song before. Nothing
blocking runs on the loop: the session opens and measures audio in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import render, texts
from bot.errors import user_message
from bot.radio.errors import (
    ChannelFullError,
    EmptyPoolError,
    HalfJourneyError,
    NoRadioError,
    NothingPlayableError,
    NotInVoiceError,
    NotListeningError,
    RadioBusyError,
    RadioError,
    SongNotPlayingError,
    StageChannelError,
    VoiceConnectError,
    VoicePermissionError,
)
from bot.radio.session import (
    EMPTY_CHANNEL_LEAVE_S,
    RadioSession,
    RadioTrack,
    button_event,
)
from bot.radio.stream import PacketStream, Track
from bot.services import Services
from cogs import fit
from cogs.client import GenreBot
from cogs.common import (
    EMBED_COLOUR,
    caller_of,
    chart_file,
    filter_autocomplete,
    filters_of,
    filters_text,
    is_admin,
    reply_similar,
    song_line,
    with_chart,
)
from cogs.markdown import link_target, literal, quoted
from cogs.radio_source import RadioAudioSource
from cogs.replies import replies_errors, send
from cogs.together import add_starter
from recommender.errors import NothingMatchesError
from recommender.filters import PoolFilter
from recommender.together import Journey

log = logging.getLogger("genrebot.radio")

T = TypeVar("T")

CHECK_EVERY_S = 10.0  # how often the empty-channel and lost-connection rules are checked
RECONNECT_GRACE_S = 60.0  # discord.py reconnects a dropped voice connection; past this, it is gone
LOOP_WAIT_S = 120.0  # the player thread's longest wait for the loop (a refetch may download)
CONNECT_TIMEOUT_S = 30.0
LEFT_EMPTY = (
    f"Nobody has been listening for {EMPTY_CHANNEL_LEAVE_S / 60:.0f} minutes, so I left the voice "
    "channel. /radio start brings the radio back."
)
LOST_CONNECTION = "I lost the voice connection and could not get it back, so the radio stopped."


def voice_channel_of(member: discord.Member) -> discord.VoiceChannel:
    """The voice channel the member is in: NotInVoiceError when none, StageChannelError for a stage."""
    channel = member.voice.channel if member.voice is not None else None
    if channel is None:
        raise NotInVoiceError()
    if isinstance(channel, discord.StageChannel):
        raise StageChannelError(channel.name)
    return channel


def check_can_join(channel: discord.VoiceChannel, me: discord.Member) -> None:
    """VoicePermissionError without Connect or Speak there; ChannelFullError at its user limit (a bot
    with Move Members may join a full channel, as Discord allows)."""
    permissions = channel.permissions_for(me)
    missing = tuple(
        name for flag, name in (("connect", "Connect"), ("speak", "Speak")) if not getattr(permissions, flag)
    )
    if missing:
        raise VoicePermissionError(channel.name, missing)
    if channel.user_limit and len(channel.members) >= channel.user_limit and not permissions.move_members:
        raise ChannelFullError(channel.name, channel.user_limit)


def humans_in(channel: discord.abc.Connectable) -> set[int]:
    return {member.id for member in getattr(channel, "members", []) if not member.bot}


def progress_bar(played_s: float, duration_s: float | None, width: int = 16) -> str:
    """``▰▰▰▱▱▱ 1:02 / 3:30`` (only the time played when the length is unknown)."""
    if not duration_s:
        return render.duration(played_s)
    done = min(width, round(width * played_s / duration_s))
    return f"{'▰' * done}{'▱' * (width - done)} {render.duration(played_s)} / {render.duration(duration_s)}"


class GuildRadio:
    """One server's radio on Discord: its session, its voice connection, and the packet stream
    discord.py's player thread reads. ``first`` is the first song, picked before joining (so an
    empty pool is refused before the bot enters the channel). ``on_finished`` is called on the loop
    when playback ends by itself (nothing left to play, or the voice connection failed)."""

    def __init__(
        self,
        session: RadioSession,
        voice: discord.VoiceClient,
        first: RadioTrack,
        on_finished: Callable[[GuildRadio], None],
    ) -> None:
        self.session = session
        self.voice = voice
        self.loop = asyncio.get_running_loop()
        self.current: RadioTrack | None = None
        self.detached_since: float | None = None  # when the bot's own voice state lost its channel
        self._first: RadioTrack | None = first
        self._on_finished = on_finished
        self._skipper: int | None = None
        self._ending = threading.Lock()  # the player thread and stop() both may end the current song
        self._stopped = False
        self.stream = PacketStream(self._next_track, on_track_end=self._track_ended)

    @property
    def channel(self) -> discord.abc.Connectable:
        return self.voice.channel

    def start(self) -> None:
        self.voice.play(RadioAudioSource(self.stream), after=self._after)

    # -- in the player thread ---------------------------------------------------------------------

    def _on_loop(self, coroutine: Coroutine[Any, Any, T]) -> T | None:
        """Run ``coroutine`` on the event loop and wait for it. None if the loop is gone, too slow, or
        the coroutine failed (logged): the radio goes on, or ends quietly, but never crashes."""
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        except RuntimeError:  # the loop closed: the bot is shutting down
            coroutine.close()
            return None
        try:
            return future.result(LOOP_WAIT_S)
        except TimeoutError:
            future.cancel()
            log.warning("the event loop did not answer the player", extra={"guild": self.session.guild_id})
        except Exception:  # noqa: BLE001 - e.g. the database failing: logged, the player thread lives
            log.exception("radio step failed", extra={"guild": self.session.guild_id})
        return None

    def _next_track(self) -> Track | None:
        if self._first is not None:
            played, self._first = self._first, None
        else:
            played = self._on_loop(self._pick())
        self.current = played
        if played is None:
            return None
        try:  # while this song plays, get the next one ready (not waited for)
            asyncio.run_coroutine_threadsafe(self._prepare(), self.loop)
        except RuntimeError:  # the loop closed
            pass
        return played.track

    async def _pick(self) -> RadioTrack | None:
        if self._stopped:
            return None
        try:
            return await self.session.next_track()
        except (EmptyPoolError, NothingPlayableError, NothingMatchesError) as error:
            # the pool emptied while playing (of the songs its filters select, with filters)
            if self.session.on_note is not None:
                self.session.on_note(error)
            return None

    async def _prepare(self) -> None:
        try:
            await self.session.prepare()
        except Exception:  # noqa: BLE001 - only a head start: the pick does it again if needed
            log.exception("preparing the next song failed", extra={"guild": self.session.guild_id})

    def _take_current(self, track: Track | None = None) -> RadioTrack | None:
        with self._ending:
            played = self.current
            if played is None or (track is not None and played.track is not track):
                return None
            self.current = None
            return played

    def _track_ended(self, track: Track) -> None:
        played, skipper = self._take_current(track), self._skipper
        self._skipper = None
        if played is not None:
            self._on_loop(self.session.song_ended(played, skipped_by=skipper))

    def _after(self, error: Exception | None) -> None:
        if error is not None:
            log.warning("playback stopped", extra={"guild": self.session.guild_id, "error": repr(error)})
        try:
            self.loop.call_soon_threadsafe(self._on_finished, self)
        except RuntimeError:  # the loop already closed: nothing left to clean up
            pass

    # -- on the loop ------------------------------------------------------------------------------

    def skip(self, user_id: int) -> None:
        """End the current song at its next packet; an early skip is recorded for ``user_id``."""
        self._skipper = user_id
        self.stream.skip()

    async def stop(self) -> None:
        """Stop playing and leave the channel. The song cut short counts as listened if it played
        long enough (half its length or 4 minutes); a stop says nothing else about it."""
        if self._stopped:
            return
        self._stopped = True
        self.voice.stop()
        played = self._take_current()
        if played is not None:
            played.track.skipped = True  # not played to its end
            await self.session.song_ended(played)
        await self.voice.disconnect(force=True)


class RadioButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"genrebot:radio:(?P<action>like|dislike|skip|similar):(?P<song>\d+)",
):
    """Buttons under /nowplaying, persistent like the others: the song id is in the custom id and
    the radio is found through the client."""

    LABELS = {
        "like": ("Like", "👍", discord.ButtonStyle.success),
        "dislike": ("Dislike", "👎", discord.ButtonStyle.danger),
        "skip": ("Skip", "⏭️", discord.ButtonStyle.secondary),
        "similar": ("More like this", "🔎", discord.ButtonStyle.primary),
    }

    def __init__(self, action: str, song_id: int) -> None:
        label, emoji, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"genrebot:radio:{action}:{song_id}")
        )
        self.action = action
        self.song_id = song_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[GenreBot], item: discord.ui.Button, match: re.Match[str]
    ) -> RadioButton:
        return cls(match["action"], int(match["song"]))

    @replies_errors
    async def callback(self, interaction: discord.Interaction[GenreBot]) -> None:
        caller = caller_of(interaction)
        cog: RadioCog = interaction.client.get_cog(RadioCog.__cog_name__)
        radio = cog.radios.get(caller.server_id)
        if self.action in ("like", "dislike"):
            if radio is not None:  # recorded, and the plan follows at once
                kind = await radio.session.press(caller.user_id, self.song_id, self.action)
            else:  # an old message: still worth keeping
                kind = button_event(self.action)
                await cog.services.mark(caller, [self.song_id], kind)
            text = f"Noted: you {kind.value} this song."
            await send(interaction, text, ephemeral=True, stored=text)
        elif self.action == "skip":
            radio = cog.radio_of(caller.server_id)
            if radio.current is None or radio.current.song.id != self.song_id:
                raise SongNotPlayingError(self.song_id)
            await cog.skip_for(interaction, radio)
        else:
            await reply_similar(interaction, cog.services, caller.server_id, self.song_id)


def now_playing_view(song_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in RadioButton.LABELS:
        view.add_item(RadioButton(action, song_id))
    return view


class RadioCog(commands.Cog):
    """The radios of every server, one each. ``clock`` (seconds) drives the empty-channel rule and
    the reconnect grace; tests replace it."""

    radio = app_commands.Group(
        name="radio", description="Play this server's pool in your voice channel.", guild_only=True
    )

    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot
        self.services: Services = bot.services
        self.radios: dict[int, GuildRadio] = {}
        self.clock: Callable[[], float] = time.monotonic
        self._starting: dict[int, str] = {}  # servers whose radio is being started: the channel
        self._tasks: set[asyncio.Task] = set()

    async def cog_load(self) -> None:
        self.watch.start()

    async def cog_unload(self) -> None:
        """Shutdown (the bot closing, or the extension unloaded): every radio stops and leaves."""
        self.watch.cancel()
        for guild_id in list(self.radios):
            await self.close_radio(guild_id)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _noter(self, channel: discord.abc.Messageable | None) -> Callable[[str | RadioError], None]:
        """Notes go to the text channel /radio start was called from: the session's (a RadioError,
        whose facts, a title, are shown literally) and the cog's own sentences; a failure to post is
        logged."""

        async def post(text: str) -> None:
            try:
                await channel.send(fit.cut(text, fit.CONTENT))
            except discord.HTTPException as error:
                log.info("could not post a radio note", extra={"error": repr(error)})

        def note(note: str | RadioError) -> None:
            if channel is not None:
                self._spawn(post(note if isinstance(note, str) else user_message(note, literal, quoted)))

        return note

    def radio_of(self, guild_id: int) -> GuildRadio:
        radio = self.radios.get(guild_id)
        if radio is None:
            raise NoRadioError()
        return radio

    # -- commands --------------------------------------------------------------------------------

    @radio.command(name="start", description="Play the server's pool in your voice channel, picked for who listens.")
    @app_commands.describe(
        variety="0 = exactly the listeners' taste, 1 = the whole pool "
        "(default: the mean of the listeners' own settings)",
        style="only songs of this style, e.g. electronic, ambient, punk",
        mood="only songs of this mood, e.g. chill, happy, sad",
        genre="only songs of this genre: one of the ten, or one this server taught",
        from_="play a journey first, from this song (its number; give to: too)",
        to="...to this song, moving by sound (its number)",
    )
    @app_commands.rename(from_="from")
    @app_commands.autocomplete(
        style=filter_autocomplete("style"), mood=filter_autocomplete("mood"), genre=filter_autocomplete("genre")
    )
    async def start(
        self,
        interaction: discord.Interaction[GenreBot],
        variety: app_commands.Range[float, 0.0, 1.0] | None = None,
        style: app_commands.Range[str, 1, 40] | None = None,
        mood: app_commands.Range[str, 1, 40] | None = None,
        genre: app_commands.Range[str, 1, 40] | None = None,
        from_: app_commands.Range[int, 1] | None = None,
        to: app_commands.Range[int, 1] | None = None,
    ) -> None:
        guild = interaction.guild
        if (from_ is None) != (to is None):
            raise HalfJourneyError()
        channel = voice_channel_of(interaction.user)
        running = self.radios.get(guild.id)
        if running is not None and running.channel == channel:
            await send(interaction, f"The radio is already playing in {channel.mention}.", ephemeral=True)
            return
        if running is not None:
            raise RadioBusyError(running.channel.name)
        if guild.id in self._starting:
            raise RadioBusyError(self._starting[guild.id])
        check_can_join(channel, guild.me)
        self._starting[guild.id] = channel.name
        try:
            await interaction.response.defer(thinking=True)
            only = await self.services.pool_filters(guild.id, filters_of(style=style, mood=mood, genre=genre))
            journey = None
            if from_ is not None:
                journey = await self.services.journey(
                    caller_of(interaction),
                    from_,
                    to,
                    variety=variety,
                    exclude=await self.services.store.audio_missing_ids(guild.id),
                )
            radio, first = await self._start_radio(channel, variety, only, interaction.channel, journey)
        finally:
            del self._starting[guild.id]
        text = (
            f"📻 Radio on in {channel.mention} for {len(radio.session.listeners)} listener(s)"
            f"{f' (only {filters_text(only)})' if only else ''}. First up: "
            f"**{literal(first.song.title)}** ({first.reason}). "
            "/nowplaying, /queue, /skip, /radio stop."
        )
        starters = await self.services.starter_songs(guild.id) if radio.session.cold_start else []
        if starters:  # nobody listening has a history: the server's mix, and a way to start a taste
            await send(
                interaction,
                f"{text}\nThis is the server's mix. {texts.STARTER}",
                view=add_starter(discord.ui.View(timeout=None), starters),
            )
            return
        await send(interaction, text)

    async def _start_radio(
        self,
        channel: discord.VoiceChannel,
        variety: float | None,
        only: Sequence[PoolFilter],
        notes_to: discord.abc.Messageable | None,
        journey: Journey | None = None,
    ) -> tuple[GuildRadio, RadioTrack]:
        session = self.services.radio(
            channel.guild.id,
            variety=variety,
            only=only,
            on_note=self._noter(notes_to),
            clock=lambda: self.clock(),
            journey=journey,
        )
        for member in channel.members:
            await session.join(member.id, is_bot=member.bot)
        first = await session.next_track()  # EmptyPoolError, NothingPlayableError: before joining
        try:
            voice = await channel.connect(timeout=CONNECT_TIMEOUT_S, reconnect=True, self_deaf=True)
        except (TimeoutError, discord.ClientException) as error:
            first.track.close()
            log.info("voice connect failed", extra={"guild": channel.guild.id, "error": repr(error)})
            raise VoiceConnectError(channel.name) from None
        radio = GuildRadio(session, voice, first, on_finished=self._finished)
        try:
            radio.start()
        except discord.ClientException as error:  # e.g. the connection dropped right after joining
            first.track.close()
            await voice.disconnect(force=True)
            log.info("voice play failed", extra={"guild": channel.guild.id, "error": repr(error)})
            raise VoiceConnectError(channel.name) from None
        self.radios[channel.guild.id] = radio
        log.info("radio started", extra={"guild": channel.guild.id, "listeners": len(session.listeners)})
        return radio, first

    @radio.command(name="stop", description="Stop the radio and leave the voice channel.")
    async def stop(self, interaction: discord.Interaction[GenreBot]) -> None:
        """For who listens (someone in the radio's channel), as /skip is, and for admins."""
        radio = self.radio_of(caller_of(interaction).server_id)
        if not is_admin(interaction) and interaction.user.id not in humans_in(radio.channel):
            raise NotListeningError(radio.channel.name)
        await self.close_radio(interaction.guild_id)
        await send(interaction, f"📻 Radio stopped by {literal(interaction.user.display_name)}.")

    @app_commands.command(name="skip", description="Skip the song the radio is playing.")
    @app_commands.guild_only()
    async def skip(self, interaction: discord.Interaction[GenreBot]) -> None:
        await self.skip_for(interaction, self.radio_of(caller_of(interaction).server_id))

    async def skip_for(self, interaction: discord.Interaction[GenreBot], radio: GuildRadio) -> None:
        """Skip for a listener (someone in the radio's channel): an early skip is their signal."""
        if interaction.user.id not in humans_in(radio.channel):
            raise NotListeningError(radio.channel.name)
        played = radio.current
        radio.skip(interaction.user.id)
        title = literal(played.song.title) if played is not None else "the song"
        await send(interaction, f"⏭️ {literal(interaction.user.display_name)} skipped **{title}**.")

    @app_commands.command(name="nowplaying", description="What the radio is playing, and why.")
    @app_commands.guild_only()
    async def nowplaying(self, interaction: discord.Interaction[GenreBot]) -> None:
        radio = self.radio_of(caller_of(interaction).server_id)
        played = radio.current
        if played is None:
            await send(interaction, "Between two songs: ask again in a moment.", ephemeral=True)
            return
        song = played.song
        embed = discord.Embed(
            title=literal(song.title),
            colour=EMBED_COLOUR,
            url=link_target(song.message_url or song.source_url),
            description=f"Picked because: {played.reason}",
        )
        embed.add_field(name="Progress", value=progress_bar(played.track.played_s, song.duration_s), inline=False)
        embed.add_field(name="Listeners", value=str(len(radio.session.listeners)))
        if radio.session.only:
            embed.add_field(name="Only", value=filters_text(radio.session.only))
        embed.add_field(name="Song", value=f"`#{song.id}`")
        chart = await chart_file(self.services.genre_mix(song.probabilities), song.title)
        await send(interaction, view=now_playing_view(song.id), **with_chart(embed, chart))

    @app_commands.command(name="queue", description="The next five songs the radio plans to play.")
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction[GenreBot]) -> None:
        radio = self.radio_of(caller_of(interaction).server_id)
        entries = await radio.session.queue()
        lines = [f"{place}. {song_line(entry.song)} — {entry.reason}" for place, entry in enumerate(entries, 1)]
        embed = discord.Embed(
            title="Up next on the radio",
            colour=EMBED_COLOUR,
            description=fit.lines(lines, fit.DESCRIPTION) or "Nothing left to plan: the pool is empty.",
        )
        if radio.session.only:
            embed.add_field(name="Only", value=filters_text(radio.session.only))
        embed.set_footer(
            text="Re-planned after every like, dislike, skip and song heard, and when someone joins or leaves."
        )
        await send(interaction, embed=embed, ephemeral=True)

    # -- who listens, and when to leave ----------------------------------------------------------

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        radio = self.radios.get(member.guild.id)
        if radio is None:
            return
        if member.id == self.bot.user.id:
            # a transient disconnect also shows as no channel: discord.py reconnects by itself, so
            # only the watch ends a radio whose connection stays lost (RECONNECT_GRACE_S)
            if after.channel is None:
                radio.detached_since = self.clock()
            else:  # back, or moved by an admin: listen to who is there now
                radio.detached_since = None
                await self._follow(radio, after.channel)
            return
        if member.bot:
            return
        here = radio.channel
        if after.channel == here and before.channel != here:
            await radio.session.join(member.id)
        elif before.channel == here and after.channel != here:
            await radio.session.leave(member.id)

    @staticmethod
    async def _follow(radio: GuildRadio, channel: discord.abc.Connectable) -> None:
        present = humans_in(channel)
        for user_id in radio.session.listeners - present:
            await radio.session.leave(user_id)
        for user_id in present - radio.session.listeners:
            await radio.session.join(user_id)

    @tasks.loop(seconds=CHECK_EVERY_S)
    async def watch(self) -> None:
        try:
            await self.check_radios()
        except Exception:  # noqa: BLE001 - an exception would end the loop, and with it every check
            log.exception("radio watch failed")

    async def check_radios(self) -> None:
        """Leave channels nobody has listened in for 2 minutes, and radios whose voice connection is
        lost for good."""
        for guild_id, radio in list(self.radios.items()):
            if radio.session.should_leave():
                await self.close_radio(guild_id, note=LEFT_EMPTY)
            elif (
                radio.detached_since is not None
                and not radio.voice.is_connected()
                and self.clock() - radio.detached_since >= RECONNECT_GRACE_S
            ):
                await self.close_radio(guild_id, note=LOST_CONNECTION)

    async def close_radio(self, guild_id: int, *, note: str | None = None) -> None:
        radio = self.radios.pop(guild_id, None)
        if radio is None:
            return
        await radio.stop()
        if note and radio.session.on_note is not None:
            radio.session.on_note(note)
        log.info("radio stopped", extra={"guild": guild_id, "played": len(radio.session.played)})

    def _finished(self, radio: GuildRadio) -> None:
        """Playback ended by itself (on the loop, from the player's ``after``)."""
        if self.radios.get(radio.session.guild_id) is radio:
            self._spawn(self.close_radio(radio.session.guild_id))


async def setup(bot: GenreBot) -> None:
    bot.add_dynamic_items(RadioButton)
    await bot.add_cog(RadioCog(bot))
