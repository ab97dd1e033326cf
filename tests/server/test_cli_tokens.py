"""`chat-widget tokens` gives the demo users' tokens; a real user's token is never printed again."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from tests.helpers import RawClient


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chat_widget", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def serve_demo_without_ready_file(cwd: Path) -> tuple[subprocess.Popen, str, Path]:
    """`chat-widget serve --demo` on the default database in `cwd`; its URL once it listens."""
    log = cwd / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "chat_widget", "serve", "--demo", "--port", "0"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=cwd)
    deadline = time.monotonic() + 30
    while not (found := re.search(r"listening on (http://\S+)", log.read_text())):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    while "demo users:" not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return process, found.group(1), log


def test_tokens_prints_the_demo_tokens_of_a_server_started_without_a_ready_file(
        tmp_path: Path) -> None:
    process, url, log = serve_demo_without_ready_file(tmp_path)
    try:
        assert "(their tokens: chat-widget tokens)" in log.read_text()
        listed = cli("tokens", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        tokens = dict(line.split() for line in listed.stdout.splitlines())
        assert sorted(tokens) == ["alice", "bob", "carol"]
        assert cli("tokens", "bob", cwd=tmp_path).stdout.strip() == tokens["bob"]
        bob = RawClient(SimpleNamespace(url=url), tokens["bob"])
        assert bob.join("general")["chat"]["id"] == "general"
        bob.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not any(token in log.read_text() for token in tokens.values())


def test_a_real_users_token_is_shown_once_and_never_by_tokens(tmp_path: Path) -> None:
    process, _, _ = serve_demo_without_ready_file(tmp_path)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    added = cli("add-user", "dana", "--workspace", "demo", cwd=tmp_path)
    token = re.search(r"token \(shown once, keep it\): (\S+)", added.stdout).group(1)
    listed = cli("tokens", cwd=tmp_path)
    assert token not in listed.stdout and "dana" not in listed.stdout
    refused = cli("tokens", "dana", cwd=tmp_path)
    assert refused.returncode == 1 and token not in refused.stdout + refused.stderr
    assert "dana is not a demo user of this database" in refused.stderr


def test_tokens_says_what_to_do_without_a_demo_database(tmp_path: Path) -> None:
    missing = cli("tokens", cwd=tmp_path)
    assert missing.returncode == 2
    assert "there is no SQLite database at chat-widget.db" in missing.stderr
    assert not (tmp_path / "chat-widget.db").exists()  # asking created nothing
    assert cli("add-workspace", "lab", cwd=tmp_path).returncode == 0
    unseeded = cli("tokens", cwd=tmp_path)
    assert unseeded.returncode == 1 and "no demo users" in unseeded.stderr
