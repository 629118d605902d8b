"""What both front ends say, written once: the command list of /help, variety, taste and indexing
messages. Markup is the front end's business: functions take ``strong``, which Discord makes
``**bold**`` and the console leaves plain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.classifier import Classifier
from bot.jobs.threads import Place
from bot.reanalysis import ReanalysisReport
from bot.render import duration
from bot.services import Classified, IndexReport, ModelState, PoolTags
from bot.teaching import quality_text
from recommender.profile import TasteProfile
from recommender.taught import LabelQuality
from recommender.together import Journey, Suggestion, TasteComparison
from recommender.trends import Trends
from storage import EventKind, ModelCounts, PoolCacheStats, Song

Markup = Callable[[str], str]

INTRO = (
    "I listen to the music this server shares, tell its genre, and build each member "
    "a playlist from the server's own songs."
)
NO_TASTE = "No taste profile yet: share songs with /classify or rate some from /playlist."
STARTER = "Start your taste: like any of these songs, picked to cover the sound of this server's pool."
STARTED = "Your taste has begun. Ask /playlist again for a playlist of your own."
NO_ACTIVITY = "Nothing shared or played in the last 7 days."
VARIETY_SCALE = "0 = exactly your taste, 1 = the whole pool"


def plain(text: str) -> str:
    return text


@dataclass(frozen=True)
class Command:
    """One line of /help: how Discord and the console spell it (None: that front end lacks it)."""

    discord: str | None
    console: str | None
    text: str


COMMANDS = (
    Command(
        "/classify file: or url:",
        "/classify FILE_OR_URL",
        "The genre of a song, with a chart. It joins your history and the server pool.",
    ),
    Command(
        "/playlist [count] [style] [mood] [genre]",
        "/playlist [COUNT] [style:S] [mood:M] [genre:G]",
        "Songs from the server pool for your taste, each with a reason; rate them below it. "
        "style:/mood:/genre: keep only songs that sound so (e.g. style:electronic, mood:chill).",
    ),
    Command("/variety [value]", "/variety [0..1]", f"Show or set how far playlists stray: {VARIETY_SCALE}."),
    Command("/taste", "/taste", "Your genre profile, and how many songs it rests on."),
    Command(
        "/taste member:",
        "/taste compare NAME",
        "How close your taste is to another member's, what you share and where you differ, "
        "and songs of theirs you would probably like.",
    ),
    Command(
        "/journey from: to: [steps]",
        "/journey ID ID [STEPS]",
        "A playlist that moves by sound from one pool song to another, each step close to the last; "
        "/variety loosens it.",
    ),
    Command("/history [count] [page]", "/history [COUNT] [PAGE]", "What you shared, heard and rated here."),
    Command(None, "/like ID... | /dislike ID... | /listened ID...", "Rate songs (ids from /playlist)."),
    Command(None, "/more ID", "Songs that sound like song ID."),
    Command(
        "/radio start [variety] [style] [mood] [genre] [from to] · /radio stop",
        None,
        "Play the pool in your voice channel without end, picked for everyone listening there; "
        "style/mood/genre keep the radio to songs that sound so; from/to play a journey first.",
    ),
    Command(
        "/skip · /nowplaying · /queue",
        None,
        "Skip the song (early skips teach the radio), see what plays and why, and what comes next.",
    ),
    Command(
        None,
        "/radio [N] [style:S] [mood:M] [genre:G]",
        "The next N songs the radio would play for you, with reasons (filters as for /playlist).",
    ),
    Command("/forget", "/forget", "Delete everything I store about you (asks first)."),
    Command("/pool stats", "/pool stats", "The server pool at a glance: all time, and this week."),
    Command(
        "/pool map [genre]",
        "/pool map [GENRE]",
        "A picture of the pool: every song placed by sound, coloured by genre, yours ringed.",
    ),
    Command(
        "/pool remove · auto · channel", None, "Admins: remove a song, switch auto-pooling, index a channel's uploads."
    ),
    Command(None, "/pool remove ID", "Take a song out of the pool."),
    Command(None, "/pool auto on|off", "Whether classified songs join the pool."),
    Command(
        "/genre teach song: label:",
        "/genre teach ID LABEL",
        "Teach the server's own genre: label a pool song (admins or the teacher role).",
    ),
    Command("/genre list", "/genre list", "The genres this server taught, with examples and accuracy."),
    Command("/genre forget label:", "/genre forget LABEL", "Forget a taught genre."),
    Command("/genre role role:", None, "Admins: the role whose members may teach genres."),
    Command(None, "/index FOLDER", "Add every audio file under FOLDER (or one file) to the pool."),
    Command(None, "/user NAME", "Act as another local user."),
    Command(None, "/help", "This list."),
)


def variety_shown(value: float, strong: Markup = plain) -> str:
    return f"Your variety is {strong(f'{value:.2f}')} ({VARIETY_SCALE})."


def variety_set(value: float, strong: Markup = plain) -> str:
    return f"Variety set to {strong(f'{value:.2f}')}."


def place_in_line(place: Place, strong: Markup = plain) -> str:
    """``You're #3 in line (about 0:12)…``, or that the song is being analysed (place 0)."""
    if place.place == 0:
        return "Your turn: analysing the song…"
    return f"You're {strong(f'#{place.place}')} in line (about {duration(place.eta_s)} to go)…"


def history_empty(page: int) -> str:
    """What /history says when a page has no entries."""
    if page == 1:
        return "Your history here is empty: share songs with /classify or rate some from /playlist."
    return f"Page {page} of your history is empty: it has fewer entries than that."


def taste_basis(profile: TasteProfile) -> str:
    """``from 3 song(s) and 5 event(s)``: what a taste profile rests on."""
    return f"from {profile.songs} song(s) and {profile.events} event(s)"


def index_lines(folder: Path, report: IndexReport, *, guild_id: int | None = None) -> list[str]:
    """The summary of an indexing run, then one line per file that failed and one per file skipped
    as not audio, each with why."""
    where = f"{folder}" if guild_id is None else f"{folder} into server {guild_id}"
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    summary = (
        f"Indexed {where}: {report.added} added, {report.duplicates} already in the pool, "
        f"{len(report.failed)} failed{skipped}."
    )
    failed = [f"   ✗ {path}: {why}" for path, why in report.failed]
    return [summary, *failed, *(f"   – skipped {path}: {why}" for path, why in report.skipped)]


def verdict(result: Classified, strong: Markup = plain) -> str:
    """The one-line answer of /classify: the genre when the model stands by it, otherwise in words
    what it is not and what it sounds like instead of presenting a weak guess as a verdict."""
    top = result.probabilities[result.genre]
    if result.confident:
        return f"Sounds like {strong(result.genre)} ({100 * top:.0f}%)."
    closest = f"{result.genre} {100 * top:.0f}%"
    outside = list(result.tags.outside)[:3] if result.tags else []
    if result.tags and result.tags.sounds_outside:
        return f"Not one of my ten genres — sounds {strong(', '.join(outside))}."
    if outside:
        return f"Not sure it's one of my ten genres — sounds {strong(', '.join(outside))}; closest: {closest}."
    return f"Not sure: none of my ten genres fits well (closest: {closest})."


def tag_summary(tags: dict[str, float], top: int = 4) -> str:
    """``electronic 62% · ambient 40%``: tags that apply, strongest first."""
    return " · ".join(f"{name} {100 * p:.0f}%" for name, p in list(tags.items())[:top])


def listing(items: list[str]) -> str:
    return ", ".join(items)


def tag_lines(result: Classified, labels: Callable[[list[str]], str] = listing) -> list[tuple[str, str]]:
    """(heading, text) pairs for what applies beyond the genre: styles, moods, era, server genres
    (listed by ``labels``: a front end may escape and cut them)."""
    lines = []
    if result.tags is not None:
        for heading, tags in (("Styles", result.tags.styles), ("Moods", result.tags.moods), ("Era", result.tags.eras)):
            if tags:
                lines.append((heading, tag_summary(tags)))
    if result.taught:
        lines.append(("Server genres", labels(list(result.taught))))
    return lines


def _counted(counts: dict[str, int], top: int = 8, literal: Markup = plain) -> str:
    return ", ".join(f"{literal(name)} {count}" for name, count in list(counts.items())[:top])


def pool_tag_lines(tags: PoolTags, literal: Markup = plain) -> list[tuple[str, str]]:
    """(heading, text) pairs for /pool stats: styles and moods by song count, unsure answers, taught
    genres (their names shown through ``literal``)."""
    lines = []
    if tags.styles:
        lines.append(("Styles", _counted(tags.styles)))
    if tags.moods:
        lines.append(("Moods", _counted(tags.moods)))
    if tags.unsure:
        lines.append(("Not placed in my ten genres", f"{tags.unsure} song(s)"))
    if tags.taught:
        lines.append(("Server genres", _counted(tags.taught, literal=literal)))
    return lines


def pool_cache_line(stats: PoolCacheStats) -> str:
    """For admins under /pool stats: how this bot process's pool cache does (``storage.pool_cache``)."""
    budget = "no limit" if stats.budget_bytes is None else f"{stats.budget_bytes / 2**20:,.0f} MiB"
    reads = stats.hits + stats.misses
    served = "no pool read yet" if stats.hit_rate is None else f"{stats.hit_rate:.0%} of {reads:,} pool reads"
    return (
        f"Pool cache of this bot process: {stats.pools:,} server pool(s) in {stats.bytes / 2**20:,.1f} MiB "
        f"of {budget}; {served} from memory; {stats.evictions:,} pool(s) let go to keep the budget."
    )


def reanalysis_line(state: ModelState) -> str | None:
    """For admins under /pool stats, while songs of this server wait to be analysed again by the
    serving model (``bot.reanalysis``): how many, how far the run is, and those with no audio."""
    counts, progress = state.counts, state.progress
    if not counts.other_model and not counts.unavailable:
        return None
    running = progress is not None and progress.running
    doing = (
        f"re-analysing: {progress.done:,} of {progress.total:,} done in all" if running else "re-analysis not running"
    )
    missing = f"; {counts.unavailable:,} with no audio to be had (analysed again when shared again)"
    return (
        f"Model {state.model}: {counts.current:,} song(s) here analysed by it, {counts.other_model:,} to go "
        f"({doing}){missing if counts.unavailable else ''}."
    )


def reanalysis_lines(report: ReanalysisReport, unavailable: Sequence[Song]) -> list[str]:
    """What ``python -m bot reanalyse`` prints: the counts, then the songs with no audio by name."""
    lines = [
        f"Model {report.model}: {report.songs:,} song(s); {report.reanalysed:,} analysed again now; "
        f"{report.current:,} analysed by it; {report.unavailable:,} with no audio to be had."
    ]
    if unavailable:
        lines.append("No audio to be had (kept out of sound comparisons; analysed again when shared again):")
        lines += [f"  #{song.id} {song.title} (server {song.guild_id})" for song in unavailable]
        if report.unavailable > len(unavailable):
            lines.append(f"  and {report.unavailable - len(unavailable):,} more")
    return lines


def model_lines(engine: Classifier, checkpoint: Path, counts: ModelCounts) -> list[str]:
    """What ``python -m bot model`` prints: the serving model, its accuracy if training measured one,
    and the stored songs by the model that analysed them."""
    accuracy = getattr(getattr(engine, "runner", None), "accuracy", {})
    measured = ", ".join(f"{split} clip accuracy {share:.1%}" for split, share in accuracy.items())
    return [
        f"Model {engine.model_id}: {checkpoint} ({getattr(engine.runner, 'runtime', '?')}), "
        f"{len(engine.labels)} genres: {', '.join(engine.labels)}",
        f"Accuracy: {measured or 'not measured on held-out clips when it was trained (see its training record)'}",
        f"Songs: {counts.current:,} analysed by it, {counts.other_model:,} by another model (to analyse again), "
        f"{counts.unavailable:,} by another model with no audio to be had",
    ]


def label_lines(qualities: list[LabelQuality], literal: Markup = plain) -> list[str]:
    """One line per taught genre for /genre list (each label shown through ``literal``)."""
    if not qualities:
        return ["No genres taught here yet. Teach one with /genre teach (a song number and a label)."]
    return [f"{literal(quality.label)}: {quality_text(quality)}" for quality in qualities]


def playlist_title(name: str, *, cold_start: bool) -> str:
    """The heading of a playlist: the member's own, or on their first day the server's mix."""
    return f"The server's mix for {name}" if cold_start else f"Playlist for {name}"


def compatibility_line(name: str, score: float, strong: Markup = plain) -> str:
    """``Compatibility with NAME: 73%`` (the console's line is an interface: keep it)."""
    return f"Compatibility with {name}: {strong(f'{100 * score:.0f}%')}"


def compatibility_basis(comparison: TasteComparison) -> str:
    """What the score is made of: ``genres 81% · sound 64%``."""
    sound = "" if comparison.sound is None else f" · sound {100 * comparison.sound:.0f}%"
    return f"genres {100 * comparison.genres:.0f}%{sound}"


def shared_text(comparison: TasteComparison, labels: Sequence[str], styles: Sequence[str]) -> str:
    """``metal, rock; styles: thrash`` (what both members hold), or that they share none."""
    genres = ", ".join(labels[genre] for genre in comparison.shared) or "no genre"
    return genres + (f"; styles: {', '.join(styles)}" if styles else "")


def difference_text(comparison: TasteComparison, labels: Sequence[str], name: str) -> str:
    """``you: more jazz (+24 pts) · NAME: more metal (+31 pts)``, or that the mixes agree."""
    yours = [f"{labels[g]} (+{100 * d:.0f} pts)" for g, d in comparison.different if d > 0]
    theirs = [f"{labels[g]} (+{-100 * d:.0f} pts)" for g, d in comparison.different if d < 0]
    parts = [f"you: more {', '.join(yours)}"] if yours else []
    parts += [f"{name}: more {', '.join(theirs)}"] if theirs else []
    return " · ".join(parts) or "your genre mixes agree"


_VOUCHED = {EventKind.LIKED: "liked it", EventKind.LISTENED: "listened to it", EventKind.SHARED: "shared it"}


def suggestion_reason(suggestion: Suggestion, name: str) -> str:
    """``NAME liked it · 62% metal — your top genre``."""
    return f"{name} {_VOUCHED[suggestion.vouched]} · {suggestion.reason}"


def journey_heading(journey: Journey) -> str:
    """``Journey of 8 songs by sound (variety 0.25); steps: largest 0.12, mean 0.07``."""
    return (
        f"Journey of {len(journey.songs)} songs by sound (variety {journey.variety:.2f}); "
        f"steps: largest {journey.steps.max():.2f}, mean {journey.steps.mean():.2f}"
    )


def rising_text(trends: Trends, labels: Sequence[str]) -> str:
    """``metal +12 pts · rock +6 pts`` against the all-time mix, or that nothing rose."""
    return " · ".join(f"{labels[genre]} +{100 * rise:.0f} pts" for genre, rise in trends.rising) or "nothing stands out"


def week_summary(trends: Trends) -> str:
    """``12 events, 9 of them shares, listens and likes``."""
    return f"{trends.events} event(s), {trends.played} of them shares, listens and likes"
