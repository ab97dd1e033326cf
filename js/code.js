// @ts-check
// Code: highlighted by highlight.js, built as DOM from its token tree (never
// its HTML string), with a copy button and, where the page lets a widget do
// it, an "insert into a new cell" button.

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import diff from "highlight.js/lib/languages/diff";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import yaml from "highlight.js/lib/languages/yaml";
import { button, h } from "./dom.js";

/** @type {Record<string, import("highlight.js").LanguageFn>} */
const LANGUAGES = { bash, diff, javascript, json, python, r, sql, typescript, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(["py", "python3", "ipython", "py3"], { languageName: "python" });
hljs.registerAliases(["ts", "tsx", "mts"], { languageName: "typescript" });
hljs.registerAliases(["shell", "console", "zsh"], { languageName: "bash" });
hljs.registerAliases(["postgresql", "postgres", "sqlite"], { languageName: "sql" });

const MAX_HIGHLIGHT = 100_000; // longer code is shown without colours
const COPIED_MS = 1500;

/**
 * @typedef {{scope?: string, children: (string | TokenNode)[]}} TokenNode
 * highlight.js's token tree (its emitter's root): text, and scopes around text.
 */

/**
 * A highlight.js scope as classes: "title.function" -> "cw-tok-title cw-tok-title-function".
 * @param {string} scope
 * @returns {string}
 */
function scopeClass(scope) {
  if (scope.startsWith("language:")) return "cw-tok-sublanguage";
  const pieces = scope.split(".");
  return pieces.map((_, index) => `cw-tok-${pieces.slice(0, index + 1).join("-")}`).join(" ");
}

/**
 * @param {TokenNode} node
 * @param {Node} into
 */
function appendTokens(node, into) {
  for (const child of node.children) {
    if (typeof child === "string") {
      into.appendChild(document.createTextNode(child));
    } else if (child.scope) {
      const span = h("span", scopeClass(child.scope));
      appendTokens(child, span);
      into.appendChild(span);
    } else {
      appendTokens(child, into);
    }
  }
}

/**
 * The name highlight.js knows `language` by, or null (then the code is plain).
 * @param {unknown} language
 * @returns {string | null}
 */
export function languageOf(language) {
  const name = String(language || "").trim().toLowerCase();
  const found = name ? hljs.getLanguage(name) : undefined;
  return found ? (hljs.getLanguage(name) === hljs.getLanguage("python") ? "python" : name) : null;
}

/**
 * Fills `into` with `code`, coloured by token (spans with classes, text as text).
 * @param {string} code
 * @param {unknown} language
 * @param {HTMLElement} into
 */
export function highlight(code, language, into) {
  const name = languageOf(language);
  if (!name || code.length > MAX_HIGHLIGHT) {
    into.textContent = code;
    return;
  }
  const result = hljs.highlight(code, { language: name, ignoreIllegals: true });
  const tree = /** @type {{root: TokenNode}} */ (/** @type {unknown} */ (result._emitter)).root;
  appendTokens(tree, into);
}

/** @typedef {(code: string) => boolean} CellInserter */
/** @type {CellInserter | null} */
let insertCell = null;

/**
 * Sets how "insert into a new cell" works on this page (null: not offered).
 * @param {CellInserter | null} inserter
 */
export function setCellInserter(inserter) {
  insertCell = inserter;
}

/**
 * Puts `text` on the clipboard: the Clipboard API where the page is a secure
 * context, else the selection and the copy command.
 * @param {string} text
 * @param {HTMLElement} source the element showing the text (selected for the fallback)
 * @returns {Promise<boolean>}
 */
export async function copyText(text, source) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // refused (no permission): try the selection below
    }
  }
  const selection = window.getSelection();
  if (!selection) return false;
  selection.selectAllChildren(source);
  const done = document.execCommand("copy");
  selection.removeAllRanges();
  return done;
}

/**
 * A code block: a bar (language, copy, insert) over a <pre><code>.
 * @param {unknown} code
 * @param {unknown} language
 * @param {string} [className] classes of the outer element
 * @returns {HTMLDivElement}
 */
export function codeBlock(code, language, className = "cw-code-block") {
  const text = String(code);
  const block = h("div", className);
  const bar = h("div", "cw-code-bar");
  const name = String(language || "").trim().split(/\s/)[0].slice(0, 40);
  if (name) {
    block.dataset.language = name;
    bar.append(h("span", "cw-code-language", name));
  }
  const pre = h("pre", "cw-code");
  const inner = h("code");
  highlight(text, name, inner);
  pre.append(inner);
  const copy = button("cw-copy", "Copy", "Copy the code");
  copy.addEventListener("click", async () => {
    const done = await copyText(text, inner);
    copy.textContent = done ? "Copied" : "Copy failed";
    setTimeout(() => {
      copy.textContent = "Copy";
    }, COPIED_MS);
  });
  bar.append(copy);
  if (insertCell) {
    const inserter = insertCell;
    const insert = button("cw-insert", "Insert as cell", "Insert the code into a new cell below");
    insert.addEventListener("click", () => {
      insert.textContent = inserter(text) ? "Inserted" : "No notebook open";
      setTimeout(() => {
        insert.textContent = "Insert as cell";
      }, COPIED_MS);
    });
    bar.append(insert);
  }
  block.append(bar, pre);
  return block;
}
