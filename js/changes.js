// @ts-check
// The controls that change a stored message, drawn into its node: Edit and
// Delete on your own messages (the editor in place of the text, the delete
// confirmation), the "edited" mark, reactions and their picker on every
// message. Requests go to the kernel through the view; the new message comes
// back from the server (`message_updated`) and the view redraws it, keyed by id.

import { button, h, keyed } from "./dom.js";
import { canChange, Edits, editBlockedBecause } from "./editing.js";
import { deleteQuestion, drawEditor, editorBox, editorNode, placeEditor } from "./editor.js";
import { formatTime } from "./format.js";
import { reactionPicker, reactionsRow, summarizeReactions } from "./reactions.js";

/**
 * What the view lends this module.
 * @typedef {{request: (content: Record<string, unknown>) => string,
 *   userId: () => string, nameOf: (userId: string) => string,
 *   message: (id: string) => import("./state.js").Message | undefined,
 *   node: (id: string) => Element | null, redraw: (id: string) => void, maxBytes: () => number,
 *   focusInput: () => void}} Host
 * @typedef {{action: string, id: string}} Pending
 */

const FAILED_WORDS = /** @type {Record<string, string>} */ ({
  delete: "Could not delete it",
  react: "Could not react",
  edit: "Could not save the edit",
});

export class MessageChanges {
  /** @param {Host} host */
  constructor(host) {
    this.host = host;
    this.edits = new Edits();
    /** @type {Map<string, HTMLElement>} message id -> its editor, kept across redraws */
    this.editors = new Map();
    /** @type {Set<string>} messages asking "delete this message?" */
    this.confirming = new Set();
    /** @type {string | null} the message whose picker is open */
    this.picking = null;
    /** @type {Map<string, Pending>} request id -> what it asked (deletes and reactions) */
    this.pending = new Map();
    /** @type {Map<string, string>} message id -> the last failed change, in words */
    this.errors = new Map();
  }

  /** Another chat is shown: nothing under way here continues. */
  clear() {
    this.edits.clear();
    this.editors.clear();
    this.confirming.clear();
    this.picking = null;
    this.pending.clear();
    this.errors.clear();
  }

  // -- drawing --------------------------------------------------------------

  /**
   * Adds the changes' parts to a freshly built message node.
   * @param {HTMLElement} node
   * @param {import("./state.js").Message} message
   */
  decorate(node, message) {
    const meta = /** @type {HTMLElement | null} */ (node.querySelector(":scope > .cw-meta"));
    if (message.deleted) {
      this.edits.end(message.id);
      this.editors.delete(message.id);
      this.confirming.delete(message.id);
      if (this.picking === message.id) this.picking = null;
      return;
    }
    if (message.edited_at && meta) meta.insertBefore(editedMark(message.edited_at), meta.querySelector(".cw-state"));
    const own = canChange(message, this.host.userId());
    if (meta) meta.append(this.tools(message, own));
    const edit = own ? this.edits.get(message.id) : undefined;
    if (edit) placeEditor(node, this.editor(edit));
    if (this.confirming.has(message.id)) {
      node.append(deleteQuestion(() => this.delete(message.id), () => this.keep(message.id)));
    }
    const summaries = summarizeReactions(message.reactions, this.host.userId(), this.host.nameOf);
    const react = (/** @type {string} */ emoji, /** @type {boolean} */ on) => this.react(message.id, emoji, on);
    if (summaries.length) node.append(reactionsRow(summaries, react));
    if (this.picking === message.id) {
      node.append(reactionPicker(summaries, (emoji, on) => {
        this.picking = null;
        this.react(message.id, emoji, on);
      }, () => this.closePicker(message.id)));
    }
    const error = this.errors.get(message.id);
    if (error) {
      const line = h("div", "cw-change-error", error);
      line.setAttribute("role", "alert");
      node.append(line);
    }
  }

  /**
   * The message's buttons: Edit and Delete when it is yours, and a reaction.
   * @param {import("./state.js").Message} message
   * @param {boolean} own
   * @returns {HTMLElement}
   */
  tools(message, own) {
    const tools = h("span", "cw-tools");
    const busy = [...this.pending.values()].some((p) => p.id === message.id && p.action === "delete");
    if (own) {
      const edit = keyed(button("cw-edit", "Edit", "Edit your message (Up in an empty box edits your last)"), "edit");
      edit.setAttribute("aria-label", "Edit message");
      edit.disabled = Boolean(this.edits.get(message.id)) || busy;
      edit.addEventListener("click", () => this.startEdit(message));
      const remove = keyed(button("cw-delete", "Delete", "Delete your message"), "delete");
      remove.setAttribute("aria-label", "Delete message");
      remove.disabled = busy;
      remove.addEventListener("click", () => this.askToDelete(message.id));
      tools.append(edit, remove);
    }
    const add = keyed(button("cw-add-reaction", "☺+", "Add a reaction"), "add-reaction");
    add.setAttribute("aria-label", "Add a reaction");
    add.setAttribute("aria-expanded", this.picking === message.id ? "true" : "false");
    add.addEventListener("click", () => this.togglePicker(message.id));
    tools.append(add);
    return tools;
  }

  /**
   * The editor of one message, the same element across redraws (focus and caret stay).
   * @param {import("./editing.js").Edit} edit
   * @returns {HTMLElement}
   */
  editor(edit) {
    let editor = this.editors.get(edit.id);
    if (!editor) {
      editor = editorNode(edit.text, {
        input: (text) => this.edits.type(edit.id, text),
        save: () => this.save(edit.id),
        cancel: () => this.cancelEdit(edit.id),
      });
      this.editors.set(edit.id, editor);
    }
    drawEditor(editor, edit);
    return editor;
  }

  // -- what the person does ---------------------------------------------------

  /**
   * Opens the editor on `message` (kept when already open) and puts the caret at its end.
   * @param {import("./state.js").Message} message
   * @returns {boolean} whether it could (your own message, not deleted)
   */
  startEdit(message) {
    if (!canChange(message, this.host.userId())) return false;
    this.edits.start(message.id, message.text || "");
    this.errors.delete(message.id);
    this.host.redraw(message.id);
    const editor = this.editors.get(message.id);
    if (editor) {
      const box = editorBox(editor);
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      box.scrollIntoView?.({ block: "nearest" }); // Up may open a message above the visible part
    }
    return true;
  }

  /** @param {string} id */
  save(id) {
    const edit = this.edits.get(id);
    const message = this.host.message(id);
    const editor = this.editors.get(id);
    if (!edit || !message || !editor || edit.phase === "saving") return;
    const box = editorBox(editor);
    const text = box.value;
    this.edits.type(id, text);
    if (text === (message.text || "")) {
      this.cancelEdit(id); // nothing changed: nothing to send
      return;
    }
    const parts = Array.isArray(message.parts) && message.parts.length > 0;
    const blocked = editBlockedBecause(text, parts, this.host.maxBytes());
    if (blocked) {
      edit.error = blocked;
      this.host.redraw(id);
      return;
    }
    this.edits.saving(id, this.host.request({ type: "edit", chat_id: message.chat_id, id, text }));
    this.host.redraw(id);
  }

  /** @param {string} id */
  cancelEdit(id) {
    const focused = this.editors.get(id)?.contains(activeIn(this.editors.get(id)));
    this.edits.end(id);
    this.editors.delete(id);
    this.host.redraw(id);
    if (focused) this.host.focusInput();
  }

  /** @param {string} id */
  askToDelete(id) {
    this.confirming.add(id);
    this.errors.delete(id);
    this.host.redraw(id);
    /** @type {HTMLElement | null} */ (this.nodeOf(id)?.querySelector(".cw-confirm-keep"))?.focus();
  }

  /** @param {string} id */
  keep(id) {
    this.confirming.delete(id);
    this.host.redraw(id);
    /** @type {HTMLElement | null} */ (this.nodeOf(id)?.querySelector(".cw-delete"))?.focus();
  }

  /** @param {string} id */
  delete(id) {
    this.confirming.delete(id);
    const chatId = this.host.message(id)?.chat_id;
    this.pending.set(this.host.request({ type: "delete", chat_id: chatId, id }), { action: "delete", id });
    this.host.redraw(id);
  }

  /**
   * @param {string} id
   * @param {string} emoji
   * @param {boolean} on
   */
  react(id, emoji, on) {
    this.errors.delete(id);
    const chatId = this.host.message(id)?.chat_id;
    this.pending.set(this.host.request({ type: "react", chat_id: chatId, id, emoji, on }), { action: "react", id });
    this.host.redraw(id);
  }

  /** @param {string} id */
  togglePicker(id) {
    const was = this.picking;
    this.picking = was === id ? null : id;
    if (was && was !== id) this.host.redraw(was);
    this.host.redraw(id);
    if (this.picking) /** @type {HTMLElement | null} */ (this.nodeOf(id)?.querySelector(".cw-pick"))?.focus();
  }

  /** @param {string} id */
  closePicker(id) {
    this.picking = null;
    this.host.redraw(id);
    /** @type {HTMLElement | null} */ (this.nodeOf(id)?.querySelector(".cw-add-reaction"))?.focus();
  }

  // -- answers from the kernel ----------------------------------------------

  /**
   * This view's change is stored (`changed`): an edit ends, a delete or reaction is done.
   * @param {string} requestId
   * @returns {string | null} the message id it was about
   */
  done(requestId) {
    const pending = this.pending.get(requestId);
    this.pending.delete(requestId);
    const edit = this.edits.saved(requestId);
    if (edit) {
      const focused = this.editors.get(edit.id)?.contains(activeIn(this.editors.get(edit.id)));
      this.editors.delete(edit.id);
      if (focused) this.host.focusInput();
      return edit.id;
    }
    return pending ? pending.id : null;
  }

  /**
   * This view's change failed (`change_failed`): an edit keeps its text with why; a
   * delete or reaction says why under the message.
   * @param {string} requestId
   * @param {string} action
   * @param {string} why in words
   * @returns {string | null} the message id it was about
   */
  failed(requestId, action, why) {
    const edit = this.edits.failed(requestId, why);
    if (edit) {
      this.host.redraw(edit.id);
      const editor = this.editors.get(edit.id);
      if (editor) editorBox(editor).focus();
      return edit.id;
    }
    const pending = this.pending.get(requestId);
    this.pending.delete(requestId);
    if (!pending) return null;
    this.errors.set(pending.id, `${FAILED_WORDS[action] || "Could not change it"}: ${why}`);
    this.host.redraw(pending.id);
    return pending.id;
  }

  /**
   * The kernel is gone: nothing under way will be answered. Edits keep their
   * text with `words`; deletes and reactions say so under their message.
   * @param {string} words
   */
  kernelGone(words) {
    for (const edit of [...this.edits.byId.values()]) {
      if (edit.request_id) this.failed(edit.request_id, "edit", words);
    }
    for (const [requestId, pending] of [...this.pending]) this.failed(requestId, pending.action, words);
  }

  /**
   * @param {string} id
   * @returns {Element | null}
   */
  nodeOf(id) {
    return this.host.node(id);
  }
}

/**
 * "edited 14:02", the full time as its tooltip.
 * @param {string} editedAt
 * @returns {HTMLElement}
 */
function editedMark(editedAt) {
  const time = formatTime(editedAt);
  const mark = h("time", "cw-edited", time.label ? `edited ${time.label}` : "edited");
  mark.dateTime = editedAt;
  mark.title = time.full ? `Edited ${time.full}` : "Edited";
  return mark;
}

/**
 * The element focused inside `element`'s root (document or shadow root).
 * @param {HTMLElement | undefined} element
 * @returns {Element | null}
 */
function activeIn(element) {
  if (!element) return null;
  const root = /** @type {Document | ShadowRoot} */ (element.getRootNode());
  return root.activeElement || null;
}
