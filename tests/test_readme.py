"""Every command of the README, pasted in order on a fresh state, works.

The README's ```bash blocks run line by line in a shell and its ```python
blocks run as cells of one real kernel, in the order they appear, from a
copy of the checkout (so `pip install -e .` goes into a virtual environment
of the test's own, and files the commands write land in the copy). The state
is fresh: an empty data directory, a PostgreSQL database that does not exist
yet (the recipe must create it), a Redis of the test's own.

What the test changes, so the run cannot disturb others on the machine:
the README's ports (8765, 8766, 8767, 8888) become free ports, the database
name `chat` a throwaway one, Redis's 6379 the private server's port. Lines
ending in `&` run in the background once they say they listen; `kill %N`
stops the Nth, as bash's job control would; the rest are stopped at the end.
`demo --lab` runs until it serves, then gets the Ctrl-C a person would
press. One line is not run: `bash scripts/test.sh` is the command that runs
this test.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.postgres import unused_database
from tests.browser.helpers import free_port
from tests.kernels import Kernel

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = {"bash scripts/test.sh": "the command that runs this test"}
READY = re.compile(r"listening on http://|/lab\S*token=")


def readme_blocks() -> list[tuple[str, str]]:
    """The README's fenced blocks in order: (language, text) for bash and python."""
    found = re.findall(r"^```(bash|python)\n(.*?)^```", (ROOT / "README.md").read_text(),
                       flags=re.MULTILINE | re.DOTALL)
    return [(language, text) for language, text in found]


def commands(text: str) -> list[str]:
    """A bash block's commands, their trailing comments off."""
    lines = (re.sub(r"\s+#\s.*$", "", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


@dataclass
class Shell:
    """Runs README commands as a terminal would, one after another."""

    cwd: Path
    env: dict[str, str]
    jobs: dict[int, subprocess.Popen] = field(default_factory=dict)
    logs: dict[int, Path] = field(default_factory=dict)

    def run(self, command: str) -> None:
        assignment = re.fullmatch(r"([A-Z_]+)=(\S+)", command)
        killed = re.fullmatch(r"kill %(\d+)", command)
        if assignment:
            self.env[assignment.group(1)] = assignment.group(2)
        elif killed:
            self.stop(int(killed.group(1)))
        elif command.endswith("&"):
            self.background(command.rstrip("&").strip())
        elif "demo --lab" in command:  # runs until Ctrl-C, before the next command
            self.background(command)
            self.stop(max(self.jobs), signal.SIGINT)
        else:
            done = subprocess.run(command, shell=True, executable="/bin/bash", cwd=self.cwd,
                                  env=self.env, capture_output=True, text=True, timeout=300)
            output = done.stdout + done.stderr
            assert done.returncode == 0 and "Traceback" not in output, f"{command}:\n{output}"

    def background(self, command: str) -> None:
        number = max(self.jobs, default=0) + 1
        log = self.cwd / f"job-{number}.log"
        self.jobs[number] = subprocess.Popen(
            command, shell=True, executable="/bin/bash", cwd=self.cwd, env=self.env,
            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.logs[number] = log
        deadline = time.monotonic() + 120
        while not READY.search(log.read_text(errors="replace")):
            assert self.jobs[number].poll() is None, f"{command}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{command} never got ready:\n{log.read_text()}"
            time.sleep(0.1)

    def stop(self, number: int, signum: int = signal.SIGTERM) -> None:
        process = self.jobs.pop(number)
        with contextlib.suppress(ProcessLookupError):  # already ended: its log says why
            os.killpg(process.pid, signum)
        process.wait(timeout=60)
        log = self.logs.pop(number).read_text(errors="replace")
        assert "Traceback" not in log, log

    def stop_all(self) -> None:
        for number in sorted(self.jobs):
            self.stop(number)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[int]:
    """A redis-server of this test's own, so its broadcasts reach no one else's servers."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def fresh_checkout(target: Path) -> Path:
    """The checkout's files (tracked and new, none ignored) copied to `target`."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.timeout(900)  # a venv, two installs, JupyterLab, five servers, a kernel
def test_every_readme_command_works_in_order(
        tmp_path: Path, private_redis: int, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = fresh_checkout(tmp_path / "checkout")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=300)
    # The kernel and every command import the copy (the machine's own
    # editable install may point elsewhere), and find the venv's commands first.
    monkeypatch.setenv("PYTHONPATH", str(checkout))
    monkeypatch.setenv("PATH", f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BROWSER", "true")  # `demo --lab` must not try to open one
    with unused_database() as db_url:
        replacements = {"127.0.0.1:5432/chat": db_url.split("@", 1)[1],
                        ":6379/": f":{private_redis}/",
                        **{str(port): str(free_port()) for port in (8765, 8766, 8767, 8888)}}

        def local(text: str) -> str:
            for before, after in replacements.items():
                text = text.replace(before, after)
            return text

        shell = Shell(checkout, dict(os.environ))
        ran: list[str] = []
        try:
            with Kernel(checkout) as kernel:
                for language, text in readme_blocks():
                    if language == "python":
                        kernel.run(local(text)).ok()
                        ran.append("python block")
                        continue
                    for command in commands(text):
                        if command not in NOT_RUN:
                            shell.run(local(command))
                            ran.append(command)
        finally:
            shell.stop_all()
    assert "pip install -e . && chat-widget demo" in ran
    assert any(command.startswith("DB=postgresql://") for command in ran)
    assert ran.count("python block") >= 6
