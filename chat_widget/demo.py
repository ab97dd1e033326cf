"""One-call starts: the embedded server with the demo seed, in this process.

`start_server()` runs the server on a free loopback port in a background
thread (its own event loop, so a notebook's kernel loop is untouched);
`chat()` adds a connected ChatWidget on top. `run_terminal_demo()` is the
`chat-widget demo` command: alice and bob chat, and the echo bot answers.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from .server.app import ServerConfig, ThreadedServer

_shared: ThreadedServer | None = None
_shared_lock = threading.Lock()


def start_server(db_url: str | None = None, port: int = 0, **options: Any) -> ThreadedServer:
    """Start a demo-seeded server in a background thread; returns it once it accepts.

    Without `db_url` the data lives in a fresh temporary SQLite file.
    """
    if db_url is None:
        folder = Path(tempfile.mkdtemp(prefix="chat-widget-"))
        db_url = f"sqlite:///{folder / 'chat.db'}"
    server = ThreadedServer(ServerConfig(port=port, db_url=db_url, demo=True, **options))
    server.start()
    return server


def shared_server() -> ThreadedServer:
    """The embedded server of this process, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start_server()
        return _shared


def chat(user: str = "alice", chat_id: str = "general", **widget_options: Any) -> Any:
    """A ChatWidget connected to this process's embedded demo server, as `user`."""
    from .widget import ChatWidget

    server = shared_server()
    return ChatWidget(url=server.url, token=server.tokens[user], chat_id=chat_id,
                      **widget_options)


def run_terminal_demo(db_url: str | None = None) -> int:
    """Start the embedded server and hold a short chat through it, printed as it goes."""
    from .client import ChatClient

    server = start_server(db_url)
    print(f"embedded chat server on {server.url} (SQLite, one process)")
    try:
        with ChatClient(server.url, server.tokens["alice"]) as alice, \
                ChatClient(server.url, server.tokens["bob"]) as bob:
            bob.on_message(lambda m: print(
                f"  bob sees  #{m['seq']} {m['sender']['name']}: {m['text']}"))
            for client in (alice, bob):
                client.join("general")
            stored = alice.send("Hello Bob, this message went through the server.")
            print(f"  alice sent #{stored['seq']} (stored, acknowledged)")
            bob.send("Hi Alice, got it.")
            alice.join("echo")
            alice.send("Echo bot, are you there?")
            print(f"  alice awaiting a response: {alice.awaiting_response}")
            reply = alice.wait_for_reply(timeout=10)
            print(f"  echo bot answered: {reply['text']!r} (reply to {reply['reply_to'][:8]})")
            print(f"  awaiting a response now: {alice.awaiting_response}")
    finally:
        server.stop()
    print("demo finished: the server, two clients and a bot chatted over Socket.IO")
    return 0
