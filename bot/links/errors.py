"""Why a ``url:`` was refused or could not be fetched; ``str()`` is the sentence the user sees (see
:mod:`bot.errors`). No site's or yt-dlp's own text ever reaches it."""

from __future__ import annotations

from bot.errors import GenreBotError, cut, mib


class LinkError(GenreBotError):
    """A ``url:`` that was refused or could not be fetched."""


class UnsupportedLinkError(LinkError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(url)

    def __str__(self) -> str:
        return f"I can only fetch http:// and https:// links, and `{cut(self.url)}` isn't one."


class InternalAddressError(LinkError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(host)

    def __str__(self) -> str:
        return f"I won't fetch from `{cut(self.host)}`: it points to a private or internal network address."


class UnresolvableHostError(LinkError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(host)

    def __str__(self) -> str:
        return f"I couldn't find the server `{cut(self.host)}`. Check the link for typos."


class PlaylistLinkError(LinkError):
    def __str__(self) -> str:
        return "That link is a playlist; send a link to a single song."


class DownloadTooLargeError(LinkError):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(limit_bytes)

    def __str__(self) -> str:
        return f"The audio behind that link is larger than {mib(self.limit_bytes)}, my limit."


class DownloadTimeoutError(LinkError):
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(timeout_s)

    def __str__(self) -> str:
        return f"Fetching that link took longer than {self.timeout_s:.0f} s, so I gave up. Try a file instead."


class NoAudioAtLinkError(LinkError):
    def __str__(self) -> str:
        return "I couldn't find any audio I can download at that link."


class LiveStreamLinkError(LinkError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(url)

    def __str__(self) -> str:
        return "That link is a live stream; send a link to a recording of a single song."


class NoSafeFormatError(LinkError):
    """The site offers the audio only through protocols the guarded downloader doesn't speak."""

    def __init__(self, url: str, protocols: tuple[str, ...]) -> None:
        self.url = url
        self.protocols = protocols
        super().__init__(url, protocols)

    def __str__(self) -> str:
        return "That site only offers the audio in a form I don't download (a stream, not a file). Try another link."


class GeoBlockedLinkError(LinkError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(url)

    def __str__(self) -> str:
        return "The site doesn't offer that audio in the country I'm running from."


class LinkRefusedError(LinkError):
    """The site answered 401/403, or said the item is private or needs a login."""

    def __init__(self, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(url, status)

    def __str__(self) -> str:
        return "The site wouldn't give me that audio: it may be private or need a login."


class LinkNotFoundError(LinkError):
    def __init__(self, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(url, status)

    def __str__(self) -> str:
        return "There's nothing at that link any more (the site says it's not found). Check the link."


class SiteError(LinkError):
    """The site answered, but not with something usable (an error page, a broken reply, a redirect to a
    place I don't go such as file:// or ftp://)."""

    def __init__(self, url: str, host: str) -> None:
        self.url = url
        self.host = host
        super().__init__(url, host)

    def __str__(self) -> str:
        return f"I couldn't get the audio from `{self.host[:100]}`: the site's answer wasn't something I can use."


class UnreachableSiteError(LinkError):
    def __init__(self, url: str, host: str) -> None:
        self.url = url
        self.host = host
        super().__init__(url, host)

    def __str__(self) -> str:
        return f"I couldn't reach `{self.host[:100]}` (the connection failed). Try again later or send a file."
