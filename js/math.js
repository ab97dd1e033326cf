// @ts-check
// Math: TeX between $…$, $$…$$, \(…\) and \[…\], found by two markdown-it
// rules and rendered by Temml as MathML (no fonts to ship). A formula Temml
// cannot read shows as its source, never as an error box.

import temml from "temml";
import { h } from "./dom.js";

const MAX_TEX = 10_000; // longer formulas show as source
/** @type {import("temml").Options} */
const OPTIONS = { throwOnError: true, trust: false, annotate: true, maxExpand: 200 };

/**
 * A formula as MathML, or its source (with its delimiters) when Temml cannot read it.
 * @param {string} tex
 * @param {boolean} display
 * @param {string} [source] what was typed, delimiters included
 * @returns {HTMLElement}
 */
export function renderMath(tex, display, source) {
  const node = h(display ? "div" : "span", display ? "cw-math cw-math-display" : "cw-math");
  if (tex.length <= MAX_TEX && tex.trim()) {
    try {
      temml.render(tex, node, { ...OPTIONS, displayMode: display });
      return node;
    } catch (error) {
      node.title = `Not rendered: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  node.replaceChildren(h("code", "cw-math-source", source ?? tex));
  node.classList.add("cw-math-failed");
  return node;
}

/**
 * Where `closer` closes the formula opened before `from`: skips backslash
 * escapes, so `\$` inside a formula is a dollar. -1 when it never closes.
 * @param {string} src
 * @param {number} from
 * @param {number} max
 * @param {string} closer
 * @returns {number}
 */
function findCloser(src, from, max, closer) {
  for (let index = from; index < max; index += 1) {
    if (src.startsWith(closer, index)) return index;
    if (src[index] === "\\") index += 1;
  }
  return -1;
}

/**
 * The inline rule: `$x$` (not `$ x$`, `$x $` or `$5 and $6`), `$$x$$`, `\(x\)` and `\[x\]`.
 * @param {import("markdown-it/lib/rules_inline/state_inline.mjs").default} state
 * @param {boolean} silent
 * @returns {boolean}
 */
function mathInline(state, silent) {
  const { src, pos, posMax } = state;
  let opener = "";
  let closer = "";
  let display = false;
  if (src.startsWith("$$", pos)) [opener, closer, display] = ["$$", "$$", true];
  else if (src[pos] === "$") [opener, closer] = ["$", "$"];
  else if (src.startsWith("\\(", pos)) [opener, closer] = ["\\(", "\\)"];
  else if (src.startsWith("\\[", pos)) [opener, closer, display] = ["\\[", "\\]", true];
  else return false;
  const start = pos + opener.length;
  if (opener === "$" && (start >= posMax || /\s/.test(src[start]))) return false;
  const end = findCloser(src, start, posMax, closer);
  if (end < 0 || end === start) return false;
  if (opener === "$" && (/\s/.test(src[end - 1]) || /\d/.test(src[end + 1] || ""))) return false;
  if (!silent) {
    const token = state.push("math_inline", "math", 0);
    token.content = src.slice(start, end);
    token.markup = opener;
    token.meta = { display, source: src.slice(pos, end + closer.length) };
  }
  state.pos = end + closer.length;
  return true;
}

/**
 * The block rule: a paragraph-level formula between `$$` or `\[` and `$$` or `\]`,
 * on one line or many.
 * @param {import("markdown-it/lib/rules_block/state_block.mjs").default} state
 * @param {number} startLine
 * @param {number} endLine
 * @param {boolean} silent
 * @returns {boolean}
 */
function mathBlock(state, startLine, endLine, silent) {
  const first = state.bMarks[startLine] + state.tShift[startLine];
  const lineEnd = state.eMarks[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const src = state.src;
  let closer = "";
  if (src.startsWith("$$", first)) closer = "$$";
  else if (src.startsWith("\\[", first)) closer = "\\]";
  else return false;
  const opened = first + 2;
  let line = startLine;
  let content = "";
  const sameLine = src.slice(opened, lineEnd);
  const closeHere = sameLine.trimEnd().endsWith(closer) ? sameLine.trimEnd().length - 2 : -1;
  if (closeHere >= 0) {
    content = sameLine.slice(0, closeHere);
  } else {
    const lines = [sameLine];
    let closed = false;
    for (line = startLine + 1; line < endLine; line += 1) {
      const text = src.slice(state.bMarks[line] + state.tShift[line], state.eMarks[line]);
      if (state.sCount[line] < state.blkIndent) break;
      if (text.trimEnd().endsWith(closer)) {
        lines.push(text.trimEnd().slice(0, -2));
        closed = true;
        break;
      }
      lines.push(text);
    }
    if (!closed) return false;
    content = lines.join("\n");
  }
  if (!content.trim()) return false;
  if (silent) return true;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = content.trim();
  token.markup = closer === "$$" ? "$$" : "\\[";
  token.map = [startLine, line + 1];
  token.meta = {
    display: true,
    source: src.slice(first, state.eMarks[line]).trim(),
  };
  state.line = line + 1;
  return true;
}

/**
 * Adds the two math rules to a markdown-it instance (before escapes and fences).
 * @param {import("markdown-it").default} md
 */
export function mathPlugin(md) {
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("fence", "math_block", mathBlock, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
}
