// One render worker's work without the server: users rendered the way a render thread renders
// them (`renderBytes` of 2,048-record batches, src/render/batch.ts) in this process, printed as
// rows/s and with the sha256 of the bytes. For A/B runs of the per-row cost of a format against
// another build: `ROOT=<built checkout> node bench/render-batch.js` (default: this checkout's
// dist/, so `npm run build` first), e.g. under `farm-bench --vs` to compare CPU seconds.
// FORMAT (csv, ndjson, json, xml; default csv), LOCALE (default en_US), ROWS (default 600,000),
// ROUNDS (default 1).

import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = process.env.ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { ENTITIES } = await load('generators/registry.js');
const { resolveSizes } = await load('generators/world.js');
const { renderBytes } = await load('render/batch.js');

const format = process.env.FORMAT ?? 'csv';
const locale = process.env.LOCALE ?? 'en_US';
const rows = Number(process.env.ROWS ?? 600_000);
const rounds = Number(process.env.ROUNDS ?? 1);
const BATCH = 2048;
const columns = Object.keys(ENTITIES.users.schema.properties);
const spec = { seed: 7, sizes: resolveSizes(1, { users: 1_000_000 }), locale, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } };

for (let round = 0; round < rounds; round++) {
  const hash = createHash('sha256');
  const t0 = performance.now();
  for (let start = 0; start < rows; start += BATCH) {
    hash.update(renderBytes({ spec, entity: 'users', format, columns, projected: false, start, end: Math.min(rows, start + BATCH), first: start === 0 }));
  }
  const ms = performance.now() - t0;
  console.log(`users ${format} ${locale}: ${Math.round((rows / ms) * 1000)} rows/s, sha256 ${hash.digest('hex')}`);
}
