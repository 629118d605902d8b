"""The Discord front end, all of it: the client (``cogs.client``), error replies, charts and the
cogs, each built with the services. Nothing outside this package imports discord.py, and only
``genrebot.cli`` imports this package, lazily, when a token is set."""
