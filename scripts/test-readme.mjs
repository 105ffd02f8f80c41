// Runs the README's shell examples as a user would type them, so that every example works as
// written. Each ```sh block in README.md is preceded by a marker comment that says what to do:
//
//   <!-- readme-test: run -->              run it; every line must exit 0 or 1 (1 = "done, the
//                                           result needs attention", e.g. lint findings)
//   <!-- readme-test: serve PORT -->        it starts a server that runs until Ctrl-C: run it in
//                                           the background, wait for PORT, run the next block
//                                           marked `run` (only `skip` blocks may come between),
//                                           then stop it
//   <!-- readme-test: skip REASON -->       not run (the REASON says why: the test command itself,
//                                           or a step that needs the network)
//
// A block without a marker fails the test, so no example goes untested by omission. `[--…]` marks
// optional arguments in the README's synopsis lines and is left out; `ringfence` is the debug
// binary the tests built; `curl` fails on an HTTP error. Runs from the repository root; files the examples write there are
// removed afterwards. Chains use the README's own ports (8545, 8546): run it alone.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const BIN_DIR = path.join(TARGET, 'debug');
// What the examples write into the repository root, removed after the run.
const WRITES = ['ccip.toml', 'alerts.jsonl', 'attestor-c.toml', 'a.jsonl', 'c.jsonl',
  ...['ringfence', 'attestor-a', 'attestor-c'].flatMap((db) => ['', '-wal', '-shm'].map((x) => `${db}.db${x}`))];

function blocks(readme) {
  const out = [];
  const re = /(<!--\s*readme-test:\s*([^>]*?)\s*-->\s*\n)?```(sh|bash|shell)\n([\s\S]*?)```/g;
  for (const m of readme.matchAll(re)) {
    const line = readme.slice(0, m.index).split('\n').length + (m[1] ? 1 : 0);
    out.push({ line, marker: m[2] || null, code: m[4] });
  }
  return out;
}

// One bash script for a block: optional `[…]` left out, and after each command a check that it
// exited 0 or 1, naming the README line that failed.
function script(block, prelude = []) {
  // A line ending in `\` continues on the next one.
  const lines = block.code.replace(/\\\n\s*/g, ' ').split('\n');
  // On exit, stop what the block started in the background (chains, a watcher, a server): the
  // block runs as its own process group, which it leaves alone itself.
  const out = ['set -u', `trap 'trap "" TERM; kill -- -$$ 2>/dev/null' EXIT`, `export PATH=${JSON.stringify(BIN_DIR)}:$PATH`, ...prelude];
  lines.forEach((raw, i) => {
    // Optional arguments (`[--prices FILE]`) are left out; JSON arrays in a body stay. An HTTP
    // error from `curl` fails the line, as a person reading the answer would notice it.
    const cmd = raw.replace(/\s+\[-[^\]]*\]/g, '').replace(/\s+#.*$/, '').trim()
      .replace(/^curl /, 'curl --fail-with-body ');
    if (!cmd) return;
    const where = `README.md:${block.line + 1 + i}`;
    out.push(`echo "$ ${cmd.replace(/(["\\$`])/g, '\\$1')}" >&2`);
    out.push(cmd);
    if (!cmd.endsWith('&')) {
      out.push(`rc=$?; if [ $rc -gt 1 ]; then echo "${where}: exited $rc: ${cmd.replace(/(["\\$`])/g, '\\$1')}" >&2; exit $rc; fi`);
    }
  });
  out.push('wait_for_jobs=$(jobs -p); [ -z "$wait_for_jobs" ] || sleep 4');
  return out.join('\n');
}

function waitPort(port, ms) {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const c = createConnection({ host: '127.0.0.1', port }, () => { c.end(); resolve(); });
      c.on('error', () => (Date.now() > until ? reject(new Error(`nothing listens on ${port}`)) : setTimeout(tryOnce, 200)));
    };
    tryOnce();
  });
}

function runForeground(block, prelude = []) {
  // A process group of its own, so that `… &` children (chains, the watcher) are stopped after.
  const r = spawnSync('setsid', ['bash', '-c', script(block, prelude)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`README block at line ${block.line} failed (exit ${r.status ?? r.signal})\n${r.stdout.slice(-2000)}`);
  return r.stdout;
}

const checks = {
  // After the live-guard session: the forged release and the unbacked mint each tripped.
  guard(out) {
    const alerts = readFileSync(path.join(ROOT, 'alerts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const trips = alerts.filter((a) => a.severity === 'trip' || a.severity === 'critical');
    if (trips.length < 2) throw new Error(`the guard example raised ${trips.length} trips, expected the forged release and the mint:\n${out}`);
  },
};

async function main() {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const all = blocks(readme);
  const unmarked = all.filter((b) => !b.marker);
  if (unmarked.length) {
    throw new Error(`README blocks without a readme-test marker (run | serve PORT | skip REASON): lines ${unmarked.map((b) => b.line).join(', ')}`);
  }
  let ran = 0, skipped = 0;
  try {
    for (let i = 0; i < all.length; i++) {
      const b = all[i];
      const [verb, arg] = b.marker.split(/\s+/);
      if (verb === 'skip') { skipped++; console.log(`skip  README.md:${b.line} (${b.marker.slice(5)})`); continue; }
      if (verb === 'run' || verb === 'run-guard') {
        const out = runForeground(b);
        if (verb === 'run-guard') checks.guard(out);
        ran++; console.log(`ok    README.md:${b.line}`);
        continue;
      }
      if (verb === 'serve') {
        // The next block marked `run` uses the server; skipped blocks in between stay skipped.
        let j = i + 1;
        while (all[j] && all[j].marker.startsWith('skip')) {
          skipped++; console.log(`skip  README.md:${all[j].line} (${all[j].marker.slice(5)})`); j++;
        }
        const next = all[j];
        if (!next || !next.marker.startsWith('run')) throw new Error(`README.md:${b.line}: a served block must be followed by a block marked run`);
        const server = spawn('setsid', ['bash', '-c', script(b)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
        try {
          await waitPort(Number(arg), 60_000);
          // What the served block exported (an API token…) is what the user's shell has next.
          const exports = b.code.split('\n').filter((l) => /^export \w+=/.test(l.trim()));
          runForeground(next, exports);
        } finally {
          try { process.kill(-server.pid, 'SIGINT'); } catch { /* already gone */ }
        }
        ran += 2; i = j;
        console.log(`ok    README.md:${b.line} (served) and README.md:${next.line}`);
        continue;
      }
      throw new Error(`README.md:${b.line}: unknown readme-test marker '${b.marker}'`);
    }
  } finally {
    for (const f of WRITES) if (existsSync(path.join(ROOT, f))) rmSync(path.join(ROOT, f));
  }
  console.log(`${ran} passed, 0 failed, ${skipped} skipped`);
}

main().catch((e) => { console.error(`README examples: ${e.message}`); console.log('0 passed, 1 failed'); process.exit(1); });
