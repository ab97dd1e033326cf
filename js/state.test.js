// ChatState and the words for people, without any DOM.

import assert from "node:assert/strict";
import { test } from "node:test";
import { adviceFor, formatTime, sizeOf } from "./format.js";
import { ChatState, sendBlockedBecause, TIMELINE_SENDS } from "./state.js";

/**
 * @param {number} seq
 * @param {Partial<import("./state.js").Message>} [extra]
 * @returns {import("./state.js").Message}
 */
const message = (seq, extra = {}) => ({ id: `m${seq}`, chat_id: "general", seq, text: `text ${seq}`, ...extra });

test("messages are kept in seq order, once each, for the chat shown only", () => {
  const state = new ChatState();
  state.switchTo("general");
  assert.deepEqual(state.addMessage(message(2)), { index: 0, next: null });
  assert.deepEqual(state.addMessage(message(5)), { index: 1, next: null });
  const early = state.addMessage(message(3));
  assert.equal(early?.index, 1);
  assert.equal(early?.next?.seq, 5);
  assert.equal(state.addMessage(message(3)), null); // already here
  assert.equal(state.addMessage(message(9, { chat_id: "other" })), null);
  assert.deepEqual(state.order.map((m) => m.seq), [2, 3, 5]);
  assert.equal(state.oldestSeq(), 2);
  assert.equal(state.switchTo("general"), false);
  assert.equal(state.switchTo("other"), true);
  assert.equal(state.order.length, 0);
  assert.ok(state.isEmpty());
});

test("own sends wait, queue while the kernel is busy, fail and go", () => {
  const state = new ChatState();
  state.switchTo("general");
  const { created } = state.upsertLocal("js-1", "hello", "sending");
  assert.ok(created);
  state.upsertLocal("js-2", "again", "failed", { code: "rate_limited", message: "Slow down." });
  assert.deepEqual(state.queueSending().map((item) => item.local_id), ["js-1"]);
  assert.equal(state.local.get("js-1")?.state, "queued");
  assert.equal(state.local.get("js-2")?.state, "failed");
  assert.equal(state.removeLocal("js-1")?.text, "hello");
  assert.equal(state.removeLocal("js-1"), null);
});

test("a reply being written grows piece by piece until stored or refused", () => {
  const state = new ChatState();
  state.switchTo("general");
  const first = state.addDelta({ id: "r1", chat_id: "general", index: 1, delta: "world", reply_to: "m1" });
  assert.ok(first?.created);
  state.addDelta({ id: "r1", chat_id: "general", index: 0, delta: "hello " });
  state.addDelta({ id: "r1", chat_id: "general", index: 0, delta: "hello " }); // a repeat
  const stream = /** @type {import("./state.js").Stream} */ (state.streams.get("r1"));
  assert.equal(ChatState.streamText(stream), "hello world");
  assert.equal(stream.count, 2);
  assert.equal(state.waitingText(), "The bot is writing… (2 pieces so far)");
  assert.equal(state.addDelta({ id: "r1", chat_id: "general", index: -1, delta: "x" }), null);
  assert.equal(state.addDelta({ id: "r2", chat_id: "other", index: 0, delta: "x" }), null);
  assert.deepEqual(state.replyFailed("m1", "the bot crashed"), ["r1"]);
  assert.equal(state.noReply.get("m1"), "the bot crashed");
  assert.equal(state.waitingText(), "Waiting for a reply…");
});

test("each send's steps are kept once, for the latest sends", () => {
  const state = new ChatState();
  state.switchTo("general");
  assert.ok(state.addEvent({ kind: "emit", client_id: "c1", elapsed_ms: 1.5 }));
  assert.ok(!state.addEvent({ kind: "emit", client_id: "c1", elapsed_ms: 1.5 }));
  for (let n = 0; n < TIMELINE_SENDS + 5; n += 1) state.addEvent({ kind: "emit", client_id: `x${n}`, elapsed_ms: 1 });
  assert.equal(state.timelines.size, TIMELINE_SENDS);
  assert.ok(!state.timelines.has("c1"));
  state.addMessage(message(1, { client_id: "x34", text: "stored text" }));
  assert.equal(state.textOfSend("x34"), "stored text");
  assert.equal(state.textOfSend("unknown"), null);
});

test("why a send cannot go, in words", () => {
  const base = { connected: true, status: "connected", awaiting: false, sending: false, text: "hi", over: 0, gone: "" };
  assert.equal(sendBlockedBecause(base), "");
  assert.match(sendBlockedBecause({ ...base, connected: false, status: "reconnecting" }), /Not connected to the chat server \(reconnecting\)/);
  assert.match(sendBlockedBecause({ ...base, over: 1234 }), /remove 1,234 characters/);
  assert.equal(sendBlockedBecause({ ...base, gone: "The kernel restarted." }), "The kernel restarted.");
  assert.equal(sendBlockedBecause({ ...base, text: "  " }), "Type a message first.");
});

test("the size limit in characters: how many must go, counting multi-byte ones right", () => {
  assert.deepEqual(sizeOf("x".repeat(70_000), 65_536), { bytes: 70_000, over: 4_464, left: 0 });
  assert.deepEqual(sizeOf("abc", 10), { bytes: 3, over: 0, left: 7 });
  assert.equal(sizeOf("é".repeat(40), 64).over, 8); // two bytes each: 32 fit
  assert.equal(sizeOf("😀".repeat(20), 64).over, 4); // four bytes each: 16 fit
});

test("times say the day unless it is today", () => {
  const now = new Date(2026, 11, 1, 15, 0);
  assert.doesNotMatch(formatTime(new Date(2026, 11, 1, 9, 5).toISOString(), now).label, /yesterday|Dec/);
  assert.match(formatTime(new Date(2026, 10, 30, 9, 5).toISOString(), now).label, /^yesterday /);
  assert.match(formatTime(new Date(2026, 10, 20, 9, 5).toISOString(), now).label, /Nov/);
  assert.match(formatTime(new Date(2025, 10, 20, 9, 5).toISOString(), now).label, /2025/);
  assert.equal(formatTime("not a time", now).label, "");
});

test("advice after a failed send is something a person can do", () => {
  for (const code of ["not_connected", "disconnected", "timeout", "rate_limited", "internal", "unauthorized"]) {
    const advice = adviceFor({ code, message: "not connected to the chat server (status: reconnecting); call connect()" });
    assert.doesNotMatch(advice, /connect\(\)/, code);
  }
  assert.match(adviceFor({ code: "rate_limited", message: "Too many messages; try again in 2 s." }), /try again in 2 s\. Press Retry then\./);
  assert.match(adviceFor({ code: "disconnected" }), /status above says connected, press Retry/);
});

test("a newer state of a message replaces it in place; an older or unknown one does not", () => {
  const state = new ChatState();
  state.switchTo("general");
  state.addMessage(message(1, { sender: { id: "u-bob", name: "bob", kind: "user" } }));
  state.addMessage(message(2));
  const edited = message(1, { text: "fixed", version: 3, edited_at: "2026-12-01T15:00:00Z" });
  assert.equal(state.updateMessage(edited)?.text, "text 1"); // the state it replaced
  assert.equal(state.messages.get("m1")?.text, "fixed");
  assert.deepEqual(state.order.map((m) => m.text), ["fixed", "text 2"]); // same place
  assert.equal(state.updateMessage(message(1, { text: "stale", version: 2 })), null);
  assert.equal(state.updateMessage(message(1, { text: "same", version: 3 })), null);
  assert.equal(state.updateMessage(message(7, { version: 9 })), null); // not shown here
  assert.equal(state.updateMessage(message(1, { chat_id: "other", version: 9 })), null);
  assert.equal(state.messages.get("m1")?.text, "fixed");
});

test("names come from the senders seen; an unknown user is its id", () => {
  const state = new ChatState();
  state.switchTo("general");
  state.addMessage(message(1, { sender: { id: "u-bob", name: "bob", kind: "user" } }));
  assert.equal(state.nameOf("u-bob"), "bob");
  assert.equal(state.nameOf("u-zed"), "u-zed");
  state.addMessage(message(2, { reply_to: "m1" }));
  assert.deepEqual(state.repliesTo("m1").map((m) => m.id), ["m2"]);
});
