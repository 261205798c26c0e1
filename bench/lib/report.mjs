// Figures and the performance page: every benchmark prints `figure <name> <value>` lines and
// records the same lines in docs/performance.md, inside a marked section that the command owns
// (`bench` for bench/run.mjs, `soak` for bench/soak.mjs). Text outside the markers is hand-written
// and kept as it is.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PERFORMANCE_MD = join(ROOT, 'docs', 'performance.md');
export const PERFORMANCE_SVG = join(ROOT, 'docs', 'img', 'performance.svg');

/** Formats a figure value: integers as they are, other numbers with up to 3 decimals. */
export function formatValue(v) {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return 'NaN';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}

/** Collects figures in order and prints each on its own line as it is recorded. */
export class Figures {
  constructor({ print = true } = {}) {
    this.list = [];
    this.print = print;
  }

  /** Records (or replaces) figure `name`. */
  set(name, value, note = '') {
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad figure name ${name}`);
    const line = `figure ${name} ${formatValue(value)}`;
    const i = this.list.findIndex((f) => f.name === name);
    const entry = { name, value, line, note };
    if (i >= 0) this.list[i] = entry;
    else this.list.push(entry);
    if (this.print) console.log(line);
    return value;
  }

  get(name) {
    return this.list.find((f) => f.name === name)?.value;
  }

  lines() {
    return this.list.map((f) => f.line);
  }
}

/** Parses `figure <name> <value>` lines out of a program's output. */
export function parseFigureLines(text) {
  const out = {};
  for (const line of String(text).split('\n')) {
    const m = /^figure ([a-z0-9_]+) (\S+)\s*$/.exec(line.trim());
    if (m) out[m[1]] = Number.isNaN(Number(m[2])) ? m[2] : Number(m[2]);
  }
  return out;
}

const DEFAULT_INTRO = `# Performance

Measured by \`./task bench\` (\`node bench/run.mjs\`) and \`./task soak\` (\`node bench/soak.mjs --long\`)
against the local platform: the Forge emulator running the built app with the real \`@forge/*\` SDKs,
and the Jira and CATAAM simulators, all real HTTP servers on loopback. The sections between the
markers below are generated; re-run the commands to refresh them.
`;

/**
 * Replaces the generated section \`name\` of docs/performance.md with \`body\` (markdown), creating
 * the file with a short intro if it does not exist yet.
 */
export function writeSection(name, body, file = PERFORMANCE_MD) {
  const begin = `<!-- ${name}:begin (generated) -->`;
  const end = `<!-- ${name}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : DEFAULT_INTRO;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

/** A markdown table from a header row and rows. */
export function mdTable(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Prints an aligned plain-text table to stdout. */
export function printTable(title, header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  console.log(`\n${title}`);
  for (const [k, r] of all.entries()) {
    console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
    if (k === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A self-contained SVG of horizontal bar groups. \`panels\`: [{ title, unit, bars: [{ label, value,
 * accent? }] }]; each panel gets its own scale.
 */
export function barChartSvg({ title, subtitle = '', panels }) {
  const W = 760;
  const labelW = 220;
  const barMax = W - labelW - 120;
  const barH = 22;
  const gap = 8;
  let y = 58;
  const parts = [];
  for (const p of panels) {
    parts.push(`<text x="16" y="${y}" class="h">${esc(p.title)}</text>`);
    y += 12;
    const max = Math.max(...p.bars.map((b) => b.value), 1e-9);
    for (const b of p.bars) {
      const w = Math.max(1, Math.round((b.value / max) * barMax));
      const fill = b.accent ? '#0052cc' : '#97a0af';
      parts.push(`<text x="${labelW - 8}" y="${y + 16}" class="l" text-anchor="end">${esc(b.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" rx="3" fill="${fill}"/>`);
      parts.push(`<text x="${labelW + w + 6}" y="${y + 16}" class="v">${esc(formatValue(b.value))} ${esc(p.unit)}</text>`);
      y += barH + gap;
    }
    y += 22;
  }
  const H = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<style>text{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;fill:#172b4d}.t{font-size:17px;font-weight:600}.s{font-size:12px;fill:#5e6c84}.h{font-size:13px;font-weight:600}.l,.v{font-size:12px}</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="24" class="t">${esc(title)}</text>
<text x="16" y="42" class="s">${esc(subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}

/** Writes docs/img/performance.svg. */
export function writeSvg(svg, file = PERFORMANCE_SVG) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, svg);
}

/** p-th percentile (0–100) of numbers, nearest-rank. */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}
