#!/usr/bin/env node
// The `ecomgen` command. In a checkout (src/ present, devDependencies installed by `npm ci`) it
// runs the TypeScript sources through tsx, so it is never stale; in an installed package or a
// production image (dist/ built, no tsx) it runs the compiled dist/cli/main.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let entry = new URL('../dist/cli/main.js', import.meta.url).href;
// ECOMGEN_USE_DIST=1 runs the build even in a checkout (benchmarks: no tsx start-up or transpiling).
if (process.env.ECOMGEN_USE_DIST !== '1' && existsSync(`${root}src/cli/main.ts`)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = new URL('../src/cli/main.ts', import.meta.url).href;
  } catch {
    if (!existsSync(`${root}dist/cli/main.js`)) {
      console.error('ecomgen: neither tsx (npm ci) nor a build (npm run build) is available');
      process.exit(1);
    }
  }
}
const { main } = await import(entry);
const code = await main(process.argv.slice(2));
// `serve` keeps running once listening; every other command, and a `serve` refused (a bad flag), ends here.
if (process.argv[2] !== 'serve' || code !== 0) process.exit(code);
