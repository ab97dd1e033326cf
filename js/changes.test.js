// The controls that change a message, drawn under jsdom with a stand-in view:
// which buttons each message gets, the editor's keys, the answers from the kernel.

import "./dom-env.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageChanges } from "./changes.js";
import { h } from "./dom.js";

/**
 * A view reduced to what MessageChanges borrows: messages by id, a node per
 * message (meta line and text), and the requests it would send to the kernel.
 * @param {import("./state.js").Message[]} messages
 */
function standIn(messages) {
  const byId = new Map(messages.map((message) => [message.id, message]));
  /** @type {Map<string, HTMLElement>} */
  const nodes = new Map();
  /** @type {Record<string, unknown>[]} */
  const sent = [];
  let focusedInput = 0;
  const list = h("div");
  document.body.replaceChildren(list);
  /** @type {MessageChanges} */
  const changes = new MessageChanges({
    request: (content) => {
      sent.push(content);
      return `req-${sent.length}`;
    },
    userId: () => "alice",
    nameOf: (id) => (id === "alice" ? "you" : id),
    message: (id) => byId.get(id),
    node: (id) => nodes.get(id) || null,
    redraw: (id) => draw(id),
    maxBytes: () => 64,
    focusInput: () => { focusedInput += 1; },
  });
  /** @param {string} id */
  const draw = (id) => {
    const message = /** @type {import("./state.js").Message} */ (byId.get(id));
    const node = h("div", "cw-message");
    node.append(h("div", "cw-meta"), h("div", "cw-text", message.deleted ? "message deleted" : message.text));
    changes.decorate(node, message);
    const old = nodes.get(id);
    if (old) old.replaceWith(node);
    else list.append(node);
    nodes.set(id, node);
  };
  for (const message of messages) draw(message.id);
  return {
    changes, sent, nodes, byId, draw,
    focusedInput: () => focusedInput,
    /** @param {string} id @param {string} label */
    button: (id, label) => /** @type {HTMLButtonElement | undefined} */ ([...(nodes.get(id)?.querySelectorAll("button") || [])]
      .find((b) => b.getAttribute("aria-label") === label)),
    /** @param {import("./state.js").Message} message */
    update: (message) => {
      byId.set(message.id, message);
      draw(message.id);
    },
  };
}

/**
 * @param {string} id
 * @param {string} sender
 * @param {Partial<import("./state.js").Message>} [extra]
 * @returns {import("./state.js").Message}
 */
const message = (id, sender, extra = {}) => ({
  id, chat_id: "general", seq: 1, text: `${id} text`, sender: { id: sender, name: sender, kind: "user" },
  version: 0, deleted: false, reactions: [], ...extra,
});

/**
 * @param {HTMLElement} target
 * @param {string} key
 * @param {boolean} [shiftKey]
 */
function press(target, key, shiftKey = false) {
  const KeyboardEvent = /** @type {any} */ (globalThis).window.KeyboardEvent;
  target.dispatchEvent(new KeyboardEvent("keydown", { key, shiftKey, bubbles: true, cancelable: true }));
}

test("your messages get Edit and Delete, every message a reaction, a tombstone nothing", () => {
  const view = standIn([message("mine", "alice"), message("theirs", "bob"), message("gone", "alice", { deleted: true })]);
  assert.ok(view.button("mine", "Edit message") && view.button("mine", "Delete message"));
  assert.ok(view.button("theirs", "Add a reaction"));
  assert.equal(view.button("theirs", "Edit message"), undefined);
  assert.equal(view.nodes.get("gone")?.querySelectorAll("button").length, 0);
  const all = [...document.querySelectorAll("button")];
  assert.ok(all.every((b) => b.type === "button" && b.getAttribute("aria-label")));
});

test("Enter saves the edit, and a refusal keeps the text with the reason until it is stored", () => {
  const view = standIn([message("mine", "alice", { text: "helo" })]);
  assert.ok(view.changes.startEdit(/** @type {any} */ (view.byId.get("mine"))));
  const box = /** @type {HTMLTextAreaElement} */ (view.nodes.get("mine")?.querySelector(".cw-edit-input"));
  assert.equal(box.value, "helo");
  box.value = "hello";
  box.dispatchEvent(new window.Event("input"));
  press(box, "Enter", true); // Shift+Enter: a new line is the textarea's own business
  assert.equal(view.sent.length, 0);
  press(box, "Enter");
  assert.deepEqual(view.sent, [{ type: "edit", chat_id: "general", id: "mine", text: "hello" }]);
  assert.ok(box.readOnly);
  view.changes.failed("req-1", "edit", "The authorization string expired.");
  const again = /** @type {HTMLTextAreaElement} */ (view.nodes.get("mine")?.querySelector(".cw-edit-input"));
  assert.equal(again, box); // the same box, drawn again
  assert.equal(box.value, "hello");
  assert.ok(!box.readOnly);
  assert.equal(view.nodes.get("mine")?.querySelector(".cw-edit-error")?.textContent, "The authorization string expired.");
  press(box, "Enter");
  assert.equal(view.sent.length, 2);
  view.update(message("mine", "alice", { text: "hello", version: 4, edited_at: "2026-12-01T15:00:00Z" }));
  assert.equal(view.changes.done("req-2"), "mine");
  view.draw("mine");
  const node = /** @type {HTMLElement} */ (view.nodes.get("mine"));
  assert.equal(node.querySelector(".cw-edit-input"), null);
  assert.equal(node.querySelector(".cw-text")?.textContent, "hello");
  assert.match(node.querySelector("time.cw-edited")?.textContent || "", /^edited /);
});

test("an unchanged or empty edit sends nothing; Escape cancels", () => {
  const view = standIn([message("mine", "alice", { text: "same" })]);
  view.changes.startEdit(/** @type {any} */ (view.byId.get("mine")));
  let box = /** @type {HTMLTextAreaElement} */ (view.nodes.get("mine")?.querySelector(".cw-edit-input"));
  box.value = "  ";
  press(box, "Enter");
  assert.match(view.nodes.get("mine")?.querySelector(".cw-edit-error")?.textContent || "", /delete it instead/);
  box.value = "same";
  press(box, "Enter"); // nothing changed: the editor closes
  assert.equal(view.nodes.get("mine")?.querySelector(".cw-edit-input"), null);
  view.changes.startEdit(/** @type {any} */ (view.byId.get("mine")));
  box = /** @type {HTMLTextAreaElement} */ (view.nodes.get("mine")?.querySelector(".cw-edit-input"));
  press(box, "Escape");
  assert.equal(view.nodes.get("mine")?.querySelector(".cw-edit-input"), null);
  assert.equal(view.sent.length, 0);
});

test("delete asks first; a refused delete or reaction says why under the message", () => {
  const view = standIn([message("mine", "alice")]);
  view.button("mine", "Delete message")?.click();
  assert.ok(view.button("mine", "No, keep it"));
  view.button("mine", "No, keep it")?.click();
  assert.equal(view.button("mine", "Yes, delete it"), undefined);
  assert.equal(view.sent.length, 0);
  view.button("mine", "Delete message")?.click();
  view.button("mine", "Yes, delete it")?.click();
  assert.deepEqual(view.sent, [{ type: "delete", chat_id: "general", id: "mine" }]);
  assert.ok(view.button("mine", "Delete message")?.disabled); // until answered
  view.changes.failed("req-1", "delete", "The chat server could not be reached.");
  assert.equal(view.nodes.get("mine")?.querySelector(".cw-change-error")?.textContent,
    "Could not delete it: The chat server could not be reached.");
  view.button("mine", "Add a reaction")?.click();
  view.button("mine", "React with ✅")?.click();
  assert.deepEqual(view.sent[1], { type: "react", chat_id: "general", id: "mine", emoji: "✅", on: true });
  assert.equal(view.button("mine", "React with ✅"), undefined); // the picker closed
  assert.equal(view.nodes.get("mine")?.querySelector(".cw-change-error"), null); // a new try
});

test("edits under way fail with the words when the kernel goes", () => {
  const view = standIn([message("mine", "alice")]);
  view.changes.startEdit(/** @type {any} */ (view.byId.get("mine")));
  const box = /** @type {HTMLTextAreaElement} */ (view.nodes.get("mine")?.querySelector(".cw-edit-input"));
  box.value = "kept";
  press(box, "Enter");
  view.changes.kernelGone("The notebook's kernel restarted: run the cell again to chat.");
  assert.equal(box.value, "kept");
  assert.match(view.nodes.get("mine")?.querySelector(".cw-edit-error")?.textContent || "", /kernel restarted/);
});
