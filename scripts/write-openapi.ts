// Writes the OpenAPI document the running service serves at /docs/json to openapi/openapi.json.
// `npm run openapi`; test/openapi.test.ts fails when the committed file is stale.
import { writeFile } from 'node:fs/promises';
import { buildApp } from '../src/app.js';

export async function openapiDocument(): Promise<string> {
  const app = await buildApp();
  await app.ready();
  const text = JSON.stringify(app.swagger(), null, 2) + '\n';
  await app.close();
  return text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(new URL('../openapi/openapi.json', import.meta.url), await openapiDocument());
  console.log('wrote openapi/openapi.json');
}
