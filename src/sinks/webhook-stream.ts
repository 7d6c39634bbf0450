/**
 * The webhook writer of streams: one signed POST per event, in order, with the webhook sink's
 * signing, retries and backoff (imported from webhook.ts). No count cap: a stream is bounded by
 * its rate and duration, not by STREAM_MAX_COUNT.
 */
import type { WebhookConfig } from '../config.js';
import type { FeedEvent } from '../streams/feed-contract.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../streams/writer.js';
import { pause } from './retry.js';
import { webhookSecret } from './secret-manager.js';
import { Attempts, deliver, destinationOf, signatureOf, targetOf } from './webhook.js';

export class WebhookStreamWriter implements StreamWriter {
  readonly destination: string;
  private readonly target: { url: string; authorization: string | undefined };
  private readonly stats: Record<string, unknown> = {};
  private readonly attempts = new Attempts(this.stats);
  private sentAny = false;
  /** The HMAC key: STREAM_SECRET, or the Secret Manager secret read once on first use. */
  private secret = '';

  constructor(
    private readonly config: WebhookConfig,
    private readonly seed: number,
    /** A pause between two requests, on top of the stream's rate. */
    private readonly delayMs: number,
  ) {
    this.destination = destinationOf(config.endpoint);
    this.target = targetOf(config.endpoint);
  }

  async open(): Promise<void> {
    this.secret = await webhookSecret(this.config);
  }

  async write(batch: readonly FeedEvent[], signal: AbortSignal): Promise<WriteOutcome> {
    const refused = new Map<number, string>();
    let bytes = 0;
    for (const [k, event] of batch.entries()) {
      if (this.sentAny && this.delayMs > 0 && !(await pause(this.delayMs, signal))) {
        throw new DeliveryError('stopped', k, bytes);
      }
      this.sentAny = true;
      const body = event.raw ?? JSON.stringify(event);
      const signature = signatureOf(body, this.secret);
      const headers = (attempt: number): Record<string, string> => ({
        'Content-Type': 'application/json',
        'X-Signature': signature,
        'Idempotency-Key': event.event_id,
        'X-Ecomgen-Event-Type': event.event_type,
        'X-Ecomgen-Entity': event.entity,
        'X-Ecomgen-Seed': String(this.seed),
        'X-Ecomgen-Sequence': String(event.sequence),
        'X-Ecomgen-Index': String(event.sequence),
        'X-Ecomgen-Attempt': String(attempt),
        ...(event.defect !== undefined ? { 'X-Ecomgen-Defect': event.defect } : {}),
        ...(this.target.authorization ? { Authorization: this.target.authorization } : {}),
      });
      const outcome = await deliver(this.target.url, this.config, body, headers, signal, this.attempts);
      if (outcome.kind === 'cancelled') throw new DeliveryError('stopped while sending', k, bytes);
      if (outcome.kind === 'delivered') {
        bytes += Buffer.byteLength(body);
        continue;
      }
      // Refused for good by the receiver (a 4xx): count it and go on. No answer or 5xx after the
      // sink's retries: an outage, which the stream rides out from this event on.
      if (outcome.answered && / \(not retried\)$/.test(outcome.reason)) {
        refused.set(k, `event ${event.event_id}: ${outcome.reason}`);
        continue;
      }
      throw new DeliveryError(`webhook ${this.destination}: ${outcome.reason}`, k, bytes);
    }
    return { bytes, refused };
  }

  async close(): Promise<void> {}

  details(): Record<string, unknown> {
    return { ...this.stats };
  }
}
