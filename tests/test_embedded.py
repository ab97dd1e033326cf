"""The embedded demo server (`chat()`) keeps its chat across kernel restarts, in real kernels.

The data directory is the test's own (`CHAT_WIDGET_DATA_DIR`, set by
conftest), so nothing touches the user's real one. bob is a real client in
the test process, on the tokens `chat-widget tokens --embedded` prints.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from chat_widget import ChatClient
from tests.kernels import Kernel

OPEN_ALICE = (
    "from chat_widget.demo import chat\n"
    "w = chat('alice')\n"
    "print(w.client.url)\n"
    "print([m['text'] for m in w.messages])\n")


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def embedded_tokens(folder: Path) -> dict[str, str]:
    listed = subprocess.run([sys.executable, "-m", "chat_widget", "tokens", "--embedded"],
                            capture_output=True, text=True, timeout=60, cwd=folder)
    assert listed.returncode == 0, listed.stderr
    return dict(line.split() for line in listed.stdout.splitlines())


def test_the_chat_survives_a_kernel_restart_and_bob_reconnects(tmp_path: Path) -> None:
    with Kernel(tmp_path) as kernel:
        url, before = kernel.run(OPEN_ALICE).ok().printed.splitlines()
        assert before == "[]"
        kernel.run("w.send('before the restart');").ok()
        bob = ChatClient(url, embedded_tokens(tmp_path)["bob"],
                         reconnection_delay=0.1, reconnection_delay_max=0.5)
        try:
            bob.join("general")
            assert [m["text"] for m in bob.messages] == ["before the restart"]

            kernel.restart()
            wait_until(lambda: bob.status == "reconnecting", "bob to lose the server")
            wait_until(lambda: "for" in str(bob.last_error) and "still trying" in str(
                bob.last_error), "bob's status to say how long")
            assert bob.last_error.code == "disconnected"
            assert str(bob.last_error).startswith(
                f"[disconnected] no answer from the chat server at {url} for ")

            again, history = kernel.run(OPEN_ALICE).ok().printed.splitlines()
            assert again == url  # the same port: bob's client finds it by itself
            assert history == "['before the restart']"
            wait_until(lambda: bob.connected, "bob to reconnect")
            assert bob.last_error is None
            kernel.run("w.send('after the restart');").ok()
            wait_until(lambda: len(bob.messages) == 2, "bob to receive the new message")
            assert [m["text"] for m in bob.messages] == ["before the restart",
                                                         "after the restart"]
        finally:
            bob.close()


def test_fresh_starts_an_empty_chat_and_leaves_the_kept_one(tmp_path: Path) -> None:
    with Kernel(tmp_path) as kernel:
        kernel.run(OPEN_ALICE + "w.send('kept');").ok()
        fresh = kernel.run("f = chat('alice', fresh=True)\n"
                           "print(f.client.url != w.client.url, f.messages)").ok()
        assert fresh.printed.strip() == "True []"
        kernel.restart()
        assert kernel.run(OPEN_ALICE).ok().printed.splitlines()[1] == "['kept']"


def test_two_kernels_on_one_data_directory_share_one_server(tmp_path: Path) -> None:
    open_bob = ("from chat_widget.demo import chat\n"
                "b = chat('bob')\n"
                "print(b.client.url)\n"
                "print([m['text'] for m in b.messages])\n")
    with Kernel(tmp_path) as first, Kernel(tmp_path) as second:
        url = first.run(OPEN_ALICE + "w.send('from the first kernel');").ok().printed
        url = url.splitlines()[0]
        joined, seen = second.run(open_bob).ok().printed.splitlines()
        assert joined == url and seen == "['from the first kernel']"
        second.run("b.send('from the second kernel');").ok()
        wait_until(lambda: "from the second kernel" in first.run(
            "print([m['text'] for m in w.messages])").ok().printed, "alice to see bob")

        first.restart()  # the server's process is gone: the second kernel takes over
        waited = second.run(
            "import time\n"
            "started = time.monotonic()\n"
            "while 'still trying' not in b.error and time.monotonic() - started < 60:\n"
            "    time.sleep(0.05)\n"
            "print(b.status, '|', b.error)").ok().printed
        assert waited.startswith(f"reconnecting | No answer from the chat server at {url} for ")
        taken, history = second.run(open_bob).ok().printed.splitlines()
        assert taken == url
        assert history == "['from the first kernel', 'from the second kernel']"
        owner = second.run("import os, json\nfrom chat_widget.embedded import data_dir\n"
                           "print(json.loads((data_dir() / 'server.json').read_text())['pid']"
                           " == os.getpid())").ok()
        assert owner.printed.strip() == "True"
