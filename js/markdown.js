// @ts-check
// Message text is markdown: parsed by markdown-it (CommonMark, plus GFM
// tables, strikethrough, autolinks and task lists, plus TeX math), and built
// into DOM nodes from its tokens here. Nothing is ever parsed as HTML:
// markdown-it's HTML rules are off, so markup in a message is text, and every
// string goes in with textContent.
//
// The safety rules: links only to absolute http(s)/mailto targets (others
// show exactly as typed), opened in a new tab without a referrer; images are
// never fetched (an http(s) one becomes a link "image: alt").

import MarkdownIt from "markdown-it";
import { codeBlock } from "./code.js";
import { h } from "./dom.js";
import { IMAGE_PROTOCOLS, LINK_PROTOCOLS, linkNode, safeHref } from "./links.js";
import { mathPlugin, renderMath } from "./math.js";

/** @typedef {import("markdown-it/lib/token.mjs").default} Token */
/** @typedef {import("markdown-it/lib/rules_inline/state_inline.mjs").default} InlineState */
/** @typedef {(state: InlineState, silent: boolean) => boolean} InlineRule */

const TASK = /^\[([ xX])\][ \t]/;
const BLOCK_TAGS = new Set([
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "table", "thead",
  "tbody", "tr", "th", "td", "hr",
]);
const INLINE_TAGS = new Set(["em", "strong", "s"]);

/**
 * Wraps the `link` or `image` rule: a link whose target the policy refuses is
 * not a link at all, and shows as typed (its whole source, brackets included).
 * @param {InlineRule} rule
 * @param {Set<string>} protocols
 * @returns {InlineRule}
 */
function refusingUnsafeTargets(rule, protocols) {
  return (state, silent) => {
    const start = state.pos;
    const before = state.tokens.length;
    const metaBefore = state.tokens_meta.length; // one entry per push(), not per token
    if (!rule(state, silent)) return false;
    if (silent) return true;
    let index = before;
    while (index < state.tokens.length && !["link_open", "image"].includes(state.tokens[index].type)) {
      index += 1;
    }
    const token = state.tokens[index];
    const target = token ? token.attrGet(token.type === "image" ? "src" : "href") : null;
    if (token && target && safeHref(target, protocols)) return true;
    state.tokens.length = index;
    state.tokens_meta.length = metaBefore;
    state.pending += state.src.slice(start, state.pos);
    return true;
  };
}

/**
 * GFM task lists: a list item starting `[ ] ` or `[x] ` is marked as a task.
 * @param {import("markdown-it/lib/rules_core/state_core.mjs").default} state
 */
function taskLists(state) {
  const tokens = state.tokens;
  for (let index = 2; index < tokens.length; index += 1) {
    const inline = tokens[index];
    if (inline.type !== "inline" || tokens[index - 1].type !== "paragraph_open") continue;
    if (tokens[index - 2].type !== "list_item_open") continue;
    const first = inline.children?.[0];
    const match = first && first.type === "text" ? TASK.exec(first.content) : null;
    if (!first || !match) continue;
    first.content = first.content.slice(match[0].length);
    tokens[index - 2].meta = { ...(tokens[index - 2].meta || {}), task: match[1] !== " " };
  }
}

/** @returns {MarkdownIt} */
function createParser() {
  const md = new MarkdownIt("commonmark", { html: false, linkify: true, breaks: true });
  md.enable(["table", "strikethrough", "linkify"]);
  // Bare URLs: with a scheme, or starting "www." (as GitHub does); "setup.py"
  // and other file names that look like domains stay text.
  const match = md.linkify.match.bind(md.linkify);
  md.linkify.match = (text) => {
    const found = match(text);
    return found ? found.filter((link) => link.schema || link.raw.startsWith("www.")) : found;
  };
  md.validateLink = (url) => safeHref(url) !== null;
  // markdown-it keeps its rules here; wrapping one in place keeps its order.
  const rules = /** @type {{name: string, fn: InlineRule}[]} */ (
    /** @type {any} */ (md.inline.ruler).__rules__
  );
  for (const [name, protocols] of /** @type {[string, Set<string>][]} */ ([
    ["link", LINK_PROTOCOLS],
    ["image", IMAGE_PROTOCOLS],
  ])) {
    const rule = rules.find((entry) => entry.name === name);
    if (rule) md.inline.ruler.at(name, refusingUnsafeTargets(rule.fn, protocols));
  }
  md.use(mathPlugin);
  md.core.ruler.push("task_lists", taskLists);
  return md;
}

const parser = createParser();

/**
 * The text of an image's alt (its children, flattened).
 * @param {Token} token
 * @returns {string}
 */
function altText(token) {
  return (token.children || []).map((child) => (child.children ? altText(child) : child.content)).join("");
}

/**
 * Inline tokens into `parent`.
 * @param {Token[]} tokens
 * @param {HTMLElement} parent
 */
function renderInline(tokens, parent) {
  /** @type {HTMLElement[]} */
  const stack = [parent];
  for (const token of tokens) {
    const top = stack[stack.length - 1];
    switch (token.type) {
      case "text":
      case "text_special":
        top.append(token.content);
        break;
      case "softbreak": {
        const br = h("br"); // a newline in a chat message is a line break
        br.dataset.soft = "";
        top.append(br);
        break;
      }
      case "hardbreak":
        top.append(h("br"));
        break;
      case "code_inline":
        top.append(h("code", "cw-md-code", token.content));
        break;
      case "math_inline":
        top.append(renderMath(token.content, token.meta.display, token.meta.source));
        break;
      case "link_open": {
        const href = safeHref(token.attrGet("href"));
        const link = linkNode(href || "", token.attrGet("title") || "");
        if (token.markup === "linkify" || token.markup === "autolink") link.classList.add("cw-autolink");
        top.append(link);
        stack.push(link);
        break;
      }
      case "image": {
        // Never fetched (no tracking pixels): a link to it, named by its alt text.
        const href = safeHref(token.attrGet("src"), IMAGE_PROTOCOLS) || "";
        const link = linkNode(href, token.attrGet("title") || "");
        link.classList.add("cw-md-image");
        link.textContent = `image: ${altText(token) || href}`;
        top.append(link);
        break;
      }
      default:
        if (token.nesting === 1 && INLINE_TAGS.has(token.tag)) {
          const node = document.createElement(token.tag);
          top.append(node);
          stack.push(node);
        } else if (token.nesting === -1 && stack.length > 1) {
          stack.pop();
        } else if (token.content) {
          top.append(token.content); // anything else: its text, as text
        }
    }
  }
}

/**
 * A table cell's alignment, from markdown-it's `style="text-align:…"` attribute.
 * @param {Token} token
 * @returns {string}
 */
function alignmentOf(token) {
  const match = /text-align:(left|right|center)/.exec(token.attrGet("style") || "");
  return match ? match[1] : "";
}

/**
 * Block tokens into `root`.
 * @param {Token[]} tokens
 * @param {HTMLElement} root
 */
function renderBlocks(tokens, root) {
  /** @type {HTMLElement[]} */
  const stack = [root];
  for (const token of tokens) {
    const top = stack[stack.length - 1];
    if (token.hidden && (token.type === "paragraph_open" || token.type === "paragraph_close")) {
      continue; // a tight list's paragraphs: their text goes straight into the item
    }
    if (token.type === "inline") {
      renderInline(token.children || [], top);
    } else if (token.type === "fence" || token.type === "code_block") {
      top.append(codeBlock(token.content, parser.utils.unescapeAll(token.info), "cw-code-block cw-md-pre"));
    } else if (token.type === "math_block") {
      top.append(renderMath(token.content, true, token.meta.source));
    } else if (token.type === "hr") {
      top.append(h("hr"));
    } else if (token.nesting === 1) {
      const tag = BLOCK_TAGS.has(token.tag) ? token.tag : "div";
      const node = /** @type {HTMLElement} */ (document.createElement(tag));
      if (/^h[1-6]$/.test(tag)) node.className = "cw-md-heading";
      if (tag === "ul" || tag === "ol") node.className = "cw-md-list";
      if (tag === "table") node.className = "cw-md-table";
      const start = token.attrGet("start");
      if (tag === "ol" && start !== null) /** @type {HTMLOListElement} */ (node).start = Number(start);
      if (tag === "th" || tag === "td") {
        const align = alignmentOf(token);
        if (align) node.style.textAlign = align;
      }
      if (tag === "li" && token.meta && typeof token.meta.task === "boolean") {
        node.classList.add("cw-task");
        const box = h("span", "cw-task-box", token.meta.task ? "☑" : "☐");
        box.setAttribute("role", "checkbox");
        box.setAttribute("aria-checked", String(token.meta.task));
        box.setAttribute("aria-disabled", "true");
        node.append(box, " ");
      }
      if (tag === "table") {
        const wrap = h("div", "cw-scroll");
        wrap.append(node);
        top.append(wrap);
      } else {
        top.append(node);
      }
      stack.push(node);
    } else if (token.nesting === -1 && stack.length > 1) {
      stack.pop();
    }
  }
}

/**
 * Markdown `text` as a <div> of DOM nodes (no HTML parsed, ever).
 * @param {unknown} text
 * @param {string} [className]
 * @returns {HTMLDivElement}
 */
export function renderMarkdown(text, className = "cw-md") {
  const node = h("div", className);
  node.dir = "auto";
  renderBlocks(parser.parse(String(text ?? ""), {}), node);
  return node;
}
