// Builds web/dist from web/src and the npm packages (run after `npm ci`; CMake runs it before
// embedding web/dist into the cbec binary). No bundler: the pages are plain ES2020 scripts, the
// libraries are the packages' own browser builds. Every asset is renamed with a hash of its
// content and the pages refer to those names, so the server can let browsers cache assets for
// good while pages are revalidated on every load.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const modules = join(here, 'node_modules');

const vendor = {
  'echarts.min.js': join(modules, 'echarts/dist/echarts.min.js'),
  'qrcode.js': join(modules, 'qrcode-generator/dist/qrcode.js'),
};
for (const [name, path] of Object.entries(vendor)) {
  if (!existsSync(path)) {
    console.error(`web/build.mjs: ${path} is missing (${name}); run "npm ci" in web/ (make does)`);
    process.exit(1);
  }
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const renamed = new Map();  // "board.js" -> "board.1a2b3c4d.js"
function emitAsset(name, bytes) {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 10);
  const ext = extname(name);
  const out = `${name.slice(0, -ext.length)}.${hash}${ext}`;
  writeFileSync(join(dist, 'assets', out), bytes);
  renamed.set(name, out);
}

for (const [name, path] of Object.entries(vendor)) emitAsset(name, readFileSync(path));
const pages = [];
for (const name of readdirSync(src).sort()) {
  if (name.endsWith('.html')) pages.push(name);
  else emitAsset(name, readFileSync(join(src, name)));
}
for (const page of pages) {
  let html = readFileSync(join(src, page), 'utf8');
  html = html.replace(/\/assets\/([A-Za-z0-9_.-]+)/g, (whole, name) => {
    if (!renamed.has(name)) {
      console.error(`web/build.mjs: ${page} refers to /assets/${name}, which does not exist`);
      process.exit(1);
    }
    return `/assets/${renamed.get(name)}`;
  });
  writeFileSync(join(dist, page), html);
}
console.log(`web/build.mjs: ${pages.length} pages, ${renamed.size} assets -> web/dist`);
