"""Everyday mistakes in a notebook end in a couple of lines that name the fix, not a traceback.

Each mistake is made in a real kernel, against the real demo server (or an
address where nothing listens); the test reads the error as the notebook
shows it. `%tb verbose` then shows the full chain, one step away.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chat_widget._short_traceback import FULL_TRACEBACK_HINT
from tests.browser.helpers import free_port
from tests.kernels import Kernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with Kernel(tmp_path_factory.mktemp("kernel")) as running:
        running.run("from chat_widget import ChatClient, ChatWidget").ok()
        yield running


def shown(kernel: Kernel, source: str) -> str:
    """The error a cell showed, checked to be short and to point at the full traceback."""
    lines = kernel.run(source).error
    assert lines is not None, f"no error from {source!r}"
    assert len(lines) <= 3, lines
    assert lines[-1] == FULL_TRACEBACK_HINT and "Traceback" not in "\n".join(lines)
    return "\n".join(lines)


def test_a_bad_token_names_the_tokens_command(kernel: Kernel, server: Any) -> None:
    text = shown(kernel, f"ChatWidget(url={server.url!r}, token='not-a-token')")
    assert text.startswith("AuthorizationError [unauthorized]: the chat server at ")
    assert "refused this token" in text and "`chat-widget tokens`" in text


def test_no_token_in_a_notebook_that_takes_no_input_names_the_ways(kernel: Kernel,
                                                                    server: Any) -> None:
    text = shown(kernel, f"ChatWidget({server.url!r})")  # nbclient answers no input request
    assert text.startswith("AuthorizationError [unauthorized]: no token for the chat server")
    assert "CHAT_WIDGET_TOKEN" in text and f"`chat-widget login {server.url}`" in text


def test_no_server_running_says_how_to_start_one(kernel: Kernel) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    text = shown(kernel, f"ChatClient({url!r}, 'some-token')")
    assert text.startswith(f"NotConnectedError [not_connected]: no chat server answers at {url}")
    assert "`chat-widget serve --demo`" in text


def test_an_unknown_host_says_to_check_the_spelling(kernel: Kernel) -> None:
    text = shown(kernel, "ChatClient('http://no-such-host.invalid:8765', 'some-token')")
    assert "cannot find the host 'no-such-host.invalid'" in text and "spelling" in text


@pytest.mark.parametrize(("url", "says"), [
    ("127.0.0.1:8765", "has no scheme: write 'http://127.0.0.1:8765'"),
    ("localhost:8765", "has no scheme: write 'http://localhost:8765'"),
    ("ws://127.0.0.1:8765", "with http:// (the client opens the websocket itself)"),
    ("ftp://127.0.0.1:8765", "should start with http:// or https://"),
    ("http://127.0.0.1:87a5", "is not a number from 1 to 65535"),
    ("http://:8765", "has no valid host"),
])
def test_a_malformed_url_says_what_is_wrong(kernel: Kernel, url: str, says: str) -> None:
    for construction in (f"ChatWidget(url={url!r}, token='t')", f"ChatClient({url!r}, 't')"):
        text = shown(kernel, construction)
        assert text.startswith("InvalidURLError [bad_request]: ") and says in text


def test_an_unknown_chat_is_not_found(kernel: Kernel, server: Any) -> None:
    token = server.tokens["alice"]
    text = shown(kernel, f"ChatWidget(url={server.url!r}, token={token!r}, chat_id='genral')")
    assert text.startswith("ChatError [not_found]: ") and "genral" in text


def test_an_unknown_demo_user_lists_the_demo_users(kernel: Kernel) -> None:
    text = shown(kernel, "from chat_widget.demo import chat\nchat('dave')")
    assert "no demo user 'dave': the demo users are alice, bob, carol" in text


def test_the_full_traceback_is_one_step_away(kernel: Kernel) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    shown(kernel, f"ChatClient({url!r}, 'some-token')")
    full = kernel.run("%tb verbose").error
    assert full is not None and len(full) > 10
    text = "\n".join(full)
    assert "Traceback" in text and "socketio" in text  # the cause, chained
