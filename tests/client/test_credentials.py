"""Where a client finds its token when none is passed: environment, `chat-widget login`, prompt.

Each source is tried against the real server, so a wrong token found there
would fail to connect; the credentials file's mode is read from the disk.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from chat_widget import AuthorizationError, ChatClient
from chat_widget.cli import main
from chat_widget.credentials import CREDENTIALS_VARIABLE, TOKEN_VARIABLE, server_key
from tests.conftest import RunningServer

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def login(url: str, *args: str, stdin: str = "") -> Done:
    """`chat-widget login URL ARGS...` (its `main`, in this process), `stdin` piped in."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["login", url, *args])
    return Done(code, out.getvalue(), err.getvalue())


def login_as_a_script(url: str, token: str) -> subprocess.CompletedProcess[str]:
    """`echo TOKEN | chat-widget login URL`, a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "chat_widget", "login", url], input=token + "\n",
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})


def signed_in_as(client: ChatClient) -> str:
    return str(client.me()["id"])


def test_the_token_comes_from_the_environment(server: RunningServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, server.tokens["bob"])
    with ChatClient(server.url) as client:
        assert signed_in_as(client) == "bob"


def test_an_explicit_token_wins_over_the_environment(server: RunningServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, server.tokens["bob"])
    with ChatClient(server.url, server.tokens["alice"]) as client:
        assert signed_in_as(client) == "alice"


def test_login_keeps_the_token_in_a_file_only_its_user_reads(
        server: RunningServer, private_credentials: Path) -> None:
    done = login(server.url + "/", "--token", server.tokens["alice"])
    assert done.returncode == 0, done.stderr
    assert "as alice" in done.stdout and server.tokens["alice"] not in done.stdout
    assert stat.S_IMODE(private_credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(private_credentials.parent.stat().st_mode) & 0o077 == 0
    with ChatClient(server.url) as client:  # the trailing slash above names the same server
        assert signed_in_as(client) == "alice"


def test_login_reads_a_piped_token_and_replaces_the_older_one(
        server: RunningServer, private_credentials: Path) -> None:
    assert login(server.url, "--token", server.tokens["alice"]).returncode == 0
    done = login_as_a_script(server.url, server.tokens["bob"])
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(private_credentials.stat().st_mode) == 0o600
    with ChatClient(server.url) as client:
        assert signed_in_as(client) == "bob"


def test_login_saves_nothing_the_server_refuses(server: RunningServer,
                                                private_credentials: Path) -> None:
    done = login(server.url, "--token", "not-a-token")
    assert done.returncode == 1
    assert "unauthorized" in done.stderr
    assert not private_credentials.exists()


def test_login_to_no_server_says_so_and_saves_nothing(private_credentials: Path) -> None:
    done = login("http://127.0.0.1:9", "--token", "whatever")
    assert done.returncode == 1
    assert "no chat server answers at http://127.0.0.1:9" in done.stderr
    assert not private_credentials.exists()


def test_the_environment_wins_over_the_file(server: RunningServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert login(server.url, "--token", server.tokens["alice"]).returncode == 0
    monkeypatch.setenv(TOKEN_VARIABLE, server.tokens["bob"])
    with ChatClient(server.url) as client:
        assert signed_in_as(client) == "bob"


def test_a_list_of_urls_finds_the_token_of_any_of_them(server: RunningServer) -> None:
    assert login(server.url, "--token", server.tokens["alice"]).returncode == 0
    with ChatClient(["http://127.0.0.1:9", server.url]) as client:
        assert signed_in_as(client) == "alice"


def test_files_are_kept_per_server_url() -> None:
    assert server_key("HTTP://LocalHost:8765/") == "http://localhost:8765"
    assert server_key("http://127.0.0.1:8765") != server_key("http://127.0.0.1:8766")


def test_with_no_token_anywhere_the_error_names_the_three_ways(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # no terminal: nobody to ask
    with pytest.raises(AuthorizationError) as raised:
        ChatClient(server.url)
    error = raised.value
    assert error.code == "unauthorized"
    assert TOKEN_VARIABLE in error.message
    assert f"chat-widget login {server.url}" in error.message
    assert "password prompt" in error.message


def test_a_terminal_is_asked_with_a_password_prompt(server: RunningServer,
                                                     private_credentials: Path) -> None:
    script = ("from chat_widget import ChatClient\n"
              f"client = ChatClient({server.url!r})\n"
              "print('signed in as', client.me()['id'])\n"
              "client.close()\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), CREDENTIALS_VARIABLE: str(private_credentials)}
    child = pexpect.spawn(sys.executable, ["-c", script], env=env, timeout=30,
                          encoding="utf-8")
    child.logfile_read = shown = io.StringIO()  # all the terminal showed
    try:
        child.expect(f"Token for the chat server at {server.url}")
        child.sendline(server.tokens["carol"])
        child.expect("signed in as (\\w+)")
        assert child.match.group(1) == "carol"
        child.expect(pexpect.EOF)
        assert server.tokens["carol"] not in shown.getvalue()  # not echoed
    finally:
        child.close(force=True)



def test_login_in_a_terminal_asks_with_a_password_prompt(server: RunningServer,
                                                         private_credentials: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), CREDENTIALS_VARIABLE: str(private_credentials)}
    child = pexpect.spawn(sys.executable, ["-m", "chat_widget", "login", server.url], env=env,
                          timeout=30, encoding="utf-8")
    child.logfile_read = shown = io.StringIO()
    try:
        child.expect(f"Token for the chat server at {server.url}")
        child.sendline(server.tokens["bob"])
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, shown.getvalue()
    assert "logged in to" in shown.getvalue() and "as bob" in shown.getvalue()
    assert server.tokens["bob"] not in shown.getvalue()  # not echoed, not printed
    assert stat.S_IMODE(private_credentials.stat().st_mode) == 0o600
