// Builds the Custom UI admin page: static/admin/main.js bundled with @forge/bridge (esbuild, one
// IIFE script, no wasm) plus index.html and styles.css, into build/admin/.
// Custom UI CSP: only relative URLs and external files — no inline scripts or styles.
//
//   node scripts/build-admin.mjs [--out <dir>] [--dev]
//
// Also importable: `await buildAdmin({ outDir, minify })` → { outDir, files }.

import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'static', 'admin');

/** Checks the page obeys the Custom UI rules before it is shipped. */
export function checkHtml(html) {
  const problems = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc=/.test(m[1])) problems.push('inline <script> (blocked by the Custom UI CSP)');
    if (m[2].trim()) problems.push('script element with a body');
  }
  if (/<style\b/i.test(html)) problems.push('inline <style> element');
  if (/\sstyle=/i.test(html)) problems.push('style="" attribute');
  if (/\son[a-z]+=/i.test(html)) problems.push('inline event handler attribute');
  for (const m of html.matchAll(/\b(?:src|href)="([^"]*)"/gi)) {
    if (/^(?:[a-z]+:|\/)/i.test(m[1])) problems.push(`non-relative URL ${m[1]}`);
  }
  if (problems.length) throw new Error(`static/admin/index.html: ${problems.join('; ')}`);
}

/** Builds the admin page into `outDir` (default build/admin). */
export async function buildAdmin({ outDir = join(root, 'build', 'admin'), minify = true } = {}) {
  const html = await readFile(join(srcDir, 'index.html'), 'utf8');
  checkHtml(html);
  // Build beside the target, then swap it in: a server reading build/admin meanwhile (the
  // emulator of a running stack) never sees a half-written page.
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(join(tmp, 'assets'), { recursive: true });
  try {
    const result = await build({
      entryPoints: [join(srcDir, 'main.js')],
      outfile: join(tmp, 'assets', 'main.js'),
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: ['chrome109', 'firefox115', 'safari16'],
      minify,
      sourcemap: minify ? false : 'linked',
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.wasm': 'empty' },
      metafile: true,
    });
    if (Object.keys(result.metafile.inputs).some((f) => f.endsWith('.wasm'))) {
      throw new Error('the admin bundle must not contain wasm (Custom UI CSP)');
    }
    await writeFile(join(tmp, 'index.html'), html);
    await copyFile(join(srcDir, 'styles.css'), join(tmp, 'styles.css'));
    const old = `${tmp}.old`;
    for (let attempt = 0; ; attempt++) {
      await rename(outDir, old).catch((e) => {
        if (e.code !== 'ENOENT') throw e;
      });
      try {
        await rename(tmp, outDir);
        break;
      } catch (e) {
        // Another build swapped its page in between our two renames: move that one aside too.
        if (!['ENOTEMPTY', 'EEXIST'].includes(e.code) || attempt >= 5) throw e;
        await rm(old, { recursive: true, force: true });
      }
    }
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const files = ['index.html', 'styles.css', 'assets/main.js'];
  if (!minify) files.push('assets/main.js.map');
  return { outDir, files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? resolve(args[outIdx + 1]) : undefined;
  const { outDir: dir, files } = await buildAdmin({ outDir, minify: !args.includes('--dev') });
  console.log(`admin page → ${dir}: ${files.join(', ')}`);
}
