// Benchmark: `ecomgen generate` of a whole world to CSV files, by one process and by 2 worker
// processes (`--partition 0/2` and `1/2` at once), on this machine's cores. Prints records/s and
// MB/s of each and the ratio; checks that the 2 workers' files, concatenated without their
// repeated headers, are byte-identical to the single process's. Speed is reported, never asserted.
//
//   node bench/generate.js            # scale 10 (the figures in docs/scaling.md)
//   BENCH_GENERATE_SCALE=2 node bench/generate.js
//   BENCH_QUICK=1                     # scale 1
// Runs the built CLI (dist/, `npm run build`) when present, so tsx's start-up is not measured.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'ecomgen.js');
const SCALE = process.env.BENCH_QUICK === '1' ? '1' : (process.env.BENCH_GENERATE_SCALE ?? '10');
const SEED = '42';
const run = promisify(execFile);

async function generate(out, partition) {
  const args = [BIN, 'generate', '--seed', SEED, '--scale', SCALE, '--format', 'csv', '--out', out, '--no-manifest', '--quiet'];
  if (partition) args.push('--partition', partition);
  // bin/ecomgen.js prefers the sources in a checkout; the benchmark measures the build.
  await run(process.execPath, args, { maxBuffer: 1 << 24, env: { ...process.env, ECOMGEN_USE_DIST: '1' } });
}

function filesOf(dir) {
  return readdirSync(dir).sort().map((name) => join(dir, name));
}

function countRecords(files) {
  let rows = 0;
  let bytes = 0;
  for (const file of files) {
    const text = readFileSync(file);
    bytes += text.length;
    for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) rows++;
    rows--; // the header line
  }
  return { rows, bytes };
}

const dir = mkdtempSync(join(os.tmpdir(), 'ecomgen-bench-generate-'));
try {
  console.log(`generate: scale ${SCALE}, seed ${SEED}, every entity but performance-events, CSV; ${os.cpus().length} cores`);
  let started = performance.now();
  await generate(join(dir, 'one'));
  const oneSeconds = (performance.now() - started) / 1000;
  const one = countRecords(filesOf(join(dir, 'one')));
  console.log(`  1 process:   ${one.rows.toLocaleString('en-US')} records, ${(one.bytes / 1e6).toFixed(1)} MB in ${oneSeconds.toFixed(1)} s = ${Math.round(one.rows / oneSeconds).toLocaleString('en-US')} records/s, ${(one.bytes / 1e6 / oneSeconds).toFixed(1)} MB/s`);

  started = performance.now();
  await Promise.all([generate(join(dir, 'p0'), '0/2'), generate(join(dir, 'p1'), '1/2')]);
  const twoSeconds = (performance.now() - started) / 1000;
  console.log(`  2 workers:   ${(one.bytes / 1e6).toFixed(1)} MB in ${twoSeconds.toFixed(1)} s = ${Math.round(one.rows / twoSeconds).toLocaleString('en-US')} records/s, ${(one.bytes / 1e6 / twoSeconds).toFixed(1)} MB/s (x${(oneSeconds / twoSeconds).toFixed(2)} of 1 process)`);

  // The 2 workers' slices, headers dropped from the second, are the single process's files.
  let identical = true;
  for (const file of readdirSync(join(dir, 'one'))) {
    const stem = file.replace(/\.csv$/, '');
    const whole = readFileSync(join(dir, 'one', file));
    const a = readFileSync(join(dir, 'p0', `${stem}-part0of2.csv`));
    const b = readFileSync(join(dir, 'p1', `${stem}-part1of2.csv`));
    const header = whole.indexOf(10) + 1;
    const joined = globalThis.Buffer.concat([a, b.subarray(header)]);
    if (createHash('sha256').update(joined).digest('hex') !== createHash('sha256').update(whole).digest('hex')) {
      identical = false;
      console.log(`  MISMATCH: ${file}`);
    }
  }
  console.log(`  partitions concatenated = single-process files: ${identical ? 'yes' : 'NO'} (${readdirSync(join(dir, 'one')).length} entities)`);
  if (!identical) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
