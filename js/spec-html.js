// @ts-check
// For the node tests: the CommonMark spec's HTML vocabulary from the view's
// DOM, and the spec's normalization (tags lower-cased, attributes sorted,
// whitespace collapsed outside <pre> and dropped around block tags), so that
// the two can be compared as strings.

const BLOCK = new Set(["blockquote", "body", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
  "li", "ol", "p", "pre", "table", "tbody", "td", "th", "thead", "tr", "ul", "br"]);

/**
 * The spec's markup for what renderMarkdown drew: code blocks as
 * <pre><code class="language-…">, links without the policy's extra attributes
 * (target, rel, the tooltip naming the target), soft breaks as the newline
 * the spec writes (it allows rendering them as line breaks, as chat does).
 * @param {Node} node
 * @param {Document} doc
 * @returns {Node[]}
 */
export function toSpecNodes(node, doc) {
  if (node.nodeType === 3) return [doc.createTextNode(node.textContent || "")];
  if (node.nodeType !== 1) return [];
  const element = /** @type {HTMLElement} */ (node);
  const children = () => [...element.childNodes].flatMap((child) => toSpecNodes(child, doc));
  if (element.classList.contains("cw-code-block")) {
    const pre = doc.createElement("pre");
    const code = doc.createElement("code");
    const language = element.dataset.language;
    if (language) code.className = `language-${language}`;
    code.textContent = element.querySelector("pre code")?.textContent || "";
    pre.append(code);
    return [pre];
  }
  if (element.classList.contains("cw-scroll")) return children();
  if (element.tagName === "BR" && "soft" in element.dataset) return [doc.createTextNode("\n")];
  const copy = doc.createElement(element.tagName.toLowerCase());
  for (const attribute of element.attributes) {
    if (["class", "dir", "target", "rel", "referrerpolicy", "style"].includes(attribute.name)) continue;
    copy.setAttribute(attribute.name, attribute.value);
  }
  if (element.tagName === "A") {
    const href = element.getAttribute("href") || "";
    const title = element.getAttribute("title") || "";
    const own = title === href ? "" : title.endsWith(` (${href})`) ? title.slice(0, -href.length - 3) : title;
    if (own) copy.setAttribute("title", own);
    else copy.removeAttribute("title");
  }
  if (element.tagName === "CODE" && element.classList.contains("cw-md-code")) copy.removeAttribute("class");
  copy.append(...children());
  return [copy];
}

/**
 * @param {string} text
 * @returns {string}
 */
function escapeText(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The normalized markup of `nodes`.
 * @param {Iterable<Node>} nodes
 * @param {boolean} [inPre]
 * @returns {string}
 */
function serialize(nodes, inPre = false) {
  let out = "";
  for (const node of nodes) {
    if (node.nodeType === 3) {
      const text = escapeText(node.textContent || "");
      out += inPre ? text : text.replace(/\s+/g, " ");
    } else if (node.nodeType === 1) {
      const element = /** @type {Element} */ (node);
      const tag = element.tagName.toLowerCase();
      const attributes = [...element.attributes]
        .map((a) => `${a.name}="${escapeText(a.value)}"`)
        .sort()
        .join(" ");
      out += `<${tag}${attributes ? ` ${attributes}` : ""}>`;
      if (tag === "br" || tag === "hr" || tag === "img") continue;
      out += serialize(element.childNodes, inPre || tag === "pre");
      out += `</${tag}>`;
    }
  }
  return out;
}

/**
 * The spec's normalization of some markup (a string, or nodes).
 * @param {Iterable<Node>} nodes
 * @returns {string}
 */
export function normalize(nodes) {
  const text = serialize(nodes);
  const around = /\s*(<\/?([a-z0-9]+)[^>]*>)\s*/g;
  return text
    .replace(around, (whole, tag, name) => (BLOCK.has(name) ? tag : whole))
    .trim();
}
