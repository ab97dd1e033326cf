// @ts-check
// Reactions under a message: the protocol's `reactions` ([{emoji, users}], in
// order of each emoji's first use) summed up for people (counts, yours, who),
// and the buttons that show them and the small picker of common emoji.

import { button, h, keyed } from "./dom.js";

/** The picker's emoji, in the order shown. */
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"];

/**
 * @typedef {{emoji: string, users: string[]}} Reaction
 * @typedef {{emoji: string, count: number, mine: boolean, names: string[]}} ReactionSummary
 */

/**
 * One entry per emoji that someone still has on, in the message's order;
 * `names` has "you" for `userId` and the others by name (`nameOf`).
 * @param {unknown} reactions a message's `reactions`
 * @param {string} userId
 * @param {(userId: string) => string} nameOf
 * @returns {ReactionSummary[]}
 */
export function summarizeReactions(reactions, userId, nameOf) {
  /** @type {ReactionSummary[]} */
  const summaries = [];
  for (const reaction of Array.isArray(reactions) ? reactions : []) {
    if (!reaction || typeof reaction.emoji !== "string" || !Array.isArray(reaction.users)) continue;
    const users = [...new Set(reaction.users.map(String))];
    if (users.length === 0) continue;
    const mine = users.includes(userId);
    const others = users.filter((id) => id !== userId).map((id) => nameOf(id));
    summaries.push({ emoji: reaction.emoji, count: users.length, mine, names: mine ? ["you", ...others] : others });
  }
  return summaries;
}

/**
 * Names as a sentence: "you", "you and bob", "alice, bob and carol".
 * @param {string[]} names
 * @returns {string}
 */
export function joinNames(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * What a reaction button says to a screen reader (its tooltip says who).
 * @param {ReactionSummary} summary
 * @returns {string}
 */
export function reactionLabel(summary) {
  const what = `${summary.emoji} ${summary.count}: ${joinNames(summary.names)}`;
  return summary.mine ? `${what}. Remove your ${summary.emoji}` : `${what}. Add your ${summary.emoji}`;
}

/**
 * Whether `userId` has `emoji` on already (a click in the picker then takes it off).
 * @param {ReactionSummary[]} summaries
 * @param {string} emoji
 * @returns {boolean}
 */
export function hasMine(summaries, emoji) {
  return summaries.some((summary) => summary.emoji === emoji && summary.mine);
}

/**
 * The row of reaction buttons: emoji and count, yours pressed; a click toggles yours.
 * @param {ReactionSummary[]} summaries
 * @param {(emoji: string, on: boolean) => void} toggle
 * @returns {HTMLElement}
 */
export function reactionsRow(summaries, toggle) {
  const row = h("div", "cw-reactions");
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", "Reactions");
  for (const summary of summaries) {
    const chip = keyed(button("cw-reaction", "", `${summary.emoji} ${joinNames(summary.names)}`),
      `reaction:${summary.emoji}`);
    chip.append(h("span", "cw-reaction-emoji", summary.emoji), h("span", "cw-reaction-count", summary.count));
    chip.dataset.emoji = summary.emoji;
    chip.setAttribute("aria-pressed", summary.mine ? "true" : "false");
    chip.setAttribute("aria-label", reactionLabel(summary));
    chip.addEventListener("click", () => toggle(summary.emoji, !summary.mine));
    row.append(chip);
  }
  return row;
}

/**
 * The picker: one button per common emoji; Escape closes it.
 * @param {ReactionSummary[]} summaries what is on the message now (yours are marked)
 * @param {(emoji: string, on: boolean) => void} pick
 * @param {() => void} close
 * @returns {HTMLElement}
 */
export function reactionPicker(summaries, pick, close) {
  const picker = h("div", "cw-picker");
  picker.setAttribute("role", "group");
  picker.setAttribute("aria-label", "Pick a reaction");
  for (const emoji of COMMON_EMOJI) {
    const mine = hasMine(summaries, emoji);
    const choice = keyed(button("cw-pick", emoji, mine ? `Remove your ${emoji}` : `React with ${emoji}`), `pick:${emoji}`);
    choice.setAttribute("aria-label", mine ? `Remove your ${emoji}` : `React with ${emoji}`);
    choice.setAttribute("aria-pressed", mine ? "true" : "false");
    choice.addEventListener("click", () => pick(emoji, !mine));
    picker.append(choice);
  }
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  });
  return picker;
}
