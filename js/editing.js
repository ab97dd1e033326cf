// @ts-check
// Editing own messages, without any DOM: which messages may change, the
// edits under way in one view (the draft, saving, the error that kept it),
// and what a key in the editor means. The view draws what this says.

import { sizeOf } from "./format.js";

/**
 * @typedef {"editing" | "saving" | "failed"} EditPhase
 * @typedef {{id: string, original: string, text: string, phase: EditPhase,
 *   request_id: string | null, error: string}} Edit
 * @typedef {"save" | "cancel" | null} EditKey
 */

/**
 * Whether `userId` may edit or delete `message`: the protocol lets only its
 * sender, and a tombstone cannot change.
 * @param {import("./state.js").Message} message
 * @param {string} userId
 * @returns {boolean}
 */
export function canChange(message, userId) {
  const sender = message.sender || {};
  return Boolean(userId) && sender.kind !== "bot" && sender.id === userId && !message.deleted;
}

/**
 * The newest message `userId` may still edit ("Up in an empty box edits it").
 * @param {import("./state.js").Message[]} order stored messages by seq
 * @param {string} userId
 * @returns {import("./state.js").Message | null}
 */
export function lastEditable(order, userId) {
  for (let index = order.length - 1; index >= 0; index -= 1) {
    if (canChange(order[index], userId)) return order[index];
  }
  return null;
}

/**
 * What a key pressed in the editor asks for: Enter saves, Shift+Enter is a
 * new line (as in the message box), Escape cancels.
 * @param {{key: string, shiftKey?: boolean, isComposing?: boolean}} event
 * @returns {EditKey}
 */
export function editKey(event) {
  if (event.isComposing) return null; // an input method is still building the character
  if (event.key === "Enter" && !event.shiftKey) return "save";
  if (event.key === "Escape") return "cancel";
  return null;
}

/**
 * Why an edit cannot be saved as typed ("" when it can).
 * @param {string} text
 * @param {boolean} hasParts whether the message keeps rich parts (then empty text is fine)
 * @param {number} maxBytes the protocol's limit on a message's text
 * @returns {string}
 */
export function editBlockedBecause(text, hasParts, maxBytes) {
  const { over } = sizeOf(text, maxBytes);
  if (over > 0) return `Too long: remove ${over.toLocaleString("en-US")} characters to save it.`;
  if (!text.trim() && !hasParts) return "A message cannot be empty: delete it instead.";
  return "";
}

/** The edits under way in one view, by message id. */
export class Edits {
  constructor() {
    /** @type {Map<string, Edit>} */
    this.byId = new Map();
  }

  /**
   * Starts editing `id` from its current text; an edit already under way is kept.
   * @param {string} id
   * @param {string} text
   * @returns {Edit}
   */
  start(id, text) {
    let edit = this.byId.get(id);
    if (!edit) {
      edit = { id, original: text, text, phase: "editing", request_id: null, error: "" };
      this.byId.set(id, edit);
    }
    return edit;
  }

  /**
   * @param {string} id
   * @returns {Edit | undefined}
   */
  get(id) {
    return this.byId.get(id);
  }

  /**
   * The draft as typed.
   * @param {string} id
   * @param {string} text
   */
  type(id, text) {
    const edit = this.byId.get(id);
    if (edit && edit.phase !== "saving") edit.text = text;
  }

  /**
   * The draft went to the kernel under `requestId`.
   * @param {string} id
   * @param {string} requestId
   */
  saving(id, requestId) {
    const edit = this.byId.get(id);
    if (!edit) return;
    edit.phase = "saving";
    edit.request_id = requestId;
    edit.error = "";
  }

  /**
   * The edit `requestId` asked for failed: the draft stays, with why.
   * @param {string} requestId
   * @param {string} error in words
   * @returns {Edit | null} the edit, or null when it is not (or no longer) this view's
   */
  failed(requestId, error) {
    const edit = this.byRequest(requestId);
    if (!edit) return null;
    edit.phase = "failed";
    edit.request_id = null;
    edit.error = error;
    return edit;
  }

  /**
   * The edit `requestId` asked for is stored.
   * @param {string} requestId
   * @returns {Edit | null} the edit that ended
   */
  saved(requestId) {
    const edit = this.byRequest(requestId);
    if (edit) this.byId.delete(edit.id);
    return edit;
  }

  /**
   * Stops editing `id` (cancelled, or the message was deleted).
   * @param {string} id
   * @returns {Edit | null} the edit that ended
   */
  end(id) {
    const edit = this.byId.get(id) || null;
    this.byId.delete(id);
    return edit;
  }

  /** Everything ends (another chat is shown). */
  clear() {
    this.byId.clear();
  }

  /**
   * @param {string} requestId
   * @returns {Edit | null}
   */
  byRequest(requestId) {
    for (const edit of this.byId.values()) if (edit.request_id === requestId) return edit;
    return null;
  }
}
