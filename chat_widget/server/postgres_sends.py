"""PostgreSQL's forms of a send group's statements: one round trip where three were.

A group's transaction on PostgreSQL waits on each statement's round trip in
turn, and one group per chat is in flight, so the round trips, not the SQL,
set a busy chat's pace. These two statements do in one round trip each what
the portable statements in `store.py` do in two (SQLite has no round trips
and no data-modifying WITH, so it keeps those):

- `SPEND_AND_FIND`: spends the group's nonces (`ON CONFLICT DO NOTHING`
  answers which were fresh, also against another process spending one at the
  same moment) and reads the messages already stored under the group's
  `client_id`s. One row at least: `fresh_nonces` on each, a found message's
  columns on those that have one. It looks up each `client_id` in turn by
  chat and `client_id`, the leading columns of `uq_messages_client_id`
  (migration 0006); the caller drops rows of other senders. Without statistics
  on the chat (a new database, or a chat new since the last ANALYZE) the
  planner otherwise read every message of the chat for each group: given the
  senders too, it took `ix_messages_chat_sender_seq`; given the client_ids as
  one `= ANY` list, it filtered the chat's rows with it rather than pay an
  index descent per item; and allowed to flatten the per-item subquery
  (`OFFSET 0` forbids it), it scanned the chat once and joined.
- `TAKE_SEQS_AND_INSERT`: takes the chat's next `count` seqs and inserts the
  rows numbered from the first of them, in array order; answers the chat's
  new `last_seq`, or no row when there is no such chat (nothing inserted).

The column lists are the `messages` and `used_auth` tables of `schema.py`.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Float, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

SPEND_AND_FIND = text("""
WITH fresh AS (
    INSERT INTO used_auth (nonce, expires_at)
    SELECT * FROM unnest(CAST(:nonces AS VARCHAR[]), CAST(:expiries AS FLOAT8[]))
    ON CONFLICT DO NOTHING
    RETURNING nonce
), found AS (
    SELECT messages.*, users.name AS sender_name, users.kind AS sender_kind
    FROM unnest(CAST(:client_ids AS VARCHAR[])) AS wanted(client_id)
    CROSS JOIN LATERAL (
        SELECT * FROM messages
        WHERE messages.chat_id = :chat_id AND messages.client_id = wanted.client_id
        OFFSET 0
    ) AS messages
    JOIN users ON users.id = messages.sender_id
)
SELECT (SELECT array_agg(nonce) FROM fresh) AS fresh_nonces, found.*
FROM (SELECT 1) AS one LEFT JOIN found ON true
""").bindparams(
    bindparam("nonces", type_=ARRAY(String)), bindparam("expiries", type_=ARRAY(Float)),
    bindparam("client_ids", type_=ARRAY(String)),
).columns(parts=JSON, reactions=JSON, mentions=JSON)

_COLUMNS = ("id", "sender_id", "text", "parts", "client_id", "reply_to", "created_at",
            "version", "edited_at", "deleted", "reactions", "mentions")
_ARRAY_TYPES = {"version": "BIGINT[]", "deleted": "BOOLEAN[]", "text": "TEXT[]"}
JSON_COLUMNS = ("parts", "reactions", "mentions")


def _select_item(name: str) -> str:
    return f"CAST(r.{name} AS JSON)" if name in JSON_COLUMNS else f"r.{name}"


TAKE_SEQS_AND_INSERT = text(f"""
WITH taken AS (
    UPDATE chats SET last_seq = last_seq + :count WHERE id = :chat_id RETURNING last_seq
), inserted AS (
    INSERT INTO messages (chat_id, seq, {", ".join(_COLUMNS)})
    SELECT :chat_id, taken.last_seq - :count + r.ordinality,
           {", ".join(_select_item(name) for name in _COLUMNS)}
    FROM taken, unnest({", ".join(
        f"CAST(:{name} AS {_ARRAY_TYPES.get(name, 'VARCHAR[]')})" for name in _COLUMNS)})
        WITH ORDINALITY AS r({", ".join(_COLUMNS)}, ordinality)
)
SELECT last_seq FROM taken
""").bindparams(
    bindparam("count", type_=BigInteger),
    *(bindparam(name, type_=ARRAY(BigInteger if name == "version" else
                                  Boolean if name == "deleted" else String))
      for name in _COLUMNS),
)
INSERTED_COLUMNS = _COLUMNS
"""The row fields `TAKE_SEQS_AND_INSERT` takes, each as an array (JSON ones as text)."""
