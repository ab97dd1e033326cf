"""What each user has yet to read (protocol 1.1 Chat fields), as plain functions over a connection.

A Chat answered to a user carries `last_read_seq` (its read marker, 0 where
none is stored), `unread` (messages after it that others sent and that are not
deleted) and `unread_mentions` (those of them that mention this user).
Mentions are counted through `message_mentions`, the rows the write path keeps
in step with each message's `mentions` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, false, func, insert, select

from .schema import message_mentions, messages, read_markers


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
