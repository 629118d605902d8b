"""Every classification and link fetch runs in a child process with a time and a memory limit
(bot.jobs.children): what overruns them is refused with a sentence, stores nothing, and leaves the
next member a worker."""

from __future__ import annotations

import pytest

from bot.jobs.errors import JobFailedError, JobMemoryError, JobTimeoutError
from bot.links.errors import DownloadTimeoutError
from bot.services import AudioInput, Caller
from genre_engine.errors import CorruptAudioError, NoSoundTrackError
from tests.support.bot_fixtures import GUILD_ID, USER_ID, wav_bytes
from tests.support.child_engines import ENDLESS, GREEDY, HOARD, HUNGRY, UNREADABLE, VIDEO, StubbornEngine

CALLER = Caller(GUILD_ID, USER_ID)


@pytest.fixture
async def bounded(make_services):
    return await make_services(
        engine=StubbornEngine(),
        make_engine=StubbornEngine,
        job_timeout_s=1.0,
        job_memory_mb=768,
        download_timeout_s=3,
        download_workers=1,
    )


async def nothing_stored(services) -> None:
    assert (await services.pool_stats(GUILD_ID)).songs == 0
    assert await services.store.history(GUILD_ID, USER_ID, limit=25, offset=0) == []


async def test_a_song_analysed_forever_is_stopped_at_the_time_limit_and_the_next_one_is_classified(bounded) -> None:
    with pytest.raises(JobTimeoutError) as caught:
        await bounded.classify(CALLER, AudioInput(wav_bytes(), ENDLESS))
    assert "longer than 0:01" in str(caught.value) and "stored nothing" in str(caught.value)
    await nothing_stored(bounded)
    assert bounded.classifier.in_flight == 0  # its slot is free again

    song = (await bounded.classify(CALLER, AudioInput(wav_bytes(), "fine"))).song  # a new child took its place
    assert song.title == "fine"


async def test_a_song_that_needs_more_memory_than_a_job_has_is_refused_and_the_next_one_is_classified(bounded) -> None:
    with pytest.raises(JobMemoryError) as caught:
        await bounded.classify(CALLER, AudioInput(wav_bytes(), GREEDY))
    assert "more memory than I give one song" in str(caught.value)
    await nothing_stored(bounded)

    assert (await bounded.classify(CALLER, AudioInput(wav_bytes(), "fine"))).new


async def test_what_the_engine_says_in_a_child_reaches_the_member_and_the_next_song_is_classified(bounded) -> None:
    with pytest.raises(NoSoundTrackError) as caught:
        await bounded.classify(CALLER, AudioInput(wav_bytes(), VIDEO))
    assert caught.value.streams == ["video"] and "no sound track" in str(caught.value)

    assert (await bounded.classify(CALLER, AudioInput(wav_bytes(), "fine"))).new


async def test_a_failed_job_leaves_the_next_one_in_its_child_all_of_the_memory(bounded) -> None:
    # one child (workers=1) within 768 MiB: the failed job's 400 MiB, kept alive by the error's
    # traceback, would leave the next job too little for its 500
    with pytest.raises(CorruptAudioError):
        await bounded.classify(CALLER, AudioInput(wav_bytes(), HOARD))

    assert (await bounded.classify(CALLER, AudioInput(wav_bytes(), HUNGRY))).new


async def test_a_pool_broken_by_an_answer_it_cannot_read_is_replaced(bounded) -> None:
    with pytest.raises(JobFailedError):
        await bounded.classify(CALLER, AudioInput(wav_bytes(), UNREADABLE))
    await nothing_stored(bounded)

    assert (await bounded.classify(CALLER, AudioInput(wav_bytes(), "fine"))).new  # a new pool took its place


async def test_parsing_a_page_of_thirty_thousand_players_ends_at_the_link_deadline(bounded, public) -> None:
    """yt-dlp's parsing of the page, which no socket wakes, is ended by killing its process: the member
    reads about the deadline, not about a playlist found long after it."""
    page = "<html><body>" + "".join(f'<audio src="/a{i}.mp3"></audio>\n' for i in range(300_000)) + "</body></html>"
    url = public.text("/players.html", page, "text/html")

    with pytest.raises(DownloadTimeoutError):
        await bounded.fetch_link(url, CALLER)
    assert public.requests == ["/players.html"]
