"""The Discord front end, all of it: the client (``cogs.client``), error replies, charts and the
cogs, each built with the services. Nothing outside this package imports discord.py, and only
``bot.__main__`` imports this package, lazily, when a token is set."""
