/**
 * Builds the control panel (web/) into dist/web: one bundled script and stylesheet (uPlot
 * included) plus index.html, no inline script, nothing fetched from elsewhere at run time.
 * `npm run build` runs it; the browser test calls buildWeb() itself.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const web = new URL('../web/', import.meta.url);
export const WEB_OUT = fileURLToPath(new URL('../dist/web/', import.meta.url));

export async function buildWeb(outdir = WEB_OUT): Promise<string> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: fileURLToPath(new URL('src/main.ts', web)) },
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    outdir,
    logLevel: 'warning',
  });
  await copyFile(new URL('index.html', web), `${outdir}/index.html`);
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildWeb();
  console.log(`panel built into ${out}`);
}
