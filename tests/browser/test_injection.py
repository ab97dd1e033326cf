"""Hostile messages in a real browser: nothing runs, all shows as text, nothing typed is lost.

The corpus (tests/injection_corpus.py) goes through the real server from bob's
ChatClient in the test process, and from alice typing into the widget, and
the widget shows it in JupyterLab in headless Chromium. A payload that ran
would call `__pwned(N)`, open a dialog or set the title: `Tripwire` records
all three. `AUDIT_JS` lists any markup in the message list that a message
should never produce (scripts, frames, styles, `on*` attributes, links that
are not http(s)/mailto, images that are not inline data).

A second server, rate-limited and killed on purpose, shows that a refused
send keeps its text (with a Retry), and that Send is off while disconnected.
A first test renders the corpus and a few hundred random mixes of markdown
and markup in the view alone (no kernel), which takes a second.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from chat_widget.client import ChatClient
from tests.browser.helpers import (
    ARTIFACTS,
    AUDIT_JS,
    WIDGET_CELL,
    NotebookPage,
    Tripwire,
    contrast,
    open_standalone,
    push_message,
    server_env,
)
from tests.conftest import RunningServer, start_server
from tests.injection_corpus import PART_SHOWS, TEXTS, hostile_parts

pytestmark = pytest.mark.timeout(120)
SECOND = 1000  # Playwright counts milliseconds
TYPED = [TEXTS[0], TEXTS[2], TEXTS[30], TEXTS[57], TEXTS[75]]  # alice types these herself
NOTEBOOK = [
    WIDGET_CELL,
    'chat = open_chat("general")\nchat',
    'flaky = open_chat("general", "FLAKY_URL", "FLAKY_TOKEN")\nflaky',
    'print("widgets ready")',
]
TRIPWIRE = True


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def shown_text(locator: Any) -> str:
    return flat(locator.inner_text())


@pytest.fixture(scope="module")
def flaky_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server allowing one message per 2 s, which a test kills and starts again."""
    folder = tmp_path_factory.mktemp("flaky-server")
    first = start_server(folder, extra_args=["--rate-limit", "0.5", "--rate-burst", "1"])
    holder = {"server": first, "folder": folder}
    yield holder
    holder["server"].stop()


@pytest.fixture(scope="module")
def lab_env(chat_server: RunningServer, flaky_server: dict[str, Any]) -> dict[str, str]:
    """alice on both servers: the module's, and the flaky one."""
    flaky: RunningServer = flaky_server["server"]
    return server_env(chat_server, FLAKY_URL=flaky.url, FLAKY_TOKEN=flaky.tokens["alice"])


@pytest.fixture(scope="module", autouse=True)
def injection_report(notebook: NotebookPage) -> Iterator[None]:
    """The reliability report's counts (bench/reliability.py), when it asks for them."""
    yield
    report = os.environ.get("CHAT_WIDGET_INJECTION_REPORT")
    tripwire = notebook.tripwire
    if report and tripwire is not None:
        Path(report).write_text(json.dumps({
            "payloads": len(TEXTS) + len(hostile_parts()),
            "executions": len(tripwire.hits()) + len(tripwire.dialogs) + len(tripwire.console)}))


def armed(notebook: NotebookPage) -> Tripwire:
    """The page's tripwire (this module's notebook always has one)."""
    assert notebook.tripwire is not None
    return notebook.tripwire


def chat_view(notebook: NotebookPage) -> Any:
    return notebook.widgets().nth(0)


def flaky_view(notebook: NotebookPage) -> Any:
    return notebook.widgets().nth(1)


def random_markdown(rng: random.Random) -> str:
    """A random mix of markdown syntax, markup and link targets (seeded: the same every run)."""
    tokens = ["*", "**", "_", "__", "~~", "`", "```", "[", "]", "(", ")", "](", "![", "<", ">",
              "\n", "\n\n", "> ", "- ", "1. ", "# ", "|", "|---|", "\\", " ", "x", "word",
              "javascript:__pwned(0)", "data:text/html,<script>__pwned(0)</script>",
              "http://example.com", "<script>__pwned(0)</script>", "<img src=x onerror=__pwned(0)>",
              '" onmouseover="__pwned(0)', "&lt;", "\u202e", "\u200b", "\t", "    "]
    return "".join(rng.choice(tokens) for _ in range(rng.randint(1, 60)))


def test_the_view_alone_shows_every_payload_as_text(browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 1200})
    tripwire = Tripwire(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_standalone(page)
    ids = [push_message(page, seq, payload.text) for seq, payload in enumerate(TEXTS, start=1)]
    parts_id = push_message(page, len(ids) + 1, "", hostile_parts())
    rng = random.Random(20261124)
    for seq in range(len(ids) + 2, len(ids) + 402):
        push_message(page, seq, random_markdown(rng))
    assert page.locator(".cw-items .cw-message").count() == len(ids) + 401
    for message_id, payload in zip(ids, TEXTS, strict=True):
        shown = shown_text(page.locator(f".cw-message[data-id='{message_id}'] .cw-text"))
        for piece in payload.shows:
            assert flat(piece) in shown, f"{payload.text!r} shows as {shown!r}"
    shown = shown_text(page.locator(f".cw-message[data-id='{parts_id}']"))
    assert all(piece in shown for piece in PART_SHOWS), shown
    assert page.evaluate(AUDIT_JS, ".cw-list") == []
    assert errors == []
    tripwire.assert_quiet()
    # No JupyterLab here, so none of its theme variables: the fallbacks keep it readable.
    bubble = page.locator(f".cw-message[data-id='{ids[0]}']")
    assert contrast(bubble.locator(".cw-text"), bubble) >= 4.5
    bubble.scroll_into_view_if_needed()
    page.locator(".cw-root").screenshot(path=str(ARTIFACTS / "injection-00-view-alone.png"))
    page.close()


def test_hostile_texts_from_another_client_show_as_text(
    notebook: NotebookPage, bob: Any
) -> None:
    page, tripwire = notebook, armed(notebook)
    view = chat_view(page)
    sent = [bob.send(payload.text) for payload in TEXTS]
    last = view.locator(f".cw-message[data-id='{sent[-1]['id']}']")
    sync_api.expect(last).to_have_count(1, timeout=20 * SECOND)
    for message, payload in zip(sent, TEXTS, strict=True):
        assert message["text"] == payload.text  # stored exactly as sent
        body = view.locator(f".cw-message[data-id='{message['id']}'] .cw-text")
        shown = shown_text(body)
        for piece in payload.shows:
            assert flat(piece) in shown, f"{payload.text!r} shows as {shown!r}"
    assert view.locator(".cw-list script").count() == 0
    assert page.page.evaluate(AUDIT_JS, ".cw-list") == []
    links = view.locator(".cw-list a")
    assert links.count() > 0  # the http(s) ones are links, and only those (AUDIT_JS)
    page.screenshot("injection-01-hostile-texts")
    tripwire.assert_quiet()


def test_hostile_parts_show_as_data_and_the_svg_runs_nothing(
    notebook: NotebookPage, bob: Any
) -> None:
    page, tripwire = notebook, armed(notebook)
    view = chat_view(page)
    message = bob.send({"text": "hostile parts", "parts": hostile_parts()})
    node = view.locator(f".cw-message[data-id='{message['id']}']")
    svg = node.locator("img.cw-image").first
    sync_api.expect(svg).to_be_visible()
    assert svg.evaluate("image => image.complete && image.naturalWidth") == 240
    assert svg.get_attribute("src").startswith("data:image/svg+xml;base64,")
    shown = shown_text(node)
    assert all(piece in shown for piece in PART_SHOWS), shown
    assert node.locator(".cw-unknown").count() >= 2  # the unknown type, the unreadable image
    svg.click()
    sync_api.expect(page.page.locator(".cw-lightbox img")).to_be_visible()
    assert page.page.evaluate(AUDIT_JS, ".cw-lightbox") == []
    page.screenshot("injection-02-hostile-parts-enlarged")
    page.page.keyboard.press("Escape")
    sync_api.expect(page.page.locator(".cw-lightbox")).to_have_count(0)
    assert page.page.evaluate(AUDIT_JS, ".cw-list") == []
    tripwire.assert_quiet()


def test_payloads_typed_into_the_widget_show_as_text(
    notebook: NotebookPage, bob: Any
) -> None:
    page, tripwire = notebook, armed(notebook)
    view = chat_view(page)
    box = view.locator(".cw-input")
    for payload in TYPED:
        box.fill(payload.text)
        box.press("Enter")
        sync_api.expect(box).to_have_value("")  # stored: the box clears
    stored = view.locator(".cw-message.cw-own[data-state='stored'] .cw-text")
    shown = [shown_text(stored.nth(index)) for index in range(stored.count())][-len(TYPED):]
    for text, payload in zip(shown, TYPED, strict=True):
        assert all(flat(piece) in text for piece in payload.shows), (text, payload.text)
    texts = {message["text"] for message in bob.messages}
    assert all(payload.text in texts for payload in TYPED)  # bob got them unchanged
    assert page.page.evaluate(AUDIT_JS, ".cw-list") == []
    tripwire.assert_quiet()


def test_the_size_limit_shows_as_you_type_in_characters(notebook: NotebookPage) -> None:
    page = notebook
    view = chat_view(page)
    box, size = view.locator(".cw-input"), view.locator(".cw-size")
    box.fill("x" * 60_000)  # within the protocol's 64 KiB of text, near it
    sync_api.expect(size).to_have_text("5,536 characters left before the size limit.")
    text = "x" * 70_000
    box.fill(text)
    sync_api.expect(size).to_contain_text("Too long to send: remove 4,464 characters")
    sync_api.expect(view.locator(".cw-send")).to_be_disabled()
    box.press("Enter")  # refused by the view, before anything is sent: it says why
    sync_api.expect(view.locator(".cw-hint")).to_contain_text("remove 4,464 characters")
    sync_api.expect(view.locator(".cw-local")).to_have_count(0)
    assert box.input_value() == text
    assert "bytes" not in size.inner_text()
    page.screenshot("injection-03-too-large")
    box.fill("")
    sync_api.expect(size).to_be_hidden()


def test_a_refused_send_keeps_its_text_and_offers_retry(
    notebook: NotebookPage, flaky_server: dict[str, Any],
) -> None:
    page = notebook
    view = flaky_view(page)
    box = view.locator(".cw-input")
    box.fill("first, within the rate")
    box.press("Enter")
    sync_api.expect(box).to_have_value("")
    box.fill("second, too soon after the first")
    box.press("Enter")  # the server allows one message per 2 s: refused (rate_limited)
    failed = view.locator(".cw-local[data-state='failed']")
    sync_api.expect(failed).to_have_count(1)
    sync_api.expect(failed.locator(".cw-reason")).to_contain_text("try again in")
    sync_api.expect(failed.locator(".cw-reason")).to_contain_text("Press Retry")
    assert "connect()" not in failed.inner_text()
    sync_api.expect(failed.locator(".cw-retry")).to_be_visible()
    assert box.input_value() == "second, too soon after the first"
    # A message that comes later goes below the failed one: the list stays in the order sent.
    carol = ChatClient(flaky_server["server"].url, flaky_server["server"].tokens["bob"])
    with carol:
        carol.join("general")
        carol.send("a newer message from bob")
    newer = view.locator(".cw-items > .cw-message", has_text="a newer message from bob")
    sync_api.expect(newer).to_have_count(1)
    order = view.locator(".cw-items > .cw-message").evaluate_all(
        "nodes => nodes.map((n) => n.dataset.state === 'failed' ? 'failed' : n.textContent)")
    assert order.index("failed") < next(i for i, t in enumerate(order) if "a newer message" in t)
    page.screenshot("injection-04-refused-send-retry")
    page.page.wait_for_timeout(2200)  # the server's rate window, not an event to await
    failed.locator(".cw-retry").click()
    stored = view.locator(".cw-message[data-state='stored']", has_text="too soon after the first")
    sync_api.expect(stored).to_have_count(1)
    sync_api.expect(view.locator(".cw-local")).to_have_count(0)
    sync_api.expect(box).to_have_value("")


def test_send_is_off_while_disconnected_and_the_typed_text_waits(
    notebook: NotebookPage, flaky_server: dict[str, Any],
) -> None:
    page = notebook
    view = flaky_view(page)
    box, button = view.locator(".cw-input"), view.locator(".cw-send")
    dead: RunningServer = flaky_server["server"]
    dead.kill()
    sync_api.expect(view.locator(".cw-status")).not_to_have_text("connected", timeout=15 * SECOND)
    box.fill("typed while the server is away")
    sync_api.expect(button).to_be_disabled()
    assert "Not connected to the chat server" in (button.get_attribute("title") or "")
    box.press("Enter")  # refused by the view, which says why: nothing is sent, nothing is lost
    sync_api.expect(view.locator(".cw-hint")).to_contain_text(
        "Not connected to the chat server")
    assert box.input_value() == "typed while the server is away"
    sync_api.expect(view.locator(".cw-local")).to_have_count(0)
    page.screenshot("injection-05-disconnected")
    port = int(dead.url.rsplit(":", 1)[1])
    flaky_server["server"] = start_server(flaky_server["folder"], db_url=dead.db_url,
                                          extra_args=dead.extra_args, port=port)
    sync_api.expect(view.locator(".cw-status")).to_have_text("connected", timeout=45 * SECOND)
    sync_api.expect(button).to_be_enabled()
    button.click()
    stored = view.locator(".cw-message[data-state='stored']", has_text="while the server is away")
    sync_api.expect(stored).to_have_count(1)
    sync_api.expect(box).to_have_value("")
