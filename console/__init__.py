"""The console front end: genrebot's commands typed or piped line by line, as a local user in a local
server, over the same services as the Discord bot and without discord.py (``repl``)."""
