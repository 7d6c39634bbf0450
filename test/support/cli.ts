/**
 * Runs the `ecomgen` command line in the test's own process (no child process, so no start-up
 * cost), capturing what it prints. For usage errors and help: what the shell sees (exit codes
 * of the real bin, data on stdout) stays tested by spawning bin/ecomgen.js.
 */
import { main } from '../../src/cli/main.js';

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
  let out = '';
  let err = '';
  try {
    const code = await main(args, { writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
    return { code, out, err };
  } finally {
    apply(saved);
  }
}
