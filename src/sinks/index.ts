import { postgresSink } from './postgres.js';
import { kafkaSink } from './kafka.js';
import { gcsSink } from './gcs.js';
import { webhookSink } from './webhook.js';
import { opensearchSink } from './opensearch.js';
import type { SinkDefinition, SinkName } from './types.js';

/** A sink of any configuration section and options, as the routes handle them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySink = SinkDefinition<any, any>;

/** Every sink, by the name in its URL: `POST /api/v1/sinks/<name>`. */
export const SINKS: Readonly<Record<SinkName, AnySink>> = {
  postgres: postgresSink,
  kafka: kafkaSink,
  gcs: gcsSink,
  webhook: webhookSink,
  opensearch: opensearchSink,
};
