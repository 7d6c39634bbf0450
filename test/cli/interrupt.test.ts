/**
 * Ctrl-C (SIGINT) or SIGTERM during `ecomgen generate` or `ecomgen events --out FILE` leaves no
 * half-written file: the file being written is dropped (an earlier copy of it stays whole), the
 * files finished before it stay, and the command exits 128 + the signal's number saying so.
 * Spawns the real bin: only a real process receives a signal.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';

const BIN = path.resolve('bin/ecomgen.js');

/** Runs the bin and sends `signal` as soon as its stderr matches `when`. */
function interruptWhen(args: string[], when: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; sent: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject).on('close', (code) => resolve({ code, stderr, sent }));
  });
}

t.test('generate: SIGINT while a file is being written drops that file, keeps the finished ones, exits 130', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-interrupt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // users (40,000) is written first; orders (200,000, ~130 MB of CSV) takes seconds: the signal comes as it starts.
  const { code, stderr, sent } = await interruptWhen(['generate', 'users', 'orders', '--seed', '3', '--scale', '40', '--out', dir], /orders: 200000 records\n/, 'SIGINT');
  t.ok(sent, 'the signal was sent while orders were being written');
  t.equal(code, 130, stderr.slice(-400));
  t.match(stderr, /SIGINT: interrupted: orders\.csv not written \(no partial file left\); complete before it: users\.csv\n$/);
  t.same(await readdir(dir), ['users.csv'], 'no orders.csv, no partial file, no manifest');
  t.equal((await readFile(path.join(dir, 'users.csv'), 'utf8')).trimEnd().split('\n').length, 40_001, 'users.csv is whole: its header and 40,000 rows');
});

t.test('events --out FILE: SIGTERM while writing leaves the earlier file as it was, exits 143', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-interrupt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'events.ndjson');
  await writeFile(file, 'the previous run\n');
  const { code, stderr, sent } = await interruptWhen(['events', '--seed', '3', '--scale', '5', '--out', file], /^seed 3\n/m, 'SIGTERM');
  t.ok(sent, 'the signal was sent once the feed was being written');
  t.equal(code, 143, stderr.slice(-400));
  t.match(stderr, new RegExp(`SIGTERM: interrupted: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} not written \\(no partial file left\\)\\n$`));
  t.same(await readdir(dir), ['events.ndjson'], 'no partial file');
  t.equal(await readFile(file, 'utf8'), 'the previous run\n', 'the earlier file is untouched');
});
