"""One-call starts: the embedded server with the demo seed, in this process.

`start_server()` runs the server on a free loopback port in a background
thread (its own event loop, so a notebook's kernel loop is untouched);
`chat()` adds a connected ChatWidget on top, on the embedded default: the demo
database in the user's data directory (`chat_widget.embedded`), so the chat
survives a kernel restart. `run_terminal_demo()` is the `chat-widget demo`
command: alice and bob chat, and the echo bot answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from . import embedded
from .errors import ChatError
from .server import ServerConfig, ThreadedServer

_shared: ThreadedServer | embedded.RunningElsewhere | None = None
_shared_lock = threading.Lock()


def start_server(db_url: str | None = None, port: int = 0, **options: Any) -> ThreadedServer:
    """Start a demo-seeded server in a background thread; returns it once it accepts.

    Without `db_url` the data lives in a fresh temporary SQLite file.
    """
    if db_url is None:
        folder = Path(tempfile.mkdtemp(prefix="chat-widget-"))
        db_url = f"sqlite:///{folder / 'chat.db'}"
    server = ThreadedServer(ServerConfig(port=port, db_url=db_url, demo=True, **options))
    try:
        server.start()
    except BaseException:
        with contextlib.suppress(Exception):
            server.stop()
        raise
    return server


def shared_server(fresh: bool = False) -> ThreadedServer | embedded.RunningElsewhere:
    """The embedded server `chat()` uses: `url` and the demo users' `tokens`.

    On first use it runs here on the data directory's database, or, when
    another process (another kernel) already runs it there, is that one.
    `fresh=True` starts a new server on an empty temporary database instead;
    it is then the one this process uses until it ends.
    """
    global _shared
    with _shared_lock:
        if fresh:
            _shared = start_server()
        elif _shared is None or (isinstance(_shared, embedded.RunningElsewhere)
                                 and not _shared.answers()):
            _shared = embedded.open_or_join(
                embedded.data_dir(), lambda db_url, port: start_server(db_url, port))
        return _shared


def chat(user: str = "alice", chat_id: str = "general", *, fresh: bool = False,
         **widget_options: Any) -> Any:
    """A ChatWidget on the embedded demo server, as `user` (alice, bob or carol).

    The chat's history is kept in the user's data directory, so after a
    kernel restart `chat()` shows it again; `fresh=True` starts over on an
    empty temporary database (see `shared_server`).
    """
    from .widget import ChatWidget

    server = shared_server(fresh)
    if user not in server.tokens:
        raise ChatError(f"no demo user {user!r}: the demo users are "
                        f"{', '.join(sorted(server.tokens))}", code="not_found")
    return ChatWidget(url=server.url, token=server.tokens[user], chat_id=chat_id,
                      **widget_options)


def tokens(db_url: str = "sqlite:///chat-widget.db") -> dict[str, str]:
    """The demo users' tokens of a `serve --demo` database (what `chat-widget tokens` prints).

    Runs on a thread of its own, so it works from a notebook cell (whose
    event loop is already running) as well as from a script.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .server import open_store
    from .server.seed import demo_tokens

    async def read() -> dict[str, str]:
        async with open_store(db_url, create=False) as store:
            return await demo_tokens(store)

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read()).result()


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_lab(port: int = 8888) -> int:
    """Open JupyterLab on the quickstart notebook; its first cell starts the embedded server.

    The notebooks are copied to a scratch folder first, so running and saving
    them never changes the checkout.
    """
    import shutil
    import signal
    import subprocess
    import sys

    if not (NOTEBOOKS / "quickstart.ipynb").exists():
        print("chat-widget demo --lab runs from a checkout of the repository "
              "(the notebooks live in notebooks/)", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="chat-widget-notebooks-")) / "notebooks"
    shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={scratch}",
               f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
               "--LabApp.default_url=/lab/tree/quickstart.ipynb"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses root unless told
    print(f"starting JupyterLab on a copy of the notebooks in {scratch} (Ctrl-C stops it)",
          flush=True)
    # JupyterLab runs in a session of its own, so Ctrl-C reaches this process
    # alone, which then stops Lab with SIGTERM: a Ctrl-C that lands while Lab
    # is still loading its extensions would otherwise end it in a traceback.
    lab = subprocess.Popen(command, start_new_session=True)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: lab.terminate())  # passed on
    try:
        return lab.wait()
    except KeyboardInterrupt:
        lab.terminate()
        try:
            lab.wait(timeout=30)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            lab.kill()  # a second Ctrl-C, or a Lab that will not stop
            lab.wait()
        return 0


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
            # The flag may be set and cleared again before `send` returns (a
            # fast bot): its callback sees each change, in order.
            alice.on_awaiting_response(
                lambda awaiting: print(f"  alice awaiting a response: {awaiting}"))
            alice.send("Echo bot, are you there?")
            reply = alice.wait_for_reply(timeout=10)
            print(f"  echo bot answered: {reply['text']!r} (reply to {str(reply['reply_to'])[:8]})")
            print(f"  awaiting a response now: {alice.awaiting_response}")
    finally:
        server.stop()
    print("demo finished: the server, two clients and a bot chatted over Socket.IO")
    return 0
