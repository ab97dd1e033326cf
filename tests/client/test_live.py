"""LiveState (client/live.py) without a socket: snapshots and the events that race them."""

from __future__ import annotations

from typing import Any

from chat_widget.client.live import LiveState, unread_mention


def user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "name": user_id, "kind": "user"}


def message(seq: int, sender: str, mentions: list[str], deleted: bool = False) -> Any:
    return {"id": f"m{seq}", "chat_id": "general", "seq": seq, "sender": user(sender),
            "mentions": mentions, "deleted": deleted}


def test_a_presence_event_newer_than_the_join_wins_over_its_ack() -> None:
    live = LiveState()
    asked_at = live.mark()
    live.presence({"chat_id": "general", "users": [user("alice"), user("bob")]})
    live.joined("general", {"present": [user("alice")], "typing": []}, asked_at)
    assert [u["id"] for u in live.present("general")] == ["alice", "bob"]
    later = live.mark()
    live.joined("general", {"present": [user("alice")], "typing": []}, later)
    assert [u["id"] for u in live.present("general")] == ["alice"]


def test_typing_from_the_ack_yields_to_newer_events_user_by_user() -> None:
    live = LiveState()
    asked_at = live.mark()
    live.typing({"chat_id": "general", "user": user("bob"), "typing": False})
    live.joined("general", {"present": [], "typing": [user("bob"), user("carol")]}, asked_at)
    assert [u["id"] for u in live.typing_users("general")] == ["carol"]
    assert live.typing({"chat_id": "general", "user": {"id": 3}, "typing": True}) is None


def test_a_user_leaving_presence_stops_typing_there() -> None:
    live = LiveState()
    live.typing({"chat_id": "general", "user": user("bob"), "typing": True})
    live.presence({"chat_id": "general", "users": [user("alice")]})
    assert live.typing_users("general") == []


def test_activity_newer_than_the_chat_list_request_is_kept_over_its_answer() -> None:
    live = LiveState()
    asked_at = live.mark()
    joined: dict[str, Any] = {"general": {"id": "general", "unread": 0, "last_seq": 4}}
    live.activity({"chat_id": "general", "last_seq": 5, "unread": 1, "unread_mentions": 0,
                   "last_read_seq": 4}, joined)
    assert joined["general"]["unread"] == 1
    live.take_chat_list([{"id": "general", "last_seq": 4, "unread": 0, "unread_mentions": 0,
                          "last_read_seq": 4}], asked_at)
    assert live.chat_list == [{"id": "general", "last_seq": 5, "unread": 1,
                               "unread_mentions": 0, "last_read_seq": 4}]
    assert live.activity({"chat_id": "general", "last_seq": "5"}, joined) is None
    live.stale()
    assert live.chat_list is None


def test_the_unread_mention_is_the_oldest_after_the_marker_by_someone_else() -> None:
    logs = {"general": [message(1, "bob", ["alice"]), message(2, "alice", ["alice"]),
                        message(3, "bob", ["alice"], deleted=True), message(4, "bob", []),
                        message(5, "bob", ["alice"]), message(6, "bob", ["alice"])]}
    chats: Any = {"general": {"last_read_seq": 1}}
    assert unread_mention(logs, chats, "alice")["seq"] == 5
    chats["general"]["last_read_seq"] = 6
    assert unread_mention(logs, chats, "alice") is None
    assert unread_mention(logs, chats, "bob") is None
