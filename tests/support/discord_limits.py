"""Discord's limits on a message, as Discord checks them: the test harness refuses a body over any of
them the way Discord answers it (400, Invalid Form Body), so no test passes on a reply Discord would
refuse. Written from Discord's documentation, apart from the bot's own ``cogs.fit``."""

from __future__ import annotations

from typing import Any

import discord

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field name": 256,
    "field value": 1024,
    "footer": 2048,
    "author": 256,
    "embed total": 6000,
    "components": 5,
    "options": 25,
    "option label": 100,
    "option value": 100,
    "option description": 100,
    "button label": 80,
    "custom id": 100,
    "placeholder": 150,
}


def length(text: str | None) -> int:
    """Characters as Discord counts them (UTF-16 code units)."""
    return len((text or "").encode("utf-16-le")) // 2


def _over(what: str, text: str | None) -> list[str]:
    return [f"{what} has {length(text)} characters (limit {LIMITS[what]})"] if length(text) > LIMITS[what] else []


def _embed_problems(embed: dict[str, Any]) -> list[str]:
    fields = embed.get("fields") or []
    problems = _over("title", embed.get("title")) + _over("description", embed.get("description"))
    problems += _over("footer", (embed.get("footer") or {}).get("text"))
    problems += _over("author", (embed.get("author") or {}).get("name"))
    if len(fields) > LIMITS["fields"]:
        problems.append(f"{len(fields)} fields (limit {LIMITS['fields']})")
    for field in fields:
        problems += _over("field name", field.get("name")) + _over("field value", field.get("value"))
        if not field.get("name") or not field.get("value"):
            problems.append("a field without a name or a value")
    total = sum(
        length(text)
        for text in (
            embed.get("title"),
            embed.get("description"),
            (embed.get("footer") or {}).get("text"),
            (embed.get("author") or {}).get("name"),
            *(field.get(key) for field in fields for key in ("name", "value")),
        )
    )
    if total > LIMITS["embed total"]:
        problems.append(f"the embed has {total} characters (limit {LIMITS['embed total']})")
    return problems


def _component_problems(rows: list[dict[str, Any]]) -> list[str]:
    problems = [f"{len(rows)} rows (limit 5)"] if len(rows) > LIMITS["components"] else []
    for component in (component for row in rows for component in row.get("components", [])):
        problems += _over("custom id", component.get("custom_id"))
        problems += _over("placeholder", component.get("placeholder"))
        if component.get("type") == 2:
            problems += _over("button label", component.get("label"))
        options = component.get("options") or []
        if len(options) > LIMITS["options"]:
            problems.append(f"{len(options)} options (limit {LIMITS['options']})")
        for option in options:
            problems += _over("option label", option.get("label")) + _over("option value", option.get("value"))
            problems += _over("option description", option.get("description"))
    return problems


def problems(message: dict[str, Any]) -> list[str]:
    """Everything in a message body over Discord's limits (empty: Discord takes it)."""
    embeds = message.get("embeds") or []
    found = _over("content", message.get("content"))
    found += [f"{len(embeds)} embeds (limit 10)"] if len(embeds) > LIMITS["embeds"] else []
    for embed in embeds:
        found += _embed_problems(embed)
    return found + _component_problems(message.get("components") or [])


class _Refusal:
    status = 400
    reason = "Bad Request"


def refuse_if_over(message: dict[str, Any]) -> None:
    """Raise what discord.py raises when Discord refuses a body over its limits."""
    found = problems(message)
    if found:
        raise discord.HTTPException(_Refusal(), {"code": 50035, "message": "Invalid Form Body: " + "; ".join(found)})
