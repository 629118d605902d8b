"""Discord's limits on a message, and the one place where what the bot says is measured and cut to fit.

Discord refuses a whole message when one part is over its limit (the member then reads "interaction
failed"), so every reply goes through :func:`message` (by way of ``cogs.replies.send``): content,
embed title, description, fields, footer and the embed's total are each cut to their limit, and
lists are cut between whole lines with a last line saying how many were left out
(:func:`lines`), so no masked link or bold is cut in half. Select options and button labels are
cut where they are made (:func:`cut`). Lengths are counted as Discord counts them, in UTF-16 code
units (an emoji outside the basic plane counts two).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

# https://discord.com/developers/docs/resources/message#create-message-jsonform-params and
# .../resources/message#embed-object-embed-limits, .../interactions/message-components
CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000
OPTION_LABEL = 100
BUTTON_LABEL = 80
ELLIPSIS = "…"


def size(text: str) -> int:
    """``text``'s length as Discord counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """``text``, or as much of it as fits in ``limit`` with ``…`` at the end."""
    if size(text) <= limit:
        return text
    kept = text[: limit - 1]
    while size(kept) > limit - 1:  # characters outside the basic plane count twice
        kept = kept[:-1]
    return kept.rstrip() + ELLIPSIS


def more_line(left_out: int) -> str:
    return f"{ELLIPSIS} and {left_out} more"


def lines(items: Sequence[str], limit: int, *, separator: str = "\n") -> str:
    """``items`` joined: as many whole items as fit in ``limit``, then a line saying how many more
    there are. An item too long to fit beside that line on its own is cut."""
    room = limit - size(separator + more_line(len(items)))
    items = [cut(item, room) for item in items]
    for count in range(len(items), 0, -1):
        left_out = len(items) - count
        text = separator.join([*items[:count], *([more_line(left_out)] if left_out else [])])
        if size(text) <= limit:
            return text
    return ""


def embed(original: discord.Embed) -> discord.Embed:
    """A copy of ``original`` with every part within its limit and the whole within
    :data:`EMBED_TOTAL` (the description gives way first, then the fields from the last)."""
    data: dict[str, Any] = original.to_dict()
    if "title" in data:
        data["title"] = cut(data["title"], TITLE)
    if "description" in data:
        data["description"] = cut(data["description"], DESCRIPTION)
    if "footer" in data:
        data["footer"]["text"] = cut(data["footer"]["text"], FOOTER)
    if "author" in data:
        data["author"]["name"] = cut(data["author"]["name"], AUTHOR)
    fields = data.get("fields", [])[:FIELDS]
    for field in fields:
        field["name"] = cut(field["name"], FIELD_NAME)
        field["value"] = cut(field["value"], FIELD_VALUE)
    data["fields"] = fields
    over = _total(data) - EMBED_TOTAL
    if over > 0 and "description" in data:
        data["description"] = cut(data["description"], max(size(data["description"]) - over, 1))
    while _total(data) > EMBED_TOTAL and data["fields"]:
        data["fields"].pop()
    return discord.Embed.from_dict(data)


def _total(data: dict[str, Any]) -> int:
    """What Discord counts against :data:`EMBED_TOTAL`: title, description, field names and values,
    footer text and author name."""
    parts = [data.get("title", ""), data.get("description", "")]
    parts += [field[key] for field in data.get("fields", []) for key in ("name", "value")]
    parts += [data.get("footer", {}).get("text", ""), data.get("author", {}).get("name", "")]
    return sum(size(part) for part in parts)


def message(content: str | None = None, embed_: discord.Embed | None = None) -> dict[str, Any]:
    """The keyword arguments of a discord.py send or edit, each within its limit: ``content`` and
    ``embed`` only when given."""
    fitted: dict[str, Any] = {}
    if content is not None:
        fitted["content"] = cut(content, CONTENT)
    if embed_ is not None:
        fitted["embed"] = embed(embed_)
    return fitted
