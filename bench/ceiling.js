// The HTTP ceiling for the comparisons in bench/compare.js: the same Fastify stack (and the
// same compression settings as the entity routes) streaming rows that were generated and
// written once, before any request. Whatever ecomgen does beyond this is generation and
// formatting. Started as a child process: `node bench/ceiling.js <port> <entity> <format>`.
//
// GET /rows?rows=N streams the format's head, then the precomputed rows cycled until N rows,
// then its tail, one ~64 KB chunk per turn of the event loop, as formatStream does.

import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers';
import compress from '@fastify/compress';
import Fastify from 'fastify';
import { FORMATS } from '../dist/formats/index.js';
import { ENTITIES } from '../dist/generators/registry.js';
import { World, resolveSizes } from '../dist/generators/world.js';
import { formatContext, recordsOf } from '../dist/render/batch.js';

const [port = '0', entity = 'users', formatName = 'csv'] = process.argv.slice(2);
const PRECOMPUTED = 10_000;
const CHUNK_ROWS = 256;

const format = FORMATS[formatName];
const context = formatContext(entity, Object.keys(ENTITIES[entity].schema.properties));
const world = World.of({ seed: 42, sizes: resolveSizes(1, { [entity]: PRECOMPUTED }), locale: 'en_US', window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } });
const records = [...recordsOf(world, entity, 0, Math.min(PRECOMPUTED, world.generator(entity).population), null)];
// Chunks of CHUNK_ROWS rows; `first` only matters for JSON's separators, so use the later form.
const chunks = [];
for (let k = 0; k < records.length; k += CHUNK_ROWS) chunks.push(Buffer.from(format.batch(records.slice(k, k + CHUNK_ROWS), context, false)));
const rowsPerChunk = chunks.map((_, k) => Math.min(CHUNK_ROWS, records.length - k * CHUNK_ROWS));

const app = Fastify({ logger: false });
await app.register(compress, { encodings: ['gzip', 'deflate'] });
app.get('/rows', { compress: { encodings: ['gzip', 'deflate'], zlibOptions: { level: 1 } } }, async (request, reply) => {
  const rows = Number(request.query.rows);
  let sent = 0;
  let k = 0;
  let state = 'head';
  let scheduled = false;
  const stream = new Readable({
    highWaterMark: 4 * 64 * 1024, // as formatStream: a few chunks ahead of the consumer
    read() {
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        if (state === 'head') {
          state = 'body';
          stream.push(format.open(context));
        } else if (sent < rows) {
          stream.push(chunks[k]);
          sent += rowsPerChunk[k];
          k = (k + 1) % chunks.length;
        } else if (state === 'body') {
          state = 'done';
          stream.push(format.close(context, false));
          stream.push(null);
        }
      });
    },
  });
  reply.type(format.contentType);
  return reply.send(stream);
});
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
