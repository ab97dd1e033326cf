// @ts-check
// The elements of changing one message: the editor that takes the text's
// place, and the question before a delete. Built from data only; what a key
// or a click means is the caller's (changes.js).

import { button, h, keyed } from "./dom.js";
import { editKey } from "./editing.js";

/**
 * A new editor holding `text`: the box, Save, Cancel, a line for the state and one for the error.
 * @param {string} text
 * @param {{input: (text: string) => void, save: () => void, cancel: () => void}} on
 * @returns {HTMLElement}
 */
export function editorNode(text, on) {
  const editor = h("div", "cw-editor");
  const box = keyed(h("textarea", "cw-edit-input"), "editor");
  box.setAttribute("aria-label", "Edit message");
  box.rows = Math.min(8, Math.max(2, text.split("\n").length));
  box.value = text;
  box.addEventListener("input", () => on.input(box.value));
  box.addEventListener("keydown", (event) => {
    event.stopPropagation(); // keys typed here are not notebook shortcuts, nor the message box's
    const wanted = editKey(event);
    if (!wanted) return;
    event.preventDefault();
    if (wanted === "save") on.save();
    else on.cancel();
  });
  const save = button("cw-edit-save", "Save", "Save the edit (Enter)");
  save.setAttribute("aria-label", "Save edit");
  save.addEventListener("click", on.save);
  const cancel = button("cw-edit-cancel", "Cancel", "Keep the message as it was (Escape)");
  cancel.setAttribute("aria-label", "Cancel edit");
  cancel.addEventListener("click", on.cancel);
  const bar = h("div", "cw-edit-bar");
  bar.append(h("span", "cw-edit-state"), save, cancel);
  const error = h("div", "cw-edit-error");
  error.setAttribute("role", "alert");
  editor.append(box, bar, error);
  return editor;
}

/**
 * Shows an edit's phase in its editor: read-only while saving, the reason after a refusal.
 * @param {HTMLElement} editor
 * @param {import("./editing.js").Edit} edit
 */
export function drawEditor(editor, edit) {
  const saving = edit.phase === "saving";
  editor.dataset.phase = edit.phase;
  editorBox(editor).readOnly = saving;
  for (const control of editor.querySelectorAll("button")) control.disabled = saving;
  const state = /** @type {HTMLElement} */ (editor.querySelector(".cw-edit-state"));
  state.textContent = saving ? "saving…" : "Enter saves · Shift+Enter new line · Escape cancels";
  const error = /** @type {HTMLElement} */ (editor.querySelector(".cw-edit-error"));
  error.textContent = edit.error;
  error.hidden = !edit.error;
}

/**
 * @param {HTMLElement} editor
 * @returns {HTMLTextAreaElement}
 */
export function editorBox(editor) {
  return /** @type {HTMLTextAreaElement} */ (editor.querySelector(".cw-edit-input"));
}

/**
 * Puts the editor where the message's text was (before any rich parts, which stay).
 * @param {HTMLElement} node the message
 * @param {HTMLElement} editor
 */
export function placeEditor(node, editor) {
  const text = node.querySelector(":scope > .cw-text");
  if (text) text.replaceWith(editor);
  else node.querySelector(":scope > .cw-quote, :scope > .cw-meta")?.after(editor);
}

/**
 * "Delete this message for everyone?" with its two answers; Escape keeps it.
 * @param {() => void} remove
 * @param {() => void} keep
 * @returns {HTMLElement}
 */
export function deleteQuestion(remove, keep) {
  const box = h("div", "cw-confirm");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Delete this message?");
  const yes = keyed(button("cw-confirm-delete", "Delete"), "confirm-delete");
  yes.setAttribute("aria-label", "Yes, delete it");
  yes.addEventListener("click", remove);
  const no = keyed(button("cw-confirm-keep", "Keep"), "confirm-keep");
  no.setAttribute("aria-label", "No, keep it");
  no.addEventListener("click", keep);
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.stopPropagation();
    keep();
  });
  box.append(h("span", "cw-confirm-question", "Delete this message for everyone?"), yes, no);
  return box;
}
