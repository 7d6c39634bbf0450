/**
 * A Secret Manager test peer speaking the REST API the client's `fallback` transport uses:
 * `GET /v1/projects/<p>/secrets/<s>/versions/<v>:access` answers the payload base64-encoded with
 * its CRC-32C, like secretmanager.googleapis.com; unknown secrets get Google's 404 error body.
 * It records every request, so a test can count reads and see that no credentials were sent.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32c } from './crc32c.js';

export interface SecretManagerServer {
  /** http://127.0.0.1:<port> — the value of SECRET_MANAGER_API_ENDPOINT. */
  readonly url: string;
  readonly requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
}

/** Serves `secrets` (full secret names `projects/<p>/secrets/<s>` to their latest payload). */
export async function secretManagerServer(
  t: { teardown: (fn: () => unknown) => void },
  secrets: Readonly<Record<string, string>>,
): Promise<SecretManagerServer> {
  const requests: SecretManagerServer['requests'] = [];
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    requests.push({ method: request.method ?? '', path, headers: request.headers });
    request.resume();
    const send = (status: number, body: object) => {
      response.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8' });
      response.end(JSON.stringify(body));
    };
    const match = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/.exec(decodeURIComponent(path));
    if (request.method !== 'GET' || !match) {
      send(404, { error: { code: 404, message: `no route ${request.method} ${path}`, status: 'NOT_FOUND' } });
      return;
    }
    const [, secret, version] = match as unknown as [string, string, string];
    const payload = secrets[secret];
    if (payload === undefined) {
      send(404, { error: { code: 404, message: `Secret [${secret}] not found or has no versions.`, status: 'NOT_FOUND' } });
      return;
    }
    const bytes = Buffer.from(payload, 'utf8');
    send(200, {
      name: `${secret}/versions/${version === 'latest' ? '1' : version}`,
      payload: { data: bytes.toString('base64'), dataCrc32c: String(crc32c(bytes)) },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}
