/**
 * A Confluent Schema Registry test peer: the REST endpoints @kafkajs/confluent-schema-registry
 * uses (register, look up by id and by subject, per-subject compatibility config), over HTTP on
 * a free loopback port. Hand-written because no registry (nor a JVM to run one) is available
 * where the tests run. Avro schemas are parsed with avsc, as the registry parses them, and
 * BACKWARD compatibility is checked the way Avro resolves a reader against a writer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';

export interface RegisteredSchema {
  readonly id: number;
  readonly subject: string;
  readonly version: number;
  readonly schema: string;
}

export interface SchemaRegistryPeer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Every registration, in order. */
  readonly registered: RegisteredSchema[];
  /** The schema text with this id. */
  schema(id: number): string | undefined;
  /** Requests seen, as `METHOD path`. */
  readonly requests: string[];
  /** Answer 503 to everything while true. */
  down: boolean;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export async function startSchemaRegistry(): Promise<SchemaRegistryPeer> {
  const ids = new Map<string, number>(); // canonical schema text -> id
  const byId = new Map<number, string>();
  const subjects = new Map<string, RegisteredSchema[]>();
  const configs = new Map<string, string>();
  const registered: RegisteredSchema[] = [];
  const requests: string[] = [];

  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'Content-Type': CONTENT_TYPE });
    response.end(JSON.stringify(body));
  };
  const error = (response: ServerResponse, status: number, code: number, message: string) => send(response, status, { error_code: code, message });

  const handle = (request: IncomingMessage, response: ServerResponse, text: string) => {
    const path = decodeURIComponent((request.url ?? '').split('?')[0] ?? '');
    requests.push(`${request.method} ${path}`);
    if (peer.down) return error(response, 503, 50003, 'registry down (test)');
    const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    let m: RegExpExecArray | null;
    if (request.method === 'GET' && (m = /^\/schemas\/ids\/(\d+)$/.exec(path))) {
      const schema = byId.get(Number(m[1]));
      return schema === undefined ? error(response, 404, 40403, 'Schema not found') : send(response, 200, { schema });
    }
    if (request.method === 'GET' && path === '/subjects') return send(response, 200, [...subjects.keys()]);
    if ((m = /^\/config\/(.+)$/.exec(path))) {
      const subject = m[1] as string;
      if (request.method === 'PUT') {
        configs.set(subject, String(body.compatibility));
        return send(response, 200, { compatibility: body.compatibility });
      }
      const level = configs.get(subject);
      return level === undefined ? error(response, 404, 40401, `Subject '${subject}' not found.`) : send(response, 200, { compatibilityLevel: level });
    }
    if (request.method === 'POST' && (m = /^\/subjects\/(.+)\/versions$/.exec(path))) {
      const subject = m[1] as string;
      if (body.schemaType !== undefined && body.schemaType !== 'AVRO') return error(response, 422, 42201, 'only AVRO in this peer');
      let type: avro.Type;
      try {
        type = avro.Type.forSchema(JSON.parse(String(body.schema)) as avro.Schema);
      } catch (e) {
        return error(response, 422, 42201, `Invalid schema: ${(e as Error).message}`);
      }
      const canonical = JSON.stringify(type.schema());
      const versions = subjects.get(subject) ?? [];
      const same = versions.find((v) => JSON.stringify(avro.Type.forSchema(JSON.parse(v.schema) as avro.Schema).schema()) === canonical);
      if (same) return send(response, 200, { id: same.id });
      const latest = versions[versions.length - 1];
      if (latest !== undefined && (configs.get(subject) ?? 'BACKWARD') === 'BACKWARD') {
        try {
          // BACKWARD: the new schema reads what the latest one wrote.
          type.createResolver(avro.Type.forSchema(JSON.parse(latest.schema) as avro.Schema));
        } catch (e) {
          return error(response, 409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}": ${(e as Error).message}`);
        }
      }
      let id = ids.get(canonical);
      if (id === undefined) {
        id = ids.size + 1;
        ids.set(canonical, id);
        byId.set(id, String(body.schema));
      }
      const entry = { id, subject, version: versions.length + 1, schema: String(body.schema) };
      versions.push(entry);
      subjects.set(subject, versions);
      registered.push(entry);
      return send(response, 200, { id });
    }
    if (request.method === 'GET' && (m = /^\/subjects\/(.+)\/versions\/(latest|\d+)$/.exec(path))) {
      const versions = subjects.get(m[1] as string) ?? [];
      const entry = m[2] === 'latest' ? versions[versions.length - 1] : versions[Number(m[2]) - 1];
      return entry === undefined ? error(response, 404, 40402, 'Version not found.') : send(response, 200, entry);
    }
    return error(response, 404, 404, `no route ${request.method} ${path} in this peer`);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      try {
        handle(request, response, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        error(response, 500, 50001, (e as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const peer: SchemaRegistryPeer = {
    url: `http://127.0.0.1:${port}`,
    registered,
    requests,
    down: false,
    schema: (id) => byId.get(id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return peer;
}
