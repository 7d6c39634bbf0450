import { Type, type TObject } from '@sinclair/typebox';
import { ENTITIES } from '../generators/registry.js';
import { EVENT_TYPES, EVENT_TYPE_NAMES, type EventType } from './catalogue.js';

/** `order.placed` -> `OrderPlacedEvent`: the $id of the type's schema. */
export function eventSchemaId(type: EventType): string {
  return (
    type
      .split(/[._]/)
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('') + 'Event'
  );
}

const DEFECTS = ['late', 'duplicate', 'bad'] as const;

/**
 * One schema per event type, like one per entity: the envelope with the type, entity and op
 * fixed, and `data` the entity's own schema.
 *
 * @example
 * { "event_id": "ev-1f0c2a9e-42", "event_type": "order.placed", "event_time": "2025-01-03T12:04:11Z", "entity": "orders",
 *   "key": "…", "op": "insert", "sequence": 42, "data": { "order_id": "…", "status": "pending", … } }
 */
export const EventSchemas: readonly TObject[] = EVENT_TYPE_NAMES.map((type) => {
  const info = EVENT_TYPES[type];
  return Type.Object(
    {
      event_id: Type.String({ description: 'Deterministic id: ev-<world fingerprint>-<sequence>; a duplicate delivery repeats it', examples: ['ev-1f0c2a9e-42'] }),
      event_type: Type.Literal(type),
      event_time: Type.String({ format: 'date-time', description: 'When it happened (UTC, second precision)' }),
      entity: Type.Literal(info.entity, { description: 'The entity whose row changes' }),
      key: Type.String({ description: `The row's primary key (${ENTITIES[info.entity].primaryKey})` }),
      op: Type.Literal(info.op),
      sequence: Type.Integer({ minimum: 0, description: 'Position in the whole feed of the world' }),
      data: Type.Ref(ENTITIES[info.entity].schema, { description: 'The whole row after the change' }),
      defect: Type.Optional(Type.Union(DEFECTS.map((d) => Type.Literal(d)), { description: 'Chaos label, only on chaos deliveries' })),
      raw: Type.Optional(Type.String({ description: "Only on a bad delivery of the truncated-line variant: the broken text (NDJSON writes it as the line)" })),
    },
    { $id: eventSchemaId(type), description: info.description, additionalProperties: false },
  );
});

/** Any event of the feed. */
export const FeedEventSchema = Type.Union(
  EventSchemas.map((schema) => Type.Ref(schema)),
  { $id: 'FeedEvent', description: 'An event of the change feed: one of the event types' },
);

/** One chaos delivery, as GET /api/v1/events/defects lists it. */
export const DefectSchema = Type.Object(
  {
    position: Type.Integer({ minimum: 0, description: 'Position of the delivery in the feed response (0-based, every delivery counted, before offset and limit)' }),
    event_id: Type.String(),
    sequence: Type.Integer({ minimum: 0 }),
    event_type: Type.String(),
    event_time: Type.String({ format: 'date-time' }),
    defect: Type.Union(DEFECTS.map((d) => Type.Literal(d))),
    variant: Type.Union([Type.Literal('missing_field'), Type.Literal('wrong_type'), Type.Literal('negative_quantity'), Type.Literal('unknown_enum'), Type.Literal('truncated'), Type.Null()], {
      description: 'For a bad delivery, how it is malformed; null otherwise',
    }),
  },
  { $id: 'EventDefect', description: 'A late, duplicated or malformed delivery', additionalProperties: false },
);
