// The dashboard formats numbers by the same rules as the CLI and the HTML reports: its formatters
// (the block between the "number formats" markers in app.js) are run on every value of
// tests/fixtures/format/golden.json, which crates/report's tests check on the Rust side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function formatters() {
  const app = await readFile(path.join(ROOT, 'crates/server/assets/app.js'), 'utf8');
  const start = app.indexOf('// ---- number formats');
  const end = app.indexOf('// ---- end of number formats ----');
  assert.ok(start >= 0 && end > start, 'app.js keeps its formatters between the markers');
  return new Function(`${app.slice(start, end)}\nreturn { usd, pct, multiplier };`)();
}

test('the dashboard formats money, shares and multipliers exactly as the Rust reports do', async () => {
  const f = await formatters();
  const golden = JSON.parse(await readFile(path.join(ROOT, 'tests/fixtures/format/golden.json'), 'utf8'));
  for (const [v, want] of golden.usd) assert.equal(f.usd(v), want, `usd(${v})`);
  for (const [v, want] of golden.pct) assert.equal(f.pct(v), want, `pct(${v})`);
  for (const [v, digits, want] of golden.pct_digits) assert.equal(f.pct(v, digits), want, `pct(${v}, ${digits})`);
  for (const [v, want] of golden.multiplier) assert.equal(f.multiplier(v), want, `multiplier(${v})`);
});
