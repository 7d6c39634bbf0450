import type { Writable } from 'node:stream';

/** A stream the command line writes to; `isTTY` chooses bars and in-place lines over plain lines. */
export type OutStream = Writable & { readonly isTTY?: boolean };

/**
 * Where the command line writes: data on stdout, progress, summaries and errors on stderr. The
 * process's own streams, or a test's buffers (test/support/cli.ts runs commands in its process).
 */
export interface Output {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
}

export const processOutput: Output = { stdout: process.stdout, stderr: process.stderr };

let stderrGuarded = false;

/**
 * Progress and summaries go to stderr; when its reader leaves (`ecomgen generate … 2>&1 | head`),
 * what is still written there is dropped and the work goes on. Before, the EPIPE was an uncaught
 * error: a generate stopped half-way, with no file written and exit 1.
 */
export function keepWorkingWithoutStderr(): void {
  if (stderrGuarded) return;
  stderrGuarded = true;
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}
