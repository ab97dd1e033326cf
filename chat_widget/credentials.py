"""Where a client finds its token when none is passed, so no token is typed into a notebook.

`ChatClient(url)` and `ChatWidget(url)` look, in order: at the
`CHAT_WIDGET_TOKEN` environment variable; at the credentials file that
`chat-widget login URL` writes (one token per server URL, readable by the user
alone); then, in a terminal or a notebook that can ask, at a password prompt
(getpass: nothing echoed, nothing kept in the notebook). Failing all three,
the error names them. An explicit `token=` still wins over every source.

The file is JSON, `{"tokens": {URL: token}}`, in platformdirs' user config
directory for "chat-widget", or at `$CHAT_WIDGET_CREDENTIALS` when set (tests
point it at a temporary file). It is written atomically with mode 0600 in a
directory of mode 0700.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from ._urls import checked_url
from .errors import AuthorizationError

TOKEN_VARIABLE = "CHAT_WIDGET_TOKEN"
CREDENTIALS_VARIABLE = "CHAT_WIDGET_CREDENTIALS"
_FILE_NAME = "credentials.json"


def credentials_path() -> Path:
    """The credentials file: `$CHAT_WIDGET_CREDENTIALS`, else the user's config directory's."""
    chosen = os.environ.get(CREDENTIALS_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("chat-widget", appauthor=False)) / _FILE_NAME


def server_key(url: str) -> str:
    """The URL a token is filed under: checked, no trailing slash, scheme and host lowercased."""
    text = checked_url(url)
    parts = urlsplit(text)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"


def _read_tokens(path: Path) -> dict[str, str]:
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise AuthorizationError(
            f"the credentials file {path} cannot be read ({error}): run "
            "`chat-widget login URL` again to rewrite it") from error
    tokens = content.get("tokens") if isinstance(content, dict) else None
    if not isinstance(tokens, dict):
        return {}
    return {str(url): token for url, token in tokens.items() if isinstance(token, str)}


def stored_token(url: str) -> str | None:
    """The token `chat-widget login` saved for `url`, or None."""
    return _read_tokens(credentials_path()).get(server_key(url))


def save_token(url: str, token: str) -> Path:
    """File `token` under `url` (replacing an older one); returns the file's path.

    The new file is made with mode 0600 from the start and then renamed over
    the old one, so the token is never readable by others, not even briefly,
    and a reader sees the old file or the new one, whole.
    """
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tokens = _read_tokens(path)
    tokens[server_key(url)] = token
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            json.dump({"tokens": tokens}, file, indent=1, sort_keys=True)
        os.chmod(temporary, 0o600)  # O_CREAT's mode is masked by umask; this is not
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def resolve_token(urls: str | Sequence[str], token: str | None = None) -> str:
    """The token to use for `urls`: `token`, else the environment, the file, a prompt.

    Raises `AuthorizationError` (code `unauthorized`) naming the three ways
    when none gives one.
    """
    if token:
        return token
    candidates = [urls] if isinstance(urls, str) else list(urls)
    from_environment = os.environ.get(TOKEN_VARIABLE, "").strip()
    if from_environment:
        return from_environment
    for url in candidates:
        saved = stored_token(url)
        if saved:
            return saved
    first = candidates[0] if candidates else ""
    asked = ask_token(first)
    if asked:
        return asked
    raise AuthorizationError(
        f"no token for the chat server at {first}: set the {TOKEN_VARIABLE} environment "
        f"variable, or run `chat-widget login {first}` once (it keeps the token in "
        f"{credentials_path()}), or run this where a password prompt can ask for it",
        code="unauthorized")


def ask_token(url: str) -> str | None:
    """Ask for the token with a password prompt when someone can answer; else None.

    A terminal can answer; so can a notebook whose front end accepts input:
    while a cell runs, ipykernel puts its own `getpass` in the module's place,
    routed to the front end, which refuses with NotImplementedError when it
    takes no input (as nbclient's kernels do).
    """
    routed = getattr(getpass.getpass, "__module__", "getpass") != "getpass"
    if not routed and not _stdin_is_terminal():
        return None
    try:
        answer = getpass.getpass(f"Token for the chat server at {url} (not shown): ")
    except (NotImplementedError, EOFError, OSError):
        return None
    return answer.strip() or None


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False
