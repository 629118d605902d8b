"""Audio behind a ``url:``: the guarded yt-dlp fetch (``fetch``) and why a link is refused (``errors``)."""
