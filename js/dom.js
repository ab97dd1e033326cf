// @ts-check
// Creating elements: the one way text gets into the page is textContent.

/**
 * An element with an optional class and text (set as textContent, never parsed).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string | null} [className]
 * @param {unknown} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/**
 * A button that never submits anything.
 * @param {string} className
 * @param {string} label
 * @param {string} [title]
 * @returns {HTMLButtonElement}
 */
export function button(className, label, title) {
  const node = h("button", className, label);
  node.type = "button";
  if (title) node.title = title;
  return node;
}

/**
 * `text` flattened to one line and cut to `length` characters.
 * @param {unknown} text
 * @param {number} [length]
 * @returns {string}
 */
export function snippet(text, length = 80) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/**
 * Marks a control with a key, so that focus can go back to its twin when the
 * message it is part of is drawn again.
 * @template {HTMLElement} E
 * @param {E} element
 * @param {string} key
 * @returns {E}
 */
export function keyed(element, key) {
  element.dataset.focusKey = key;
  return element;
}

/**
 * Makes `toggle` show and hide `panel`, the disclosure pattern: the button's
 * aria-expanded follows the panel, aria-controls names it, and Escape inside
 * the panel closes it and gives focus back to the button.
 * @param {HTMLButtonElement} toggle
 * @param {HTMLElement} panel starts hidden
 * @param {string} idPrefix the panel's id is this plus a random suffix (two views, two ids)
 * @param {{onOpen?: () => void, keepKeys?: boolean}} [options] `keepKeys`: no key
 *   pressed inside the panel reaches the page, so typing never fires a notebook shortcut
 * @returns {(open: boolean) => void} opens or closes the panel
 */
export function disclosure(toggle, panel, idPrefix, options = {}) {
  panel.hidden = true;
  panel.id = `${idPrefix}-${Math.random().toString(36).slice(2, 10)}`;
  toggle.setAttribute("aria-controls", panel.id);
  toggle.setAttribute("aria-expanded", "false");
  /** @param {boolean} open */
  const setOpen = (open) => {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) options.onOpen?.();
  };
  toggle.addEventListener("click", () => setOpen(panel.hidden));
  panel.addEventListener("keydown", (event) => {
    if (options.keepKeys) event.stopPropagation();
    if (event.key === "Escape") {
      setOpen(false);
      toggle.focus();
    }
  });
  return setOpen;
}
