"""The README's first command: `chat-widget demo` chats through the embedded server."""

from __future__ import annotations

import subprocess
import sys


def test_demo_command_chats_through_the_embedded_server():
    result = subprocess.run([sys.executable, "-m", "chat_widget", "demo"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "embedded chat server on http://127.0.0.1:" in out
    assert "bob sees  #1 alice: Hello Bob" in out
    assert "alice awaiting a response: True" in out
    assert "echo bot answered: 'Echo bot, are you there?'" in out
    assert "awaiting a response now: False" in out
