/**
 * Avro values for Kafka streams: schemas derived from the entities' TypeBox schemas, registered
 * in a Schema Registry under `<topic>-value`, values in the Confluent wire format (magic byte 0,
 * the 4-byte schema id, the Avro binary), all through @kafkajs/confluent-schema-registry and avsc.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { TSchema } from '@sinclair/typebox';
import type { SchemaRegistryConfig } from '../config.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../generators/registry.js';
import type { FeedEvent } from '../streams/feed-contract.js';
import { NotEncodableError, type ValueEncoder } from './kafka-stream.js';

export const AVRO_NAMESPACE = 'ecomgen';

type AvroType = string | string[] | Record<string, unknown> | AvroType[];

const avroName = (text: string) => text.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([^A-Za-z_])/, '_$1');
const pascal = (text: string) => avroName(text.split(/[^A-Za-z0-9]+/).map((w) => (w[0] ?? '').toUpperCase() + w.slice(1)).join(''));

/** The Avro type of a JSON value described by a TypeBox schema; `name` names nested records. */
export function avroTypeOf(schema: TSchema, name: string): AvroType {
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (anyOf !== undefined) {
    const rest = anyOf.filter((s) => s.type !== 'null');
    const inner = rest.length === 1 ? avroTypeOf(rest[0] as TSchema, name) : 'string';
    return rest.length < anyOf.length ? ['null', inner as string] : inner;
  }
  switch (schema.type) {
    case 'integer':
      return 'long';
    case 'number':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'array':
      return { type: 'array', items: avroTypeOf(schema.items as TSchema, `${name}Item`) };
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, TSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      return {
        type: 'record',
        name: avroName(name),
        fields: Object.entries(properties).map(([field, s]) => {
          const type = avroTypeOf(s, `${name}${pascal(field)}`);
          if (required.has(field)) return { name: field, type };
          return { name: field, type: Array.isArray(type) && type[0] === 'null' ? type : ['null', type], default: null };
        }),
      };
    }
    default:
      return 'string';
  }
}

/** The record name of an entity's row, e.g. `Orders`, `InventoryMovements`. */
export const rowRecordName = (entity: EntityName) => pascal(entity);

/**
 * The Avro schema of one topic's events: the event envelope, with `data` the row of the
 * entity (or a union of the entities, in the order they appeared on the topic).
 */
export function eventAvroSchema(entities: readonly EntityName[]): Record<string, unknown> {
  const rows = entities.map((e) => avroTypeOf(ENTITIES[e].schema as TSchema, rowRecordName(e)));
  return {
    type: 'record',
    name: 'FeedEvent',
    namespace: AVRO_NAMESPACE,
    doc: 'One change-feed event of an ecomgen world: a row after an insert, update or delete.',
    fields: [
      { name: 'event_id', type: 'string' },
      { name: 'event_type', type: 'string' },
      { name: 'event_time', type: 'string', doc: 'ISO 8601 UTC' },
      { name: 'entity', type: 'string' },
      { name: 'key', type: 'string' },
      { name: 'op', type: 'string', doc: 'insert, update or delete' },
      { name: 'sequence', type: 'long' },
      { name: 'data', type: rows.length === 1 ? rows[0] : rows },
      { name: 'defect', type: ['null', 'string'], default: null },
    ],
  };
}

const isEntity = (name: string): name is EntityName => (ENTITY_NAMES as readonly string[]).includes(name);

/**
 * Encodes events as Avro registered per topic. A topic's schema is registered when its first
 * event goes, and registered again (a new version, the union of rows grown by one: backward
 * compatible) when an event of another entity joins the topic.
 */
export class AvroEncoder implements ValueEncoder {
  readonly contentType = 'application/vnd.confluent.avro';
  private client: SchemaRegistry | undefined;
  private readonly topics = new Map<string, { entities: EntityName[]; id: number }>();

  constructor(private readonly config: SchemaRegistryConfig) {}

  /**
   * The registry client, its library loaded on first use: it and its Avro and HTTP libraries
   * add to the start-up of every process that imports the sinks, and most never encode an event.
   */
  private async registry(): Promise<SchemaRegistry> {
    if (!this.client) {
      const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
      this.client ??= new SchemaRegistry({ host: this.config.url, clientId: 'ecomgen', retry: { retries: 2 } });
    }
    return this.client;
  }

  async prepare(): Promise<void> {}

  async encode(topic: string, event: FeedEvent): Promise<Buffer> {
    if (!isEntity(event.entity)) throw new NotEncodableError(`entity '${event.entity}' has no schema`);
    let known = this.topics.get(topic);
    if (known === undefined || !known.entities.includes(event.entity)) {
      const entities = [...(known?.entities ?? []), event.entity];
      const { id } = await (await this.registry()).register({ type: 'AVRO', schema: JSON.stringify(eventAvroSchema(entities)) } as never, { subject: `${topic}-value` });
      known = { entities, id };
      this.topics.set(topic, known);
    }
    const registry = this.client ?? (await this.registry());
    const data = known.entities.length === 1 ? event.data : { [`${AVRO_NAMESPACE}.${rowRecordName(event.entity)}`]: event.data };
    return registry.encode(known.id, {
      event_id: event.event_id,
      event_type: event.event_type,
      event_time: event.event_time,
      entity: event.entity,
      key: event.key,
      op: event.op,
      sequence: event.sequence,
      data,
      defect: event.defect ?? null,
    });
  }

  /** Subjects and schema ids registered by this stream. */
  details(): Record<string, unknown> {
    return { value_format: 'avro', subjects: Object.fromEntries([...this.topics.entries()].map(([topic, { id }]) => [`${topic}-value`, id])) };
  }
}
