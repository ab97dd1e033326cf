"""An independent client on the official JavaScript socket.io-client speaks to the server.

It knows only the protocol page (see tests/js_client/peer.mjs); the server
must answer it exactly as the page says.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PEER = Path(__file__).resolve().parents[1] / "js_client"


def test_official_socketio_client_can_do_everything_the_protocol_describes(fresh_server):
    assert (PEER / "node_modules" / "socket.io-client").exists(), \
        "run scripts/test.sh (it installs the peer with npm ci)"
    tokens = fresh_server.tokens
    result = subprocess.run(
        ["node", "peer.mjs", fresh_server.url, tokens["alice"], tokens["bob"], tokens["carol"]],
        cwd=PEER, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout.strip().splitlines()[-1])
    assert findings == {
        "bad_token": "unauthorized", "health": "ok", "me": "alice",
        "chats": ["echo", "general"], "join_ok": True, "forbidden": "forbidden",
        "not_found": "not_found", "not_joined": "not_joined", "sent_seq": 1,
        "bob_received": True, "reused": "auth_reused", "retry_same_id": True,
        "invalid_auth": "invalid_auth", "too_large": "too_large", "history_first": True,
        "http_history_first": True, "echo": True, "left": True,
        # protocol 1.1
        "protocol": "1.1", "edit": ["hello, edited", 1, "string"], "bob_saw_edit": True,
        "edit_forbidden": "forbidden", "edit_not_found": "not_found",
        "reactions": [{"emoji": "👍", "users": ["bob"]}], "bad_emoji": "bad_request",
        "tombstone": [True, "", 3, 0], "react_tombstone": "not_found",
        "changes": [[True, 3], False], "join_updated": [1, False, 3],
        "chat_fields": ["id", "last_read_seq", "last_seq", "last_version", "responder", "title",
                        "unread", "unread_mentions", "workspace_id"], "http_changes": [3, False],
        "away_messages": [[1, "one, edited twice"], [2, "two, edited"]],
        "away_updated": [["two, edited", 2], ["one, edited twice", 3], False],
        "away_paged": [[[2], True], [[3], False]], "away_live": True,
        # protocol 1.1: presence, typing, read markers, activity
        "presence_after_leave": ["alice"], "present": ["alice", "bob"],
        "presence_on_join": ["alice", "bob"], "typing_ack": {"ok": True},
        "typing": ["bob", "user", True], "typing_stop": "bob", "typing_not_joined": "not_joined",
        "activity": [["chat_id", "last_read_seq", "last_seq", "unread", "unread_mentions"], 4, 2],
        "mark_read": True, "read": ["bob", True], "activity_after_read": [0, True],
        "mark_read_back": True, "mark_read_beyond": "bad_request",
        "members": ["user:alice", "user:bob", "bot:bot:echo"],
        "upload": [201, "data é.bin", 300000, "application/x-peer", True],
        "file_part": [["file", True]], "download": [True, "nosniff", True],
        "link": [True, True, True], "tampered_link": [401, "unauthorized"], "search": [True],
    }
