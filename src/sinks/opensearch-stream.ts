/**
 * The OpenSearch writer of streams: each event's row indexed into a daily index
 * (`<index_prefix>-<entity>-YYYY.MM.DD` by the event's time, UTC), created on first use with the
 * entity's strict mapping (the sink's index code), `_id` the row's key so re-delivery
 * overwrites instead of duplicating, and the feed sequence as the document's external version,
 * so a late event (or a duplicate after a newer change of its row) never replaces a newer row:
 * OpenSearch answers 409, counted as delivered and `stale`. Meant for live performance events
 * with incidents, for the observability demo; any event type works.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { OpenSearchConfig } from '../config.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../generators/registry.js';
import { indexMappingOf } from '../schemas/mapping.js';
import type { FeedEvent } from '../streams/feed-contract.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../streams/writer.js';
import { destinationOf, ensureIndex } from './opensearch.js';
import { openSearchErrors as errors, openSearchLibrary } from './opensearch-client.js';
import { messageOf } from './progress.js';

export const DEFAULT_STREAM_INDEX_PREFIX = 'ecomgen-stream';

const isEntity = (name: string): name is EntityName => (ENTITY_NAMES as readonly string[]).includes(name);

/**
 * The daily index of an event: `<prefix>-<entity>-2026.11.30`. One per entity, since each has its
 * own strict mapping (an index pattern `<prefix>-performance-events-*` covers the days).
 */
export function dailyIndexOf(event: FeedEvent, prefix = DEFAULT_STREAM_INDEX_PREFIX): string {
  return `${prefix}-${event.entity.replaceAll('/', '-')}-${event.event_time.slice(0, 10).replaceAll('-', '.')}`;
}

/** Whole-request answers worth sending again (the cluster is busy or restarting). */
const RETRYABLE = new Set([429, 502, 503, 504]);

export class OpenSearchStreamWriter implements StreamWriter {
  readonly destination: string;
  /** Made by {@link open} (which loads the client library), as every writer is opened before use. */
  private connection: Client | undefined;
  private readonly ready = new Set<string>();
  private readonly counts = new Map<string, number>();
  private stale = 0;

  constructor(
    private readonly config: OpenSearchConfig,
    private readonly prefix: string = DEFAULT_STREAM_INDEX_PREFIX,
  ) {
    this.destination = `${destinationOf(config.node)} ${prefix}-<entity>-YYYY.MM.DD`;
  }

  private get client(): Client {
    if (!this.connection) throw new Error('OpenSearch: the writer is not open');
    return this.connection;
  }

  async open(): Promise<void> {
    const { Client } = await openSearchLibrary();
    this.connection ??= new Client({
      node: this.config.node,
      ...(this.config.auth ? { auth: { username: this.config.auth.username, password: this.config.auth.password } } : {}),
      maxRetries: 0,
      requestTimeout: 30_000,
      resurrectStrategy: 'none',
    });
    try {
      await this.client.info({}, { requestTimeout: 5000 });
    } catch (error) {
      throw new Error(`OpenSearch: cannot reach ${this.destination}: ${messageOf(error)}`);
    }
  }

  async write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    const refused = new Map<number, string>();
    const lines: string[] = [];
    const positions: number[] = [];
    const sizes: number[] = [];
    try {
      for (const [k, event] of batch.entries()) {
        if (!isEntity(event.entity) || event.defect === 'bad' || event.op === 'delete') {
          refused.set(k, `event ${event.event_id}: ${event.defect === 'bad' ? 'malformed' : event.op === 'delete' ? 'a delete' : `entity '${event.entity}'`}, not indexed`);
          continue;
        }
        const index = dailyIndexOf(event, this.prefix);
        if (!this.ready.has(index)) {
          await ensureIndex(this.client, index, indexMappingOf(ENTITIES[event.entity].schema));
          this.ready.add(index);
        }
        const action = JSON.stringify({ index: { _index: index, _id: event.key, version: event.sequence, version_type: 'external' } });
        const source = JSON.stringify(event.data);
        lines.push(action, source);
        positions.push(k);
        sizes.push(Buffer.byteLength(action) + Buffer.byteLength(source) + 2);
      }
      if (lines.length === 0) return { bytes: 0, refused };
      const response = await this.client.bulk({ body: `${lines.join('\n')}\n` } as never);
      const items = (response.body as { items: Record<string, { status: number; _index?: string; error?: { type?: string; reason?: string } }>[] }).items;
      let bytes = 0;
      const busy: number[] = [];
      items.forEach((entry, n) => {
        const item = Object.values(entry)[0];
        const k = positions[n] as number;
        if (item !== undefined && item.status >= 200 && item.status < 300) {
          bytes += sizes[n] as number;
          if (item._index) this.counts.set(item._index, (this.counts.get(item._index) ?? 0) + 1);
        } else if (item?.status === 409 && item.error?.type === 'version_conflict_engine_exception') {
          // The index holds this change or a newer one of the row: acknowledged, nothing to do.
          this.stale++;
        } else if (item?.status === 429) busy.push(k);
        else refused.set(k, `event ${batch[k]?.event_id}: ${item?.status ?? '?'} ${item?.error?.type ?? 'error'}: ${item?.error?.reason ?? ''}`.trim());
      });
      if (busy.length > 0) {
        // Documents the cluster was too busy for: an outage of those. Indexing is idempotent by _id, so the batch is sent again whole.
        throw new DeliveryError(`OpenSearch: ${busy.length} documents rejected with 429`);
      }
      return { bytes, refused };
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      const status = error instanceof errors().ResponseError ? error.statusCode : undefined;
      const retriable = status === undefined || RETRYABLE.has(status);
      throw new DeliveryError(`OpenSearch: ${messageOf(error)}`, 0, 0, retriable);
    }
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }

  details(): Record<string, unknown> {
    return { indices: Object.fromEntries([...this.counts.entries()].sort()), stale: this.stale };
  }
}
