import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the receiver, verified or not. */
export interface Delivery {
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  /** Whether X-Signature is the hex HMAC-SHA512 of the body under the receiver's secret. */
  readonly verified: boolean;
  readonly key: string | undefined;
  /** X-Ecomgen-Index as a number (NaN when absent). */
  readonly index: number;
  /** 1 for the first request carrying this Idempotency-Key, 2 for its first retry, ... */
  readonly attempt: number;
  /** What the receiver did: an HTTP status, 'hang' (never answered) or 'destroy' (socket closed). */
  reply: Reply;
}

/** An HTTP status to answer with, 'hang' to never answer, or 'destroy' to close the socket unanswered. */
export type Reply = number | 'hang' | 'destroy';

/** Decides how to answer a delivery; undefined answers 200 (401 when the signature is wrong). */
export type Script = (delivery: Delivery) => Reply | undefined;

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>/hooks/ecomgen */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly deliveries: Delivery[];
  /** Deliveries answered 2xx: what the receiver accepted. */
  accepted(): Delivery[];
  /** Replaceable while running. */
  script: Script;
}

/** Answers 503 to the first `times` attempts of each record whose index is in `indexes`. */
export const failFirst =
  (times: number, indexes: readonly number[], status = 503): Script =>
  (d) =>
    indexes.includes(d.index) && d.attempt <= times ? status : undefined;

/** Answers `status` to every attempt of the records in `indexes`. */
export const always =
  (reply: Reply, indexes: readonly number[]): Script =>
  (d) =>
    indexes.includes(d.index) ? reply : undefined;

/** The first script with an opinion wins. */
export const scripts =
  (...list: Script[]): Script =>
  (d) => {
    for (const script of list) {
      const reply = script(d);
      if (reply !== undefined) return reply;
    }
    return undefined;
  };

function verify(body: Buffer, signature: string | string[] | undefined, secret: string): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return false;
  const expected = createHmac('sha512', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/**
 * A webhook endpoint for tests: verifies each X-Signature, keeps every body, and answers as a
 * script says (statuses, never answering, closing the socket) so retries, timeouts and
 * network errors can be provoked on chosen records. Listens on a free loopback port; closed,
 * open connections included, when the test ends.
 */
export async function webhookReceiver(
  t: { teardown: (fn: () => unknown) => void },
  secret: string,
  script: Script = () => undefined,
): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const attempts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const key = header('idempotency-key');
      const attempt = (attempts.get(key ?? '') ?? 0) + 1;
      attempts.set(key ?? '', attempt);
      const verified = verify(raw, request.headers['x-signature'], secret);
      const delivery: Delivery = { body: raw.toString('utf8'), headers: request.headers, verified, key, index: Number(header('x-ecomgen-index')), attempt, reply: 200 };
      delivery.reply = receiver.script(delivery) ?? (verified ? 200 : 401);
      deliveries.push(delivery);
      if (delivery.reply === 'hang') {
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
      } else if (delivery.reply === 'destroy') {
        request.socket.destroy();
      } else {
        response.writeHead(delivery.reply, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ received: delivery.reply < 300, verified }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks/ecomgen`,
    deliveries,
    accepted: () => deliveries.filter((d) => typeof d.reply === 'number' && d.reply >= 200 && d.reply < 300),
    script,
  };
  return receiver;
}

