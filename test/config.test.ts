/**
 * src/config.ts: a URL our code sends to with `fetch` (STREAM_ENDPOINT) is refused at boot on a
 * port fetch blocks (the Fetch standard's "bad ports": 1, 25, 6667, ...). Such an endpoint was
 * accepted, and every webhook delivery then failed with `fetch failed: bad port` until its
 * retries ran out.
 */
import t from 'tap';
import { ConfigError, FETCH_BAD_PORTS, loadConfig } from '../src/config.js';
import { testApp } from './support/app.js';
import { webhookReceiver } from './support/webhook-receiver.js';

const SECRET = 'config-test-secret-0123456789abcdef';

/** What fetch says about a URL: 'bad port' when it refuses the port, otherwise whatever else went wrong (or 'ok'). */
async function fetchVerdict(url: string): Promise<string> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
    return 'ok';
  } catch (error) {
    const cause = (error as { cause?: { message?: unknown; code?: unknown } }).cause;
    return String(cause?.message === 'bad port' ? 'bad port' : (cause?.code ?? (error as Error).name));
  }
}

t.test('STREAM_ENDPOINT on a port fetch blocks is a ConfigError naming the variable and the port', async (t) => {
  for (const endpoint of ['http://127.0.0.1:1/', 'http://127.0.0.1:6667/hook', 'https://hooks.example.com:25/ecomgen', 'http://user:pw@[::1]:10080/x']) {
    const port = new URL(endpoint).port;
    let caught: unknown;
    try {
      loadConfig({ STREAM_ENDPOINT: endpoint, STREAM_SECRET: SECRET });
    } catch (error) {
      caught = error;
    }
    t.ok(caught instanceof ConfigError, `${endpoint}: a ConfigError`);
    t.equal(
      (caught as Error | undefined)?.message,
      `STREAM_ENDPOINT: port ${port} is blocked by fetch (a "bad port" in the Fetch standard, https://fetch.spec.whatwg.org/#bad-port), so nothing could be sent to '${endpoint.replace('user:pw@', '***@')}'; use another port`,
      `${endpoint}: the message`,
    );
  }
});

t.test('STREAM_ENDPOINT on an allowed port still loads and delivers', async (t) => {
  for (const endpoint of ['http://hooks.example.com/x', 'https://hooks.example.com:443/x', 'http://127.0.0.1:8080/x', 'http://127.0.0.1:6670/x', 'http://127.0.0.1:24/x']) {
    t.equal(loadConfig({ STREAM_ENDPOINT: endpoint, STREAM_SECRET: SECRET }).webhook?.endpoint, endpoint, endpoint);
  }
  // Only STREAM_ENDPOINT is sent to with fetch: the OpenSearch, Schema Registry, GCS and Secret
  // Manager clients use Node's http module (or node-fetch), which has no bad-port list.
  t.equal(loadConfig({ OPENSEARCH_URL: 'http://127.0.0.1:6667' }).opensearch?.node, 'http://127.0.0.1:6667', 'OPENSEARCH_URL is not fetched');
  // A real delivery to a loopback receiver, through the configuration loadConfig read.
  const receiver = await webhookReceiver(t, SECRET);
  const app = await testApp(t, { sinks: loadConfig({ STREAM_ENDPOINT: receiver.url, STREAM_SECRET: SECRET }) });
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook?wait=true', payload: { seed: 1, users: 50, count: 2 } });
  t.equal(response.statusCode, 200, response.body.slice(0, 300));
  t.equal(receiver.accepted().length, 2, 'the receiver accepted both records');
});

t.test("FETCH_BAD_PORTS is the running fetch's list (ports 1 to 11,000)", async (t) => {
  // The broadcast address: fetch checks the port before connecting, so a blocked port says
  // 'bad port' and an allowed one fails at once (ENETUNREACH) without a packet sent. The
  // standard's ports all lie below 11,000.
  const blocked: number[] = [];
  for (let first = 1; first <= 11_000; first += 500) {
    const ports = Array.from({ length: 500 }, (_, i) => first + i);
    const verdicts = await Promise.all(ports.map((port) => fetchVerdict(`http://255.255.255.255:${port}/`)));
    blocked.push(...ports.filter((_, i) => verdicts[i] === 'bad port'));
  }
  t.same(blocked, [...FETCH_BAD_PORTS].sort((a, b) => a - b), `fetch blocks exactly the ${FETCH_BAD_PORTS.size} listed ports`);
});
