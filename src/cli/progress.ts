import cliProgress from 'cli-progress';
import type { OutStream } from './output.js';

/** Progress of one unit of work (an entity): how far, of how much. */
export interface Task {
  update(done: number, bytes: number): void;
  finish(done: number, bytes: number, note?: string): void;
}

export interface Progress {
  task(name: string, total: number): Task;
  stop(): void;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * A bar per entity on a terminal (cli-progress), plain lines otherwise (CI logs, pipes, pods),
 * always on stderr so stdout stays for data.
 */
export function progressReporter(stream: OutStream, quiet = false): Progress {
  if (quiet) return { task: () => ({ update: () => undefined, finish: () => undefined }), stop: () => undefined };
  if (stream.isTTY) {
    const bars = new cliProgress.MultiBar(
      { stream, format: '{name} |{bar}| {percentage}% {value}/{total} records {size}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    return {
      task(name, total) {
        const bar = bars.create(Math.max(total, 1), 0, { name: name.padEnd(20), size: '' });
        return {
          update: (done, bytes) => bar.update(done, { size: mb(bytes) }),
          finish: (done, bytes, note) => bar.update(Math.max(done, total === 0 ? 1 : done), { size: `${mb(bytes)}${note ? ` ${note}` : ''}` }),
        };
      },
      stop: () => bars.stop(),
    };
  }
  return {
    task(name, total) {
      const started = performance.now();
      let reported = 0;
      stream.write(`${name}: ${total} records\n`);
      return {
        update(done, bytes) {
          // A line every 10% of a large entity, so logs show movement without flooding.
          if (total >= 100_000 && done - reported >= total / 10) {
            reported = done;
            stream.write(`${name}: ${done}/${total} records, ${mb(bytes)}\n`);
          }
        },
        finish(done, bytes, note) {
          const seconds = (performance.now() - started) / 1000;
          stream.write(`${name}: ${done}/${total} records, ${mb(bytes)} in ${seconds.toFixed(1)} s${note ? ` (${note})` : ''}\n`);
        },
      };
    },
    stop: () => undefined,
  };
}
