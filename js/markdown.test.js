// renderMarkdown beyond the CommonMark spec: the GFM extensions, math, code,
// the link and image rules, and the everyday cases the old renderer got wrong.

import "./dom-env.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderMarkdown } from "./markdown.js";

/** @param {string} text */
const md = (text) => renderMarkdown(text);

test("a GFM table keeps its header, cells and alignment", () => {
  const node = md("| host | p50 ms | note |\n|:--|--:|:-:|\n| web-2 | 12.5 | `ok` |\n| db-1 | 3 | **slow** |");
  const table = node.querySelector("table");
  assert.ok(table);
  assert.deepEqual([...table.querySelectorAll("th")].map((th) => th.textContent), ["host", "p50 ms", "note"]);
  assert.deepEqual([...table.querySelectorAll("tbody tr")].map((tr) => tr.textContent), ["web-212.5ok", "db-13slow"]);
  assert.deepEqual([...table.querySelectorAll("thead th")].map((c) => /** @type {HTMLElement} */ (c).style.textAlign),
    ["left", "right", "center"]);
  assert.ok(table.querySelector("td code") && table.querySelector("td strong"));
});

test("strikethrough, task lists and autolinks", () => {
  const node = md("~~old~~ new\n\n- [ ] write tests\n- [x] ship\n\nsee www.example.com, https://example.org/a. or ann@example.com; setup.py stays text");
  assert.equal(node.querySelector("s")?.textContent, "old");
  const boxes = [...node.querySelectorAll(".cw-task-box")];
  assert.deepEqual(boxes.map((b) => b.getAttribute("aria-checked")), ["false", "true"]);
  assert.deepEqual([...node.querySelectorAll("li")].map((li) => li.textContent), ["☐ write tests", "☑ ship"]);
  assert.equal(node.querySelector("input"), null); // a box that looks checked, not a form control
  const hrefs = [...node.querySelectorAll("a")].map((a) => a.getAttribute("href"));
  assert.deepEqual(hrefs, ["http://www.example.com", "https://example.org/a", "mailto:ann@example.com"]);
});

test("the everyday cases: code in bold, reference links, a reply under a quote, setext, entities", () => {
  assert.equal(md("**Pass `**kwargs` through**").innerHTML,
    '<p><strong>Pass <code class="cw-md-code">**kwargs</code> through</strong></p>');
  const reference = md("Read [the docs][1].\n\n[1]: https://docs.example.com/x");
  assert.equal(reference.querySelector("a")?.getAttribute("href"), "https://docs.example.com/x");
  assert.equal(reference.textContent, "Read the docs.");
  const quoted = md("> what you said\n>\nmy reply");
  assert.equal(quoted.querySelector("blockquote")?.textContent, "what you said");
  assert.equal(quoted.querySelector(":scope > p")?.textContent, "my reply");
  assert.equal(md("Foo\n---").querySelector("h2")?.textContent, "Foo");
  assert.equal(md("&lt;tag&gt; &amp; &copy;").textContent, "<tag> & ©");
});

test("a newline is a line break, as in chat", () => {
  const node = md("first\nsecond");
  assert.equal(node.querySelectorAll("p").length, 1);
  assert.equal(node.querySelectorAll("br").length, 1);
});

test("links open in a new tab without referrer; other targets show as typed", () => {
  const node = md('[docs](https://example.com/a "The docs") [x](javascript:alert(1)) [y](/relative) [z](data:text/html,hi) <vbscript:x> [w](https://exa\u200bmple.com)');
  const links = node.querySelectorAll("a");
  assert.equal(links.length, 1);
  const link = links[0];
  assert.equal(link.getAttribute("href"), "https://example.com/a");
  assert.equal(link.target, "_blank");
  assert.equal(link.rel, "noopener noreferrer");
  assert.equal(link.getAttribute("referrerpolicy"), "no-referrer");
  assert.equal(link.title, "The docs (https://example.com/a)");
  for (const typed of ["[x](javascript:alert(1))", "[y](/relative)", "[z](data:text/html,hi)", "<vbscript:x>"]) {
    assert.ok(node.textContent.includes(typed), typed);
  }
});

test("images are never fetched: an http(s) one is a link named by its alt text", () => {
  const node = md("![a chart](https://example.com/c.png) ![pixel](data:image/png;base64,AAAA) ![local](c.png)");
  assert.equal(node.querySelector("img"), null);
  const link = node.querySelector("a.cw-md-image");
  assert.equal(link?.textContent, "image: a chart");
  assert.equal(link?.getAttribute("href"), "https://example.com/c.png");
  assert.ok(node.textContent.includes("![pixel](data:image/png;base64,AAAA)"));
  assert.ok(node.textContent.includes("![local](c.png)"));
});

test("HTML in a message is text", () => {
  const node = md("<b>bold?</b>\n\n<div onclick=\"x()\">block</div>\n\n<!-- hidden? -->");
  assert.equal(node.querySelector("b, div[onclick]"), null);
  assert.ok(node.textContent.includes("<b>bold?</b>"));
  assert.ok(node.textContent.includes('<div onclick="x()">block</div>'));
  assert.ok(node.textContent.includes("<!-- hidden? -->"));
});

test("math: inline and display, in all four delimiters, as MathML", () => {
  const node = md("Area $\\int_0^1 x^2\\,dx$ and \\(a^2\\).\n\n$$\n\\frac{1}{3}\n$$\n\n\\[ e^{i\\pi} + 1 = 0 \\]");
  const formulas = [...node.querySelectorAll(".cw-math")];
  assert.equal(formulas.length, 4);
  assert.ok(formulas.every((f) => f.querySelector("math")));
  assert.deepEqual(formulas.map((f) => f.classList.contains("cw-math-display")), [false, false, true, true]);
  // The TeX is kept as the formula's annotation: "\," survived, no markdown escaping ate it.
  assert.equal(formulas[0].querySelector("annotation")?.textContent, "\\int_0^1 x^2\\,dx");
  assert.ok(formulas[0].querySelector("mspace"), "\\, is a thin space");
  assert.ok(formulas[2].querySelector("mfrac"));
});

test("dollars that are prices are not math", () => {
  const node = md("It costs $5 and $10, or $ 3 $.");
  assert.equal(node.querySelector(".cw-math"), null);
  assert.equal(node.textContent, "It costs $5 and $10, or $ 3 $.");
});

test("a formula that does not parse shows its source", () => {
  const node = md("broken: $\\frac{1}{$ and $\\nosuchcommand{x}$");
  const failed = [...node.querySelectorAll(".cw-math-failed")];
  assert.deepEqual(failed.map((f) => f.textContent), ["$\\frac{1}{$", "$\\nosuchcommand{x}$"]);
  assert.ok(failed.every((f) => f.querySelector("math") === null && f.getAttribute("title")?.startsWith("Not rendered")));
});

test("math cannot open links or run anything", () => {
  const node = md("$\\href{javascript:alert(1)}{x}$ $\\url{https://example.com}$ $\\htmlClass{a}{b}$");
  assert.equal(node.querySelector("[href]"), null);
  assert.equal(node.querySelector("a"), null);
});

test("fenced code is highlighted and keeps every character; a copy button on each block", () => {
  const code = "def load(path):\n    return open(path).read()  # the whole file";
  const node = md(`\`\`\`python\n${code}\n\`\`\`\n\n    indented <b>\n`);
  const blocks = node.querySelectorAll(".cw-code-block");
  assert.equal(blocks.length, 2);
  assert.equal(blocks[0].getAttribute("data-language"), "python");
  assert.equal(blocks[0].querySelector("pre code")?.textContent, `${code}\n`);
  assert.deepEqual([...blocks[0].querySelectorAll(".cw-tok-keyword")].map((k) => k.textContent), ["def", "return"]);
  assert.equal(blocks[0].querySelector(".cw-tok-comment")?.textContent, "# the whole file");
  assert.equal(blocks[1].querySelector("pre code")?.textContent, "indented <b>\n");
  assert.equal(node.querySelectorAll("button.cw-copy").length, 2);
});

test("every promised language is highlighted; an unknown one is plain", () => {
  const samples = {
    python: "def f(x):\n    return x  # c",
    js: "const x = 1; // c",
    ts: "let x: number = 1;",
    sql: "SELECT a FROM t",
    json: '{"a": true}',
    bash: "for f in *; do echo $f; done",
    r: "x <- c(1, 2) # c",
    yaml: "key: value # c",
    diff: "- old\n+ new",
  };
  for (const [language, code] of Object.entries(samples)) {
    const block = md(`\`\`\`${language}\n${code}\n\`\`\``).querySelector("pre code");
    assert.ok(block?.querySelector("span[class^='cw-tok-']"), language);
    assert.equal(block?.textContent, `${code}\n`, language);
  }
  const plain = md("```brainfuck\n+[->+<]\n```").querySelector("pre code");
  assert.equal(plain?.children.length, 0);
});
