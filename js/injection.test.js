// The project's injection corpus (tests/injection_corpus.py, read as JSON
// from Python so there is one corpus) through renderMarkdown and renderPart
// under jsdom, and a few hundred seeded random mixes of markdown and markup:
// no script, no on* attribute, no link but http(s)/mailto, nothing that
// fetches, and every payload on screen as text.

import "./dom-env.js";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { renderMarkdown } from "./markdown.js";
import { renderPart } from "./parts.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const corpus = JSON.parse(execFileSync(process.env.PYTHON || "python3", ["-m", "tests.injection_corpus"],
  { cwd: root, encoding: "utf8", env: { ...process.env, PYTHONPATH: root } }));

const FORBIDDEN = new Set(["script", "iframe", "frame", "frameset", "object", "embed", "style", "link",
  "meta", "base", "form", "input", "svg", "video", "audio", "source", "details", "marquee",
  "template", "noscript", "applet", "portal", "slot", "img", "picture", "image", "use"]);
// MathML from Temml is allowed (it is how formulas are drawn), but only inside a formula.
const MATHML = /^(math|semantics|annotation|mrow|mi|mn|mo|ms|mtext|mspace|msub|msup|msubsup|mfrac|msqrt|mroot|mover|munder|munderover|mtable|mtr|mtd|mstyle|mpadded|mphantom|menclose|merror|mmultiscripts|mprescripts|none|mlabeledtr)$/;
const IMAGE_DATA = /^data:image\/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/]*={0,2}$/;

/**
 * Everything in `node` that a message must never produce.
 * @param {Element} node
 * @param {{images?: boolean}} [allow] whether inline data images (image parts) are expected
 * @returns {string[]}
 */
export function audit(node, allow = {}) {
  const problems = [];
  for (const element of node.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    if (tag === "img" && allow.images && IMAGE_DATA.test(element.getAttribute("src") || "")) continue;
    if (FORBIDDEN.has(tag)) problems.push(`<${tag}>`);
    if (element.namespaceURI === "http://www.w3.org/1998/Math/MathML" && (!MATHML.test(tag) || !element.closest(".cw-math"))) {
      problems.push(`<${tag}> outside a formula`);
    }
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) problems.push(`<${tag} ${name}>`);
      if (["src", "srcset", "srcdoc", "formaction", "action", "background", "xlink:href", "poster", "data"].includes(name)
        && tag !== "img") problems.push(`<${tag} ${name}>`);
      if (name === "style" && /url|expression|javascript|@import/i.test(attribute.value)) problems.push(`<${tag} style>`);
      if (name === "href" && tag !== "a") problems.push(`<${tag} href>`);
    }
    if (tag === "a") {
      const href = element.getAttribute("href") || "";
      if (!/^(https?:\/\/|mailto:)/i.test(href)) problems.push(`<a href="${href}">`);
      if (element.getAttribute("target") !== "_blank" || element.getAttribute("rel") !== "noopener noreferrer") {
        problems.push(`<a href="${href}"> opens in the same tab or with a referrer`);
      }
    }
  }
  return problems;
}

/** @param {string} text */
const flat = (text) => text.replace(/\s+/g, " ").trim();

test("every hostile text shows as text, and nothing in it is active", () => {
  assert.ok(corpus.texts.length >= 80);
  for (const payload of corpus.texts) {
    const node = renderMarkdown(payload.text);
    assert.deepEqual(audit(node), [], payload.text);
    const shown = flat(node.textContent || "");
    for (const piece of payload.shows) assert.ok(shown.includes(flat(piece)), `${JSON.stringify(payload.text)} shows as ${JSON.stringify(shown)}`);
  }
});

test("hostile parts show as data; the SVG is only ever an <img> of inline data", () => {
  const message = document.createElement("div");
  for (const part of corpus.parts) message.append(renderPart(part, () => {}));
  assert.deepEqual(audit(message, { images: true }), []);
  assert.equal(message.querySelectorAll("img").length, 2); // the SVG, and the PNG whose bytes are not a PNG
  const shown = flat(message.textContent || "");
  for (const piece of corpus.part_shows) assert.ok(shown.includes(piece), piece);
});

test("random mixes of markdown, markup and link targets stay inert", () => {
  const tokens = ["*", "**", "_", "__", "~~", "`", "```", "[", "]", "(", ")", "](", "![", "<", ">", "\n",
    "\n\n", "> ", "- ", "1. ", "# ", "|", "|---|", "\\", " ", "x", "word", "$", "$$", "\\(", "\\[",
    "javascript:__pwned(0)", "data:text/html,<script>__pwned(0)</script>", "http://example.com",
    "<script>__pwned(0)</script>", "<img src=x onerror=__pwned(0)>", '" onmouseover="__pwned(0)',
    "\\href{javascript:x}{y}", "&lt;", "&#106;", "\u202e", "\u200b", "\t", "    "];
  let seed = 20261124; // a fixed seed: the same mixes every run
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let sample = 0; sample < 400; sample += 1) {
    const length = 1 + Math.floor(random() * 60);
    let text = "";
    for (let index = 0; index < length; index += 1) text += tokens[Math.floor(random() * tokens.length)];
    assert.deepEqual(audit(renderMarkdown(text)), [], text);
  }
});
