/**
 * Sink configuration: where records may be sent. It comes only from the server's environment,
 * never from a request (a request names topics, tables or prefixes, not hosts), and it is
 * validated once at boot: a malformed value stops the server with a message naming the
 * variable, while an absent one simply leaves that sink unconfigured.
 */

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface PostgresConfig {
  /** `postgres://user:password@host:port/database` (DATABASE_URL). */
  readonly connectionString: string;
  /** Longest a statement may run, COPY included (PG_STATEMENT_TIMEOUT_MS, default 600,000). */
  readonly statementTimeoutMs?: number;
  /** Longest a statement may wait for a lock (PG_LOCK_TIMEOUT_MS, default 60,000). */
  readonly lockTimeoutMs?: number;
  /** Longest connecting may take (PG_CONNECT_TIMEOUT_MS, default 10,000). */
  readonly connectTimeoutMs?: number;
}

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  /** Longest a batch may go unacknowledged, retries included (KAFKA_SEND_TIMEOUT_MS, default 60,000). */
  readonly sendTimeoutMs?: number;
}

export interface GcsConfig {
  readonly bucket: string;
  readonly projectId?: string;
  /** An emulator or private endpoint (GCS_API_ENDPOINT); credentials are not sent to it. */
  readonly apiEndpoint?: string;
  /** Longest an upload may go without GCS accepting a byte (GCS_STALL_TIMEOUT_MS, default 120,000). */
  readonly stallTimeoutMs?: number;
}

/** Where the webhook secret lives in Google Secret Manager (SECRET_ID). */
export interface SecretManagerConfig {
  /** A secret id (in GOOGLE_CLOUD_PROJECT), `projects/<p>/secrets/<s>` or a full version name. */
  readonly secretId: string;
  readonly projectId?: string;
  /** An emulator or private endpoint (SECRET_MANAGER_API_ENDPOINT); credentials are not sent to it. */
  readonly apiEndpoint?: string;
}

export interface WebhookConfig {
  readonly endpoint: string;
  /** STREAM_SECRET; absent when SECRET_ID names it (then read it with webhookSecret()). */
  readonly secret?: string;
  /** SECRET_ID: the secret is read from Secret Manager on first use (STREAM_SECRET wins when both are set). */
  readonly secretManager?: SecretManagerConfig;
  /** Largest `count` one request may ask for (STREAM_MAX_COUNT, default 1,000). */
  readonly maxCount: number;
  /** Per-attempt timeout (STREAM_TIMEOUT_MS, default 10,000). */
  readonly timeoutMs: number;
  /** Retries after the first attempt for 5xx, 429 and network errors (STREAM_RETRIES, default 5). */
  readonly retries: number;
  /** First retry delay, doubled per retry (STREAM_BACKOFF_MS, default 250). */
  readonly backoffMs: number;
}

export interface OpenSearchConfig {
  readonly node: string;
  readonly auth?: { readonly username: string; readonly password: string };
}

/** A Confluent-compatible Schema Registry, for Avro streams (SCHEMA_REGISTRY_URL). */
export interface SchemaRegistryConfig {
  readonly url: string;
}

export interface SinkConfig {
  /** When set, every POST and DELETE must carry `Authorization: Bearer <API_KEY>`. */
  readonly apiKey?: string;
  readonly postgres?: PostgresConfig;
  readonly kafka?: KafkaConfig;
  readonly gcs?: GcsConfig;
  readonly webhook?: WebhookConfig;
  readonly opensearch?: OpenSearchConfig;
  readonly schemaRegistry?: SchemaRegistryConfig;
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * An integer variable from `min` to `max`, or `fallback` when it is unset or empty; a
 * ConfigError naming it otherwise. The server (src/server.ts) and the command line read their
 * numeric settings through it, so both refuse the same values with the same words.
 */
export function intFromEnv(name: string, fallback: number, min: number, max: number, env: Env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const parsed = Number(raw);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new ConfigError(`${name}=${raw} is invalid: expected an integer from ${min} to ${max}`);
  return parsed;
}

const value = (env: Env, name: string): string | undefined => {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
};

/**
 * A value as an error message may show it: the `user:password@` of a URL or broker address
 * becomes `***@` (parsed or not: a malformed URL may still carry a password), and a long value
 * is cut at 100 characters.
 */
export function redact(raw: string): string {
  const hidden = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#\s]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
  return hidden.length > 100 ? `${hidden.slice(0, 100)}…` : hidden;
}

/**
 * The ports `fetch` refuses to connect to: the Fetch standard's "bad port" list
 * (https://fetch.spec.whatwg.org/#bad-port, as of the 2024 addition of 4190 and 6679), which
 * Node's fetch (undici) enforces with `TypeError: fetch failed` caused by `bad port`, before any
 * connection. Node does not export the list, so it is kept here; a test checks it against the
 * running fetch.
 */
export const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123,
  135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995,
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * A URL from the environment, checked for its protocol. `fetched`: our code sends to it with
 * `fetch`, which would refuse a bad port on every request (a webhook then retried `bad port`
 * until its retries ran out), so such a port is refused at boot instead.
 */
function url(env: Env, name: string, protocols: readonly string[], { fetched = false } = {}): string | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: '${redact(raw)}' is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name}: expected a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL, got '${parsed.protocol}'`);
  }
  // `port` is '' for the scheme's default (80, 443), which fetch always allows.
  if (fetched && FETCH_BAD_PORTS.has(Number(parsed.port))) {
    throw new ConfigError(`${name}: port ${parsed.port} is blocked by fetch (a "bad port" in the Fetch standard, https://fetch.spec.whatwg.org/#bad-port), so nothing could be sent to '${redact(raw)}'; use another port`);
  }
  return raw;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}: '${redact(raw)}' is not an integer from ${min} to ${max}`);
  return n;
}

/** `{ [key]: n }` when the variable is set (the sink keeps its own default otherwise), else `{}`. */
function optionalInteger<K extends string>(env: Env, name: string, key: K, min: number, max: number): Partial<Record<K, number>> {
  return value(env, name) === undefined ? {} : ({ [key]: integer(env, name, 0, min, max) } as Record<K, number>);
}

function flag(env: Env, name: string): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name}: expected true or false, got '${redact(raw)}'`);
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

function kafka(env: Env): KafkaConfig | undefined {
  const raw = value(env, 'KAFKA_BROKERS');
  if (raw === undefined) return undefined;
  const brokers = raw.split(',').map((b) => b.trim()).filter((b) => b !== '');
  const bad = brokers.find((b) => !HOST_PORT.test(b) || Number(b.slice(b.lastIndexOf(':') + 1)) > 65535);
  if (brokers.length === 0 || bad !== undefined) {
    throw new ConfigError(`KAFKA_BROKERS: expected a comma-separated list of host:port${bad ? `, got '${redact(bad)}'` : ''}`);
  }
  const mechanism = value(env, 'KAFKA_SASL_MECHANISM')?.toLowerCase();
  let sasl: KafkaConfig['sasl'];
  if (mechanism !== undefined) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new ConfigError(`KAFKA_SASL_MECHANISM: expected plain, scram-sha-256 or scram-sha-512, got '${redact(mechanism)}'`);
    }
    const username = value(env, 'KAFKA_SASL_USERNAME');
    const password = value(env, 'KAFKA_SASL_PASSWORD');
    if (username === undefined) throw new ConfigError('KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM');
    if (password === undefined) throw new ConfigError('KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM');
    sasl = { mechanism, username, password };
  }
  const sendTimeout = optionalInteger(env, 'KAFKA_SEND_TIMEOUT_MS', 'sendTimeoutMs', 1, 3_600_000);
  return { brokers, clientId: value(env, 'KAFKA_CLIENT_ID') ?? 'ecomgen', ssl: flag(env, 'KAFKA_SSL'), ...sendTimeout, ...(sasl ? { sasl } : {}) };
}

/** GCS bucket names: 3-63 characters (up to 222 with dots), lowercase letters, digits, -, _ and dots. */
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

function gcs(env: Env): GcsConfig | undefined {
  const gcsBucket = value(env, 'GCS_BUCKET');
  const batchBucket = value(env, 'BATCH_BUCKET');
  if (gcsBucket && batchBucket && gcsBucket !== batchBucket) {
    throw new ConfigError(`GCS_BUCKET ('${gcsBucket}') and BATCH_BUCKET ('${batchBucket}') disagree; set one of them`);
  }
  const bucket = gcsBucket ?? batchBucket;
  if (bucket === undefined) return undefined;
  const name = gcsBucket ? 'GCS_BUCKET' : 'BATCH_BUCKET';
  if (!BUCKET.test(bucket)) throw new ConfigError(`${name}: '${bucket}' is not a valid bucket name`);
  const projectId = value(env, 'GOOGLE_CLOUD_PROJECT');
  const apiEndpoint = url(env, 'GCS_API_ENDPOINT', ['http:', 'https:']);
  return {
    bucket,
    ...(projectId ? { projectId } : {}),
    ...(apiEndpoint ? { apiEndpoint } : {}),
    ...optionalInteger(env, 'GCS_STALL_TIMEOUT_MS', 'stallTimeoutMs', 1, 3_600_000),
  };
}

function webhook(env: Env): WebhookConfig | undefined {
  // Sent to with fetch (src/sinks/webhook.ts).
  const endpoint = url(env, 'STREAM_ENDPOINT', ['http:', 'https:'], { fetched: true });
  const secret = value(env, 'STREAM_SECRET');
  const secretId = value(env, 'SECRET_ID');
  if (endpoint === undefined) {
    // A key without the webhook it signs for is a mistake in the environment, not a setting to ignore.
    if (secret !== undefined) throw new ConfigError('STREAM_ENDPOINT: required with STREAM_SECRET');
    if (secretId !== undefined) throw new ConfigError('STREAM_ENDPOINT: required with SECRET_ID (the webhook key it names is only read for the webhook)');
    return undefined;
  }
  if (secret === undefined && secretId === undefined) {
    throw new ConfigError('STREAM_SECRET: required with STREAM_ENDPOINT (every request is signed with it), or SECRET_ID naming it in Secret Manager');
  }
  let secretManager: SecretManagerConfig | undefined;
  if (secret === undefined && secretId !== undefined) {
    const projectId = value(env, 'GOOGLE_CLOUD_PROJECT');
    if (!/^projects\//.test(secretId) && projectId === undefined) {
      throw new ConfigError(`GOOGLE_CLOUD_PROJECT: required with SECRET_ID '${secretId}' (or give SECRET_ID as projects/<project>/secrets/<secret>)`);
    }
    if (!/^(projects\/[^/]+\/secrets\/)?[A-Za-z0-9_-]{1,255}(\/versions\/(latest|[0-9]+))?$/.test(secretId)) {
      throw new ConfigError(`SECRET_ID: '${secretId}' is not a secret id (letters, digits, _ and -) or projects/<project>/secrets/<secret>[/versions/<version>]`);
    }
    const apiEndpoint = url(env, 'SECRET_MANAGER_API_ENDPOINT', ['http:', 'https:']);
    secretManager = { secretId, ...(projectId ? { projectId } : {}), ...(apiEndpoint ? { apiEndpoint } : {}) };
  }
  return {
    endpoint,
    ...(secret !== undefined ? { secret } : {}),
    ...(secretManager ? { secretManager } : {}),
    maxCount: integer(env, 'STREAM_MAX_COUNT', 1000, 1, 10_000_000),
    timeoutMs: integer(env, 'STREAM_TIMEOUT_MS', 10_000, 1, 600_000),
    retries: integer(env, 'STREAM_RETRIES', 5, 0, 20),
    backoffMs: integer(env, 'STREAM_BACKOFF_MS', 250, 0, 60_000),
  };
}

function opensearch(env: Env): OpenSearchConfig | undefined {
  const node = url(env, 'OPENSEARCH_URL', ['http:', 'https:']);
  const username = value(env, 'OPENSEARCH_USERNAME');
  const password = value(env, 'OPENSEARCH_PASSWORD');
  if (node === undefined) return undefined;
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(`${username === undefined ? 'OPENSEARCH_USERNAME' : 'OPENSEARCH_PASSWORD'}: required with ${username === undefined ? 'OPENSEARCH_PASSWORD' : 'OPENSEARCH_USERNAME'}`);
  }
  return { node, ...(username !== undefined && password !== undefined ? { auth: { username, password } } : {}) };
}

/**
 * CORS_ORIGINS: a comma-separated list of origins (`https://app.example.com`) allowed to call the
 * API from a browser, or `*` (the default) for any.
 */
export function loadCorsOrigins(env: Env = process.env): string[] {
  const raw = value(env, 'CORS_ORIGINS');
  if (raw === undefined) return ['*'];
  const origins = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) throw new ConfigError(`CORS_ORIGINS: '${redact(origin)}' is not an origin (scheme://host[:port], no path)`);
  }
  return origins.length === 0 ? ['*'] : origins;
}

/** Reads and validates the sink configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): SinkConfig {
  const connectionString = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const apiKey = value(env, 'API_KEY');
  const config: SinkConfig = {
    ...(apiKey ? { apiKey } : {}),
    ...(connectionString
      ? {
          postgres: {
            connectionString,
            ...optionalInteger(env, 'PG_STATEMENT_TIMEOUT_MS', 'statementTimeoutMs', 1, 86_400_000),
            ...optionalInteger(env, 'PG_LOCK_TIMEOUT_MS', 'lockTimeoutMs', 1, 86_400_000),
            ...optionalInteger(env, 'PG_CONNECT_TIMEOUT_MS', 'connectTimeoutMs', 1, 600_000),
          },
        }
      : {}),
  };
  const registryUrl = url(env, 'SCHEMA_REGISTRY_URL', ['http:', 'https:']);
  const sections = { kafka: kafka(env), gcs: gcs(env), webhook: webhook(env), opensearch: opensearch(env), schemaRegistry: registryUrl ? { url: registryUrl } : undefined };
  for (const [key, section] of Object.entries(sections)) {
    if (section) Object.assign(config, { [key]: section });
  }
  return config;
}
