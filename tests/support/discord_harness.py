"""Drive the real discord.py client offline, the way discord.py tests itself.

Interactions enter as gateway payloads through ``ConnectionState.parse_interaction_create``, so the
library does all the parsing (options, ranges, attachments, members, permissions) and dispatch
(command tree, persistent and dynamic views). What the library would send to Discord is recorded
at its HTTP boundary instead: the webhook adapter used for interaction responses and follow-ups,
``HTTPClient.request`` for REST calls, ``HTTPClient.get_from_cdn`` for attachment downloads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.webhook.async_ import AsyncWebhookAdapter

from tests.support.discord_limits import problems, refuse_if_over

APPLICATION_ID = 900_000_000_000_000_001
CHANNEL_ID = 900_000_000_000_000_002
_ids = itertools.count(910_000_000_000_000_000)


def snowflake() -> int:
    return next(_ids)


def user_payload(user_id: int, name: str = "member") -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None}


@dataclass
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)

    @property
    def flags(self) -> int:
        body = self.json or {}
        return int(body.get("data", body).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def response_type(self) -> int | None:
        return (self.json or {}).get("type")

    @property
    def message(self) -> dict[str, Any]:
        """The message body, for a callback (``data``) or a webhook call (the body itself)."""
        body = self.json or {}
        return body.get("data", body) if "type" in body else body

    @property
    def text(self) -> str:
        """Content and embed text together, for asserting on what the user reads."""
        message = self.message
        parts = [message.get("content") or ""]
        for embed in message.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        return "\n".join(part for part in parts if part)

    def custom_ids(self) -> list[str]:
        return [
            component["custom_id"]
            for row in self.message.get("components") or []
            for component in row.get("components", [])
        ]


class RecordingAdapter(AsyncWebhookAdapter):
    """The webhook adapter discord.py uses for interaction responses, answering like Discord would."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    async def request(self, route, session, *, payload=None, multipart=None, files=None, **kwargs) -> Any:
        body = payload
        if multipart:
            body = json.loads(next(part["value"] for part in multipart if part["name"] == "payload_json"))
        call = Call(
            route.method, route.path.format(**_route_parameters(route)), body, [file.filename for file in files or []]
        )
        self.recorder.calls.append(call)
        self.recorder.refuse_if_over(call)
        return self.recorder.reply_to(call, route)


def _route_parameters(route) -> dict[str, Any]:
    return {
        "webhook_id": route.webhook_id,
        "webhook_token": route.webhook_token,
        "message_id": getattr(route, "message_id", None) or "@original",
    }


class Recorder:
    """Everything the bot sent, in order, and the messages it created (to click on them later)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.refused: list[tuple[Call, list[str]]] = []  # what Discord would have refused, and why

    def refuse_if_over(self, call: Call) -> None:
        """Answer a message over Discord's limits as Discord does (tests.support.discord_limits)."""
        try:
            refuse_if_over(call.message)
        except discord.HTTPException as refusal:
            self.refused.append((call, problems(call.message)))
            raise refusal

    def reply_to(self, call: Call, route) -> Any:
        if call.method == "DELETE":
            return None
        if call.path.endswith("/callback"):
            message_id = snowflake()
            if call.message or call.response_type == 5:
                self.messages[message_id] = self._message(message_id, call.message)
            return {"interaction": {"id": str(route.webhook_id), "type": 2, "response_message_id": str(message_id)}}
        message_id = snowflake()
        self.messages[message_id] = self._message(message_id, call.message)
        return self.messages[message_id]

    @staticmethod
    def _message(message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(message_id),
            "channel_id": str(CHANNEL_ID),
            "author": user_payload(APPLICATION_ID, "genrebot"),
            "content": body.get("content") or "",
            "timestamp": "2026-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "components": body.get("components") or [],
        }

    def last_message_with(self, custom_id_prefix: str) -> dict[str, Any]:
        for message in reversed(list(self.messages.values())):
            if any(
                component["custom_id"].startswith(custom_id_prefix)
                for row in message["components"]
                for component in row["components"]
            ):
                return message
        raise AssertionError(f"no message has a component {custom_id_prefix}…")

    def clear(self) -> None:
        self.calls.clear()


@dataclass(frozen=True)
class RoleOption:
    """A role given as a command option (``role:@teachers``)."""

    id: int

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": f"role{self.id % 1000}",
            "permissions": "0",
            "position": 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(frozen=True)
class MemberOption:
    """A user given as a command option (``member:@someone``): a member of the server, or with
    ``in_server=False`` a user who is not one (Discord then resolves no member data)."""

    id: int
    in_server: bool = True

    def user(self) -> dict[str, Any]:
        return user_payload(self.id, f"user{self.id % 1000}")

    def member(self) -> dict[str, Any]:
        return {"roles": [], "joined_at": "2025-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0}


def guild_payload(guild_id: int, role_ids: list[int]) -> dict[str, Any]:
    """A server as the gateway's GUILD_CREATE describes it, with these roles besides @everyone."""
    everyone = {**RoleOption(guild_id).payload(), "name": "@everyone", "position": 0}
    return {
        "id": str(guild_id),
        "name": "server",
        "roles": [everyone, *(RoleOption(r).payload() for r in role_ids)],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 2,
        "owner_id": str(APPLICATION_ID),
        "channels": [],
        "members": [],
        "threads": [],
    }


def _option(name: str, value: Any) -> dict[str, Any]:
    kinds = {bool: 5, int: 4, float: 10, str: 3}
    if isinstance(value, dict):  # an attachment_payload()
        return {"name": name, "type": 11, "value": value["id"]}
    if isinstance(value, RoleOption):
        return {"name": name, "type": 8, "value": str(value.id)}
    if isinstance(value, MemberOption):
        return {"name": name, "type": 6, "value": str(value.id)}
    if isinstance(value, discord.abc.Snowflake):
        return {"name": name, "type": 7, "value": str(value.id)}
    return {"name": name, "type": kinds[type(value)], "value": value}


def _base(guild_id: int | None, user_id: int, permissions: int, roles: tuple[int, ...] = ()) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(snowflake()),
        "application_id": str(APPLICATION_ID),
        "token": f"token-{snowflake()}",
        "version": 1,
        "channel_id": str(CHANNEL_ID),
        "locale": "en-US",
        "app_permissions": "0",
        "attachment_size_limit": 25 * 1024 * 1024,
        "channel": {
            "id": str(CHANNEL_ID),
            "type": 0,
            "name": "music",
            "position": 0,
            "nsfw": False,
            "permission_overwrites": [],
        },
    }
    user = user_payload(user_id, f"user{user_id % 1000}")
    if guild_id is None:
        payload["user"] = user
        payload["channel"] = {"id": str(CHANNEL_ID), "type": 1, "recipients": [user]}
    else:
        payload["guild_id"] = str(guild_id)
        payload["member"] = {
            "user": user,
            "roles": [str(role) for role in roles],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "permissions": str(permissions),
            "flags": 0,
        }
    return payload


def command_payload(
    name: str,
    *,
    guild_id: int | None,
    user_id: int,
    subcommand: str | None = None,
    permissions: int = 0,
    roles: tuple[int, ...] = (),
    focused: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A CHAT_INPUT interaction as the gateway delivers it; attachments and roles go in ``resolved``.
    ``roles``: the member's own roles. ``focused``: the option being typed, for an AUTOCOMPLETE."""
    opts = [_option(key, value) for key, value in options.items()]
    for option in opts:
        if option["name"] == focused:
            option["focused"] = True
    attachments = [value for value in options.values() if isinstance(value, dict)]
    channels = [value for value in options.values() if isinstance(value, discord.abc.Snowflake)]
    role_options = [value for value in options.values() if isinstance(value, RoleOption)]
    users = [value for value in options.values() if isinstance(value, MemberOption)]
    if subcommand:
        opts = [{"name": subcommand, "type": 1, "options": opts}]
    payload = _base(guild_id, user_id, permissions, tuple(roles))
    payload["type"] = 2 if focused is None else 4
    payload["data"] = {
        "id": str(snowflake()),
        "name": name,
        "type": 1,
        "options": opts,
        "resolved": {
            "attachments": {a["id"]: a for a in attachments},
            "roles": {str(r.id): r.payload() for r in role_options},
            "users": {str(u.id): u.user() for u in users},
            "members": {str(u.id): u.member() for u in users if u.in_server},
            "channels": {
                str(c.id): {"id": str(c.id), "type": 0, "name": "music", "permissions": "0"} for c in channels
            },
        },
    }
    return payload


def attachment_payload(filename: str, size: int, content_type: str | None) -> dict[str, Any]:
    attachment_id = str(snowflake())
    payload = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": f"https://cdn.discordapp.com/attachments/{CHANNEL_ID}/{attachment_id}/{filename}",
        "proxy_url": f"https://media.discordapp.net/attachments/{attachment_id}/{filename}",
    }
    if content_type:
        payload["content_type"] = content_type
    return payload


def component_payload(
    message: dict[str, Any],
    custom_id: str,
    *,
    guild_id: int | None,
    user_id: int,
    permissions: int = 0,
    values: list[str] | None = None,
) -> dict[str, Any]:
    """A click on a button (or a choice in a select menu) of a message the bot sent."""
    component_type = next(
        component["type"]
        for row in message["components"]
        for component in row["components"]
        if component["custom_id"] == custom_id
    )
    payload = _base(guild_id, user_id, permissions)
    payload["type"] = 3
    payload["message"] = message
    payload["data"] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        payload["data"]["values"] = values
    return payload


async def settle(earlier: set[asyncio.Task], timeout: float = 10.0) -> None:
    """Wait for the handlers the client started since ``earlier`` was taken."""
    async with asyncio.timeout(timeout):
        while pending := [
            task
            for task in asyncio.all_tasks() - earlier
            if not task.done() and task.get_name().startswith(_HANDLER_TASKS)
        ]:
            await asyncio.wait(pending)


# Tasks discord.py starts to handle an event: the command invoker, view and dynamic-item callbacks,
# event listeners. (Not view timeouts, which would make every wait last as long as the view.)
_HANDLER_TASKS = ("CommandTree-invoker", "discord-ui-view-dispatch", "discord-ui-dynamic-item", "discord.py: on_")


async def deliver(client: discord.Client, payload: dict[str, Any], timeout: float = 10.0) -> None:
    """Hand a gateway INTERACTION_CREATE to the client and wait until it has handled it (and only it:
    handlers of earlier interactions may still be running)."""
    earlier = asyncio.all_tasks()
    client._connection.parse_interaction_create(payload)
    await settle(earlier, timeout)
