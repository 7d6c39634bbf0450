/**
 * Waits raced against a job's cancel leave no listener behind (src/sinks/retry.ts
 * unlessAborted): the Kafka sink added one to the job's signal per batch and kept it until the
 * job ended, so a long job piled them up (Node warned from the eleventh).
 */
import { getEventListeners } from 'node:events';
import t from 'tap';
import { unlessAborted } from '../../src/sinks/retry.js';
import { testApp } from '../support/app.js';
import { KafkaTestBroker } from '../support/kafka-broker.js';

t.test('unlessAborted: the work\'s value, undefined on cancel, and no listener left either way', async (t) => {
  const controller = new AbortController();
  for (let k = 0; k < 50; k++) t.equal(await unlessAborted(Promise.resolve(k), controller.signal), k);
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'none after 50 waits that ended by their work');
  await t.rejects(unlessAborted(Promise.reject(new Error('send failed')), controller.signal), /send failed/, 'a failure still throws');
  t.equal(getEventListeners(controller.signal, 'abort').length, 0);

  const never = new Promise<number>(() => undefined);
  const waiting = unlessAborted(never, controller.signal);
  t.equal(getEventListeners(controller.signal, 'abort').length, 1, 'one while it waits');
  controller.abort();
  t.equal(await waiting, undefined, 'a cancel ends the wait');
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'and takes its listener');
  t.equal(await unlessAborted(Promise.resolve(1), controller.signal), undefined, 'already cancelled: at once');
});

t.test('a Kafka job of many batches warns of no listener leak and delivers every record', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'ecomgen-test', ssl: false } } });
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));

  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka?wait=true', payload: { seed: 7, entity: 'users', limit: 600, batch_size: 20, topic: 'many.batches' } });
  t.equal(response.statusCode, 200, response.body);
  const job = response.json() as { state: string; records: number; failed: number };
  t.same([job.state, job.records, job.failed], ['succeeded', 600, 0], '30 batches of 20, all delivered');
  t.equal(broker.recordCount('many.batches'), 600);
  // Warnings are emitted on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  t.same(warnings.filter((w) => w.includes('MaxListeners')), [], 'no MaxListenersExceededWarning');
});
