import type { SecretManagerConfig, WebhookConfig } from '../config.js';

/**
 * The full version name of a SECRET_ID: `projects/<p>/secrets/<s>/versions/<v>` as given,
 * `projects/<p>/secrets/<s>` at its latest version, or a bare secret id in GOOGLE_CLOUD_PROJECT.
 */
export function secretVersionName(config: SecretManagerConfig): string {
  const { secretId, projectId } = config;
  if (/^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/.test(secretId)) return secretId;
  if (/^projects\/[^/]+\/secrets\/[^/]+$/.test(secretId)) return `${secretId}/versions/latest`;
  return `projects/${projectId ?? ''}/secrets/${secretId}/versions/latest`;
}

/** A custom endpoint (an emulator or a private endpoint) as client options: host, port and protocol. */
function endpointOptions(apiEndpoint: string): { apiEndpoint: string; port: number; protocol: string } {
  const url = new URL(apiEndpoint);
  const protocol = url.protocol.replace(':', '');
  return { apiEndpoint: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}

/**
 * Reads a secret's payload from Google Secret Manager with `@google-cloud/secret-manager` over
 * its REST transport (`fallback`). Credentials follow the GCS sink's rules: with a custom
 * endpoint (SECRET_MANAGER_API_ENDPOINT) none are sent; otherwise Application Default
 * Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server).
 *
 * @example
 * await readSecret({ secretId: 'playground_project_stream_secret', projectId: 'my-project' });
 */
export async function readSecret(config: SecretManagerConfig): Promise<string> {
  // Loaded on first use: the client libraries add about half a second of start-up to every
  // process that imports the sinks (the server, each CLI command, each test file) and never reads a secret.
  const [{ SecretManagerServiceClient }, { PassThroughClient }] = await Promise.all([import('@google-cloud/secret-manager'), import('google-auth-library')]);
  const client = new SecretManagerServiceClient({
    fallback: true,
    ...(config.projectId ? { projectId: config.projectId } : {}),
    ...(config.apiEndpoint ? { ...endpointOptions(config.apiEndpoint), authClient: new PassThroughClient() } : {}),
  });
  const name = secretVersionName(config);
  try {
    const [version] = await client.accessSecretVersion({ name });
    const data = version.payload?.data;
    if (data === undefined || data === null) throw new Error('the secret version has no payload');
    const secret = typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data).toString('utf8');
    if (secret === '') throw new Error('the secret is empty');
    return secret;
  } catch (error) {
    throw new Error(`cannot read the webhook secret ${name} from Secret Manager (SECRET_ID): ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** One read per configuration: the secret is fetched on first use, then kept (a failed read is retried next time). */
const secrets = new WeakMap<WebhookConfig, Promise<string>>();

/** The webhook's signing secret: STREAM_SECRET as configured, or the SECRET_ID secret, read once on first use. */
export function webhookSecret(config: WebhookConfig): Promise<string> {
  if (config.secret !== undefined) return Promise.resolve(config.secret);
  const source = config.secretManager;
  if (!source) return Promise.reject(new Error('the webhook has neither STREAM_SECRET nor SECRET_ID'));
  let secret = secrets.get(config);
  if (!secret) {
    secret = readSecret(source);
    secrets.set(config, secret);
    secret.catch(() => secrets.delete(config));
  }
  return secret;
}
