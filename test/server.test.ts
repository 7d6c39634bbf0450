/**
 * The server process shuts down gracefully whatever it is doing: SIGTERM while a large download
 * streams to a client that stopped reading and a Kafka job waits on a broker that never
 * answers. The process exits 0 (closed within its grace period; close-with-grace exits 1 past
 * it), the job ends cancelled and the download's connection is ended. Before that, the abuse
 * cases of issue 10 are refused and the process (512 MB of heap) lives on.
 */
import { spawn } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { closedPort } from './support/jobs.js';
import { KafkaTestBroker } from './support/kafka-broker.js';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));

t.test('SIGTERM under load: jobs cancelled, streams ended, exit 0 within the grace period', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  broker.silentProduce = true;
  const port = await closedPort();
  const child = spawn(process.execPath, ['--import', 'tsx', '--max-old-space-size=512', SERVER], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '6000', KAFKA_BROKERS: broker.address },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Past the grace period and a margin, the test stops the child itself and fails.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
  t.teardown(() => {
    clearTimeout(watchdog);
    child.kill('SIGKILL');
  });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  const listening = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (String(entry.msg).startsWith('Server listening')) resolve();
        } catch {
          // not a log line
        }
      }
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await listening;

  const call = (method: string, path: string, body?: object) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, resolve);
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  const text = async (res: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  // The abuse cases of issue 10 against the real process (512 MB heap): refused at once, and it lives on.
  for (const path of ['/api/v1/analytics/users?users=1000000000&limit=1', '/api/v1/order-items?orders=1000000000&limit=1', '/api/v1/manifest?scale=10000']) {
    const res = await call('GET', path);
    t.equal(res.statusCode, 422, path);
    t.equal((JSON.parse(await text(res)) as { code: string }).code, 'COST_BUDGET_EXCEEDED');
  }
  const big = await call('GET', '/api/v1/users?users=1000000000&limit=1&offset=999999999');
  t.equal(big.statusCode, 200, 'a billion users: the last one is served');
  t.equal(big.headers['x-total-count'], '1000000000');
  await text(big);

  // A large download whose client reads one chunk and then stops reading.
  const download = await call('GET', '/api/v1/clickstream?seed=3&limit=1000000&format=csv');
  t.equal(download.statusCode, 200);
  download.once('data', () => download.pause());
  download.on('error', () => undefined);
  // A Kafka job stuck on a broker that never answers.
  const posted = await call('POST', '/api/v1/sinks/kafka', { seed: 3, users: 2000, entity: 'users', topic: 'stuck' });
  t.equal(posted.statusCode, 202);
  const job = JSON.parse(await text(posted)) as { id: string };
  while ((broker.requestCounts.get(0) ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const health = await call('GET', '/health');
  t.equal(health.statusCode, 200, '/health answers while both are in flight');
  await text(health);

  child.kill('SIGTERM');
  const { code, signal } = await exited;
  t.same({ code, signal }, { code: 0, signal: null }, 'exited 0: closed within the grace period');
  // Reading on, the client finds its download cut short: the server ended the stream.
  download.resume();
  await new Promise((resolve) => {
    download.on('close', resolve);
    download.on('end', resolve);
  });
  t.equal(download.complete, false, 'the download was ended by the server, incomplete');
  const ended = lines.find((l) => l.job === job.id && l.msg === 'sink job ended');
  t.equal(ended?.state, 'cancelled', 'the running job was cancelled');
  t.ok(lines.some((l) => l.msg === 'closed'), 'the server logged that it closed');
});
