"""The `chat-widget` command: run the server and manage its people and chats.

`serve` runs the server; `login` keeps a user's token for a server (so
notebooks need not hold it); `add-workspace`, `add-user`, `add-chat` and
`add-member` set up a real deployment without code (`remove-member` takes a
user out of a workspace again); `tokens` prints the demo
users' tokens; `demo` runs the embedded server and a short scripted chat
through it. A server that cannot start (no database, Redis or port) says why
in one line (`server/preflight.py`), not with a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from .errors import ChatError
from .server import StartupError

DEFAULT_DB = "sqlite:///chat-widget.db"


def write_ready_file(path: str, payload: dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees the whole file or none of it."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(payload))
    os.replace(temporary, target)


def event_loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when asked (or installed, for `auto`), else None: asyncio's own loop.

    The fan-out benchmark compares the two (docs/performance.md).
    """
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def run_on(loop_factory: Callable[[], asyncio.AbstractEventLoop] | None,
           main: Coroutine[Any, Any, int]) -> int:
    """`asyncio.run(main)` on a loop from `loop_factory` (asyncio.Runner has one from 3.11)."""
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(main)
    loop = loop_factory() if loop_factory is not None else asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


def _responder_spec(value: str) -> tuple[str, str]:
    chat_id, sep, spec = value.partition("=")
    if not sep or not chat_id or ":" not in spec:
        raise argparse.ArgumentTypeError("use --responder CHAT_ID=module:function")
    return chat_id, spec


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
               "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3}


def _byte_size(value: str) -> int:
    """A size in bytes: 1000000, 500KiB, 25MiB (K, M and G count in 1024s)."""
    number = value.strip().rstrip("bBiI").rstrip()
    digits = number.rstrip("kKmMgG")
    unit = value.strip()[len(digits):].strip().lower()
    try:
        size = int(float(digits) * _SIZE_UNITS[unit])
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (try 25MiB)") from None
    if size < 1:
        raise argparse.ArgumentTypeError("the size must be at least 1 byte")
    return size


async def _serve(args: argparse.Namespace) -> int:
    from .server import ChatServer, ServerConfig, bind_failure, prepare_database
    from .server.gc_settings import tune_for_many_connections
    from .server.open_files import raise_open_file_limit

    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .server import load_responder

    config = ServerConfig(
        host=args.host, port=args.port, db_url=args.db, auth_ttl=args.auth_ttl,
        demo=args.demo, redis_url=args.redis, redis_channel=args.redis_channel,
        allowed_origins=args.allowed_origin or [],
        rate_limit=args.rate_limit, rate_burst=args.rate_burst,
        max_connections_per_user=args.max_connections_per_user,
        responder_timeout=args.responder_timeout, max_file_size=args.max_file_size,
        files_dir=args.files_dir, chat_activity=not args.no_chat_activity,
        direct_frames=not args.no_direct_frames,
        ping_interval=args.ping_interval, ping_timeout=args.ping_timeout)
    for chat_id, spec in args.responder or []:
        config.responders[spec] = load_responder(spec)
        config.chat_responders[chat_id] = spec
    logging.getLogger(__name__).debug("open files allowed: %d", raise_open_file_limit())
    await prepare_database(args.db)
    server = ChatServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        url = await server.start()
    except OSError as error:
        failure = bind_failure(args.host, args.port, error)
        if failure is None:
            raise
        await server.stop()
        raise failure from None
    if not args.default_gc:
        tune_for_many_connections()
    print(f"chat-widget server listening on {url} (database {_redacted(args.db)})", flush=True)
    if args.demo:
        # Tokens stay out of the console and logs; `tokens` and --ready-file hand them over.
        where = "" if args.db == DEFAULT_DB else f" --db {_redacted(args.db)}"
        print(f"  demo users: {', '.join(server.demo_tokens)} "
              f"(their tokens: chat-widget tokens{where})", flush=True)
    if args.ready_file:
        write_ready_file(args.ready_file, {"url": url, "tokens": server.demo_tokens})
    await stop.wait()
    print("chat-widget server stopping", flush=True)
    try:
        await asyncio.wait_for(server.stop(), STOP_SECONDS)
    except asyncio.TimeoutError:
        # A stop must end the process: a supervisor waiting for it would otherwise
        # wait for good. Leaving now is as safe as a kill, which loses nothing.
        print(f"chat-widget server: open work did not end within {STOP_SECONDS:g} s; "
              "leaving anyway (every acknowledged message is stored)", flush=True)
        os._exit(0)
    return 0


STOP_SECONDS = 8.0
"""How long a stop may take: under the 10 s that process supervisors commonly allow."""


def _redacted(db_url: str) -> str:
    """The database URL without a password, for printing."""
    head, sep, tail = db_url.rpartition("@")
    if not sep or "://" not in head:
        return db_url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':')[0]}@{tail}"


async def _with_store(db_url: str, action: Callable[[Any], Awaitable[int]]) -> int:
    from .server import open_store

    async with open_store(db_url) as store:
        return await action(store)


def _admin(args: argparse.Namespace) -> Callable[[Any], Awaitable[int]]:
    """The store action for one of the add-* commands, or remove-member."""

    async def add_workspace(store: Any) -> int:
        created = await store.add_workspace(args.workspace_id, args.title)
        print(("added" if created else "already present:") + f" workspace {args.workspace_id}")
        return 0

    async def add_user(store: Any) -> int:
        user_id, token = await store.add_user(args.name)
        for workspace_id in args.workspace or []:
            await store.add_member(workspace_id, user_id)
        print(f"added user {user_id}; token (shown once, keep it): {token}")
        return 0

    async def add_chat(store: Any) -> int:
        created = await store.add_chat(args.chat_id, args.workspace, args.title, args.responder)
        print(("added" if created else "already present:") + f" chat {args.chat_id}")
        return 0

    async def add_member(store: Any) -> int:
        created = await store.add_member(args.workspace, args.user)
        print(("added" if created else "already a member:") + f" {args.user} in {args.workspace}")
        return 0

    async def remove_member(store: Any) -> int:
        removed = await store.remove_member(args.workspace, args.user)
        if not removed:
            print(f"chat-widget: {args.user} is not a member of {args.workspace}: nothing removed",
                  file=sys.stderr)
            return 1
        print(f"removed {args.user} from {args.workspace}; their open connections stop "
              "receiving its chats within seconds")
        return 0

    return {"add-workspace": add_workspace, "add-user": add_user, "add-chat": add_chat,
            "add-member": add_member, "remove-member": remove_member}[args.command]


def _print_tokens(db_url: str, user: str | None) -> int:
    """`chat-widget tokens`: the demo users' tokens, or one of them alone."""
    from .demo import tokens

    found = tokens(db_url)
    if user:
        if user not in found:
            print(f"chat-widget: {user} is not a demo user of this database "
                  f"(demo users here: {', '.join(found) or 'none'})", file=sys.stderr)
            return 1
        print(found[user])
        return 0
    if not found:
        print("chat-widget: this database has no demo users: start "
              "`chat-widget serve --demo` on it once", file=sys.stderr)
        return 1
    for name, token in found.items():
        print(f"{name:<6} {token}")
    return 0


def _login(url: str, token: str | None) -> int:
    """`chat-widget login URL`: check a token against the server, then keep it for that URL.

    The token comes from `--token`, else from stdin when it is not a terminal
    (`... | chat-widget login URL`, for scripts), else from a password prompt.
    Nothing is saved unless the server accepts it (`GET /api/me`).
    """
    import getpass

    from ._explain import connect_failure
    from ._urls import checked_url
    from .client.connection import ServerList
    from .client.http import HttpApi
    from .credentials import save_token
    from .errors import NotConnectedError

    url = checked_url(url)
    if token is None:
        if sys.stdin is not None and not sys.stdin.isatty():
            token = sys.stdin.readline()
        else:
            token = getpass.getpass(f"Token for the chat server at {url} (not shown): ")
    token = token.strip()
    if not token:
        print("chat-widget: no token given: nothing saved", file=sys.stderr)
        return 1
    http = HttpApi(ServerList(url), token, timeout=10.0)
    try:
        me = http.me()
    except NotConnectedError:
        raise connect_failure(url, None) from None
    finally:
        http.close()
    path = save_token(url, token)
    print(f"logged in to {url} as {me.get('name')} ({me.get('id')}); "
          f"the token is kept in {path} (readable by you alone)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chat-widget", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the chat server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    serve.add_argument("--db", default=DEFAULT_DB, help="sqlite:///PATH or postgresql://...")
    serve.add_argument("--auth-ttl", type=float, default=60.0,
                       help="seconds a message authorization string stays valid")
    serve.add_argument("--demo", action="store_true", help="seed the demo users and chats")
    serve.add_argument("--ready-file", help="write {url, tokens} here once accepting")
    serve.add_argument("--redis", help="redis://... to fan out between server processes")
    serve.add_argument("--redis-channel", default="chat-widget",
                       help="Redis pub/sub channel shared by the processes of one deployment")
    serve.add_argument("--allowed-origin", action="append",
                       help="a browser origin allowed to connect (repeatable; '*' for any)")
    serve.add_argument("--rate-limit", type=float, default=100.0,
                       help="messages per second per user (0: no limit)")
    serve.add_argument("--rate-burst", type=float, default=500.0,
                       help="messages a user may send at once before the rate applies")
    serve.add_argument("--max-connections-per-user", type=int, default=100,
                       help="simultaneous connections per user (0: no cap)")
    serve.add_argument("--responder", action="append", type=_responder_spec,
                       help="CHAT_ID=module:function: answer that chat with a Python function")
    serve.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"],
                       help="event loop: uvloop when installed (auto), or asyncio's own")
    serve.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"],
                       help="how much the server logs (never tokens or authorization strings)")
    serve.add_argument("--responder-timeout", type=float, default=60.0,
                       help="seconds a responder may take before reply_failed")
    serve.add_argument("--ping-interval", type=float, default=4.0,
                       help="seconds between engine.io pings to each client (a link silent "
                       "for interval + timeout is dropped)")
    serve.add_argument("--ping-timeout", type=float, default=4.0,
                       help="seconds a client has to answer a ping")
    # For the benchmark alone (what chat_activity costs); a server without it
    # breaks protocol 1.1, so it is not offered in --help.
    serve.add_argument("--no-chat-activity", action="store_true", help=argparse.SUPPRESS)
    # For the benchmark alone: broadcasts through engine.io's queues only, to compare.
    serve.add_argument("--no-direct-frames", action="store_true", help=argparse.SUPPRESS)
    # Benchmarks only: CPython's collector settings, to compare (server/gc_settings.py).
    serve.add_argument("--default-gc", action="store_true", help=argparse.SUPPRESS)

    serve.add_argument("--max-file-size", type=_byte_size, default="25MiB",
                       help="largest file an upload may be, e.g. 25MiB, 500KiB (default 25MiB)")
    serve.add_argument("--files-dir",
                       help="keep uploaded files in this directory (default: beside the "
                            "SQLite file, or inside PostgreSQL)")

    login = commands.add_parser(
        "login", help="check a token against a server and keep it, for ChatClient(url)")
    login.add_argument("url", help="the chat server, e.g. http://127.0.0.1:8765")
    login.add_argument("--token", help="the token (default: stdin when piped, else a prompt)")

    demo = commands.add_parser("demo", help="run the embedded server and a chat through it")
    demo.add_argument("--db", default=None, help="database (default: a temporary SQLite file)")
    demo.add_argument("--lab", action="store_true",
                      help="open the quickstart notebook in JupyterLab instead")
    demo.add_argument("--port", type=int, default=8888, help="JupyterLab's port (with --lab)")

    tokens = commands.add_parser(
        "tokens", help="print the demo users' tokens (real users' tokens are shown once only)")
    tokens.add_argument("user", nargs="?", help="print this demo user's token alone")
    where = tokens.add_mutually_exclusive_group()
    where.add_argument("--db", default=DEFAULT_DB, help="sqlite:///PATH or postgresql://...")
    where.add_argument("--embedded", action="store_true",
                       help="the embedded server's database (what chat() in a notebook uses)")

    for name in ("add-workspace", "add-user", "add-chat", "add-member", "remove-member"):
        where_to = "from" if name.startswith("remove") else "to"
        sub = commands.add_parser(name, help=f"{name.replace('-', ' ')} {where_to} the database")
        sub.add_argument("--db", default=DEFAULT_DB, help="sqlite:///PATH or postgresql://...")
        if name == "add-workspace":
            sub.add_argument("workspace_id")
            sub.add_argument("--title")
        elif name == "add-user":
            sub.add_argument("name")
            sub.add_argument("--workspace", action="append", help="also add to this workspace")
        elif name == "add-chat":
            sub.add_argument("chat_id")
            sub.add_argument("--workspace", required=True)
            sub.add_argument("--title")
            sub.add_argument("--responder", help="a responder name, e.g. echo")
        else:
            sub.add_argument("workspace")
            sub.add_argument("user")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return run_on(event_loop_factory(args.loop), _serve(args))
        if args.command == "demo":
            from .demo import run_lab, run_terminal_demo

            return run_lab(args.port) if args.lab else run_terminal_demo(args.db)
        if args.command == "login":
            return _login(args.url, args.token)
        if args.command == "tokens":
            from .embedded import database_url

            return _print_tokens(database_url() if args.embedded else args.db, args.user)
        return asyncio.run(_with_store(args.db, _admin(args)))
    except ChatError as error:
        print(f"chat-widget: {error.message} ({error.code})", file=sys.stderr)
        return 1
    except StartupError as error:
        print(f"chat-widget: {error}", file=sys.stderr)
        return 2
    except (ValueError, ImportError, OSError) as error:
        print(f"chat-widget: {error}", file=sys.stderr)
        return 2
