/**
 * Ctrl-C (SIGINT) or SIGTERM while a command writes files: the file being written is left out
 * rather than half-written. Files are written under a temporary name beside their own and renamed
 * only once complete (so an earlier copy of the file stays whole until then); a signal aborts the
 * write in progress, its temporary file is removed, and the command exits 128 + the signal's
 * number (130 for SIGINT), saying what was and was not written.
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type HandledSignal = keyof typeof SIGNAL_NUMBERS;

/** The command was stopped by a signal: printed as `interrupted: <message>`, exit code 128 + the signal's number. */
export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(
    message: string,
    readonly signal: HandledSignal,
  ) {
    super(message);
    this.exitCode = 128 + SIGNAL_NUMBERS[signal];
  }
}

/** A signal watch for the length of a command: `signal` aborts on the first SIGINT or SIGTERM. */
export interface SignalWatch {
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  readonly received: HandledSignal | undefined;
  /** Stops listening (the default handlers are back: a second Ctrl-C after this ends the process). */
  dispose(): void;
}

export function watchSignals(): SignalWatch {
  const controller = new AbortController();
  let received: HandledSignal | undefined;
  const handlers = (Object.keys(SIGNAL_NUMBERS) as HandledSignal[]).map((name) => {
    const handler = () => {
      received ??= name;
      controller.abort(new Error(name));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** The temporary name a file is written under, in the same directory (so the rename stays on one file system). */
export const partialPath = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);

/**
 * Runs `write(temporary)`, then renames the temporary file to `file`. If the write fails or the
 * watch's signal aborts it, the temporary file is removed and nothing is left at `file` from this run.
 */
export async function writeWhole(file: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = partialPath(file);
  try {
    await write(temporary);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
