import { createHmac } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { WebhookConfig } from '../config.js';
import { webhookSecret } from './secret-manager.js';
import { ENTITIES } from '../generators/registry.js';
import { MAX_POPULATION } from '../generators/world.js';
import { messageOf } from './progress.js';
import { backoffMs, pause, retryAfterMs } from './retry.js';
import type { SinkDefinition } from './types.js';

export interface WebhookOptions {
  readonly count?: number;
  readonly delay_ms?: number;
}

/** Records sent when the body gives neither `count` nor `limit`. */
export const DEFAULT_COUNT = 100;
export const MAX_DELAY_MS = 2000;
/**
 * Records in a row that got no HTTP answer at all (refused, reset, timed out), each after all
 * its retries, before the job gives up on the endpoint. One is enough while the endpoint has
 * not answered anything in this job: a wrong STREAM_ENDPOINT then fails after one record's
 * retries instead of walking through every record.
 */
export const UNANSWERED_IN_A_ROW = 3;
/** How much of an error answer's body goes into the failure reason. */
const REASON_BODY_CHARS = 200;

/** Where records go, as reported in progress: no credentials, query or fragment (they may hold secrets). */
export function destinationOf(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
}

/**
 * The URL to POST to and its basic credentials: fetch refuses URLs with user info, and
 * STREAM_ENDPOINT=https://user:password@host/path is the usual way to write them.
 */
export function targetOf(endpoint: string): { url: string; authorization: string | undefined } {
  const url = new URL(endpoint);
  if (url.username === '' && url.password === '') return { url: url.href, authorization: undefined };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.href, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

/** Hex HMAC-SHA512 of the exact body bytes: what `X-Signature` carries. */
export function signatureOf(body: string, secret: string): string {
  return createHmac('sha512', secret).update(body, 'utf8').digest('hex');
}

/** What one HTTP attempt came to. */
type Attempt =
  | { readonly status: number; readonly detail: string; readonly retryAfterMs: number | undefined }
  | { readonly error: unknown; readonly timedOut: boolean };

/** What one record came to, after its retries. */
type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'failed'; readonly reason: string; /** Whether any attempt got an HTTP answer. */ readonly answered: boolean }
  | { readonly kind: 'cancelled' };

async function attempt(endpoint: string, body: string, headers: Record<string, string>, timeoutMs: number, job: AbortSignal): Promise<Attempt> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      body,
      headers,
      // A redirected POST may turn into a GET or land somewhere the configuration never named.
      redirect: 'manual',
      signal: AbortSignal.any([job, timeout]),
    });
    // The status is the receiver's word; the body is read (and so the connection kept alive)
    // but a failure to read it does not undo an acknowledgement.
    const text = await response.text().catch(() => '');
    const ok = response.status >= 200 && response.status < 300;
    const detail = ok ? '' : `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${text.trim() ? `: ${text.trim().slice(0, REASON_BODY_CHARS)}` : ''}`;
    return { status: response.status, detail, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
  } catch (error) {
    return { error, timedOut: timeout.aborted && !job.aborted };
  }
}

/** fetch wraps what went wrong on the wire in `TypeError: fetch failed`; the cause says what. */
const networkMessageOf = (error: unknown) => messageOf(error instanceof TypeError && error.cause !== undefined ? error.cause : error);

/** Counts of HTTP requests, kept in the entity's progress details so a running job shows them. */
export class Attempts {
  private attempts = 0;
  private retries = 0;

  constructor(private readonly details: Record<string, unknown>) {
    this.show();
  }

  count(retry: boolean): void {
    this.attempts++;
    if (retry) this.retries++;
    this.show();
  }

  private show(): void {
    Object.assign(this.details, { attempts: this.attempts, retries: this.retries });
  }
}

/**
 * Posts one record until the receiver acknowledges it (2xx), refuses it (3xx, 4xx other than
 * 429: not retried), or the retries run out (5xx, 429, network errors and timeouts).
 */
export async function deliver(
  endpoint: string,
  config: WebhookConfig,
  body: string,
  headers: (attempt: number) => Record<string, string>,
  signal: AbortSignal,
  counted: Attempts,
): Promise<Outcome> {
  let answered = false;
  let wait = 0;
  let last = '';
  let attempts = 0;
  for (let n = 0; n <= config.retries; n++) {
    if (n > 0 && !(await pause(wait, signal))) return { kind: 'cancelled' };
    if (signal.aborted) return { kind: 'cancelled' };
    const result = await attempt(endpoint, body, headers(n + 1), config.timeoutMs, signal);
    attempts++;
    counted.count(n > 0);
    // Cancelled in flight: neither delivered nor failed (the receiver may have it; its
    // Idempotency-Key makes a re-run safe).
    if (signal.aborted) return { kind: 'cancelled' };
    if ('error' in result) {
      last = result.timedOut ? `no answer within ${config.timeoutMs} ms` : networkMessageOf(result.error);
      wait = backoffMs(config.backoffMs, n);
      continue;
    }
    answered = true;
    if (result.status >= 200 && result.status < 300) return { kind: 'delivered' };
    last = result.detail;
    if (result.status === 429 || result.status >= 500) {
      wait = backoffMs(config.backoffMs, n, result.retryAfterMs);
      continue;
    }
    return { kind: 'failed', answered, reason: `${last} (not retried)` };
  }
  return { kind: 'failed', answered, reason: `${last} (${attempts} attempt${attempts === 1 ? '' : 's'})` };
}

/**
 * POSTs each record as its own JSON request to STREAM_ENDPOINT, signed with STREAM_SECRET, one
 * at a time and in record order, retrying 5xx, 429, network errors and timeouts with
 * exponential backoff, and counting every record as delivered (2xx) or failed.
 *
 * @example
 * // STREAM_ENDPOINT=https://hooks.example.com/ingest STREAM_SECRET=... in the environment, then
 * // curl -X POST 'localhost:3000/api/v1/sinks/webhook?wait=true' -H 'Content-Type: application/json' \
 * //   -d '{"seed":42,"count":50,"delay_ms":100}'
 * // sends transactions 0..49 of world 42; each request has
 * // X-Signature: hex(HMAC-SHA512(STREAM_SECRET, body)) and Idempotency-Key: transactions:<transaction_id>
 */
export const webhookSink: SinkDefinition<'webhook', WebhookOptions> = {
  name: 'webhook',
  configKey: 'webhook',
  requires: 'STREAM_ENDPOINT and STREAM_SECRET (or SECRET_ID, the secret in Google Secret Manager)',
  summary: 'Stream records to a signed webhook',
  description: [
    'POSTs each record (default entity `transactions`) as its own JSON request to the configured `STREAM_ENDPOINT`, one at a time, in record order. The body is the record exactly as `GET /api/v1/<entity>?format=ndjson` writes its line (without the newline).',
    '',
    'Headers: `X-Signature` = hex HMAC-SHA512 of the exact body bytes under `STREAM_SECRET`; `Content-Type: application/json`; `Idempotency-Key: <entity>:<primary key>` (the same on every retry and every re-run of the world, so a receiver can drop duplicates); `X-Ecomgen-Entity`, `X-Ecomgen-Seed`, `X-Ecomgen-Index` (the record\'s index in its entity), `X-Ecomgen-Attempt` (1 on the first try) and `X-Ecomgen-Job`.',
    '',
    'A 2xx answer counts the record delivered. 5xx, 429, network errors and timeouts (`STREAM_TIMEOUT_MS` per attempt) are retried up to `STREAM_RETRIES` times, waiting `STREAM_BACKOFF_MS` doubled per retry (at most 30 s, longer if `Retry-After` asks); other 4xx and 3xx answers are not retried. A record that still failed is counted in `failed` with the reason in `errors`, and the next one is sent. When the endpoint answers nothing at all (refused, reset, timed out) for the first record, or for 3 records in a row, the job fails with an error naming the endpoint.',
    '',
    'Options: `count` (records of each entity, default 100, at most `STREAM_MAX_COUNT`, 1,000 unless configured), `delay_ms` (pause between requests). With one `entity`, `offset` picks the first record and `limit` may stand for `count`. Progress `destination` is the endpoint without credentials or query; `attempts` and `retries` count HTTP requests.',
  ].join('\n'),
  options: {
    count: Type.Integer({
      minimum: 1,
      maximum: MAX_POPULATION,
      description: `Records of each entity to send (default ${DEFAULT_COUNT}; at most the server's STREAM_MAX_COUNT, 1,000 unless configured). Not with \`limit\`.`,
      examples: [100],
    }),
    delay_ms: Type.Integer({ minimum: 0, maximum: MAX_DELAY_MS, default: 0, description: `Pause between two requests, in milliseconds (0-${MAX_DELAY_MS}).`, examples: [0] }),
  },
  defaultEntities: ['transactions'],
  // The body's `limit` (with one `entity`) stands for `count`, under the same maximum.
  optionsProblem: (options, _entities, config, { limit }) => {
    if (options.count !== undefined && limit !== undefined) return { parameter: 'count', reason: 'give count or limit, not both (they mean the same here)' };
    const [parameter, value] = limit !== undefined ? ['limit', limit] : ['count', options.count];
    if (value !== undefined && value > config.maxCount) return { parameter, reason: `must be at most ${config.maxCount} (STREAM_MAX_COUNT), got ${value}` };
    if (value === undefined && DEFAULT_COUNT > config.maxCount) {
      return { parameter: 'count', reason: `required: the default ${DEFAULT_COUNT} is more than this server's STREAM_MAX_COUNT (${config.maxCount})` };
    }
    return undefined;
  },
  limitOf: (options) => options.count ?? DEFAULT_COUNT,

  async run(run) {
    const { config, signal } = run;
    const delayMs = run.options.delay_ms ?? 0;
    // The route enforces this through optionsProblem; a slice that still exceeds it is a bug, not a reason to flood the receiver.
    const oversized = run.slices.find((s) => s.end - s.start > config.maxCount);
    if (oversized) throw new Error(`${oversized.entity}: ${oversized.end - oversized.start} records is more than STREAM_MAX_COUNT (${config.maxCount})`);
    const destination = destinationOf(config.endpoint);
    const target = targetOf(config.endpoint);
    let answeredEver = false;
    let unansweredInARow = 0;
    let first = true;
    const secret = await webhookSecret(config);

    for (const slice of run.slices) {
      if (signal.aborted) return;
      const progress = run.progress(slice.entity);
      progress.begin(destination);
      const counted = new Attempts(progress.details);
      const primaryKey = ENTITIES[slice.entity].primaryKey;
      let index = slice.start;
      for (const record of slice.records()) {
        if (!first && delayMs > 0 && !(await pause(delayMs, signal))) return;
        first = false;
        if (signal.aborted) return;
        const body = JSON.stringify(record);
        const id = (record as Record<string, unknown>)[primaryKey];
        const key = `${slice.entity}:${id === undefined ? `${run.seed}:${index}` : String(id)}`;
        const signature = signatureOf(body, secret);
        const recordIndex = index;
        const headers = (attemptNumber: number): Record<string, string> => ({
          'Content-Type': 'application/json',
          'X-Signature': signature,
          'Idempotency-Key': key,
          'X-Ecomgen-Entity': slice.entity,
          'X-Ecomgen-Seed': String(run.seed),
          'X-Ecomgen-Index': String(recordIndex),
          'X-Ecomgen-Attempt': String(attemptNumber),
          'X-Ecomgen-Job': run.jobId,
          ...(target.authorization ? { Authorization: target.authorization } : {}),
        });
        const outcome = await deliver(target.url, config, body, headers, signal, counted);
        if (outcome.kind === 'cancelled') return;
        if (outcome.kind === 'delivered') {
          progress.delivered(1, Buffer.byteLength(body));
          answeredEver = true;
          unansweredInARow = 0;
        } else {
          progress.failedRecords(1, `record ${recordIndex} (${key}): ${outcome.reason}`);
          if (outcome.answered) {
            answeredEver = true;
            unansweredInARow = 0;
          } else if (++unansweredInARow >= UNANSWERED_IN_A_ROW || !answeredEver) {
            const error = new Error(
              answeredEver
                ? `webhook endpoint ${destination} stopped answering: ${unansweredInARow} records in a row got no HTTP answer after ${config.retries} retries each (last: ${outcome.reason})`
                : `webhook endpoint ${destination} is unreachable: no HTTP answer after ${config.retries} retries (${outcome.reason})`,
            );
            progress.fail(error);
            throw error;
          }
        }
        index++;
      }
      progress.done();
    }
  },
};
