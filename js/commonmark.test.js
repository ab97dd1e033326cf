// Every example of the CommonMark spec (the commonmark-spec package) through
// renderMarkdown, compared with the spec's HTML after the spec's
// normalization. An example may differ only where a safety rule or a chat
// extension says so; each such example is listed below with its reason, and
// the reason is checked on the output (so the list cannot hide a real
// parsing difference, and an entry that no longer differs fails too).

import "./dom-env.js";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { renderMarkdown } from "./markdown.js";
import { normalize, toSpecNodes } from "./spec-html.js";

const spec = createRequire(import.meta.url)("commonmark-spec");

// The spec's files show a tab as "→" (its test runner puts the tab back).
const examples = spec.tests.map((/** @type {any} */ example) => ({
  ...example,
  markdown: example.markdown.replace(/→/g, "\t"),
  html: example.html.replace(/→/g, "\t"),
}));

/** The deliberate differences, by reason: example numbers in the spec 0.31.2. */
const DELIBERATE = {
  // Raw HTML (blocks, inline tags, comments, declarations) shows as the text typed.
  html: [21, 31, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163,
    164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182,
    183, 184, 185, 186, 187, 188, 189, 190, 191, 201, 308, 309, 344, 475, 476, 477, 489, 491,
    494, 524, 536, 580, 613, 614, 615, 616, 617, 623, 625, 626, 627, 628, 629, 630, 631, 642, 643],
  // Links only to absolute http(s)/mailto targets: a relative, empty or other
  // target (the spec's "/url", "foo", "#fragment") shows as typed.
  link: [22, 23, 32, 33, 192, 193, 194, 195, 196, 198, 200, 202, 203, 204, 205, 206, 214, 215, 216,
    217, 218, 404, 419, 422, 433, 473, 474, 482, 483, 484, 485, 486, 487, 492, 495, 496, 498, 499,
    500, 501, 502, 503, 504, 505, 506, 507, 509, 510, 512, 514, 515, 516, 518, 519, 521, 522, 527,
    528, 529, 530, 532, 533, 534, 535, 539, 540, 541, 542, 543, 544, 549, 550, 553, 554, 555, 556,
    557, 558, 559, 560, 561, 562, 564, 565, 566, 567, 568, 569, 570, 571, 593, 596, 598, 599, 601],
  // Images are never fetched: an http(s) one is a link "image: alt", others show as typed.
  image: [517, 520, 531, 572, 573, 574, 575, 576, 577, 578, 579, 581, 582, 583, 584, 585, 586,
    587, 588, 589, 591],
  // A link reference definition whose target is refused is not a definition:
  // it shows as typed, so the reader sees why "[foo]" is no link.
  definition: [207, 208, 210, 317, 537, 538, 545, 563, 592],
  // GFM autolinks (an extension): bare http(s) URLs and e-mail addresses are links.
  bare: [602, 608, 611, 612],
  // TeX math (an extension): "\[ … \]" is display math, also when its inside is "\\".
  math: [12],
};

const HTML_TAG = /<(?:[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|\/[A-Za-z]|!--|\?|![A-Z]|!\[CDATA\[)/;

/** @type {Record<string, (example: any, rendered: HTMLElement, expected: string) => boolean>} */
const CHECKS = {
  // the markup typed is on screen, as text, and no element came from it
  html: (example, rendered) => {
    const typed = HTML_TAG.exec(example.markdown);
    return typed !== null && (rendered.textContent || "").includes(typed[0].trim());
  },
  // the spec links somewhere we do not, and we link to nothing but http(s)/mailto
  link: (_example, rendered, expected) =>
    /href="(?!https?:\/\/|mailto:)[^"]*"/i.test(expected)
    && [...rendered.querySelectorAll("a")].every((a) => /^(https?:\/\/|mailto:)/i.test(a.getAttribute("href") || "")),
  image: (_example, rendered, expected) => expected.includes("<img") && rendered.querySelector("img") === null,
  definition: (example, rendered) => {
    const definition = /^ {0,3}\[[^\]]*\]:\s*(\S+)/m.exec(example.markdown);
    return definition !== null && (rendered.textContent || "").includes(`]: ${definition[1]}`)
      && !/^(https?:\/\/|mailto:)/i.test(definition[1]);
  },
  bare: (_example, rendered) => rendered.querySelector("a.cw-autolink") !== null,
  math: (_example, rendered) => rendered.querySelector("math") !== null,
};

/**
 * @param {any} example
 * @returns {{rendered: HTMLElement, ours: string, expected: string}}
 */
function run(example) {
  const rendered = renderMarkdown(example.markdown);
  const ours = normalize(toSpecNodes(rendered, document)[0].childNodes);
  const template = document.createElement("template");
  template.innerHTML = example.html; // the spec's expected output, parsed to be normalized
  return { rendered, ours, expected: normalize(template.content.childNodes) };
}

test("every CommonMark example renders as the spec says, or differs for a listed reason", () => {
  /** @type {Map<number, string>} */
  const reasonOf = new Map();
  for (const [reason, numbers] of Object.entries(DELIBERATE)) {
    for (const number of numbers) reasonOf.set(number, reason);
  }
  const problems = [];
  let identical = 0;
  for (const example of examples) {
    const { rendered, ours, expected } = run(example);
    const reason = reasonOf.get(example.number);
    if (ours === expected) {
      identical += 1;
      if (reason) problems.push(`#${example.number} is listed (${reason}) but renders as the spec says`);
    } else if (!reason) {
      problems.push(`#${example.number} (${example.section}) ${JSON.stringify(example.markdown)}\n  spec: ${expected}\n  ours: ${ours}`);
    } else if (!CHECKS[reason](example, rendered, expected)) {
      problems.push(`#${example.number} is listed as ${reason}, which does not explain: ${ours}`);
    }
  }
  const policy = reasonOf.size;
  console.log(`CommonMark ${spec.tests.length} examples: ${identical} identical, ${policy} deliberate `
    + `(${Object.entries(DELIBERATE).map(([k, v]) => `${k} ${v.length}`).join(", ")}); `
    + `identical where no rule applies: ${identical}/${examples.length - policy}`);
  assert.deepEqual(problems, []);
  assert.equal(examples.length, 652);
  assert.ok(identical / (examples.length - policy) >= 0.99);
});

test("the deliberate lists name real examples, once each", () => {
  const all = Object.values(DELIBERATE).flat();
  assert.equal(new Set(all).size, all.length);
  assert.ok(all.every((number) => number >= 1 && number <= examples.length));
});
