// Builds the citizen pages' assets into dist/: the parts of bootstrap-italia the templates use
// (PurgeCSS), self-hosted Titillium Web, and Sportello's own CSS and JS; fingerprinted names,
// gzip copies, and manifest.json for the server. Run by scripts/build-assets.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { PurgeCSS } from "purgecss";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "dist");
const kit = path.join(here, "node_modules", "bootstrap-italia", "dist");
const repo = path.resolve(here, "..", "..");

const manifest = {};
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

function emit(logical, bytes, compress) {
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 10);
  const extension = path.extname(logical);
  const name = `${path.basename(logical, extension)}.${hash}${extension}`;
  fs.writeFileSync(path.join(out, name), bytes);
  if (compress) fs.writeFileSync(path.join(out, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  manifest[logical] = name;
  return name;
}

// Fonts: the three weights the pages use, woff2 only (every browser that runs the pages reads it).
const fontDir = path.join(kit, "fonts", "Titillium_Web");
const weights = { 400: "regular", 600: "600", 700: "700" };
let faces = "";
for (const [weight, file] of Object.entries(weights)) {
  const bytes = fs.readFileSync(path.join(fontDir, `titillium-web-v10-latin-ext_latin-${file}.woff2`));
  const name = emit(`titillium-web-${weight}.woff2`, bytes, false);
  faces += `@font-face{font-family:"Titillium Web";font-style:normal;font-weight:${weight};font-display:swap;src:url(/static/${name}) format("woff2")}\n`;
}

// The templates, built-in (citizen and admin pages) and of every tenant pack, decide which kit
// selectors survive.
const templates = [path.join(here, "templates"), path.join(repo, "admin-ui", "templates")];
const tenants = path.join(repo, "tenants");
for (const slug of fs.existsSync(tenants) ? fs.readdirSync(tenants) : []) {
  const dir = path.join(tenants, slug, "templates");
  if (fs.existsSync(dir)) templates.push(dir);
}
const content = templates.flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith(".hbs")).map((f) => path.join(dir, f)));
const [kitCss] = await new PurgeCSS().purge({
  content,
  css: [path.join(kit, "css", "bootstrap-italia.min.css")],
  safelist: { standard: ["html", "body", ":root"] },
  fontFace: true,
  keyframes: true,
  variables: true,
});
const own = fs.readFileSync(path.join(here, "assets", "app.css"), "utf8");
emit("app.css", Buffer.from(faces + kitCss.css + "\n" + own), true);
emit("app.js", fs.readFileSync(path.join(here, "assets", "app.js")), true);
// The staff pages' in-place updates (htmx, from npm); the citizens' pages do not load it.
emit("htmx.js", fs.readFileSync(path.join(here, "node_modules", "htmx.org", "dist", "htmx.min.js")), true);

fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
const sizes = Object.values(manifest).map((name) => {
  const file = path.join(out, name);
  const gz = fs.existsSync(`${file}.gz`) ? fs.statSync(`${file}.gz`).size : fs.statSync(file).size;
  return `${name}: ${fs.statSync(file).size} B (${gz} B sent)`;
});
console.log(`assets built in ${path.relative(repo, out)}:\n  ${sizes.join("\n  ")}`);
