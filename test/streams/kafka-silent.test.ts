/**
 * A stream into a Kafka broker that stops answering can still be stopped: each batch waits at
 * most KAFKA_SEND_TIMEOUT_MS for its acknowledgement (as a sink job's does) and the disconnect is
 * bounded. It could not before: kafkajs takes no signal, so the stop waited on its own timeouts
 * and retries (minutes), DELETE left the stream `stopping`, and closing the server hung.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { testApp } from '../support/app.js';
import { KafkaTestBroker } from '../support/kafka-broker.js';

t.test('a replay stream into a broker gone silent stops on DELETE, the unacknowledged batch counted failed', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  // DELETE waits up to 8 s for the end (30 s by default) before answering 202.
  const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'ecomgen-test', ssl: false, sendTimeoutMs: 500 } }, cancelWaitMs: 8000 });
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', mode: 'replay', seed: 7, scale: 0.02, speed: 'max', batch_size: 100 } });
  t.equal(started.statusCode, 202, started.body);
  const id = (started.json() as { id: string }).id;
  while (broker.recordCount() === 0) await sleep(10);
  broker.silentProduce = true;
  const before = broker.recordCount();
  // A batch is with the silent broker before the stop is asked.
  const produced = broker.requestCounts.get(0) ?? 0;
  while ((broker.requestCounts.get(0) ?? 0) === produced) await sleep(10);

  const stopped = await app.inject({ method: 'DELETE', url: `/api/v1/streams/${id}` });
  t.equal(stopped.statusCode, 200, 'the answer is the ended stream');
  const stream = stopped.json() as { state: string; delivered: number; failed: number };
  t.equal(stream.state, 'cancelled');
  t.ok(stream.failed > 0, `the batch the broker never acknowledged is counted failed (${stream.failed})`);
  t.equal(stream.delivered, before, 'delivered = what the broker holds');
  t.equal(broker.recordCount(), before, 'nothing arrived after it went silent');
});
