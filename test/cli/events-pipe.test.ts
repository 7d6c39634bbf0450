/**
 * `ecomgen events | head`: a reader that leaves early ends the command quietly (exit 0, no EPIPE
 * stack trace), as a pipe's writer should. `ecomgen generate … 2>&1 | head`: the progress on
 * stderr has no reader left, and the work goes on to the end. Spawns the real bin, since only a
 * real process has pipes whose reader can go away.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';

const BIN = path.resolve('bin/ecomgen.js');

/** Runs the bin, keeps the first `bytes` of its stdout, then closes the pipe as `head -c` does. */
function headOf(args: string[], bytes: number): Promise<{ code: number | null; head: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let head = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (head.length >= bytes) return;
      head += chunk;
      if (head.length >= bytes) {
        head = head.slice(0, bytes);
        child.stdout.destroy();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject).on('close', (code) => resolve({ code, head, stderr }));
  });
}

t.test('the feed into a pipe closed early: exit 0, no stack trace, the summary says so', async (t) => {
  // A scale-0.1 world: its feed (~24,000 events, megabytes of output; its defects list ~12,000
  // entries) still outlasts the pipe's 64 KB buffer by far, so the writer meets the closed pipe
  // as at scale 1, where preparing the world's feed cost each process about twice the CPU.
  for (const args of [
    ['events', '--seed', '42', '--scale', '0.1'],
    ['events', '--seed', '42', '--scale', '0.1', '--format', 'csv'],
    ['events', '--seed', '42', '--scale', '0.1', '--late-ratio', '0.5', '--defects'],
  ]) {
    const { code, head, stderr } = await headOf(args, 200);
    t.equal(head.length, 200, `${args.join(' ')}: the reader got what it asked for`);
    t.equal(code, 0, `${args.join(' ')}: exit 0 (stderr: ${stderr.slice(-500)})`);
    t.notMatch(stderr, /EPIPE|Error|at /, 'no error nor stack trace');
    if (!args.includes('--defects')) t.match(stderr, /-> stdout \(closed by its reader\)\n$/);
  }
});

t.test('generate with its stderr (progress) closed after the first line: every file written, exit 0', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-pipe-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { code, first } = await new Promise<{ code: number | null; first: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'generate', 'orders', 'users', '--seed', '1', '--out', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let first = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (first.includes('\n')) return;
      first += chunk;
      if (first.includes('\n')) child.stderr.destroy();
    });
    child.on('error', reject).on('close', (code) => resolve({ code, first }));
  });
  t.match(first, /^seed 1 -> /);
  t.equal(code, 0, 'exit 0: the work went on without its progress reader');
  t.same((await readdir(dir)).sort(), ['manifest.json', 'orders.csv', 'users.csv']);
  t.equal((await readFile(path.join(dir, 'orders.csv'), 'utf8')).trimEnd().split('\n').length, 5001, 'orders.csv is whole');
});
