"""Protocol 1.1 in the widget, in a real browser: presence, typing, unread, mentions, files, search.

One chat server (its own process) with a second chat, `numbers`; JupyterLab
opens a notebook with alice's widget on `general`; bob, a ChatClient in the
test process, is there too. The tests run in order on one page. Screenshots
go to test-artifacts/live-*.png.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import requests
from playwright import sync_api

from chat_widget.client import ChatClient
from tests.browser.helpers import WIDGET_CELL, NotebookPage, bob_receives, scroll_list_to_top

pytestmark = pytest.mark.timeout(120)
SECOND = 1000  # Playwright counts milliseconds
SERVER_CHATS = ["numbers"]
NOTEBOOK = [WIDGET_CELL, 'chat = open_chat("general")\nchat', 'print("widgets ready")']

# A DataTransfer holding one file made in the page (text, or a PNG drawn on a canvas).
FILE_TRANSFER_JS = """
async ([name, text]) => {
  let blob;
  if (name.endsWith('.png')) {
    const canvas = document.createElement('canvas');
    canvas.width = 40;
    canvas.height = 30;
    const context = canvas.getContext('2d');
    context.fillStyle = '#c33';
    context.fillRect(0, 0, 40, 30);
    blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  } else {
    blob = new Blob([text], { type: 'text/plain' });
  }
  const transfer = new DataTransfer();
  transfer.items.add(new File([blob], name, { type: blob.type }));
  return transfer;
}
"""


def view(notebook: NotebookPage) -> Any:
    return notebook.widgets().first


def drop_file(notebook: NotebookPage, name: str, text: str = "") -> None:
    """Drop a file on the widget as a person dragging it from the desktop would."""
    transfer = notebook.page.evaluate_handle(FILE_TRANSFER_JS, [name, text])
    target = view(notebook).locator(".cw-input")
    for kind in ("dragenter", "dragover", "drop"):
        target.dispatch_event(kind, {"dataTransfer": transfer})


@pytest.fixture(scope="module")
def typing_seen(bob: Any) -> Any:
    """Every typing event bob receives, awaitable."""
    seen: list[tuple[str, str, bool]] = []
    arrived = threading.Condition()

    def record(chat_id: str, user: dict[str, Any], typing: bool) -> None:
        with arrived:
            seen.append((chat_id, user["id"], typing))
            arrived.notify_all()

    remove = bob.on_typing(record)
    yield seen, arrived
    remove()


def open_switcher(widget: Any) -> None:
    """Opens the chat switcher, whatever state an earlier test left it in."""
    if widget.locator(".cw-switcher").is_hidden():
        widget.locator(".cw-switcher-toggle").click()
    sync_api.expect(widget.locator(".cw-switcher")).to_be_visible()


def test_who_is_here_shows_as_avatars(notebook: NotebookPage, bob: Any) -> None:
    presence = view(notebook).locator(".cw-presence")
    sync_api.expect(presence.locator(".cw-avatar[data-user-id='bob']")).to_have_attribute(
        "title", "bob")
    sync_api.expect(presence.locator(".cw-avatar[data-user-id='alice']")).to_have_attribute(
        "aria-label", "alice (you)")
    assert presence.locator(".cw-avatar").all_inner_texts() == ["A", "B"]


def test_bob_typing_shows_under_the_list(notebook: NotebookPage, bob: Any) -> None:
    line = view(notebook).locator(".cw-typing")
    bob.set_typing(True, chat_id="general")
    sync_api.expect(line).to_have_text("bob is typing…")
    notebook.screenshot("live-01-bob-typing")
    bob.set_typing(False, chat_id="general")
    sync_api.expect(line).to_have_text("")


def test_typing_in_the_widget_reaches_bob_and_stops_on_send(
        notebook: NotebookPage, bob: Any, typing_seen: Any) -> None:
    seen, arrived = typing_seen
    box = view(notebook).locator(".cw-input")
    box.press_sequentially("hello")  # five keystrokes: one typing: true
    with arrived:
        assert arrived.wait_for(lambda: ("general", "alice", True) in seen, 10)
    box.press("Enter")
    bob_receives(bob, "hello")
    with arrived:
        assert arrived.wait_for(lambda: seen[-1] == ("general", "alice", False), 10)
    assert seen.count(("general", "alice", True)) == 1  # not once a keystroke


def test_at_offers_members_and_keys_pick_one(notebook: NotebookPage) -> None:
    widget = view(notebook)
    box = widget.locator(".cw-input")
    box.fill("")
    box.press_sequentially("ask @")
    options = widget.locator(".cw-mentions [role='option']")
    sync_api.expect(options.first).to_be_visible()
    assert "@alice" not in options.all_inner_texts()  # never yourself
    box.press_sequentially("b")
    sync_api.expect(options).to_have_text(["@bob"])
    sync_api.expect(box).to_have_attribute("aria-expanded", "true")
    notebook.screenshot("live-02-mention-offered")
    box.press("Enter")  # picks, does not send
    sync_api.expect(box).to_have_value("ask @bob ")
    sync_api.expect(widget.locator(".cw-mentions")).to_be_hidden()
    box.press_sequentially("and @")
    sync_api.expect(options.first).to_be_visible()
    box.press("Escape")
    sync_api.expect(widget.locator(".cw-mentions")).to_be_hidden()
    box.fill("")


def test_a_dropped_file_uploads_and_its_link_downloads_it(
        notebook: NotebookPage, bob: Any) -> None:
    widget = view(notebook)
    text = "figures for the quarter\n" * 2000  # 48 KB: a few chunks
    drop_file(notebook, "report.txt", text)
    file = widget.locator(".cw-message.cw-own .cw-file", has_text="report.txt")
    sync_api.expect(file.locator(".cw-file-meta")).to_have_text("text · 47 KB", timeout=20 * SECOND)
    with bob.arrived:
        assert bob.arrived.wait_for(lambda: any(
            p.get("name") == "report.txt" for m in bob.received for p in m["parts"]), 15)
    part = next(p for m in bob.received for p in m["parts"] if p.get("name") == "report.txt")
    assert bob.download(part) == text.encode()
    context = notebook.page.context
    with context.expect_event("request", lambda r: "/api/files/" in r.url) as opened:
        file.get_by_role("button", name="Download report.txt").click()
    link = opened.value.url
    assert "token" not in link.lower()
    fetched = requests.get(link, timeout=10)  # what the browser was sent to: the file, no token
    assert fetched.status_code == 200 and fetched.content == text.encode()
    for page in context.pages:
        if page is not notebook.page:
            page.close()


def test_a_pasted_image_shows_a_thumbnail(notebook: NotebookPage) -> None:
    transfer = notebook.page.evaluate_handle(FILE_TRANSFER_JS, ["swatch.png", ""])
    view(notebook).locator(".cw-input").evaluate(
        "(box, data) => box.dispatchEvent(new ClipboardEvent('paste', "
        "{ clipboardData: data, bubbles: true, cancelable: true }))", transfer)
    file = view(notebook).locator(".cw-message.cw-own .cw-file", has_text="swatch.png")
    thumbnail = file.locator("img.cw-file-thumbnail")
    sync_api.expect(thumbnail).to_be_visible(timeout=20 * SECOND)
    assert thumbnail.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [40, 30]
    notebook.screenshot("live-03-files")


def test_the_attach_button_uploads_the_chosen_file(notebook: NotebookPage) -> None:
    widget = view(notebook)
    with notebook.page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(files=[{"name": "notes.md", "mimeType": "text/markdown",
                                    "buffer": b"# notes\n"}])
    file = widget.locator(".cw-message.cw-own .cw-file", has_text="notes.md")
    sync_api.expect(file.locator(".cw-file-meta")).to_have_text("MARKDOWN text · 8 B")


def test_a_message_is_read_once_scrolled_to_not_when_it_arrives(
        notebook: NotebookPage, bob: Any) -> None:
    widget = view(notebook)
    for number in range(8):
        bob.send(f"filler {number}", chat_id="general")
    last_filler = widget.locator(".cw-message", has_text="filler 7")
    sync_api.expect(last_filler).not_to_have_class(re.compile("cw-unread"))  # seen: read
    scroll_list_to_top(widget)
    bob.send("arrived while you read above", chat_id="general")
    arrived = widget.locator(".cw-message", has_text="arrived while you read above")
    sync_api.expect(arrived).to_have_class(re.compile("cw-unread"))
    open_switcher(widget)
    general = widget.locator(".cw-chat[data-chat-id='general'] .cw-badge-unread")
    sync_api.expect(general).to_have_text("1")  # the server counts it unread too
    assert "cw-unread" in (arrived.get_attribute("class") or "")
    widget.locator(".cw-new-below").click()  # jump to the latest: now it is seen
    sync_api.expect(arrived).not_to_have_class(re.compile("cw-unread"))
    sync_api.expect(general).to_be_hidden()
    widget.locator(".cw-switcher-toggle").click()


def test_unread_counts_in_the_switcher_then_the_divider(notebook: NotebookPage, bob: Any,
                                                        chat_server: Any) -> None:
    widget = view(notebook)
    bob.join("numbers")
    for text in ("first new one", "second, for @alice", "third new one"):
        bob.send(text, chat_id="numbers")
    toggle = widget.locator(".cw-switcher-toggle")
    sync_api.expect(toggle.locator(".cw-badge-unread")).to_have_text("3")
    sync_api.expect(toggle.locator(".cw-badge-mentions")).to_have_text("@1")
    open_switcher(widget)
    numbers = widget.locator(".cw-chat[data-chat-id='numbers']")
    sync_api.expect(numbers).to_have_attribute("aria-label", "numbers, 3 unread, 1 mention")
    notebook.screenshot("live-04-switcher")
    numbers.click()
    sync_api.expect(widget.locator(".cw-title")).to_contain_text("numbers")
    divider = widget.locator(".cw-divider")
    sync_api.expect(divider).to_have_text("3 new")
    after = divider.locator("xpath=following-sibling::div[contains(@class,'cw-message')][1]")
    sync_api.expect(after).to_contain_text("first new one")
    mention = widget.locator(".cw-message.cw-mentions-me mark.cw-mention-me")
    sync_api.expect(mention).to_have_text("@alice")
    notebook.screenshot("live-05-divider")
    # Shown and visible: read. The badge goes, and the marker is on the server.
    toggle.click()
    sync_api.expect(numbers.locator(".cw-badge-unread")).to_be_hidden()
    toggle.click()
    with ChatClient(chat_server.url, chat_server.tokens["alice"]) as elsewhere:
        counts = next(c for c in elsewhere.chats() if c["id"] == "numbers")
    assert (counts["unread"], counts["unread_mentions"], counts["last_read_seq"]) == (0, 0, 3)


def test_search_finds_an_old_message_and_jumps_to_it(notebook: NotebookPage, bob: Any) -> None:
    widget = view(notebook)
    bob.send("the needle is here", chat_id="general")
    for number in range(60):
        bob.send(f"haystack {number}", chat_id="general")
    widget.locator(".cw-search-toggle").click()
    box = widget.get_by_role("searchbox", name="Search messages")
    box.fill("needle")
    box.press("Enter")
    result = widget.locator(".cw-search-result", has_text="the needle is here")
    sync_api.expect(result).to_contain_text("bob in general")
    result.click()  # in another chat, and older than the first page: switch, then page back
    found = widget.locator(".cw-message[data-found='true']", has_text="the needle is here")
    sync_api.expect(found).to_be_in_viewport(timeout=20 * SECOND)
    sync_api.expect(widget.locator(".cw-title")).to_contain_text("general")
    notebook.screenshot("live-06-search-jump")
