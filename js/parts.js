// @ts-check
// Rich parts of a message, built from their data: markdown, code, a sortable
// table, an inline image (base64 data of the protocol's three types, never a
// URL), and a muted box for a type this view does not know.

import { codeBlock } from "./code.js";
import { button, h } from "./dom.js";
import { filePart } from "./files.js";
import { renderMarkdown } from "./markdown.js";

const IMAGE_MIMES = ["image/png", "image/jpeg", "image/svg+xml"];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * @param {unknown} label
 * @returns {HTMLElement}
 */
export function unknownPart(label) {
  const text = String(label);
  return h("div", "cw-part cw-unknown", `[${text.length > 60 ? `${text.slice(0, 59)}…` : text}]`);
}

/**
 * @param {unknown} value
 * @returns {HTMLTableCellElement}
 */
function cellNode(value) {
  const cell = h("td");
  if (value === null || value === undefined) {
    cell.className = "cw-null";
    cell.title = "missing";
  } else if (typeof value === "number") {
    cell.className = "cw-number";
    cell.textContent = String(value);
  } else {
    cell.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return cell;
}

/**
 * Numbers numerically, text naturally ("web-2" before "web-10"), missing values last.
 * @param {unknown} a
 * @param {unknown} b
 * @returns {number}
 */
export function compareValues(a, b) {
  const missingA = a === null || a === undefined;
  const missingB = b === null || b === undefined;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/**
 * A `table` part: header first; a click on a header sorts by it (again: the
 * other way); missing values stay last either way.
 * @param {{columns: unknown[], rows: unknown[]}} part
 * @returns {HTMLElement}
 */
function tablePart(part) {
  const columns = part.columns.map(String);
  const rows = /** @type {unknown[][]} */ (part.rows.filter(Array.isArray));
  const table = h("table", "cw-table");
  const headRow = table.createTHead().insertRow();
  const body = table.createTBody();
  const rowNodes = rows.map((row) => {
    const node = body.insertRow();
    for (let column = 0; column < columns.length; column += 1) node.append(cellNode(row[column]));
    return node;
  });
  /**
   * @param {number} column
   * @param {HTMLElement} header
   */
  const sortBy = (column, header) => {
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const other of headRow.children) other.setAttribute("aria-sort", "none");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const order = rows.map((_, index) => index);
    const missing = (/** @type {unknown} */ value) => value === null || value === undefined;
    order.sort((a, b) => {
      const [x, y] = [rows[a][column], rows[b][column]];
      if (missing(x) || missing(y)) return compareValues(x, y);
      return ascending ? compareValues(x, y) : compareValues(y, x);
    });
    const sorted = document.createDocumentFragment();
    for (const index of order) sorted.append(rowNodes[index]);
    body.append(sorted);
  };
  columns.forEach((name, column) => {
    const header = h("th");
    header.scope = "col";
    header.setAttribute("aria-sort", "none");
    const sort = button("cw-sort", name, `Sort by ${name || "this column"}`);
    sort.addEventListener("click", () => sortBy(column, header));
    header.append(sort);
    headRow.append(header);
  });
  const wrap = h("div", "cw-part cw-scroll cw-table-wrap");
  wrap.append(table);
  return wrap;
}

/** @typedef {(image: HTMLImageElement) => void} Enlarge */

/**
 * An `image` part from its base64 data only: an <img> never runs an SVG's
 * scripts, and nothing is fetched. A click (or Enter) shows it full size.
 * @param {{mime?: unknown, data?: unknown}} part
 * @param {Enlarge} enlarge
 * @returns {HTMLElement}
 */
function imagePart(part, enlarge) {
  const data = typeof part.data === "string" ? part.data.replace(/\s+/g, "") : "";
  const mime = String(part.mime);
  if (!IMAGE_MIMES.includes(mime) || !data || !BASE64.test(data)) {
    return unknownPart("image that cannot be shown");
  }
  const image = h("img", "cw-part cw-image");
  image.alt = `image (${mime.slice(6).replace("+xml", "")})`;
  image.src = `data:${mime};base64,${data}`;
  image.tabIndex = 0;
  image.title = "Click to enlarge";
  image.addEventListener("error", () => image.replaceWith(unknownPart("image that cannot be shown")));
  image.addEventListener("click", () => enlarge(image));
  image.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      enlarge(image);
    }
  });
  return image;
}

/**
 * One part of a message, as DOM.
 * @param {any} part
 * @param {Enlarge} enlarge
 * @param {import("./files.js").FileLinks | null} [links] where file parts get their links
 * @returns {HTMLElement}
 */
export function renderPart(part, enlarge, links = null) {
  const type = part && typeof part.type === "string" ? part.type : "unknown";
  if (type === "markdown" && typeof part.text === "string") {
    return renderMarkdown(part.text, "cw-part cw-markdown cw-md");
  }
  if (type === "code" && typeof part.text === "string") {
    return codeBlock(part.text, part.language, "cw-code-block cw-part");
  }
  if (type === "table" && Array.isArray(part.columns) && Array.isArray(part.rows)) {
    return tablePart(part);
  }
  if (type === "image") return imagePart(part, enlarge);
  if (type === "file") return filePart(part, links);
  return unknownPart(type);
}

/**
 * Full size over the page (a drawing: as large as the window), until a click
 * or Escape. Opening the image in a tab is not offered: an SVG opened as a
 * page of its own would run its scripts.
 */
export class Lightbox {
  /** @param {Node} host where the overlay goes (the view's own root) */
  constructor(host) {
    this.host = host;
    /** @type {HTMLElement | null} */
    this.overlay = null;
    /** @param {KeyboardEvent} event */
    this.onKey = (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    };
  }

  /** @param {HTMLImageElement} image */
  open(image) {
    this.close();
    const overlay = h("div", "cw-lightbox");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Image, full size (click or Escape to close)");
    const full = h("img", "cw-lightbox-image");
    if (image.src.startsWith("data:image/svg+xml")) full.classList.add("cw-lightbox-vector");
    full.src = image.src;
    full.alt = image.alt;
    const close = button("cw-lightbox-close", "×", "Close (Escape)");
    overlay.append(full, close);
    overlay.addEventListener("click", () => this.close());
    document.addEventListener("keydown", this.onKey, true);
    this.host.appendChild(overlay);
    close.focus();
    this.overlay = overlay;
  }

  close() {
    if (!this.overlay) return;
    this.overlay.remove();
    this.overlay = null;
    document.removeEventListener("keydown", this.onKey, true);
  }
}
