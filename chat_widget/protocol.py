"""The wire contract's names and limits, shared by the server and the clients.

Everything here mirrors PROTOCOL.md (version 1.1): event names, error codes with
their HTTP status, size limits, the shapes of what goes over the wire (as
TypedDicts, so the client, the server and the widget name one `Message`), and
the plain validation functions that both sides call without a socket.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any, TypedDict

from . import json_text
from .errors import ChatError

# Socket.IO events a client emits (each with an acknowledgement).
JOIN = "join"
LEAVE = "leave"
HISTORY = "history"
SEND_MESSAGE = "send_message"
# Protocol 1.1: changing a stored message, and catching up on changes.
EDIT_MESSAGE = "edit_message"
DELETE_MESSAGE = "delete_message"
REACT = "react"
CHANGES = "changes"
# Protocol 1.1: who is typing, what was read.
TYPING = "typing"
MARK_READ = "mark_read"

# Socket.IO events the server emits.
MESSAGE = "message"
MESSAGE_DELTA = "message_delta"
REPLY_FAILED = "reply_failed"
MESSAGE_UPDATED = "message_updated"
# Protocol 1.1 (`typing` is emitted by both sides).
PRESENCE = "presence"
READ = "read"
CHAT_ACTIVITY = "chat_activity"

PROTOCOL_VERSION = "1.1"

# Error codes and the HTTP status each one maps to.
ERROR_STATUS: dict[str, int] = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "not_joined": 403,
    "bad_request": 400,
    "invalid_auth": 403,
    "auth_expired": 403,
    "auth_reused": 403,
    "too_large": 413,
    "rate_limited": 429,
    "internal": 500,
}
ERROR_CODES = frozenset(ERROR_STATUS)

# Limits the protocol names.
MAX_TEXT_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 1024 * 1024
DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 500
JOIN_CATCH_UP_LIMIT = 500

IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
FILE_PART = "file"
MAX_EMOJI_CODE_POINTS = 32


# --- shapes -----------------------------------------------------------------
# What PROTOCOL.md's entities and event payloads hold. Data from the wire is
# checked where it enters (the validators below on the server, `isinstance`
# on the client) before it is treated as one of these.

Scalar = str | int | float | bool | None


class User(TypedDict):
    """Who wrote a message: a person ("user") or a responder ("bot")."""

    id: str
    name: str
    kind: str


class _PartType(TypedDict):
    type: str


class Part(_PartType, total=False):
    """One piece of rich content; which keys it has depends on `type`.

    markdown: text; code: language, text; table: columns, rows; image: mime,
    data (base64); file (1.1): file_id, name, mime, size. Unknown types are
    kept as they are.
    """

    text: str
    language: str
    columns: list[str]
    rows: list[list[Scalar]]
    mime: str
    data: str
    # protocol 1.1: a file part carries its file's id, name, type and size
    file_id: str
    name: str
    size: int


class File(TypedDict):
    """Protocol 1.1: an uploaded file; `sha256` is lowercase hex of its bytes."""

    id: str
    chat_id: str
    name: str
    mime: str
    size: int
    sha256: str


class FileLink(TypedDict):
    """`POST /api/files/{file_id}/link`: a URL that fetches the file without a token."""

    url: str
    expires_at: float


class Reaction(TypedDict):
    """One emoji on a message and who put it there, in the order they did."""

    emoji: str
    users: list[str]


class Message(TypedDict):
    """A stored chat message, as every event and answer carries it."""

    id: str
    chat_id: str
    seq: int
    sender: User
    text: str
    parts: list[Part]
    client_id: str | None
    reply_to: str | None
    created_at: str
    # protocol 1.1
    version: int
    edited_at: str | None
    deleted: bool
    reactions: list[Reaction]
    mentions: list[str]


class _ChatBase(TypedDict):
    id: str
    workspace_id: str
    title: str
    responder: str | None
    last_seq: int
    last_version: int


class Chat(_ChatBase, total=False):
    """A chat: `responder` is None between people, else the bot that answers there.

    Answered to a user (`GET /api/chats`, `join`), it carries that user's
    `last_read_seq`, `unread` and `unread_mentions` too.
    """

    last_read_seq: int
    unread: int
    unread_mentions: int


class _ErrorBase(TypedDict):
    code: str
    message: str


class Error(_ErrorBase, total=False):
    """A refusal: the protocol's code and a sentence (`retry_after` with rate_limited)."""

    retry_after: float


class MessageDelta(TypedDict):
    """`message_delta`: piece `index` of the reply `id` being written to `reply_to`."""

    chat_id: str
    id: str
    reply_to: str
    index: int
    delta: str


class ReplyFailed(TypedDict):
    """`reply_failed`: the responder could not answer message `reply_to`."""

    chat_id: str
    reply_to: str
    error: Error


class Presence(TypedDict):
    """`presence`: the users with a connection joined to `chat_id` now."""

    chat_id: str
    users: list[User]


class Typing(TypedDict):
    """`typing` from the server: `user` started or stopped typing in `chat_id`."""

    chat_id: str
    user: User
    typing: bool


class Read(TypedDict):
    """`read`: `user_id`'s read marker in `chat_id` moved to `last_read_seq`."""

    chat_id: str
    user_id: str
    last_read_seq: int


class _ChatActivityBase(TypedDict):
    chat_id: str
    last_seq: int
    unread: int
    unread_mentions: int


class ChatActivity(_ChatActivityBase, total=False):
    """`chat_activity`: a chat's latest seq and this user's unread counts there
    (`last_read_seq` is this server's extension)."""

    last_read_seq: int


class SendMessage(TypedDict, total=False):
    """The `send_message` payload (`parts` optional)."""

    chat_id: str
    text: str
    parts: list[Part]
    client_id: str
    auth: str


class Page(TypedDict):
    """A page of messages in ascending `seq`: history, and the catch-up in a join."""

    messages: list[Message]
    has_more: bool


class _JoinedBase(Page):
    chat: Chat


class Joined(_JoinedBase, total=False):
    """What a `join` answers (besides `ok`): the chat and its latest or missed messages,
    and with `after_version` the messages changed since."""

    updated: list[Message]
    has_more_updates: bool
    present: list[User]
    typing: list[User]


class MessageAuth(TypedDict):
    """`POST /api/message-auth`: a single-use string for one message to `chat_id`."""

    auth: str
    chat_id: str
    expires_at: float


class Me(TypedDict):
    """`GET /api/me`: the signed-in user and the workspaces it belongs to."""

    id: str
    name: str
    workspaces: list[dict[str, str]]


Ack = dict[str, Any]
"""An acknowledgement: `{"ok": true, ...}` (one of the shapes above) or `{"ok": false, "error"}`."""


def as_message(value: Any) -> Message | None:
    """`value` as a Message if it has the fields a client relies on, else None.

    For what a client receives: the server is trusted to send whole messages,
    but a malformed event must be dropped, not break the client's state.
    """
    if not isinstance(value, dict):
        return None
    sender = value.get("sender")
    if (isinstance(value.get("id"), str) and isinstance(value.get("chat_id"), str)
            and isinstance(value.get("seq"), int) and isinstance(sender, dict)
            and isinstance(sender.get("kind"), str)):
        return value  # type: ignore[return-value]  # checked just above
    return None


def error_payload(code: str, message: str, **extra: Any) -> Error:
    """Build the protocol's Error object (`retry_after` rides along for rate limits)."""
    error: dict[str, Any] = {"code": code, "message": message}
    error.update(extra)
    return error  # type: ignore[return-value]  # extra holds only the protocol's optional keys


def failed_ack(code: str, message: str, **extra: Any) -> Ack:
    """The acknowledgement a Socket.IO event gets when it is refused."""
    return {"ok": False, "error": error_payload(code, message, **extra)}


# --- validation -----------------------------------------------------------
# Plain functions over decoded JSON, raising ChatError("bad_request" / "too_large").
# The server calls them on every payload; clients may call them before sending.

MAX_ID_LENGTH = 200
MAX_CLIENT_ID_LENGTH = 200
_SCALAR_TYPES = (str, int, float, bool, type(None))


def _bad(message: str) -> ChatError:
    return ChatError(message, code="bad_request")


def require_object(payload: Any, what: str = "payload") -> dict[str, Any]:
    """A payload must be a JSON object; anything else is a bad request."""
    if not isinstance(payload, dict):
        raise _bad(f"{what} must be a JSON object")
    return payload


def require_text(value: Any, name: str, max_length: int = MAX_ID_LENGTH) -> str:
    """A non-empty string of sane length without NUL or lone surrogates (ids, names)."""
    if not isinstance(value, str) or not value:
        raise _bad(f"{name} must be a non-empty string")
    if len(value) > max_length:
        raise _bad(f"{name} is longer than {max_length} characters")
    check_encodable(value, name)
    if "\x00" in value:
        raise _bad(f"{name} must not contain NUL characters")
    return value


def check_encodable(value: str, name: str) -> None:
    """Refuse strings that cannot be stored as UTF-8 (lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(f"{name} is not valid Unicode text") from None


def optional_int(value: Any, name: str, minimum: int = 0, maximum: int = 2**62) -> int | None:
    """An optional integer in range; booleans and floats are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} must be an integer")
    if not minimum <= value <= maximum:
        raise _bad(f"{name} must be between {minimum} and {maximum}")
    return value


def history_limit(value: Any) -> int:
    """`limit` for history: 1..500, default 50."""
    limit = optional_int(value, "limit", 1, MAX_HISTORY_LIMIT)
    return DEFAULT_HISTORY_LIMIT if limit is None else limit


def message_text(value: Any) -> str:
    """Message text: a string (may be empty) of at most 64 KiB as UTF-8."""
    if not isinstance(value, str):
        raise _bad("text must be a string")
    check_encodable(value, "text")
    if "\x00" in value:
        raise _bad("text must not contain NUL characters")
    if len(value.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ChatError(f"text is larger than {MAX_TEXT_BYTES} bytes", code="too_large")
    return value


def check_message_size(payload: dict[str, Any]) -> None:
    """A send or an edit is at most 1 MiB in all, as JSON (the json module's text).

    Most messages are far below the limit, and the json module's text cost a
    hundredth of the server's CPU per message, so orjson's compact text is
    measured first: the json module's is at most three times as long (a space
    after each one-byte separator; `-Infinity` where orjson writes `null`), so
    a third of the limit proves it. Whatever orjson refuses, and anything
    nearer the limit, is measured as before.
    """
    encoded = json_text.compact(payload)
    if encoded is not None and 3 * len(encoded) <= MAX_MESSAGE_BYTES:
        return
    if len(json.dumps(payload, ensure_ascii=False).encode()) > MAX_MESSAGE_BYTES:
        raise ChatError("the message is larger than 1 MiB", code="too_large")


def reaction_emoji(value: Any) -> str:
    """A reaction's emoji: 1..32 Unicode code points, no whitespace.

    Control characters are refused too (an extension: they cannot be shown).
    """
    if not isinstance(value, str) or not value:
        raise _bad("emoji must be a non-empty string")
    if len(value) > MAX_EMOJI_CODE_POINTS:
        raise _bad(f"emoji is longer than {MAX_EMOJI_CODE_POINTS} code points")
    check_encodable(value, "emoji")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise _bad("emoji must not contain whitespace or control characters")
    return value


def require_bool(value: Any, name: str) -> bool:
    """A JSON boolean (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise _bad(f"{name} must be true or false")
    return value


def message_parts(value: Any) -> list[Part]:
    """Rich parts: a list of objects with a string `type`; known types are checked.

    Unknown part types are kept as they are (the protocol says clients show
    them by their type), but they must still be plain JSON of bounded depth.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad("parts must be a list")
    for index, part in enumerate(value):
        _check_part(part, index)
    return value  # each part checked just above


def _check_part(part: Any, index: int) -> None:
    where = f"parts[{index}]"
    if not isinstance(part, dict):
        raise _bad(f"{where} must be an object")
    kind = part.get("type")
    if not isinstance(kind, str) or not kind:
        raise _bad(f"{where}.type must be a non-empty string")
    _check_json_depth(part, where)
    if kind in ("markdown", "code"):
        message_text_field(part.get("text"), f"{where}.text")
        if kind == "code" and not isinstance(part.get("language", ""), str):
            raise _bad(f"{where}.language must be a string")
    elif kind == "table":
        columns, rows = part.get("columns"), part.get("rows")
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise _bad(f"{where}.columns must be a list of strings")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad(f"{where}.rows must be a list of lists")
        for row in rows:
            if len(row) != len(columns) or not all(isinstance(v, _SCALAR_TYPES) for v in row):
                raise _bad(f"{where}.rows must hold one scalar per column")
    elif kind == "image":
        if part.get("mime") not in IMAGE_MIMES:
            raise _bad(f"{where}.mime must be one of {', '.join(IMAGE_MIMES)}")
        if not isinstance(part.get("data"), str):
            raise _bad(f"{where}.data must be a base64 string")
    elif kind == FILE_PART:
        file_id = part.get("file_id")
        if not isinstance(file_id, str) or not file_id or len(file_id) > MAX_ID_LENGTH:
            raise _bad(f"{where}.file_id must name an uploaded file")


def message_text_field(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string")
    check_encodable(value, name)


def _check_json_depth(value: Any, where: str, depth: int = 0) -> None:
    """Refuse deeply nested values (so storing and echoing them stays cheap) and numbers
    JSON has no spelling for."""
    if depth > 20:
        raise _bad(f"{where} is nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _bad(f"{where} has a non-string key")
            check_encodable(key, where)
            _check_json_depth(item, where, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_depth(item, where, depth + 1)
    elif isinstance(value, str):
        check_encodable(value, where)
    elif isinstance(value, float) and not math.isfinite(value):
        # Python's json module reads and writes NaN and Infinity, JSON has neither:
        # a browser's JSON.parse refuses the whole packet (and the history page)
        # that carries one, so one such message would cut every browser off the chat.
        raise _bad(f"{where} holds {value!r}, which JSON cannot carry")
