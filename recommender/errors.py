"""Recommender errors; ``str()`` is a friendly sentence fit to show an end user."""

from __future__ import annotations

from genre_engine.errors import PortableError


class RecommenderError(PortableError):
    """Base of every error the recommender raises on purpose."""


class InvalidCountError(RecommenderError, ValueError):
    """A playlist or "more like this" length outside 1..limit (or not an integer)."""

    def __init__(self, what: str, value: object, limit: int) -> None:
        self.what = what
        self.value = value
        self.limit = limit
        super().__init__(what, value, limit)

    def __str__(self) -> str:
        return f"A {self.what} can have from 1 to {self.limit} songs (you asked for {self.value!r})."


class NothingMatchesError(RecommenderError):
    """Playlist filters (``style:``, ``mood:``, ``genre:``) that no song of the pool passes;
    ``filters``: each as (kind, value)."""

    def __init__(self, filters: tuple[tuple[str, str], ...]) -> None:
        self.filters = filters
        super().__init__(filters)

    def __str__(self) -> str:
        wanted = " and ".join(f"{kind} `{value[:40]}`" for kind, value in self.filters)
        return f"No song in this server's pool matches {wanted}. Try another, or leave the filter out."


class UnknownFilterError(RecommenderError, ValueError):
    """A playlist filter naming a style, mood or genre the bot doesn't know."""

    def __init__(self, kind: str, value: str, known: tuple[str, ...]) -> None:
        self.kind = kind
        self.value = value
        self.known = known
        super().__init__(kind, value, known)

    def __str__(self) -> str:
        if self.kind not in ("style", "mood", "genre"):
            return f"Playlists filter by `style:`, `mood:` or `genre:`, not `{self.kind[:20]}:`."
        options = ", ".join(self.known[:30]) or "none yet"
        return f"I don't know the {self.kind} `{self.value[:40]}`. Known {self.kind}s: {options}."


class NoHistoryError(RecommenderError):
    """A taste comparison with a member (``user_id``) who has no history in the server: ``yours``
    when it is the asker. A member who asked to be forgotten has none."""

    def __init__(self, user_id: int, yours: bool) -> None:
        self.user_id = user_id
        self.yours = yours
        super().__init__(user_id, yours)

    def __str__(self) -> str:
        if self.yours:
            return (
                "You have no listening history in this server yet, so there is no taste of yours to compare. "
                "Share songs with /classify or rate some from /playlist first."
            )
        return "That member has no listening history in this server, so there is no taste of theirs to compare."


class SameMemberError(RecommenderError):
    """A member compared with themselves."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(user_id)

    def __str__(self) -> str:
        return "That's you: your taste always matches itself. Pick another member to compare with."


class SameSongError(RecommenderError):
    """A journey asked from a song to itself."""

    def __init__(self, song_id: int) -> None:
        self.song_id = song_id
        super().__init__(song_id)

    def __str__(self) -> str:
        return f"A journey goes from one song to another: song #{self.song_id} is both ends. Pick two different songs."


class NotAnalysedYetError(RecommenderError):
    """A song whose stored analysis is another model's than the one in use: its sound can't be
    compared until it is analysed again (``bot.reanalysis`` does it in the background)."""

    def __init__(self, song_id: int) -> None:
        self.song_id = song_id
        super().__init__(song_id)

    def __str__(self) -> str:
        return (
            f"Song #{self.song_id} is waiting to be analysed again by the model I use now, so I can't "
            "compare its sound yet. Ask again in a little while."
        )
