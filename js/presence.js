// @ts-check
// Who is here and who is typing: the chat's present users as initials
// avatars (names on hover and for screen readers), and the words under the
// list ("bob is typing…"). The users come from the kernel's `present` and
// `typing` traits.

import { h } from "./dom.js";

/** @typedef {{id: string, name?: string, kind?: string}} User */

/**
 * A user's name as shown: the display name, else the id.
 * @param {User} user
 * @returns {string}
 */
export function displayName(user) {
  return String(user?.name || user?.id || "someone");
}

/**
 * One or two letters for an avatar: "Alice Smith" -> "AS", "bob" -> "B".
 * @param {User} user
 * @returns {string}
 */
export function initials(user) {
  const words = displayName(user).split(/[\s._-]+/).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => [...word][0] || "");
  return (letters.join("") || "?").toUpperCase();
}

/**
 * The line under the list: "bob is typing…", "ann and bob are typing…",
 * "ann, bob and cy are typing…", "ann, bob and 3 others are typing…".
 * @param {User[]} users
 * @returns {string} "" when nobody is typing
 */
export function typingText(users) {
  const names = users.map(displayName);
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length <= 3) return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`;
  return `${names.slice(0, 2).join(", ")} and ${names.length - 2} others are typing…`;
}

/**
 * A hue per user, so the same person keeps the same colour.
 * @param {string} id
 * @returns {number}
 */
function hue(id) {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + (char.codePointAt(0) || 0)) % 360;
  return hash;
}

/**
 * The avatars of the users present, yourself first and marked "(you)".
 * @param {User[]} users
 * @param {string} ownId
 * @returns {HTMLElement[]}
 */
export function avatarNodes(users, ownId) {
  const sorted = [...users].sort((a, b) => Number(b.id === ownId) - Number(a.id === ownId));
  return sorted.map((user) => {
    const name = user.id === ownId ? `${displayName(user)} (you)` : displayName(user);
    const avatar = h("span", "cw-avatar", initials(user));
    avatar.title = user.kind === "bot" ? `${name}, a bot` : name;
    avatar.setAttribute("role", "img");
    avatar.setAttribute("aria-label", avatar.title);
    avatar.dataset.userId = user.id;
    avatar.style.setProperty("--cw-avatar-hue", String(hue(String(user.id))));
    return avatar;
  });
}

/** The "who is here" row in the header. */
export class PresenceBar {
  constructor() {
    this.node = h("div", "cw-presence");
    this.node.setAttribute("role", "group");
    this.node.setAttribute("aria-label", "Who is here");
  }

  /**
   * @param {User[]} users
   * @param {string} ownId
   */
  draw(users, ownId) {
    this.node.replaceChildren(...avatarNodes(Array.isArray(users) ? users : [], ownId));
    this.node.title = users.length ? `Here now: ${users.map(displayName).join(", ")}` : "";
  }
}
