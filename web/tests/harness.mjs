// Shared by the browser tests: starts the real `cbec serve` (demo zone, documented keys) on
// port 0, generates document sets with `cbec gen`, posts them over HTTP as their senders would,
// and drives Debian's chromium through playwright-core. Screenshots go to $CBEC_SCREENSHOTS.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const CBEC = process.env.CBEC_BIN || new URL('../../build/cbec', import.meta.url).pathname;
export const SHOTS = process.env.CBEC_SCREENSHOTS || new URL('../../build/screenshots', import.meta.url).pathname;
export const HALL = '4101960011';
export const REGULATOR_KEY = 'demo-regulator-key';
export const keyOf = (code) => `demo-key-${code}`;

async function waitFor(fn, what, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// A `cbec serve --demo` on a fresh data directory (or the given one, to restart), port 0 unless
// a port is given. stop() sends SIGTERM and waits for the graceful exit.
export async function startServer({ dataDir, port = 0 } = {}) {
  const dir = dataDir || mkdtempSync(join(tmpdir(), 'cbec-browser-'));
  const portFile = join(dir, `port-${Date.now()}`);
  // A fixed draw seed: the random lanes are the same on every run, so no list of a test is
  // sent to inspection by chance one day in a hundred.
  const child = spawn(CBEC, ['serve', '--demo', '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--port-file', portFile, '--fixed-draw-seed', '5eed'.repeat(16)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const bound = await waitFor(() => (existsSync(portFile) && readFileSync(portFile, 'utf8').trim()) || child.exitCode !== null, 'the port file');
  if (child.exitCode !== null) throw new Error(`cbec serve exited: ${log}`);
  const base = `http://127.0.0.1:${bound}`;
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 'healthz');
  return {
    dir, base, port: Number(bound), log: () => log,
    async stop() { child.kill('SIGTERM'); await exited; },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

// Generated document sets (one by default): their messages (XML) by type, and the manifest row
// of the first set.
export function documentSet(seed, { hall = 1, faults = 0, count = 1 } = {}) {
  const out = mkdtempSync(join(tmpdir(), 'cbec-gen-'));
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  execFileSync(CBEC, ['gen', '--seed', String(seed), '--count', String(count), '--hall', String(hall), '--faults', String(faults), '--start', today, '--out', out], { stdio: 'ignore' });
  const docs = {};
  for (const f of readdirSync(out)) {
    const m = f.match(/^\d+-(CEB\d+)Message-(\d+)\.xml$/);
    if (m) (docs[m[1]] ||= []).push({ sender: m[2], xml: readFileSync(join(out, f), 'utf8') });
  }
  const [head, row] = readFileSync(join(out, 'manifest.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  const values = row.split(',');
  const info = Object.fromEntries(cols.map((c, i) => [c, values[i]]));
  rmSync(out, { recursive: true, force: true });
  return { docs, info, id: `${info.logisticsCode}/${info.logisticsNo}` };
}

export async function post(base, path, body, key, type = 'application/json') {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': type, 'X-API-Key': key }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() };
}

// Posts one of the set's documents (CEB311 order, CEB411 payment, CEB511 waybill, CEB621 list).
export async function postDoc(base, set, type, edit = (x) => x) {
  const ds = set.docs[type];
  if (!ds) throw new Error(`no ${type} in the set`);
  for (const d of ds) {
    const r = await post(base, '/api/v1/messages', edit(d.xml), keyOf(d.sender), 'application/xml');
    if (r.status !== 200) throw new Error(`${type}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }
}

export async function browser() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function shot(page, name, opts = {}) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), ...opts });
}

// Fails the test on any script error of the page.
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  return errors;
}
