"""The server radio without Discord: the session that chooses and learns (``session``), the audio
path from song to Opus packets (``stream``, ``loudness``), the offline render (``render``) and what
it refuses (``errors``). ``cogs.radio`` and the console drive it."""
