// @ts-check
// Drawing one message again in its place (an edit, a delete, a reaction came)
// without the reader losing their place: what is on screen stays where it
// is, and the focused control's twin in the new node gets the focus.

/**
 * Replaces `old` by the node `build` makes, in a scrolled list. The focused
 * control is noted first (`build` may move parts of `old`, such as an open
 * editor, into the new node). When `old` is wholly above the
 * visible part, the list scrolls by its change of height, so what is on
 * screen does not move: Chromium's and Firefox's scroll anchoring already do
 * that (the shift measured here is then 0), WebKit has none. A list that
 * follows the bottom is left to follow it.
 * @param {HTMLElement} old
 * @param {() => HTMLElement} build
 * @param {HTMLElement} list the scrolled element
 * @param {boolean} followsBottom
 * @returns {HTMLElement} the new node
 */
export function replaceInPlace(old, build, list, followsBottom) {
  const focusKey = /** @type {HTMLElement | null} */ (old.querySelector(":focus"))?.dataset.focusKey;
  const next = followsBottom ? null : /** @type {HTMLElement | null} */ (old.nextElementSibling);
  const above = next !== null && old.getBoundingClientRect().bottom <= list.getBoundingClientRect().top;
  const before = above && next ? next.getBoundingClientRect().top : 0;
  const node = build();
  old.replaceWith(node);
  if (above && next) list.scrollTop += next.getBoundingClientRect().top - before;
  if (focusKey) focusTwin(node, focusKey);
  return node;
}

/**
 * Focuses the control keyed `focusKey` in `node` (see dom.js `keyed`); a
 * reaction that went leaves the focus on "Add a reaction".
 * @param {HTMLElement} node
 * @param {string} focusKey
 */
function focusTwin(node, focusKey) {
  const controls = /** @type {HTMLElement[]} */ ([...node.querySelectorAll("[data-focus-key]")]);
  const twin = controls.find((control) => control.dataset.focusKey === focusKey)
    || controls.find((control) => control.dataset.focusKey === "add-reaction");
  twin?.focus();
}
