"""Discord's markdown: the ``strong`` of ``bot.texts``, and text members control shown as itself."""

from __future__ import annotations

import re
import urllib.parse

# A song links to where it was shared when that address is at most this long: a Discord message's
# is under 100; a page's can be 2,048, which would crowd the other songs out of a list.
MAX_LINK_CHARS = 300
# The characters Discord's markdown gives a meaning anywhere in a line (emphasis, code, spoilers,
# masked links, mentions, channels, custom emoji, links), and what starts a heading, a list or a
# quote at the start of one. Discord shows any of them escaped by a backslash as itself.
_INLINE = re.compile(r"([\\*_~|`<>\[\]()@:])")
_LINE_MARK = re.compile(r"^(\s*)([#+\-])")
_LIST_NUMBER = re.compile(r"^(\s*\d+)\.")


def bold(text: str) -> str:
    """Discord markdown for the ``strong`` parts of ``bot.texts`` messages."""
    return f"**{text}**"


def literal(text: str) -> str:
    """Text a member controls (a title, a label, a name, a value typed) as Discord shows it: every
    character its markdown reads escaped, so a title can neither format nor link anything."""
    text = _INLINE.sub(r"\\\1", text)
    return _LIST_NUMBER.sub(r"\1\\.", _LINE_MARK.sub(r"\1\\\2", text))


def quoted(text: str) -> str:
    """Text a member controls, for between backticks (where Discord reads no markdown but the
    backtick that ends the quote): its backticks made quotes."""
    return text.replace("`", "'")


def link_target(url: str | None) -> str | None:
    """``url`` as the target of a masked link: only http(s), at most :data:`MAX_LINK_CHARS`, with
    every character that could end the link or start another one percent-encoded; else None."""
    if not url or not url.lower().startswith(("https://", "http://")) or len(url) > MAX_LINK_CHARS:
        return None
    return urllib.parse.quote(url, safe=":/?#@!$&'*+,;=%~[]")
