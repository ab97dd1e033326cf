// Reactions: the summaries people read, and the buttons under a message (under jsdom).

import "./dom-env.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { COMMON_EMOJI, joinNames, reactionLabel, reactionPicker, reactionsRow, summarizeReactions } from "./reactions.js";

const NAMES = new Map([["u-bob", "bob"], ["u-carol", "carol"]]);
/** @param {string} id */
const nameOf = (id) => NAMES.get(id) || id;

test("each emoji shows its count, whether it is yours, and who, in the message's order", () => {
  const reactions = [
    { emoji: "🎉", users: ["u-bob"] },
    { emoji: "👍", users: ["u-bob", "u-alice", "u-zed"] },
    { emoji: "👀", users: [] }, // nobody left on it: not shown
  ];
  assert.deepEqual(summarizeReactions(reactions, "u-alice", nameOf), [
    { emoji: "🎉", count: 1, mine: false, names: ["bob"] },
    { emoji: "👍", count: 3, mine: true, names: ["you", "bob", "u-zed"] }, // an unknown user by id
  ]);
});

test("malformed reactions are skipped and a user counts once", () => {
  const reactions = [null, { emoji: 5, users: [] }, { emoji: "✅" }, { emoji: "✅", users: ["u-bob", "u-bob"] }];
  assert.deepEqual(summarizeReactions(reactions, "u-alice", nameOf), [{ emoji: "✅", count: 1, mine: false, names: ["bob"] }]);
  assert.deepEqual(summarizeReactions(undefined, "u-alice", nameOf), []);
});

test("names read as a sentence, and the label says what a press does", () => {
  assert.equal(joinNames(["you"]), "you");
  assert.equal(joinNames(["you", "bob"]), "you and bob");
  assert.equal(joinNames(["alice", "bob", "carol"]), "alice, bob and carol");
  assert.equal(reactionLabel({ emoji: "👍", count: 2, mine: true, names: ["you", "bob"] }), "👍 2: you and bob. Remove your 👍");
  assert.equal(reactionLabel({ emoji: "👍", count: 1, mine: false, names: ["bob"] }), "👍 1: bob. Add your 👍");
});

test("a reaction button toggles yours and names who reacted in its tooltip", () => {
  /** @type {[string, boolean][]} */
  const toggled = [];
  const summaries = summarizeReactions([{ emoji: "👍", users: ["u-alice", "u-bob"] }, { emoji: "😂", users: ["u-carol"] }],
    "u-alice", nameOf);
  const row = reactionsRow(summaries, (emoji, on) => toggled.push([emoji, on]));
  const chips = [...row.querySelectorAll("button")];
  assert.deepEqual(chips.map((chip) => chip.textContent), ["👍2", "😂1"]);
  assert.deepEqual(chips.map((chip) => chip.getAttribute("aria-pressed")), ["true", "false"]);
  assert.equal(chips[0].title, "👍 you and bob");
  assert.equal(chips[1].getAttribute("aria-label"), "😂 1: carol. Add your 😂");
  assert.ok(chips.every((chip) => chip.type === "button"));
  for (const chip of chips) chip.click();
  assert.deepEqual(toggled, [["👍", false], ["😂", true]]);
});

test("the picker offers the common emoji, takes yours off, and closes on Escape", () => {
  /** @type {[string, boolean][]} */
  const picked = [];
  let closed = 0;
  const summaries = summarizeReactions([{ emoji: "❤️", users: ["u-alice"] }], "u-alice", nameOf);
  const picker = reactionPicker(summaries, (emoji, on) => picked.push([emoji, on]), () => { closed += 1; });
  const choices = [...picker.querySelectorAll("button")];
  assert.deepEqual(choices.map((choice) => choice.textContent), COMMON_EMOJI);
  assert.equal(choices[0].getAttribute("aria-label"), "React with 👍");
  assert.equal(choices[1].getAttribute("aria-label"), "Remove your ❤️");
  choices[0].click();
  choices[1].click();
  assert.deepEqual(picked, [["👍", true], ["❤️", false]]);
  const KeyboardEvent = /** @type {any} */ (globalThis).window.KeyboardEvent;
  choices[3].dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  assert.equal(closed, 1);
});
