// The 1.1 features' pure parts: the unread divider, typing words and the
// typing throttle, mention autocomplete and highlighting, file sizes, the
// switcher's counts, uploads that cannot go.

import "./dom-env.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeType, formatSize, isOpenableLink } from "./files.js";
import { filterMembers, highlightMentions, insertMention, mentionQuery } from "./mentions.js";
import { initials, typingText } from "./presence.js";
import { chatLabel, otherChatsUnread } from "./switcher.js";
import { TYPING_REPEAT_MS, TypingSender } from "./typing.js";
import { dividerPlacement } from "./unread.js";
import { uploadRefusal } from "./upload.js";

const from = (/** @type {string} */ id, kind = "user") => ({ id, name: id, kind });
/**
 * @param {number} seq
 * @param {string} sender
 * @param {object} [extra]
 */
const message = (seq, sender, extra = {}) => ({ id: `m${seq}`, seq, sender: from(sender), ...extra });

test("the divider goes before the first message after the marker that someone else sent", () => {
  const order = [message(1, "bob"), message(2, "bob"), message(3, "alice"), message(4, "bob"),
    message(5, "bob", { deleted: true }), message(6, "echo", { sender: from("echo", "bot") })];
  assert.deepEqual(dividerPlacement(order, 2, "alice"), { beforeId: "m4", seq: 4, count: 2 });
  assert.deepEqual(dividerPlacement(order, 0, "alice"), { beforeId: "m1", seq: 1, count: 4 });
  assert.equal(dividerPlacement(order, 6, "alice"), null);
  assert.equal(dividerPlacement([message(3, "alice")], 2, "alice"), null); // only your own: nothing new
  // More unread than the page holds: the chat's own count is said.
  assert.equal(dividerPlacement(order, 2, "alice", 120)?.count, 120);
  // A bot named like you is still someone else.
  assert.equal(dividerPlacement([message(7, "alice", { sender: from("alice", "bot") })], 6, "alice")?.count, 1);
});

test("who is typing, in words", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText([from("bob")]), "bob is typing…");
  assert.equal(typingText([from("ann"), from("bob")]), "ann and bob are typing…");
  assert.equal(typingText([from("ann"), from("bob"), from("cy")]), "ann, bob and cy are typing…");
  assert.equal(typingText(["ann", "bob", "cy", "dee", "eve"].map((n) => from(n))),
    "ann, bob and 3 others are typing…");
  assert.equal(typingText([{ id: "u7" }]), "u7 is typing…");
  assert.equal(initials({ id: "x", name: "Alice Smith" }), "AS");
  assert.equal(initials(from("bob")), "B");
  assert.equal(initials({ id: "ümit.k" }), "ÜK");
});

test("typing is told at most every 3 s while it goes on, and stopped once", () => {
  let now = 1000;
  /** @type {boolean[]} */
  const sent = [];
  const typing = new TypingSender((value) => sent.push(value), () => now);
  typing.changed("h");
  typing.changed("he");
  now += TYPING_REPEAT_MS - 1;
  typing.changed("hel");
  assert.deepEqual(sent, [true]);
  now += 1;
  typing.changed("hell");
  assert.deepEqual(sent, [true, true]);
  typing.changed("   "); // cleared
  assert.deepEqual(sent, [true, true, false]);
  typing.stop(); // sent after clearing: nothing more to say
  assert.deepEqual(sent, [true, true, false]);
  typing.changed("again");
  typing.stop();
  assert.deepEqual(sent, [true, true, false, true, false]);
  // A send that ends the typing itself: nothing is sent for it, and only once.
  typing.changed("and again");
  assert.equal(typing.stopQuietly(), true);
  assert.equal(typing.stopQuietly(), false);
  typing.stop();
  assert.deepEqual(sent, [true, true, false, true, false, true]);
});

test("@ offers members by id or name, prefix matches first, never yourself", () => {
  const members = [{ id: "alice", name: "Alice" }, { id: "bob", name: "Bob Stone" },
    { id: "abe", name: "Abe" }, { id: "echo", name: "echo", kind: "bot" }, { id: "carla", name: "Carla Baker" }];
  assert.deepEqual(filterMembers(members, "", "alice").map((m) => m.id), ["bob", "abe", "echo", "carla"]);
  assert.deepEqual(filterMembers(members, "a", "alice").map((m) => m.id), ["abe", "carla"]);
  assert.deepEqual(filterMembers(members, "B", "alice").map((m) => m.id), ["bob", "carla", "abe"]);
  assert.deepEqual(filterMembers(members, "ston", "alice").map((m) => m.id), ["bob"]);
  assert.deepEqual(filterMembers(members, "zz", "alice"), []);
  assert.equal(filterMembers(members, "", "nobody", 2).length, 2);

  assert.deepEqual(mentionQuery("hi @bo", 6), { start: 3, query: "bo" });
  assert.deepEqual(mentionQuery("@", 1), { start: 0, query: "" });
  assert.equal(mentionQuery("mail me@bo", 10), null); // an address, not a mention
  assert.equal(mentionQuery("hi @bob there", 13), null); // the caret is past it
  assert.deepEqual(mentionQuery("hi @bob there", 7), { start: 3, query: "bob" });
  assert.deepEqual(insertMention("hi @bo, ok", 3, 6, "bob"), { text: "hi @bob , ok", caret: 8 });
  assert.deepEqual(insertMention("hi @b there", 3, 5, "bob"), { text: "hi @bob there", caret: 8 });
});

test("mentions of you are marked in the text, not in code, not inside other words", () => {
  const root = document.createElement("div");
  const p = document.createElement("p");
  p.textContent = "@alice look, and @alice's too; not @alicebob nor x@alice nor @alice.smith";
  const code = document.createElement("code");
  code.textContent = "@alice";
  root.append(p, code);
  assert.equal(highlightMentions(root, "alice"), 2);
  assert.deepEqual([...root.querySelectorAll("mark.cw-mention-me")].map((m) => m.textContent), ["@alice", "@alice"]);
  assert.equal(p.textContent, "@alice look, and @alice's too; not @alicebob nor x@alice nor @alice.smith");
  assert.equal(code.querySelector("mark"), null);
});

test("sizes and types for people", () => {
  assert.equal(formatSize(0), "0 B");
  assert.equal(formatSize(1023), "1023 B");
  assert.equal(formatSize(1024), "1 KB");
  assert.equal(formatSize(1536), "1.5 KB");
  assert.equal(formatSize(200 * 1024), "200 KB");
  assert.equal(formatSize(25 * 1024 * 1024), "25 MB");
  assert.equal(formatSize(3.25 * 1024 ** 3), "3.3 GB");
  assert.equal(formatSize("nonsense"), "size unknown");
  assert.equal(describeType("application/pdf"), "PDF");
  assert.equal(describeType("image/svg+xml"), "SVG image");
  assert.equal(describeType("text/plain"), "text");
  assert.equal(describeType("application/vnd.ms-excel"), "MS-EXCEL");
  assert.equal(describeType(""), "file");
  assert.ok(isOpenableLink("http://127.0.0.1:8000/api/files/f1?sig=x"));
  assert.ok(!isOpenableLink("javascript:alert(1)"));
  assert.ok(!isOpenableLink("/api/files/f1"));
});

test("a file that cannot go says why before any byte is sent", () => {
  assert.equal(uploadRefusal({ name: "notes.txt", size: 10 }, 100), "");
  assert.match(uploadRefusal({ name: "big.bin", size: 30 * 1024 * 1024 }, 25 * 1024 * 1024),
    /big\.bin is 30 MB; files can be at most 25 MB/);
  assert.match(uploadRefusal({ name: "a/b", size: 1 }, 0), /name cannot be used/);
  assert.match(uploadRefusal({ name: "tab\there", size: 1 }, 0), /name cannot be used/);
  assert.match(uploadRefusal({ name: "", size: 1 }, 0), /name cannot be used/);
});

test("the switcher counts what is unread in the other chats", () => {
  const chats = [{ id: "general", unread: 4, unread_mentions: 1 }, { id: "numbers", title: "Numbers", unread: 3, unread_mentions: 1 },
    { id: "quiet", unread: 0, unread_mentions: 0 }];
  assert.deepEqual(otherChatsUnread(chats, "general"), { unread: 3, mentions: 1 });
  assert.deepEqual(otherChatsUnread(chats, "numbers"), { unread: 4, mentions: 1 });
  assert.equal(chatLabel(chats[1]), "Numbers, 3 unread, 1 mention");
  assert.equal(chatLabel(chats[2]), "quiet");
});
