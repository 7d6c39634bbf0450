// Prints one page of every entity as CSV, for the cross-process determinism test:
// `node --import tsx test/support/dump-world.ts '<query>'`.
import { buildApp } from '../../src/app.js';
import { ENTITY_NAMES } from '../../src/generators/registry.js';

const query = process.argv[2] ?? '';
const app = await buildApp();
for (const entity of ENTITY_NAMES) {
  const res = await app.inject(`/api/v1/${entity}?${query}&format=csv`);
  process.stdout.write(`## ${entity}\n${res.body}`);
}
await app.close();
