"""What each user has yet to read (protocol 1.1 Chat fields), as plain functions over a connection.

A Chat answered to a user carries `last_read_seq` (its read marker, 0 where
none is stored), `unread` (messages after it that others sent and that are not
deleted) and `unread_mentions` (those of them that mention this user).
Mentions are counted through `message_mentions`, the rows the write path keeps
in step with each message's `mentions` in the same transaction. `move_marker`
is `mark_read`'s write; `members_fields` reads every member's counts of one
chat at once, for the `chat_activity` each stored message causes, and
`members_markers` what must not have moved for counts read before to be
carried forward by the messages stored since (`member_counts.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    update,
)

from ..errors import ChatError
from .direct import Direct
from .schema import chats, memberships, message_mentions, messages, read_markers


def index_mentions(conn: Connection, chat_id: str, seq: int, mentions: list[str],
                   replace: bool) -> None:
    """Record who message `seq` mentions (`replace`: forget whom it mentioned before)."""
    if replace:
        conn.execute(delete(message_mentions).where(
            message_mentions.c.chat_id == chat_id, message_mentions.c.seq == seq))
    if mentions:
        conn.execute(insert(message_mentions), [
            {"chat_id": chat_id, "user_id": user_id, "seq": seq} for user_id in mentions])


def _unread(chat_id: Any, user_id: Any, marker: Any, last_seq: Any) -> Any:
    """The count of messages after `marker` that others sent and that are not deleted.

    Seq has no gaps (the protocol's promise, kept by the write path), so the
    messages after the marker number `last_seq - marker`; the reader's own and
    the deleted ones among them are counted by their indexes and taken off.
    The cost follows those two, not the length of the chat's history.
    """
    after = (messages.c.chat_id == chat_id, messages.c.seq > marker)
    own = (select(func.count()).select_from(messages)
           .where(*after, messages.c.sender_id == user_id).scalar_subquery())
    deleted_others = (select(func.count()).select_from(messages)
                      .where(*after, messages.c.deleted == true(),
                             messages.c.sender_id != user_id).scalar_subquery())
    return last_seq - marker - own - deleted_others


def _unread_mentions(chat_id: Any, user_id: Any, marker: Any) -> Any:
    """The count of the reader's mentions after `marker` in messages others sent (a
    deleted message's mentions are gone from `message_mentions`)."""
    mentioned = message_mentions.join(messages, and_(
        messages.c.chat_id == message_mentions.c.chat_id,
        messages.c.seq == message_mentions.c.seq))
    return (select(func.count()).select_from(mentioned)
            .where(message_mentions.c.chat_id == chat_id, message_mentions.c.user_id == user_id,
                   message_mentions.c.seq > marker, messages.c.sender_id != user_id)
            .scalar_subquery())


def _reader_columns(user_id: Any) -> tuple[Any, Any, Any]:
    """(`last_read_seq`, `unread`, `unread_mentions`) of `user_id` in the chat of each row
    of `chats` outer-joined with that user's `read_markers`."""
    marker = func.coalesce(read_markers.c.last_read_seq, 0)
    return (marker.label("last_read_seq"),
            _unread(chats.c.id, user_id, marker, chats.c.last_seq).label("unread"),
            _unread_mentions(chats.c.id, user_id, marker).label("unread_mentions"))


def _with_markers_of(base: Any, user_id: Any) -> Any:
    """`base` (holding `chats`) with `user_id`'s read marker of each chat, where one is stored."""
    return base.outerjoin(read_markers, and_(read_markers.c.chat_id == chats.c.id,
                                             read_markers.c.user_id == user_id))


def reader_fields(conn: Connection, user_id: str,
                  chat_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`last_read_seq`, `unread` and `unread_mentions` of each chat, for one user."""
    chat_ids = list(chat_ids)
    rows = conn.execute(
        select(chats.c.id, *_reader_columns(user_id)).select_from(_with_markers_of(chats, user_id))
        .where(chats.c.id.in_(chat_ids))).all()
    found = {row.id: {"last_read_seq": row.last_read_seq, "unread": row.unread,
                      "unread_mentions": row.unread_mentions} for row in rows}
    none = {"last_read_seq": 0, "unread": 0, "unread_mentions": 0}
    return {chat_id: found.get(chat_id, dict(none)) for chat_id in chat_ids}


def move_marker(conn: Connection, chat_id: str, user_id: str, seq: int) -> tuple[int, bool]:
    """Move the user's read marker forward to `seq`; (marker now, whether it moved).

    Never back: a lower `seq` leaves it where it is. A `seq` above the chat's
    `last_seq` is `bad_request`. The chat row is locked first, so two moves
    of one marker (two devices) run one after the other.
    """
    last_seq = conn.scalar(select(chats.c.last_seq).where(chats.c.id == chat_id)
                           .with_for_update())
    if last_seq is None:
        raise ChatError(f"there is no chat {chat_id!r}", code="not_found")
    if seq > last_seq:
        raise ChatError(f"seq {seq} is beyond the chat's last_seq ({last_seq})",
                        code="bad_request")
    current = conn.scalar(select(read_markers.c.last_read_seq).where(
        read_markers.c.chat_id == chat_id, read_markers.c.user_id == user_id)) or 0
    if seq <= current:
        return current, False
    if current:
        conn.execute(update(read_markers).where(
            read_markers.c.chat_id == chat_id, read_markers.c.user_id == user_id)
            .values(last_read_seq=seq))
    else:
        conn.execute(insert(read_markers).values(chat_id=chat_id, user_id=user_id,
                                                 last_read_seq=seq))
    return seq, True


@dataclass(frozen=True)
class MemberCounts:
    """One chat's `last_seq` and `last_version`, and each workspace member's
    `last_read_seq`, `unread` and `unread_mentions`, as read together."""

    last_seq: int
    last_version: int
    members: dict[str, dict[str, int]]


@dataclass(frozen=True)
class MemberMarkers:
    """One chat's `last_seq` and `last_version`, and each workspace member's read marker:
    what must be unchanged for counts read earlier to be carried forward."""

    last_seq: int
    last_version: int
    markers: dict[str, int]


def _members_of(*columns: Any) -> Any:
    """Every member of the chat's workspace, with its read marker there (0 where none),
    for the chat bound as `chat_id`."""
    member = memberships.c.user_id
    return (select(chats.c.last_seq, chats.c.last_version, member,
                   func.coalesce(read_markers.c.last_read_seq, 0).label("last_read_seq"),
                   *columns)
            .select_from(_with_markers_of(
                chats.join(memberships, memberships.c.workspace_id == chats.c.workspace_id),
                member))
            .where(chats.c.id == bindparam("chat_id")))


def _members_with_counts() -> Any:
    member = memberships.c.user_id
    return _members_of(*_reader_columns(member)[1:])


# Built once: building a statement costs more than SQLite takes to run this one.
_MEMBERS_WITH_COUNTS = _members_with_counts()
_MEMBERS_WITH_MARKERS = Direct(_members_of())  # (last_seq, last_version, user_id, marker)


def members_fields(conn: Connection, chat_id: str) -> MemberCounts:
    """For every member of the chat's workspace, `last_read_seq`, `unread` and
    `unread_mentions`: one query for all of them (the `chat_activity` of a stored
    message). Its counts cost what each member's own and the deleted messages after
    its marker cost, not the chat's length (`_unread`)."""
    rows = conn.execute(_MEMBERS_WITH_COUNTS, {"chat_id": chat_id}).all()
    first = rows[0] if rows else None
    return MemberCounts(
        first.last_seq if first else 0, first.last_version if first else 0,
        {row.user_id: {"last_read_seq": row.last_read_seq, "unread": row.unread,
                       "unread_mentions": row.unread_mentions} for row in rows})


def members_markers(conn: Connection, chat_id: str) -> MemberMarkers:
    """The chat's positions and every member's read marker: one row per member, no counts."""
    rows = _MEMBERS_WITH_MARKERS.rows(conn, {"chat_id": chat_id})
    last_seq, last_version = rows[0][:2] if rows else (0, 0)
    return MemberMarkers(last_seq, last_version,
                         {user_id: marker for _seq, _version, user_id, marker in rows})
