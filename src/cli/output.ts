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
