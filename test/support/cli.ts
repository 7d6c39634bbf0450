/**
 * Runs the `ecomgen` command line in the test's own process (no child process, so no tsx
 * start-up: each spawned bin costs 1-2 s of CPU loading the sources), capturing what it writes
 * on stdout and stderr. The command's own code is the same as in the bin (src/cli/main.ts with
 * the process's streams swapped for buffers, which are not terminals, like a pipe). What only a
 * real process shows (the bin's exit codes, stdout flushed before exit, signals) stays tested by
 * spawning bin/ecomgen.js, at least once per command.
 */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** A stream that keeps what is written to it. */
function buffer(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * `env` overrides process.env for the run (undefined removes a variable) and is restored after,
 * since the commands read their sink configuration from the environment.
 */
export async function inProcess(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<{ code: number; out: string; err: string }> {
  const saved = new Map(Object.keys(env).map((name) => [name, process.env[name]] as const));
  const apply = (values: ReadonlyMap<string, string | undefined> | Readonly<Record<string, string | undefined>>) => {
    for (const [name, value] of values instanceof Map ? values : Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(env);
  const out = buffer();
  const err = buffer();
  try {
    const code = await main(args, { stdout: out.stream, stderr: err.stream });
    return { code, out: out.text(), err: err.text() };
  } finally {
    apply(saved);
  }
}
