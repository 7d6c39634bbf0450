/** What the sink tests read back from the jobs API, and the small helpers they share. */
import { createServer, type AddressInfo } from 'node:net';
import type { EntityName } from '../../src/generators/registry.js';

/** One entity of a job as `GET /api/v1/jobs/{id}` shows it; sinks add their own details. */
export interface EntityProgressJson {
  entity: EntityName;
  state: string;
  destination: string | null;
  planned: number;
  records: number;
  bytes: number;
  failed: number;
  error: string | null;
}

/** A job as the jobs API returns it, with the entity and result shapes of one sink. */
export interface JobJson<E extends EntityProgressJson = EntityProgressJson, R = Record<string, unknown>> {
  id: string;
  sink: string;
  state: string;
  seed: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  records: number;
  bytes: number;
  failed: number;
  entities: E[];
  errors: string[];
  error_count: number;
  result: R;
  request: Record<string, unknown>;
}

/** A loopback port nothing listens on (bound, then released): an unreachable destination. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
