// Following the bottom of the list: a move up lets go, the browser's clamp after a shrink does not.

import assert from "node:assert/strict";
import { test } from "node:test";
import { BottomFollower } from "./follow.js";

/** A follower at the bottom of a list scrolled to 1376 px of 1714. */
function atTheBottom() {
  const follower = new BottomFollower();
  follower.scrolled(1376, 1714, true);
  return follower;
}

test("layout lowering scrollTop after a shrink keeps following, even with new content below by the event", () => {
  const follower = atTheBottom();
  follower.resized(1164); // a message deleted: clamped to the shorter list's end
  assert.equal(follower.scrolled(1164, 1764, false), true); // a tall message came before the event
  assert.equal(follower.stick, true);
});

test("a scroll event that finds the content shorter is a clamp too", () => {
  const follower = atTheBottom();
  assert.equal(follower.scrolled(1164, 1600, false), true); // clamped in a forced layout, then grew a little
});

test("a move up lets go of the bottom, and coming back down follows again", () => {
  const follower = atTheBottom();
  follower.resized(1376); // content changed, scrollTop where the last event left it: no clamp
  assert.equal(follower.scrolled(1000, 1714, false), false);
  assert.equal(follower.scrolled(1376, 1714, true), true);
});

test("a move up while content grows (a reply being written) still lets go", () => {
  const follower = atTheBottom();
  follower.resized(1400); // scrolled down to the grown end
  assert.equal(follower.scrolled(1200, 1760, false), false);
});

test("a clamp is forgotten at the next scroll event: the move up after it lets go", () => {
  const follower = atTheBottom();
  follower.resized(1164);
  follower.scrolled(1164, 1502, true);
  assert.equal(follower.scrolled(900, 1502, false), false);
});
