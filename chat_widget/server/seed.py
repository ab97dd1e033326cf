"""The demo seed: two workspaces, three people, three chats.

Tokens are derived from the server secret, so every start on the same
database (and every process sharing it) hands out the same ones. Every step
is an insert-if-absent, so processes seeding at once do not collide.
"""

from __future__ import annotations

from typing import TypedDict

from .auth import derived_token
from .store import Store


class DemoWorkspace(TypedDict):
    users: list[str]
    chats: dict[str, str | None]  # chat id -> its responder


DEMO_WORKSPACES: dict[str, DemoWorkspace] = {
    "demo": {"users": ["alice", "bob"], "chats": {"general": None, "echo": "echo"}},
    "staff": {"users": ["carol"], "chats": {"staff-room": None}},
}


async def seed_demo(store: Store) -> dict[str, str]:
    """Create the demo data where absent; return each demo user's token."""
    secret = await store.secret()
    tokens: dict[str, str] = {}
    for workspace_id, spec in DEMO_WORKSPACES.items():
        await store.add_workspace(workspace_id, workspace_id)
        for name in spec["users"]:
            tokens[name] = derived_token(secret, name)
            await store.ensure_user(name, name, tokens[name], "user")
            await store.add_member(workspace_id, name)
        for chat_id, responder in spec["chats"].items():
            await store.add_chat(chat_id, workspace_id, chat_id, responder)
    return tokens


async def demo_tokens(store: Store) -> dict[str, str]:
    """The demo users' tokens that this database accepts: none unless it was seeded.

    Only derived tokens can be given again; a person added with `add-user` has
    a random token stored hashed, which no command can print after the first time.
    """
    secret = await store.secret()
    tokens: dict[str, str] = {}
    for spec in DEMO_WORKSPACES.values():
        for name in spec["users"]:
            token = derived_token(secret, name)
            user = await store.user_by_token(token)
            if user is not None and user.id == name:
                tokens[name] = token
    return tokens
