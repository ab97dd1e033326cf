"""The `chat-widget` admin commands set up a deployment a client can use."""

from __future__ import annotations

import re
import subprocess
import sys

from chat_widget.cli import main
from tests.conftest import start_server
from tests.helpers import RawClient, http


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chat_widget", *args], capture_output=True,
                          text=True, timeout=60)


def test_admin_commands_create_a_working_deployment(tmp_path):
    db = f"sqlite:///{tmp_path / 'deploy.db'}"
    assert cli("add-workspace", "lab", "--title", "The lab", "--db", db).returncode == 0
    added = cli("add-user", "dana", "--workspace", "lab", "--db", db)
    assert added.returncode == 0, added.stderr
    token = re.search(r"token \(shown once, keep it\): (\S+)", added.stdout).group(1)
    assert cli("add-user", "erin", "--db", db).returncode == 0
    assert cli("add-chat", "results", "--workspace", "lab", "--responder", "echo",
               "--db", db).returncode == 0
    assert cli("add-member", "lab", "erin", "--db", db).returncode == 0
    duplicate = cli("add-user", "dana", "--db", db)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    missing = cli("add-chat", "x", "--workspace", "nowhere", "--db", db)
    assert missing.returncode == 1 and "not_found" in missing.stderr

    server = start_server(tmp_path / "run", db_url=db, extra_args=[])
    try:
        me = http(server, "GET", "/api/me", token).json()
        assert me["workspaces"] == [{"id": "lab", "title": "The lab"}]
        dana = RawClient(server, token)
        dana.join("results")
        question = dana.send("results", "hello lab")["message"]
        answer = dana.next_event("message")
        while answer["id"] == question["id"]:
            answer = dana.next_event("message")
        assert answer["text"] == "hello lab"
        dana.close()
    finally:
        server.stop()
    assert token not in server.log()


def test_remove_member_takes_a_user_out_and_fails_when_not_a_member(tmp_path, capsys):
    # In this process (the command's own entry point, without a Python start per step).
    db = f"sqlite:///{tmp_path / 'deploy.db'}"

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", db])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("add-workspace", "lab")[0] == 0
    assert run("add-user", "erin", "--workspace", "lab")[0] == 0
    code, out, err = run("remove-member", "lab", "erin")
    assert code == 0 and out.startswith("removed erin from lab"), (out, err)
    code, out, err = run("remove-member", "lab", "erin")
    assert code == 1 and out == "" and "erin is not a member of lab" in err
    assert run("add-member", "lab", "erin")[1].strip() == "added erin in lab"  # gone, so added anew
    code, _, err = run("remove-member", "nowhere", "erin")
    assert code == 1 and "not a member of nowhere" in err


def test_serve_stops_cleanly_on_sigterm(fresh_server):
    fresh_server.stop()
    assert fresh_server.process.returncode == 0
    assert "listening on http://127.0.0.1:" in fresh_server.log()
    assert "stopping" in fresh_server.log()
