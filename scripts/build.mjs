// Bundles js/widget.js (and everything it imports, the CSS as text) into one
// minified ES module at chat_widget/static/widget.js, and says how big it is.
// The same sources and lock file give the same bytes (no timestamps, no
// absolute paths in the output).

import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "chat_widget", "static", "widget.js");
const LIMIT = 500 * 1024;

/** The stylesheet goes into the bundle as minified text (the view puts it in its shadow root). */
const cssAsText = {
  name: "css-as-text",
  setup(plugin) {
    plugin.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await transform(readFileSync(args.path, "utf8"), { loader: "css", minify: true });
      return { contents: code, loader: "text" };
    });
  },
};

mkdirSync(dirname(outfile), { recursive: true });
const result = await build({
  entryPoints: [join(root, "js", "widget.js")],
  outfile,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2022"],
  plugins: [cssAsText],
  // markdown-it needs only the entity decoder; the package's index also
  // carries the encoder's tables (23 KB) that nothing here uses.
  alias: { entities: "entities/lib/decode.js" },
  legalComments: "eof",
  metafile: true,
  absWorkingDir: root,
  logLevel: "warning",
});
const size = statSync(outfile).size;
const inputs = Object.entries(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs)
  .map(([path, info]) => [path.replace(/^node_modules\//, "").split("/")[0], info.bytesInOutput])
  .reduce((sizes, [name, bytes]) => sizes.set(name, (sizes.get(name) || 0) + bytes), new Map());
const parts = [...inputs].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KB`);
console.log(`chat_widget/static/widget.js: ${(size / 1024).toFixed(1)} KB minified (${parts.join(", ")})`);
if (size > LIMIT) {
  console.error(`the bundle is over ${LIMIT / 1024} KB`);
  process.exit(1);
}
