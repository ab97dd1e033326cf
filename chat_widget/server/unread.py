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
    false,
    func,
    insert,
    select,
    update,
)

from ..errors import ChatError
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


def reader_fields(conn: Connection, user_id: str,
                  chat_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`last_read_seq`, `unread` and `unread_mentions` of each chat, for one user."""
    chat_ids = list(chat_ids)
    marker = read_markers.c.last_read_seq
    own_marker = read_markers.c.user_id == user_id
    markers = dict(conn.execute(
        select(read_markers.c.chat_id, marker)
        .where(own_marker, read_markers.c.chat_id.in_(chat_ids))).all())

    def after_marker(table: Any) -> Any:
        return table.outerjoin(read_markers, and_(
            read_markers.c.chat_id == table.c.chat_id, own_marker))

    unread: dict[str, int] = dict(conn.execute(
        select(messages.c.chat_id, func.count())
        .select_from(after_marker(messages))
        .where(messages.c.chat_id.in_(chat_ids),
               messages.c.seq > func.coalesce(marker, 0),
               messages.c.sender_id != user_id, messages.c.deleted == false())
        .group_by(messages.c.chat_id)).all())
    mentioned = message_mentions.join(messages, and_(
        messages.c.chat_id == message_mentions.c.chat_id,
        messages.c.seq == message_mentions.c.seq))
    unread_mentions: dict[str, int] = dict(conn.execute(
        select(message_mentions.c.chat_id, func.count())
        .select_from(mentioned.outerjoin(read_markers, and_(
            read_markers.c.chat_id == message_mentions.c.chat_id, own_marker)))
        .where(message_mentions.c.chat_id.in_(chat_ids), message_mentions.c.user_id == user_id,
               message_mentions.c.seq > func.coalesce(marker, 0),
               messages.c.sender_id != user_id)
        .group_by(message_mentions.c.chat_id)).all())
    return {chat_id: {"last_read_seq": markers.get(chat_id, 0),
                      "unread": unread.get(chat_id, 0),
                      "unread_mentions": unread_mentions.get(chat_id, 0)}
            for chat_id in chat_ids}


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
            .select_from(chats.join(memberships, memberships.c.workspace_id == chats.c.workspace_id)
                         .outerjoin(read_markers, and_(read_markers.c.chat_id == chats.c.id,
                                                       read_markers.c.user_id == member)))
            .where(chats.c.id == bindparam("chat_id")))


def _members_with_counts() -> Any:
    member = memberships.c.user_id
    marker = func.coalesce(read_markers.c.last_read_seq, 0)
    unread = (select(func.count()).select_from(messages)
              .where(messages.c.chat_id == chats.c.id, messages.c.seq > marker,
                     messages.c.sender_id != member, messages.c.deleted == false())
              .scalar_subquery())
    mentioned = message_mentions.join(messages, and_(
        messages.c.chat_id == message_mentions.c.chat_id,
        messages.c.seq == message_mentions.c.seq))
    unread_mentions = (select(func.count()).select_from(mentioned)
                       .where(message_mentions.c.chat_id == chats.c.id,
                              message_mentions.c.user_id == member,
                              message_mentions.c.seq > marker,
                              messages.c.sender_id != member)
                       .scalar_subquery())
    return _members_of(unread.label("unread"), unread_mentions.label("unread_mentions"))


# Built once: building a statement costs more than SQLite takes to run this one.
_MEMBERS_WITH_COUNTS = _members_with_counts()
_MEMBERS_WITH_MARKERS = _members_of()


def members_fields(conn: Connection, chat_id: str) -> MemberCounts:
    """For every member of the chat's workspace, `last_read_seq`, `unread` and
    `unread_mentions`: one query for all of them (the `chat_activity` of a stored
    message). Its correlated counts read every unread message of every member."""
    rows = conn.execute(_MEMBERS_WITH_COUNTS, {"chat_id": chat_id}).all()
    first = rows[0] if rows else None
    return MemberCounts(
        first.last_seq if first else 0, first.last_version if first else 0,
        {row.user_id: {"last_read_seq": row.last_read_seq, "unread": row.unread,
                       "unread_mentions": row.unread_mentions} for row in rows})


def members_markers(conn: Connection, chat_id: str) -> MemberMarkers:
    """The chat's positions and every member's read marker: one row per member, no counts."""
    rows = conn.execute(_MEMBERS_WITH_MARKERS, {"chat_id": chat_id}).all()
    first = rows[0] if rows else None
    return MemberMarkers(first.last_seq if first else 0, first.last_version if first else 0,
                         {row.user_id: row.last_read_seq for row in rows})
