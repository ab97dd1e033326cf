// Editing without any DOM: who may change what, the keys, and one view's edits.

import assert from "node:assert/strict";
import { test } from "node:test";
import { canChange, Edits, editBlockedBecause, editKey, lastEditable } from "./editing.js";

/**
 * @param {number} seq
 * @param {string} senderId
 * @param {Partial<import("./state.js").Message>} [extra]
 * @returns {import("./state.js").Message}
 */
const message = (seq, senderId, extra = {}) => ({
  id: `m${seq}`, chat_id: "general", seq, text: `text ${seq}`,
  sender: { id: senderId, name: senderId, kind: "user" }, ...extra,
});

test("only the sender may change a message, and never a tombstone or a bot's", () => {
  assert.ok(canChange(message(1, "alice"), "alice"));
  assert.ok(!canChange(message(1, "bob"), "alice"));
  assert.ok(!canChange(message(1, "alice", { deleted: true }), "alice"));
  assert.ok(!canChange(message(1, "alice", { sender: { id: "alice", kind: "bot" } }), "alice"));
  assert.ok(!canChange(message(1, ""), "")); // nobody signed in yet
});

test("Up edits the newest message of yours that is not deleted", () => {
  const order = [message(1, "alice"), message(2, "alice"), message(3, "alice", { deleted: true }), message(4, "bob")];
  assert.equal(lastEditable(order, "alice")?.id, "m2");
  assert.equal(lastEditable(order, "carol"), null);
  assert.equal(lastEditable([], "alice"), null);
});

test("Enter saves, Shift+Enter is a new line, Escape cancels, an input method's Enter is its own", () => {
  assert.equal(editKey({ key: "Enter" }), "save");
  assert.equal(editKey({ key: "Enter", shiftKey: true }), null);
  assert.equal(editKey({ key: "Escape" }), "cancel");
  assert.equal(editKey({ key: "Enter", isComposing: true }), null);
  assert.equal(editKey({ key: "a" }), null);
});

test("an edit cannot be empty (unless parts remain) nor over the size limit", () => {
  assert.equal(editBlockedBecause("fixed", false, 64), "");
  assert.match(editBlockedBecause("  ", false, 64), /cannot be empty: delete it instead/);
  assert.equal(editBlockedBecause("", true, 64), ""); // the table or image stays the message
  assert.match(editBlockedBecause("x".repeat(70), false, 64), /remove 6 characters/);
});

test("an edit keeps its draft while saving, and after a failure with the reason", () => {
  const edits = new Edits();
  const edit = edits.start("m1", "helo");
  assert.equal(edits.start("m1", "something else"), edit); // opening it again keeps the draft
  edits.type("m1", "hello");
  edits.saving("m1", "req-1");
  edits.type("m1", "typed while saving"); // the box is read-only then: ignored
  assert.deepEqual({ ...edit }, { id: "m1", original: "helo", text: "hello", phase: "saving", request_id: "req-1", error: "" });
  assert.equal(edits.failed("req-other", "no"), null); // another view's request
  assert.equal(edits.failed("req-1", "Authorization expired."), edit);
  assert.equal(edit.phase, "failed");
  assert.equal(edit.text, "hello");
  assert.equal(edit.error, "Authorization expired.");
  edits.saving("m1", "req-2");
  assert.equal(edit.error, ""); // a new try clears the old reason
  assert.equal(edits.saved("req-2"), edit);
  assert.equal(edits.get("m1"), undefined);
  assert.equal(edits.saved("req-2"), null);
});

test("cancelling ends one edit; another chat ends them all", () => {
  const edits = new Edits();
  edits.start("m1", "a");
  edits.start("m2", "b");
  assert.equal(edits.end("m1")?.text, "a");
  assert.equal(edits.end("m1"), null);
  edits.clear();
  assert.equal(edits.get("m2"), undefined);
});
