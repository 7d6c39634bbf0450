/** The JSON of a stream (`GET /api/v1/streams/{id}`, and among the jobs of `GET /api/v1/jobs`). */
import { Type } from '@sinclair/typebox';
import { OneOf } from '../schemas/common.js';

export const StreamSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Type.Literal('stream', { description: 'A stream (GET /api/v1/jobs lists sink jobs and streams)' }),
    sink: OneOf(['kafka', 'webhook', 'postgres', 'opensearch'] as const, 'The sink'),
    mode: OneOf(['live', 'replay'] as const, 'The clock'),
    state: OneOf(['running', 'stopping', 'succeeded', 'partial', 'failed', 'cancelled'] as const, 'succeeded: ended (duration, max_events or end of the feed) with every event delivered; partial: ended with failed events; failed: could not start or stopped on an error; cancelled: stopped by DELETE or shutdown'),
    seed: Type.Integer(),
    destination: Type.String({ description: 'Where events go (no credentials)' }),
    created_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    running_seconds: Type.Number(),
    delivered: Type.Integer({ description: 'Events the destination acknowledged' }),
    failed: Type.Integer({ description: 'Events given up on (refused, or still undelivered after the retries of an outage)' }),
    bytes: Type.Integer(),
    batches: Type.Integer(),
    retries: Type.Integer({ description: 'Batches sent again during outages' }),
    events_per_second: Type.Number({ description: 'Delivered over the last 10 s' }),
    average_events_per_second: Type.Number(),
    lag_seconds: Type.Number({ description: 'How far behind its due time the next event is (0 when keeping up)' }),
    max_lag_seconds: Type.Number(),
    outage: Type.Boolean({ description: 'Retrying a destination outage right now' }),
    last_event_time: Type.Union([Type.String(), Type.Null()]),
    last_sequence: Type.Union([Type.Integer(), Type.Null()]),
    by_type: Type.Record(Type.String(), Type.Object({ delivered: Type.Integer(), failed: Type.Integer() }), { description: 'Per event type' }),
    defects: Type.Object({ late: Type.Integer(), duplicate: Type.Integer(), bad: Type.Integer() }, { description: 'Delivered events labelled by chaos' }),
    stop_reason: Type.Union([OneOf(['duration', 'max_events', 'end_of_feed', 'cancelled', 'failed'] as const, 'Why it ended'), Type.Null()]),
    errors: Type.Array(Type.String(), { description: 'Error messages (the first 50)' }),
    error_count: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the stream failed' }),
    details: Type.Object({}, { additionalProperties: true, description: 'Destination facts, e.g. kafka: topics with partitions and messages' }),
    request: Type.Object({}, { additionalProperties: true, description: 'The request as validated, defaults applied' }),
  },
  { $id: 'Stream', additionalProperties: false },
);
