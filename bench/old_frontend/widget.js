// ChatWidget's view: message list, input box, status, send timeline.
//
// Plain DOM, no framework, no build step. Every piece of user or server text
// goes in with textContent, never as HTML: message text is markdown, turned
// into elements by the small renderer below, and rich parts (tables, images,
// code) are built from their data. Synced traits (status, connected,
// awaiting_response, error, chat_id, user_id) are read from the model; messages
// arrive as custom messages (docs/widget.md lists them). Each view asks for its
// own first page, so two views of one widget show the same chat.

const ACK_TIMEOUT_MS = 1500; // no answer to a request by then: the kernel is busy
const NEAR_EDGE_PX = 48;
const TIMELINE_SENDS = 30;
const STEP_LABELS = {
  auth_fetch_start: "auth fetch",
  auth_fetched: "auth fetched",
  emit: "emit",
  ack: "ack",
  broadcast: "broadcast",
  reply: "reply",
};
const STATUS_LABELS = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  disconnected: "disconnected",
};

let counter = 0;
function newId(prefix) {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${Date.now().toString(36)}-${random}-${counter}`;
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function formatTime(created_at) {
  const date = new Date(created_at);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function snippet(text, length = 80) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

// ---------------------------------------------------------------------------
// Rich content: markdown, highlighted code, tables, images.
//
// Why hand-written and not a vendored library: anywidget imports this file
// from a blob: URL, which a relative `import "./vendor/..."` cannot resolve
// against, and no other URL serves the package's files. A library would have
// to be pasted into this file, and a markdown library still returns HTML that
// would then need a sanitizer. This renderer never makes markup at all: it
// creates elements and sets textContent, and a link's href is set only after
// `safeHref` allowed it. HTML in a message is therefore always text.
// ---------------------------------------------------------------------------

const MAX_DEPTH = 12; // nesting (quotes, lists, emphasis) deeper than this shows as text
const MAX_LINK_LABEL = 500; // characters scanned for a link's closing bracket
const MAX_HIGHLIGHT = 100_000; // longer code is shown without colours
const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
const INVISIBLE = /[\u0000-\u0020\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;

// The one way a link target gets into the page: absolute http(s) or mailto
// URLs only. Relative ones have no base here and are refused, and so are
// javascript:, data:, vbscript:, file: and everything else.
function safeHref(raw) {
  const value = String(raw).trim();
  if (!value || value.length > 2048 || INVISIBLE.test(value)) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

function linkNode(href, title) {
  const link = h("a", "cw-link");
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.referrerPolicy = "no-referrer";
  link.title = title ? `${title} (${href})` : href; // the real target, on hover
  return link;
}

// -- code highlighting ------------------------------------------------------

const LANGUAGES = {
  python: {
    comment: /#[^\n]*/,
    string: /[rRbBfFuU]{0,2}(?:"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:[^"\\\n]|\\[\s\S])*"?|'(?:[^'\\\n]|\\[\s\S])*'?)/,
    keywords: "and as assert async await break class continue def del elif else except finally for from global if import in is lambda match case nonlocal not or pass raise return try while with yield",
    literals: "True False None self",
    titles: "def class",
  },
  javascript: {
    comment: /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/,
    string: /"(?:[^"\\\n]|\\[\s\S])*"?|'(?:[^'\\\n]|\\[\s\S])*'?|`(?:[^`\\]|\\[\s\S])*`?/,
    keywords: "async await break case catch class const continue debugger default delete do else export extends finally for from function if import in instanceof let new of return static super switch this throw try typeof var void while yield",
    literals: "true false null undefined NaN Infinity",
    titles: "function class",
  },
  json: {
    string: /"(?:[^"\\\n]|\\[\s\S])*"?/,
    keywords: "",
    literals: "true false null",
  },
  sql: {
    comment: /--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/,
    string: /'(?:[^'\n]|'')*'?|"[^"\n]*"?/,
    keywords: "select from where group by order having limit offset join left right inner outer full cross on as and or not in is like between exists insert into values update set delete create table drop alter index view with union all distinct case when then else end asc desc over partition",
    literals: "null true false",
    ignoreCase: true,
  },
  bash: {
    comment: /#[^\n]*/,
    string: /"(?:[^"\\]|\\[\s\S])*"?|'[^']*'?/,
    keywords: "if then else elif fi for while until do done case esac function in return export local exit",
    literals: "true false",
  },
};
const LANGUAGE_NAMES = {
  py: "python", python: "python", python3: "python", ipython: "python",
  js: "javascript", javascript: "javascript", mjs: "javascript", ts: "javascript",
  typescript: "javascript", json: "json", sql: "sql",
  sh: "bash", bash: "bash", shell: "bash", zsh: "bash", console: "bash",
};
const NUMBER = /\b(?:0[xX][\da-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?[jJ]?)|\.\d+(?:[eE][+-]?\d+)?/;
const WORD = /[A-Za-z_$][\w$]*/;
const compiled = new Map();

function syntaxOf(name) {
  if (!compiled.has(name)) {
    const lang = LANGUAGES[name];
    const sources = [lang.comment ? lang.comment.source : "(?!)", lang.string.source, NUMBER.source,
      WORD.source];
    const words = (list) => new Set(list.split(/\s+/).filter(Boolean));
    compiled.set(name, {
      pattern: new RegExp(sources.map((source) => `(${source})`).join("|"), "g"),
      keywords: words(lang.keywords),
      literals: words(lang.literals),
      titles: words(lang.titles || ""),
      ignoreCase: Boolean(lang.ignoreCase),
    });
  }
  return compiled.get(name);
}

// Fills `into` with the code, coloured by token kind (spans with textContent).
function highlight(code, language, into) {
  const name = LANGUAGE_NAMES[String(language || "").toLowerCase()];
  if (!name || code.length > MAX_HIGHLIGHT) {
    into.textContent = code;
    return;
  }
  const syntax = syntaxOf(name);
  const pattern = syntax.pattern;
  pattern.lastIndex = 0;
  let plain = "";
  let last = 0;
  let previous = "";
  let match;
  const token = (kind, text) => {
    if (plain) into.append(plain);
    plain = "";
    into.append(h("span", `cw-tok-${kind}`, text));
  };
  while ((match = pattern.exec(code)) !== null) {
    if (match[0] === "") {
      pattern.lastIndex += 1;
      continue;
    }
    plain += code.slice(last, match.index);
    last = pattern.lastIndex;
    const text = match[0];
    if (match[1] !== undefined) token("comment", text);
    else if (match[2] !== undefined) token("string", text);
    else if (match[3] !== undefined) token("number", text);
    else {
      const word = syntax.ignoreCase ? text.toLowerCase() : text;
      if (syntax.keywords.has(word)) token("keyword", text);
      else if (syntax.literals.has(word)) token("literal", text);
      else if (syntax.titles.has(previous)) token("title", text);
      else plain += text;
      previous = word;
      continue;
    }
    previous = "";
  }
  plain += code.slice(last);
  if (plain) into.append(plain);
}

function codeBlock(code, language, className = "cw-code") {
  const pre = h("pre", className);
  const inner = h("code");
  const name = String(language || "");
  if (name && name !== "text") {
    pre.dataset.language = name.slice(0, 40);
    pre.append(h("span", "cw-code-language", name.slice(0, 40)));
  }
  highlight(String(code), name, inner);
  pre.append(inner);
  return pre;
}

// -- markdown: inline -------------------------------------------------------

const AUTOLINK = /<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>/y;
const AUTOLINK_EMAIL = /<([\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>/y;
const BARE_URL = /(?:https?:\/\/|www\.)[^\s<>]*[^\s<>?!.,:;*_~'")\]]/y;

function runLength(text, index, char) {
  let end = index;
  while (text[end] === char) end += 1;
  return end - index;
}

function isSpace(char) {
  return char === undefined || /\s/.test(char);
}

function isWordChar(char) {
  return char !== undefined && /[\p{L}\p{N}]/u.test(char);
}

// The position of a closing backtick run of exactly `size`, or -1.
function closingBackticks(text, from, size) {
  let index = text.indexOf("`", from);
  while (index !== -1) {
    const run = runLength(text, index, "`");
    if (run === size) return index;
    index = text.indexOf("`", index + run);
  }
  return -1;
}

// Where emphasis opened at `from` with `size` delimiters closes, or -1.
function closingDelimiter(text, from, char, size) {
  for (let index = from; index < text.length; index += 1) {
    if (text[index] === "\\") {
      index += 1;
      continue;
    }
    if (text[index] !== char) continue;
    const run = runLength(text, index, char);
    const fits = char === "~" ? run === 2 : size === 2 ? run >= 2 : run !== 2;
    const end = index + run;
    if (fits && !isSpace(text[index - 1]) && !(char === "_" && isWordChar(text[end]))) {
      return end - size;
    }
    index = end - 1;
  }
  return -1;
}

// Like indexOf, but looking no further than `MAX_LINK_LABEL` characters ahead.
function indexWithin(text, char, from) {
  const found = text.slice(from, from + MAX_LINK_LABEL).indexOf(char);
  return found < 0 ? -1 : from + found;
}

// `[label](destination "title")` starting at `open` (a "["), or null.
function parseLink(text, open) {
  let depth = 0;
  let close = -1;
  const limit = Math.min(text.length, open + MAX_LINK_LABEL);
  for (let index = open; index < limit; index += 1) {
    const char = text[index];
    if (char === "\\") index += 1;
    else if (char === "[") depth += 1;
    else if (char === "]") {
      depth -= 1;
      if (depth === 0) {
        close = index;
        break;
      }
    }
  }
  if (close < 0 || text[close + 1] !== "(") return null;
  let index = close + 2;
  const skipSpaces = () => {
    while (text[index] === " " || text[index] === "\t" || text[index] === "\n") index += 1;
  };
  skipSpaces();
  let destination = "";
  if (text[index] === "<") {
    const end = indexWithin(text, ">", index);
    if (end < 0 || text.slice(index, end).includes("\n")) return null;
    destination = text.slice(index + 1, end);
    index = end + 1;
  } else {
    let parens = 0;
    const start = index;
    while (index < text.length && index - start < 2048) {
      const char = text[index];
      if (char === "\\" && index + 1 < text.length) index += 1;
      else if (char === "(") parens += 1;
      else if (char === ")") {
        if (parens === 0) break;
        parens -= 1;
      } else if (/\s/.test(char)) break;
      index += 1;
    }
    destination = text.slice(start, index);
  }
  skipSpaces();
  let title = "";
  const quote = { '"': '"', "'": "'", "(": ")" }[text[index]];
  if (quote) {
    const end = indexWithin(text, quote, index + 1);
    if (end < 0) return null;
    title = text.slice(index + 1, end);
    index = end + 1;
    skipSpaces();
  }
  if (text[index] !== ")") return null;
  return {
    label: text.slice(open + 1, close),
    destination: destination.replace(/\\([!-/:-@[-`{-~])/g, "$1"),
    title,
    end: index + 1,
  };
}

function appendLink(parent, link, image, source, depth) {
  const href = safeHref(link.destination);
  if (!href) {
    parent.append(source); // not a target we open: shown as typed
    return;
  }
  const node = linkNode(href, link.title);
  if (image) {
    // Images from URLs are never loaded (no tracking pixels): the alt text links to it.
    node.classList.add("cw-md-image");
    node.textContent = `image: ${link.label || href}`;
  } else {
    renderInline(link.label, node, depth + 1, false);
    if (!node.textContent.trim()) node.textContent = href;
  }
  parent.append(node);
}

// Inline markdown of `text` into `parent`: code spans, emphasis, strikethrough,
// links, autolinks, line breaks. Everything else stays text, "<" included.
function renderInline(text, parent, depth = 0, links = true) {
  if (depth > MAX_DEPTH) {
    parent.append(text);
    return;
  }
  const unmatched = new Set(); // delimiters with no closer left: no later opener has one
  let plain = "";
  const flush = () => {
    if (plain) parent.append(plain);
    plain = "";
  };
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    const next = text[index + 1];
    if (char === "\\" && next !== undefined && (next === "\n" || ASCII_PUNCTUATION.test(next))) {
      if (next === "\n") {
        flush();
        parent.append(h("br"));
      } else {
        plain += next;
      }
      index += 2;
      continue;
    }
    if (char === "\n") {
      plain = plain.replace(/[ \t]+$/, "");
      flush();
      parent.append(h("br"));
      index += 1;
      continue;
    }
    if (char === "`") {
      const run = runLength(text, index, "`");
      const close = unmatched.has(`\`${run}`) ? -1 : closingBackticks(text, index + run, run);
      if (close < 0) {
        unmatched.add(`\`${run}`);
        plain += text.slice(index, index + run);
        index += run;
        continue;
      }
      let code = text.slice(index + run, close).replace(/\n/g, " ");
      if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim()) {
        code = code.slice(1, -1);
      }
      flush();
      parent.append(h("code", "cw-md-code", code));
      index = close + run;
      continue;
    }
    if (links && (char === "[" || (char === "!" && next === "["))) {
      const image = char === "!";
      const link = parseLink(text, image ? index + 1 : index);
      if (link) {
        flush();
        appendLink(parent, link, image, text.slice(index, link.end), depth);
        index = link.end;
        continue;
      }
      plain += image ? "![" : "[";
      index += image ? 2 : 1;
      continue;
    }
    if (links && char === "<") {
      AUTOLINK.lastIndex = index;
      AUTOLINK_EMAIL.lastIndex = index;
      const url = AUTOLINK.exec(text);
      const email = url ? null : AUTOLINK_EMAIL.exec(text);
      const href = url ? safeHref(url[1]) : email ? safeHref(`mailto:${email[1]}`) : null;
      if (href) {
        const match = url || email;
        flush();
        const link = linkNode(href, "");
        link.textContent = match[1];
        parent.append(link);
        index += match[0].length;
        continue;
      }
    }
    if (links && (char === "h" || char === "w") && !isWordChar(text[index - 1])) {
      BARE_URL.lastIndex = index;
      const match = BARE_URL.exec(text);
      if (match) {
        const href = safeHref(match[0].startsWith("www.") ? `http://${match[0]}` : match[0]);
        if (href) {
          flush();
          const link = linkNode(href, "");
          link.textContent = match[0];
          parent.append(link);
        } else {
          plain += match[0]; // not a URL after all: text, not tried again inside
        }
        index += match[0].length;
        continue;
      }
    }
    if (char === "*" || char === "_" || char === "~") {
      const run = runLength(text, index, char);
      const size = char === "~" ? 2 : Math.min(run, 2);
      const key = `${char}${size}`;
      const opens = !isSpace(text[index + run]) && !(char === "_" && isWordChar(text[index - 1]))
        && (char !== "~" || run === 2);
      const close = opens && !unmatched.has(key) ? closingDelimiter(text, index + run, char, size)
        : -1;
      if (close < 0) {
        if (opens) unmatched.add(key);
        plain += text.slice(index, index + run);
        index += run;
        continue;
      }
      flush();
      const tag = char === "~" ? "del" : size === 2 ? "strong" : "em";
      const node = h(tag);
      renderInline(text.slice(index + size, close), node, depth + 1, links);
      parent.append(node);
      index = close + size;
      continue;
    }
    plain += char;
    index += 1;
  }
  flush();
}

// -- markdown: blocks -------------------------------------------------------

const FENCE_START = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^( {0,3})([-+*]|\d{1,9}[.)])(?:([ \t]+)(.*))?$/;
const QUOTE = /^ {0,3}> ?/;

// An opening code fence: its marker and language, or null.
function fenceOf(line) {
  const match = FENCE_START.exec(line);
  if (!match) return null;
  const info = line.slice(match[0].length).trim();
  if (match[1][0] === "`" && info.includes("`")) return null;
  return { marker: match[1], language: info.split(/\s/)[0] };
}

function isBlank(line) {
  return !line.trim();
}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function headingOf(line) {
  const match = /^ {0,3}(#{1,6})(?=[ \t]|$)/.exec(line);
  if (!match) return null;
  let content = line.slice(match[0].length).trim();
  let end = content.length;
  while (end > 0 && content[end - 1] === "#") end -= 1;
  if (end === 0 || content[end - 1] === " " || content[end - 1] === "\t") {
    content = content.slice(0, end).trim();
  }
  return { level: match[1].length, content };
}

function isRule(line) {
  if (indentOf(line) > 3) return false;
  const marks = line.replace(/[ \t]/g, "");
  return marks.length >= 3 && /^(?:-+|\*+|_+)$/.test(marks);
}

function tableCells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  const cells = [];
  let cell = "";
  for (let index = 0; index < row.length; index += 1) {
    if (row[index] === "\\" && row[index + 1] === "|") {
      cell += "\\|";
      index += 1;
    } else if (row[index] === "|") {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += row[index];
    }
  }
  cells.push(cell.trim());
  return cells;
}

// The column alignments when lines[index] starts a table (header + delimiter row).
function tableAlignments(lines, index) {
  const header = lines[index];
  const delimiter = lines[index + 1];
  if (delimiter === undefined || !header.includes("|") || !delimiter.includes("-")) return null;
  const cells = tableCells(delimiter);
  if (!cells.every((cell) => /^:?-+:?$/.test(cell))) return null;
  if (cells.length !== tableCells(header).length) return null;
  return cells.map((cell) => {
    if (cell.startsWith(":") && cell.endsWith(":")) return "center";
    if (cell.endsWith(":")) return "right";
    return cell.startsWith(":") ? "left" : "";
  });
}

// Whether lines[index] starts a block that ends a paragraph.
function interrupts(lines, index) {
  const line = lines[index];
  const item = LIST_ITEM.exec(line);
  return fenceOf(line) !== null || headingOf(line) !== null || isRule(line) || QUOTE.test(line)
    || Boolean(item && item[4] && (!/\d/.test(item[2]) || /^0*1\D/.test(item[2])))
    || tableAlignments(lines, index) !== null;
}

function renderTable(lines, index, parent, depth) {
  const alignments = tableAlignments(lines, index);
  const table = h("table", "cw-md-table");
  const addRow = (section, line, tag) => {
    const row = section.insertRow();
    const cells = tableCells(line);
    alignments.forEach((align, column) => {
      const cell = h(tag);
      if (align) cell.style.textAlign = align;
      renderInline(cells[column] || "", cell, depth);
      row.append(cell);
    });
  };
  addRow(table.createTHead(), lines[index], "th");
  const body = table.createTBody();
  let line = index + 2;
  while (line < lines.length && !isBlank(lines[line]) && lines[line].includes("|")) {
    addRow(body, lines[line], "td");
    line += 1;
  }
  const wrap = h("div", "cw-scroll");
  wrap.append(table);
  parent.append(wrap);
  return line;
}

function renderList(lines, start, parent, depth) {
  const first = LIST_ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const kind = (marker) => (/\d/.test(marker) ? `1${marker.slice(-1)}` : marker);
  const list = h(ordered ? "ol" : "ul", "cw-md-list");
  if (ordered) {
    const number = Number.parseInt(first[2], 10);
    if (number !== 1) list.start = number;
  }
  let index = start;
  while (index < lines.length) {
    const match = LIST_ITEM.exec(lines[index]);
    if (!match || kind(match[2]) !== kind(first[2]) || isRule(lines[index])) break;
    const spaces = match[3] === undefined ? 1 : match[3].length;
    const offset = match[1].length + match[2].length + (spaces > 4 ? 1 : spaces);
    const content = match[4] === undefined ? "" : match[4];
    const item = [spaces > 4 ? " ".repeat(spaces - 1) + content : content];
    index += 1;
    while (index < lines.length) {
      const line = lines[index];
      if (isBlank(line)) {
        let after = index;
        while (after < lines.length && isBlank(lines[after])) after += 1;
        if (after >= lines.length || indentOf(lines[after]) < offset) break;
        while (index < after) {
          item.push("");
          index += 1;
        }
        continue;
      }
      if (indentOf(line) >= offset) item.push(line.slice(offset));
      else if (LIST_ITEM.test(line) || interrupts(lines, index)) break;
      else item.push(line.trim()); // the paragraph goes on (a lazy line)
      index += 1;
    }
    const node = h("li");
    renderBlocks(item, node, depth + 1);
    list.append(node);
    let after = index;
    while (after < lines.length && isBlank(lines[after])) after += 1;
    const following = after < lines.length ? LIST_ITEM.exec(lines[after]) : null;
    if (!following || kind(following[2]) !== kind(first[2])) break;
    index = after;
  }
  parent.append(list);
  return index;
}

function renderBlocks(lines, parent, depth) {
  let index = 0;
  while (index < lines.length) {
    const line = lines[index];
    if (isBlank(line)) {
      index += 1;
      continue;
    }
    if (depth > MAX_DEPTH) {
      parent.append(h("p", null, lines.slice(index).join("\n")));
      return;
    }
    const fence = fenceOf(line);
    const heading = fence ? null : headingOf(line);
    if (fence) {
      const marker = fence.marker;
      const indent = indentOf(line);
      const code = [];
      index += 1;
      while (index < lines.length) {
        const closing = lines[index].trim();
        if (indentOf(lines[index]) < 4 && closing.startsWith(marker)
          && runLength(closing, 0, marker[0]) === closing.length) {
          index += 1;
          break;
        }
        code.push(lines[index].slice(Math.min(indent, indentOf(lines[index]))));
        index += 1;
      }
      parent.append(codeBlock(code.join("\n"), fence.language, "cw-code cw-md-pre"));
    } else if (heading) {
      const node = h(`h${heading.level}`, "cw-md-heading");
      renderInline(heading.content, node, depth);
      parent.append(node);
      index += 1;
    } else if (isRule(line)) {
      parent.append(h("hr"));
      index += 1;
    } else if (QUOTE.test(line)) {
      const quoted = [];
      while (index < lines.length && !isBlank(lines[index])) {
        if (QUOTE.test(lines[index])) quoted.push(lines[index].replace(QUOTE, ""));
        else if (interrupts(lines, index)) break;
        else quoted.push(lines[index]);
        index += 1;
      }
      const node = h("blockquote");
      renderBlocks(quoted, node, depth + 1);
      parent.append(node);
    } else if (LIST_ITEM.test(line)) {
      index = renderList(lines, index, parent, depth);
    } else if (tableAlignments(lines, index)) {
      index = renderTable(lines, index, parent, depth);
    } else if (indentOf(line) >= 4) {
      const code = [];
      while (index < lines.length && (isBlank(lines[index]) || indentOf(lines[index]) >= 4)) {
        code.push(lines[index].slice(4));
        index += 1;
      }
      while (code.length && isBlank(code[code.length - 1])) code.pop();
      parent.append(codeBlock(code.join("\n"), "", "cw-code cw-md-pre"));
    } else {
      const start = index;
      index += 1;
      while (index < lines.length && !isBlank(lines[index]) && !interrupts(lines, index)) index += 1;
      const node = h("p");
      renderInline(lines.slice(start, index).map((text) => text.trim()).join("\n"), node, depth);
      parent.append(node);
    }
  }
}

// Markdown -> a <div> of DOM nodes. Tabs at line starts count as four spaces.
function renderMarkdown(text, className) {
  const node = h("div", className);
  node.dir = "auto";
  const lines = String(text || "")
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/^\t+/, (tabs) => "    ".repeat(tabs.length)));
  renderBlocks(lines, node, 0);
  return node;
}

// -- parts ------------------------------------------------------------------

const IMAGE_MIMES = ["image/png", "image/jpeg", "image/svg+xml"];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function unknownPart(label) {
  const text = String(label);
  return h("div", "cw-part cw-unknown", `[${text.length > 60 ? `${text.slice(0, 59)}…` : text}]`);
}

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

function compareValues(a, b) {
  const missingA = a === null || a === undefined;
  const missingB = b === null || b === undefined;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

// A `table` part: a real table, header first; a click on a header sorts by it
// (again: the other way); missing values stay last either way.
function tablePart(part) {
  const columns = part.columns.map(String);
  const rows = part.rows.filter(Array.isArray);
  const table = h("table", "cw-table");
  const headRow = table.createTHead().insertRow();
  const body = table.createTBody();
  const rowNodes = rows.map((row) => {
    const node = body.insertRow();
    columns.forEach((_, column) => node.append(cellNode(row[column])));
    return node;
  });
  const sortBy = (column, header) => {
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const other of headRow.children) other.setAttribute("aria-sort", "none");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const order = rows.map((_, index) => index);
    order.sort((a, b) => {
      const missing = (value) => value === null || value === undefined;
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
    const button = h("button", "cw-sort", name);
    button.type = "button";
    button.title = `Sort by ${name || "this column"}`;
    button.addEventListener("click", () => sortBy(column, header));
    header.append(button);
    headRow.append(header);
  });
  const wrap = h("div", "cw-part cw-scroll cw-table-wrap");
  wrap.append(table);
  return wrap;
}

// An `image` part, from its base64 data only: an <img> never runs an SVG's
// scripts, and nothing is fetched. A click shows it full size.
function imagePart(part, enlarge) {
  const data = typeof part.data === "string" ? part.data.replace(/\s+/g, "") : "";
  if (!IMAGE_MIMES.includes(part.mime) || !data || !BASE64.test(data)) {
    return unknownPart("image that cannot be shown");
  }
  const image = h("img", "cw-part cw-image");
  image.alt = `image (${part.mime.slice(6).replace("+xml", "")})`;
  image.src = `data:${part.mime};base64,${data}`;
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

function renderPart(part, enlarge) {
  const type = part && typeof part.type === "string" ? part.type : "unknown";
  if (type === "markdown" && typeof part.text === "string") {
    return renderMarkdown(part.text, "cw-part cw-markdown cw-md");
  }
  if (type === "code" && typeof part.text === "string") {
    return codeBlock(part.text, part.language, "cw-part cw-code");
  }
  if (type === "table" && Array.isArray(part.columns) && Array.isArray(part.rows)) {
    return tablePart(part);
  }
  if (type === "image") return imagePart(part, enlarge);
  return unknownPart(type);
}

// Full size over the page (a drawing: as large as the window), until a click
// or Escape. Opening the image in a new tab is not offered: an SVG opened as
// a page of its own would run its scripts.
class Lightbox {
  constructor() {
    this.overlay = null;
    this.onKey = (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    };
  }

  open(image) {
    this.close();
    const overlay = h("div", "cw-lightbox");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Image, full size (click or Escape to close)");
    const full = h("img", "cw-lightbox-image");
    if (image.src.startsWith("data:image/svg+xml")) full.classList.add("cw-lightbox-vector");
    full.src = image.src;
    full.alt = image.alt;
    const close = h("button", "cw-lightbox-close", "×");
    close.type = "button";
    close.title = "Close (Escape)";
    overlay.append(full, close);
    overlay.addEventListener("click", () => this.close());
    document.addEventListener("keydown", this.onKey, true);
    document.body.append(overlay);
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

class ChatView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.chatId = null;
    this.messages = new Map(); // id -> message, the stored ones
    this.order = []; // stored messages by seq
    this.nodes = new Map(); // message id -> node
    this.local = new Map(); // local_id -> {local_id, text, state, error, node}
    this.streams = new Map(); // reply id -> {reply_to, pieces, node}
    this.noReply = new Map(); // message id -> why no reply came
    this.timelines = new Map(); // client_id -> [event]
    this.timers = new Map(); // request_id -> timer, until the kernel first answers it
    this.mine = new Set(); // request ids this view sent whose final answer is still due
    this.hasMore = false;
    this.loadingOlder = false;
    this.composing = null; // local_id of the send the input box waits for
    this.lightbox = new Lightbox();
    this.enlarge = (image) => this.lightbox.open(image);
    this.build();
    this.listeners = [];
    const on = (name, handler) => {
      model.on(name, handler);
      this.listeners.push([name, handler]);
    };
    on("msg:custom", (content) => this.receive(content));
    for (const name of ["status", "connected", "awaiting_response", "error", "chat_id", "user_id"]) {
      on(`change:${name}`, () => this.refreshState());
    }
    this.refreshState();
    this.request({ type: "sync" });
  }

  destroy() {
    for (const [name, handler] of this.listeners) this.model.off(name, handler);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.lightbox.close();
    this.resizer.disconnect();
  }

  // -- layout -------------------------------------------------------------

  build() {
    const root = h("div", "cw-root");
    root.dataset.lmSuppressShortcuts = "true"; // typing here is not a notebook shortcut
    const header = h("div", "cw-header");
    this.title = h("span", "cw-title");
    this.statusBadge = h("span", "cw-status");
    this.eventsToggle = h("button", "cw-events-toggle", "events");
    this.eventsToggle.type = "button";
    this.eventsToggle.title = "Show the timeline of each send";
    this.eventsToggle.setAttribute("aria-pressed", "false");
    this.eventsToggle.addEventListener("click", () => this.toggleTimeline());
    header.append(this.title, this.statusBadge, this.eventsToggle);

    this.errorNotice = h("div", "cw-notice cw-error");
    this.errorNotice.setAttribute("role", "alert");
    this.busyNotice = h(
      "div",
      "cw-notice cw-busy",
      "The kernel is busy (a cell is running): the chat will catch up when it is free.",
    );
    this.busyNotice.hidden = true;

    this.list = h("div", "cw-list");
    this.stick = true; // the list follows new content while scrolled to the bottom
    this.list.addEventListener("scroll", () => {
      this.stick = this.nearBottom();
      if (this.list.scrollTop < NEAR_EDGE_PX) this.loadOlder();
    });
    this.olderButton = h("button", "cw-older", "Load older messages");
    this.olderButton.type = "button";
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.items = h("div", "cw-items");
    this.live = h("div", "cw-live"); // streaming replies, then own unsent messages
    this.list.append(this.olderButton, this.items, this.live);
    // Content that grows later (an image decoding, a reply being written) keeps
    // a list that was at the bottom there.
    this.resizer = new ResizeObserver(() => {
      if (this.stick) this.scrollToBottom();
    });
    this.resizer.observe(this.items);
    this.resizer.observe(this.live);

    this.timeline = h("div", "cw-timeline");
    this.timeline.hidden = true;

    this.waiting = h("div", "cw-waiting", "Waiting for a reply…");
    this.waiting.setAttribute("aria-live", "polite");

    const composer = h("div", "cw-composer");
    this.input = h("textarea", "cw-input");
    this.input.rows = 2;
    this.input.placeholder = "Write a message (Enter sends, Shift+Enter for a new line)";
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("input", () => this.refreshState());
    this.sendButton = h("button", "cw-send", "Send");
    this.sendButton.type = "button";
    this.sendButton.addEventListener("click", () => this.sendFromInput());
    composer.append(this.input, this.sendButton);

    root.append(header, this.errorNotice, this.busyNotice, this.list, this.timeline,
      this.waiting, composer);
    this.el.append(root);
    this.root = root;
  }

  refreshState() {
    const m = this.model;
    const status = m.get("status") || "connecting";
    const chatId = m.get("chat_id") || "";
    const who = m.get("user_name") || m.get("user_id") || "";
    this.title.textContent = who ? `${chatId} · ${who}` : chatId;
    this.statusBadge.textContent = STATUS_LABELS[status] || status;
    this.statusBadge.dataset.status = status;
    const error = m.get("error") || "";
    this.errorNotice.textContent = error;
    this.errorNotice.hidden = !error;
    const awaiting = Boolean(m.get("awaiting_response"));
    this.waiting.hidden = !awaiting;
    this.waiting.textContent = this.waitingText();
    this.root.dataset.awaiting = awaiting ? "true" : "false";
    let reason = "";
    if (!m.get("connected")) reason = `Cannot send while ${STATUS_LABELS[status] || status}`;
    else if (awaiting) reason = "Waiting for the reply to your last message";
    else if (this.composing) reason = "Sending…";
    else if (!this.input.value.trim()) reason = "Type a message first";
    this.sendButton.disabled = Boolean(reason);
    this.sendButton.title = reason || "Send (Enter)";
    for (const item of this.local.values()) item.retry.disabled = !m.get("connected") || awaiting;
    this.olderButton.hidden = !this.hasMore;
    this.olderButton.disabled = this.loadingOlder;
    this.olderButton.textContent = this.loadingOlder ? "Loading…" : "Load older messages";
  }

  // -- requests to Python, and noticing a busy kernel ----------------------

  request(content) {
    const request_id = newId("req");
    this.timers.set(request_id, setTimeout(() => this.showBusy(), ACK_TIMEOUT_MS));
    this.mine.add(request_id);
    this.model.send({ ...content, request_id });
    return request_id;
  }

  // Any message carrying one of our request ids shows the kernel took the request.
  acknowledged(request_id) {
    const timer = this.timers.get(request_id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(request_id);
    if (this.timers.size === 0) this.busyNotice.hidden = true;
  }

  // The final answer to one of our requests (other views' answers are not ours).
  finalAnswer(request_id) {
    return this.mine.delete(request_id);
  }

  showBusy() {
    this.busyNotice.hidden = false;
    for (const item of this.local.values()) {
      if (item.state === "sending") this.setLocalState(item, "queued");
    }
  }

  // -- messages from Python --------------------------------------------------

  receive(content) {
    if (!content || typeof content !== "object") return;
    if (content.request_id) this.acknowledged(content.request_id);
    switch (content.type) {
      case "snapshot":
        if (!content.request_id || this.finalAnswer(content.request_id)) this.applySnapshot(content);
        break;
      case "message":
        this.addMessage(content.message, content.local_id);
        break;
      case "sending":
        if (content.request_id) this.finalAnswer(content.request_id);
        if (content.chat_id === this.chatId) this.upsertLocal(content.local_id, content.text, "sending");
        break;
      case "sent":
        this.addMessage(content.message, content.local_id);
        break;
      case "send_failed":
        this.sendFailed(content.local_id, content.error, content.retryable !== false);
        break;
      case "older":
        if (this.finalAnswer(content.request_id)) this.applyOlder(content);
        break;
      case "delta":
        this.addDelta(content.delta);
        break;
      case "reply_failed":
        this.replyFailed(content.reply_failed);
        break;
      case "event":
        this.addEvent(content.event);
        break;
      default:
        break;
    }
    this.refreshState();
  }

  applySnapshot(snapshot) {
    if (snapshot.chat_id !== this.chatId) {
      this.chatId = snapshot.chat_id;
      this.messages.clear();
      this.order = [];
      this.nodes.clear();
      this.items.replaceChildren();
      for (const item of this.local.values()) item.node.remove();
      this.local.clear();
      for (const stream of this.streams.values()) stream.node.remove();
      this.streams.clear();
      this.composing = null;
    }
    for (const event of snapshot.events || []) this.addEvent(event, false);
    for (const message of snapshot.messages || []) this.addMessage(message, null, false);
    for (const entry of snapshot.outbox || []) {
      if (!this.local.has(entry.local_id)) {
        this.upsertLocal(entry.local_id, entry.text, entry.state, entry.error);
      }
    }
    this.hasMore = Boolean(snapshot.has_more);
    this.renderTimeline();
    this.scrollToBottom();
  }

  applyOlder(page) {
    this.loadingOlder = false;
    if (page.chat_id !== this.chatId) return;
    this.hasMore = Boolean(page.has_more);
    if (page.error) this.errorNotice.textContent = page.error;
    const before = this.list.scrollHeight;
    for (const message of page.messages || []) this.addMessage(message, null, false);
    this.list.scrollTop += this.list.scrollHeight - before; // keep what was on screen in place
  }

  loadOlder() {
    if (!this.hasMore || this.loadingOlder || this.order.length === 0) return;
    this.loadingOlder = true;
    this.request({ type: "older", before_seq: this.order[0].seq });
    this.refreshState();
  }

  addMessage(message, local_id, follow = true) {
    if (!message || message.chat_id !== this.chatId) return;
    if (local_id && this.local.has(local_id)) this.removeLocal(local_id);
    const stream = this.streams.get(message.id);
    if (stream) {
      stream.node.remove();
      this.streams.delete(message.id);
    }
    if (this.messages.has(message.id)) return;
    const atBottom = this.nearBottom();
    this.messages.set(message.id, message);
    const node = this.messageNode(message);
    this.nodes.set(message.id, node);
    // Insert by seq; new messages almost always go last.
    let index = this.order.length;
    while (index > 0 && this.order[index - 1].seq > message.seq) index -= 1;
    const next = this.order[index];
    this.order.splice(index, 0, message);
    this.items.insertBefore(node, next ? this.nodes.get(next.id) : null);
    if (follow && atBottom) this.scrollToBottom();
  }

  isOwn(message) {
    const sender = message.sender || {};
    return sender.kind !== "bot" && sender.id === this.model.get("user_id");
  }

  messageNode(message) {
    const sender = message.sender || {};
    const own = this.isOwn(message);
    const node = h("div", "cw-message");
    node.dataset.seq = String(message.seq);
    node.dataset.id = message.id;
    if (message.client_id) node.dataset.clientId = message.client_id;
    if (own) {
      node.classList.add("cw-own");
      node.dataset.state = "stored";
    }
    if (sender.kind === "bot") node.classList.add("cw-bot");
    const meta = h("div", "cw-meta");
    meta.append(
      h("span", "cw-sender", own ? "you" : sender.name || sender.id || "?"),
      h("span", "cw-time", formatTime(message.created_at)),
    );
    if (own) meta.append(h("span", "cw-state", "✓ stored"));
    node.append(meta);
    if (message.reply_to) node.append(this.quoteNode(message.reply_to));
    if (message.text) node.append(renderMarkdown(message.text, "cw-text cw-md"));
    for (const part of Array.isArray(message.parts) ? message.parts : []) {
      node.append(renderPart(part, this.enlarge));
    }
    const why = this.noReply.get(message.id);
    if (why) node.append(h("div", "cw-no-reply", `No reply: ${why}`));
    return node;
  }

  quoteNode(reply_to) {
    const original = this.messages.get(reply_to);
    if (!original) return h("div", "cw-quote", "↪ answering an earlier message");
    const who = this.isOwn(original) ? "you" : (original.sender || {}).name || "?";
    const parts = Array.isArray(original.parts) ? original.parts : [];
    const what = original.text || parts.map((part) => `[${(part && part.type) || "?"}]`).join(" ");
    return h("div", "cw-quote", `↪ ${who}: ${snippet(what)}`);
  }

  // -- own messages not stored yet -------------------------------------------

  upsertLocal(local_id, text, state, error = null) {
    let item = this.local.get(local_id);
    if (!item) {
      const node = h("div", "cw-message cw-own cw-local");
      node.dataset.localId = local_id;
      const meta = h("div", "cw-meta");
      const stateLabel = h("span", "cw-state");
      meta.append(h("span", "cw-sender", "you"), stateLabel);
      const failure = h("div", "cw-failure");
      const reason = h("span", "cw-reason");
      const retry = h("button", "cw-retry", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => this.retry(local_id));
      failure.append(reason, retry);
      node.append(meta, renderMarkdown(text, "cw-text cw-md"), failure);
      item = { local_id, text, state, error, node, stateLabel, reason, retry };
      this.local.set(local_id, item);
      this.live.append(node);
      this.scrollToBottom();
    }
    this.setLocalState(item, state, error);
  }

  setLocalState(item, state, error = null) {
    item.state = state;
    item.error = error;
    item.node.dataset.state = state;
    const labels = { sending: "sending…", queued: "waiting for the kernel…", failed: "failed" };
    item.stateLabel.textContent = labels[state] || state;
    item.reason.textContent = error ? error.message || String(error) : "";
    item.node.querySelector(".cw-failure").hidden = state !== "failed";
  }

  removeLocal(local_id) {
    const item = this.local.get(local_id);
    if (!item) return;
    item.node.remove();
    this.local.delete(local_id);
    if (this.composing === local_id) {
      this.composing = null;
      if (this.input.value === item.text) this.input.value = ""; // stored: the box may clear
    }
  }

  sendFailed(local_id, error, retryable) {
    const item = this.local.get(local_id);
    if (this.composing === local_id) this.composing = null; // the text stays in the box
    if (!item) return;
    if (retryable) {
      this.setLocalState(item, "failed", error);
    } else {
      // The content itself cannot go (empty, too large): no bubble to retry; `error` says why.
      item.node.remove();
      this.local.delete(local_id);
    }
  }

  onKey(event) {
    event.stopPropagation(); // keys typed here are not notebook shortcuts
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.sendFromInput();
    }
  }

  sendFromInput() {
    const text = this.input.value;
    this.refreshState();
    if (!text.trim() || this.sendButton.disabled) return;
    const local_id = newId("js");
    this.composing = local_id;
    this.upsertLocal(local_id, text, "sending");
    this.request({ type: "send", local_id, text });
    this.refreshState();
  }

  retry(local_id) {
    const item = this.local.get(local_id);
    if (!item || !this.model.get("connected") || this.model.get("awaiting_response")) return;
    this.setLocalState(item, "sending");
    if (this.input.value === item.text) this.composing = local_id; // stored: clear the box
    this.request({ type: "send", local_id, text: item.text });
  }

  // -- replies being written, and replies that never came -------------------

  // A piece of a reply being written: shown at once (markdown, re-rendered at
  // most once a frame), until the stored message with the same id replaces it.
  addDelta(delta) {
    if (!delta || delta.chat_id !== this.chatId || this.messages.has(delta.id)) return;
    if (!Number.isInteger(delta.index) || delta.index < 0 || delta.index > 1_000_000) return;
    let stream = this.streams.get(delta.id);
    if (!stream) {
      const node = h("div", "cw-message cw-bot cw-streaming");
      node.dataset.id = String(delta.id);
      const meta = h("div", "cw-meta");
      const state = h("span", "cw-state");
      meta.append(h("span", "cw-sender", "bot"), state);
      const body = h("div", "cw-text cw-md");
      node.append(meta);
      if (delta.reply_to) node.append(this.quoteNode(delta.reply_to));
      node.append(body);
      stream = { reply_to: delta.reply_to, pieces: [], count: 0, node, body, state, drawn: false };
      this.streams.set(delta.id, stream);
      // After the other replies being written, before own messages not stored yet.
      this.live.insertBefore(node, this.live.querySelector(":scope > .cw-local"));
    }
    if (stream.pieces[delta.index] === undefined) stream.count += 1;
    stream.pieces[delta.index] = String(delta.delta);
    stream.state.textContent = `writing… ${stream.count} ${stream.count === 1 ? "piece" : "pieces"}`;
    stream.node.dataset.pieces = String(stream.count);
    if (!stream.drawn) {
      stream.drawn = true;
      requestAnimationFrame(() => this.drawStream(stream));
    }
  }

  drawStream(stream) {
    stream.drawn = false;
    if (!stream.node.isConnected) return;
    const atBottom = this.nearBottom();
    stream.body.replaceChildren(...renderMarkdown(stream.pieces.join(""), "").childNodes);
    if (atBottom) this.scrollToBottom();
  }

  waitingText() {
    const streams = [...this.streams.values()];
    const last = streams[streams.length - 1];
    if (!last) return "Waiting for a reply…";
    return `The bot is writing… (${last.count} ${last.count === 1 ? "piece" : "pieces"} so far)`;
  }

  replyFailed(payload) {
    if (!payload || payload.chat_id !== this.chatId) return;
    const why = (payload.error && payload.error.message) || "the responder could not answer";
    this.noReply.set(payload.reply_to, why);
    for (const [id, stream] of this.streams) {
      if (stream.reply_to === payload.reply_to) {
        stream.node.remove();
        this.streams.delete(id);
      }
    }
    const node = this.nodes.get(payload.reply_to);
    if (node) node.append(h("div", "cw-no-reply", `No reply: ${why}`));
  }

  // -- the send timeline ("events") -------------------------------------------

  addEvent(event, render = true) {
    if (!event || !event.client_id) return;
    let steps = this.timelines.get(event.client_id);
    if (!steps) {
      steps = [];
      this.timelines.set(event.client_id, steps);
      while (this.timelines.size > TIMELINE_SENDS) {
        this.timelines.delete(this.timelines.keys().next().value);
      }
    }
    if (!steps.some((s) => s.kind === event.kind && s.elapsed_ms === event.elapsed_ms)) {
      steps.push(event);
    }
    if (render) this.renderTimeline();
  }

  toggleTimeline() {
    this.timeline.hidden = !this.timeline.hidden;
    this.eventsToggle.setAttribute("aria-pressed", this.timeline.hidden ? "false" : "true");
    this.renderTimeline();
  }

  renderTimeline() {
    if (this.timeline.hidden) return;
    const rows = [h("div", "cw-timeline-title", "Send timeline (ms since the send began)")];
    const textOf = new Map();
    for (const message of this.order) if (message.client_id) textOf.set(message.client_id, message.text);
    for (const [client_id, steps] of [...this.timelines].reverse()) {
      const row = h("div", "cw-timeline-row");
      row.dataset.clientId = client_id;
      row.append(h("span", "cw-timeline-text", snippet(textOf.get(client_id) || client_id, 40)));
      for (const step of steps) {
        const label = STEP_LABELS[step.kind] || step.kind;
        const chip = h("span", "cw-step", `${label} ${Number(step.elapsed_ms).toFixed(1)}`);
        chip.dataset.kind = step.kind;
        row.append(chip);
      }
      rows.push(row);
    }
    if (rows.length === 1) rows.push(h("div", "cw-timeline-empty", "No sends yet."));
    this.timeline.replaceChildren(...rows);
  }

  // -- scrolling -----------------------------------------------------------------

  nearBottom() {
    const list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_EDGE_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}

function render({ model, el }) {
  const view = new ChatView(model, el);
  return () => view.destroy();
}

export default { render };
