/** Waiting shared by the sinks: retry timing (webhook, OpenSearch) and cancellable pauses (all). */
import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`; false when the job was cancelled meanwhile (the wait ends at once then). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * `work`'s value, or undefined as soon as `signal` aborts (at once if it has): a wait that ends
 * on cancel. The abort listener goes when either settles: a listener added per wait and kept
 * (one per Kafka batch) piled up on the job's signal until the job ended, with Node's
 * MaxListenersExceededWarning from the eleventh.
 */
export async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort = (): void => undefined;
  const cancelled = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, cancelled]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Longest wait before a retry, whatever the doubling or a Retry-After header ask for. */
export const MAX_BACKOFF_MS = 30_000;

/** `Retry-After` in delta-seconds or as an HTTP date, in milliseconds from now. */
export function retryAfterMs(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - new Date().getTime());
}

/** The wait before retry `retry` (0-based): `baseMs` doubled per retry, or longer if the server asks, capped. */
export function backoffMs(baseMs: number, retry: number, askedMs = 0): number {
  return Math.min(MAX_BACKOFF_MS, Math.max(baseMs * 2 ** retry, askedMs));
}
