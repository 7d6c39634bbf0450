import t from 'tap';
import { PerformanceEventGenerator } from '../../src/generators/performance-events.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { PerformanceEventSchema, type PerformanceEvent, type PerformanceIncident } from '../../src/schemas/performance-event.js';
import { testApp } from '../support/app.js';
import { parseRecords } from '../support/parse.js';

const BASE = '/api/v1/performance-events';
const DAY = 86_400_000;
const HOUR = 3_600_000;

function generatorOf(seed: number, params: Record<string, number>, start = Date.UTC(2025, 0, 1)): PerformanceEventGenerator {
  const world = World.of({ seed, sizes: resolveSizes(1, {}), locale: 'en_US', window: { start, end: Date.UTC(2026, 0, 1) }, params });
  return world.generator('performance-events');
}

/** Share of `hits` in `n`, and whether it is within `sds` binomial standard deviations of p. */
function nearRate(hits: number, n: number, p: number, sds = 4): boolean {
  const sd = Math.sqrt((p * (1 - p)) / n);
  return Math.abs(hits / n - p) <= sds * sd + 0.005;
}

interface IncidentTally {
  active: number;
  activeErrors: number;
  recovery: number;
  minLatency: number;
  maxLatency: number;
  first: number;
  last: number;
  badService: number;
  badMessage: number;
}

t.test('two default days: time order, schedule, incidents and error rates', async (t) => {
  const events = generatorOf(42, { days: 2 });
  const incidents = events.incidents();
  const byId = new Map<string, PerformanceIncident>(incidents.map((x) => [x.incident_id, x]));
  const tallies = new Map<string, IncidentTally>();
  const start = Date.UTC(2025, 0, 1);
  const hourly = new Array<number>(48).fill(0);
  let previous = -Infinity;
  let backwards = 0;
  let outside = 0;
  let normal = 0;
  let normalErrors = 0;
  let normalSlow = 0;
  let unaffectedInWindow = 0;
  let n = 0;
  const windows = incidents.map((x) => [Date.parse(x.started_at), Date.parse(x.recovery_ended_at)] as const);

  for (const e of events.range(0, events.population)) {
    n++;
    const at = Date.parse(e['@timestamp']);
    if (at < previous) backwards++;
    previous = at;
    if (at < start || at >= start + 2 * DAY) outside++;
    const hour = Math.floor((at - start) / HOUR);
    hourly[hour] = (hourly[hour] ?? 0) + 1;
    if (e.incident_id === null) {
      normal++;
      if (e.status === 'error') normalErrors++;
      if (e.response_time_ms >= 5000) normalSlow++;
      if (windows.some(([a, b]) => at >= a && at < b)) unaffectedInWindow++;
      continue;
    }
    const incident = byId.get(e.incident_id) as PerformanceIncident;
    let tally = tallies.get(e.incident_id);
    if (!tally) {
      tally = { active: 0, activeErrors: 0, recovery: 0, minLatency: Infinity, maxLatency: 0, first: at, last: at, badService: 0, badMessage: 0 };
      tallies.set(e.incident_id, tally);
    }
    tally.last = at;
    if (!incident.affected_services.includes(e.service_name)) tally.badService++;
    if (e.error_code === incident.error_code && e.error_message !== incident.error_message) tally.badMessage++;
    if (e.incident_type !== incident.incident_type) tally.badService++;
    if (e.incident_phase === 'active') {
      tally.active++;
      if (e.status === 'error') tally.activeErrors++;
      tally.minLatency = Math.min(tally.minLatency, e.response_time_ms);
      tally.maxLatency = Math.max(tally.maxLatency, e.response_time_ms);
      if (at >= Date.parse(incident.ended_at)) tally.badService++;
    } else {
      tally.recovery++;
      if (at < Date.parse(incident.ended_at)) tally.badService++;
    }
  }

  t.equal(n, events.population, 'range yields the population');
  t.ok(n > 4_000_000 && n < 5_500_000, `two days at the defaults: ${n} events`);
  t.equal(backwards, 0, 'timestamps never go backwards');
  t.equal(outside, 0, 'every timestamp inside [start_date, start_date + days)');

  // The daily schedule, in transactions per second per hour of the day (both days alike).
  const tps = (h: number) => (hourly[h] as number) / 3600;
  for (const day of [0, 1]) {
    const at = (h: number) => tps(day * 24 + h);
    const night = [1, 2, 3, 4, 5].map(at);
    t.ok(night.every((x) => x > 8 && x < 13), `day ${day}: night ~10 TPS (${night.map((x) => x.toFixed(1)).join(', ')})`);
    t.ok(at(7) > at(4) && at(8) > at(7), `day ${day}: morning ramp`);
    t.ok(at(12) > 40 && at(12) > at(10) && at(12) > at(15), `day ${day}: lunch peak ${at(12).toFixed(1)} TPS`);
    t.ok(at(18) > 48 && at(18) > at(12) && at(18) > at(21), `day ${day}: evening peak ${at(18).toFixed(1)} TPS`);
    t.ok(Math.max(...Array.from({ length: 24 }, (_, h) => at(h))) < 66, `day ${day}: never above ~60 TPS`);
    t.ok(at(23) < at(21) && at(23) < 20, `day ${day}: evening decline`);
  }

  // Normal operation: 1-2% errors, no incident-like latency.
  t.ok(normalErrors / normal > 0.01 && normalErrors / normal < 0.02, `outside incidents ${((100 * normalErrors) / normal).toFixed(2)}% errors`);
  t.equal(normalSlow, 0, 'outside incidents nothing takes 5 s or more');
  t.ok(unaffectedInWindow > 0, 'services an incident does not affect carry on normally during it');

  // Incidents: 2-3 a day, each found in the events with its shape.
  t.ok(incidents.length >= 4 && incidents.length <= 6, `${incidents.length} incidents in two days`);
  const types = new Set(incidents.map((x) => x.incident_type));
  t.ok(types.size >= 2, `several incident types (${[...types].join(', ')})`);
  for (const incident of incidents) {
    const id = incident.incident_id;
    const tally = tallies.get(id);
    t.ok(tally, `${id}: shows up in the events`);
    if (!tally) continue;
    t.ok(incident.duration_minutes >= 5 && incident.duration_minutes <= 15, `${id}: lasts 5-15 minutes`);
    t.ok(incident.recovery_minutes >= 5 && incident.recovery_minutes <= 10, `${id}: recovers in 5-10 minutes`);
    t.ok(incident.peak_error_rate >= 0.25 && incident.peak_error_rate <= 0.4, `${id}: peak error rate ${incident.peak_error_rate} in 25-40%`);
    t.ok(tally.active > 100 && tally.recovery > 50, `${id}: ${tally.active} active and ${tally.recovery} recovering events`);
    t.ok(nearRate(tally.activeErrors, tally.active, incident.peak_error_rate), `${id}: ${((100 * tally.activeErrors) / tally.active).toFixed(1)}% errors while active`);
    t.ok(tally.minLatency >= 5000 && tally.maxLatency <= 35000, `${id}: active latency ${tally.minLatency}-${tally.maxLatency} ms`);
    t.ok(tally.first >= Date.parse(incident.started_at) && tally.last < Date.parse(incident.recovery_ended_at), `${id}: events inside its window`);
    t.ok(tally.first - Date.parse(incident.started_at) < 60_000, `${id}: starts at started_at`);
    t.equal(tally.badService, 0, `${id}: only affected services, in the right phase, with its type`);
    t.equal(tally.badMessage, 0, `${id}: one consistent error message`);
  }
  t.equal(tallies.size, incidents.length, 'no event names an incident that is not listed');
});

t.test('every incident type has its shape: latency, errors, one message, its infrastructure signature', async (t) => {
  // 24 incidents in a day: all five types show up.
  const events = generatorOf(77, { days: 1, incidents_per_day: 24 });
  const incidents = events.incidents();
  t.same(new Set(incidents.map((x) => x.incident_type)).size, 5, 'all five types');
  const signature: Record<PerformanceIncident['incident_type'], (e: PerformanceEvent) => boolean> = {
    payment_gateway_timeout: (e) => e.db_pool_usage_percent >= 70,
    database_connection_pool_exhaustion: (e) => e.db_pool_usage_percent === 100,
    memory_pressure: (e) => e.memory_percent >= 85 && e.gc_pause_ms >= 500 && e.cpu_percent >= 80,
    circuit_breaker_activation: (e) => e.cpu_percent >= 60,
    upstream_service_degradation: (e) => e.db_pool_usage_percent >= 55,
  };
  const perType = new Map<string, { n: number; errors: number; expected: number }>();
  for (const incident of incidents) {
    const id = incident.incident_id;
    let active = 0;
    let errors = 0;
    let bad = 0;
    let messages = new Set<string>();
    for (const e of events.range(incident.first_event_index, incident.last_event_index + 1)) {
      if (e.incident_id !== id || e.incident_phase !== 'active') continue;
      active++;
      if (e.status === 'error') {
        errors++;
        messages.add(`${e.error_code}|${e.http_status}|${e.error_message}`);
      }
      if (e.response_time_ms < 5000 || e.response_time_ms > 35000 || !signature[incident.incident_type](e)) bad++;
    }
    t.equal(bad, 0, `${id} ${incident.incident_type}: ${active} active events, all 5-35 s with the type's host metrics`);
    t.same([...messages], [`${incident.error_code}|${incident.http_status}|${incident.error_message}`], `${id}: every error has the incident's code, status and message`);
    const tally = perType.get(incident.incident_type) ?? { n: 0, errors: 0, expected: 0 };
    tally.n += active;
    tally.errors += errors;
    tally.expected += active * incident.peak_error_rate;
    perType.set(incident.incident_type, tally);
    messages = new Set();
  }
  for (const [type, { n, errors, expected }] of perType) {
    const share = errors / n;
    t.ok(share >= 0.24 && share <= 0.41 && nearRate(errors, n, expected / n), `${type}: ${(100 * share).toFixed(1)}% errors while active`);
  }
  const memory = incidents.find((x) => x.incident_type === 'memory_pressure');
  if (memory) {
    // Memory pressure degrades gradually: the second half of the incident is slower than the first.
    const mid = (Date.parse(memory.started_at) + Date.parse(memory.ended_at)) / 2;
    const halves = [0, 0, 0, 0];
    for (const e of events.range(memory.first_event_index, memory.last_event_index + 1)) {
      if (e.incident_id !== memory.incident_id || e.incident_phase !== 'active') continue;
      const k = Date.parse(e['@timestamp']) < mid ? 0 : 2;
      halves[k] = (halves[k] as number) + e.response_time_ms;
      halves[k + 1] = (halves[k + 1] as number) + 1;
    }
    t.ok((halves[2] as number) / (halves[3] as number) > (halves[0] as number) / (halves[1] as number), 'memory pressure: latency climbs');
  }
});

t.test('record i is found directly, and equals the streamed record', async (t) => {
  const events = generatorOf(9, {});
  t.ok(events.population > 15_000_000, `a default week: ${events.population} events`);
  const fresh = generatorOf(9, {});
  const probes = [0, 1, 537, 1_000_003, Math.floor(events.population / 2), events.population - 2, events.population - 1];
  for (const i of probes) {
    const [streamed] = [...events.range(i, i + 1)];
    t.same(fresh.record(i), streamed, `event ${i}`);
  }
  const last = events.record(events.population - 1);
  t.ok(Date.parse(last['@timestamp']) < Date.UTC(2025, 0, 8), 'the last event is before the end of the week');
});

t.test('parameters shape the world', async (t) => {
  const none = generatorOf(5, { days: 3, incidents_per_day: 0 });
  t.equal(none.incidents().length, 0, 'incidents_per_day=0: no incidents');
  const many = generatorOf(5, { days: 1, incidents_per_day: 24, base_tps: 1 });
  const list = many.incidents();
  t.equal(list.length, 24, 'incidents_per_day=24');
  t.ok(list.every((x, k) => k === 0 || Date.parse(x.started_at) >= Date.parse((list[k - 1] as PerformanceIncident).recovery_ended_at)), 'incidents never overlap');
  t.same([...new Set(list.map((x) => x.incident_id))].length, 24, 'unique incident ids');
  const fixed = generatorOf(5, { days: 2, error_rate_incident: 0.3 });
  t.ok(fixed.incidents().every((x) => x.peak_error_rate === 0.3), 'error_rate_incident fixes the peak error rate');
  const base = generatorOf(5, { days: 1 });
  const double = generatorOf(5, { days: 1, base_tps: 40 });
  const ratio = double.population / base.population;
  t.ok(ratio > 1.95 && ratio < 2.05, `base_tps doubles the traffic (x${ratio.toFixed(3)})`);
  const flat = generatorOf(5, { days: 1, peak_multiplier: 1 });
  t.ok(flat.population < base.population * 0.6, 'a lower peak multiplier flattens the peaks');
  const quiet = generatorOf(5, { days: 1, error_rate_normal: 0 });
  let errors = 0;
  for (const e of quiet.range(0, 200_000)) if (e.incident_id === null && e.status === 'error') errors++;
  t.equal(errors, 0, 'error_rate_normal=0: no errors outside incidents');
  const later = generatorOf(5, { days: 1 }, Date.UTC(2025, 5, 1));
  t.equal(later.record(0)['@timestamp'].slice(0, 10), '2025-06-01', 'start_date moves the range');
  t.match(later.incidents()[0]?.incident_id ?? '', /^INC-20250601-01$/, 'incident ids carry the day');
});

t.test('GET /performance-events, /incidents and /mapping agree', async (t) => {
  const app = await testApp(t);
  const query = 'seed=42&days=2';
  const incidentsRes = await app.inject(`${BASE}/incidents?${query}`);
  t.equal(incidentsRes.statusCode, 200);
  t.equal(incidentsRes.headers['x-seed'], '42');
  const list = incidentsRes.json() as PerformanceIncident[];
  t.ok(Array.isArray(list), 'an array, like every list endpoint');
  const truth = { incidents: list, events: Number(incidentsRes.headers['x-events-count']) };
  t.same(truth.incidents, generatorOf(42, { days: 2 }).incidents(), 'the same incidents as the generator');
  t.equal(Number(incidentsRes.headers['x-total-count']), list.length);
  t.equal(incidentsRes.headers['x-date-window'], '2025-01-01T00:00:00.000Z/2025-01-03T00:00:00.000Z');
  // limit/offset and the other formats, parsed back.
  const page = (await app.inject(`${BASE}/incidents?${query}&offset=1&limit=2`)).json() as PerformanceIncident[];
  t.same(page, list.slice(1, 3), 'limit and offset page the incidents');
  const csv = await app.inject(`${BASE}/incidents?${query}&format=csv`);
  t.equal(csv.headers['content-disposition'], 'attachment; filename="performance-incidents-seed42.csv"');
  const rows = csv.body.trim().split('\r\n');
  t.equal(rows.length, list.length + 1, 'CSV: header + one row per incident');
  t.ok(rows[0]?.startsWith('incident_id,incident_type,started_at'), 'CSV header');
  t.ok(rows.slice(1).every((row, k) => row.startsWith(`${list[k]?.incident_id},${list[k]?.incident_type},${list[k]?.started_at}`)), 'CSV rows');
  const ndjson = (await app.inject(`${BASE}/incidents?${query}&format=ndjson`)).body.trim().split('\n').map((line) => JSON.parse(line) as unknown);
  t.same(ndjson, list, 'NDJSON parses back to the JSON');
  const xml = (await app.inject(`${BASE}/incidents?${query}&format=xml`)).body;
  t.equal(xml.match(/<incident>/g)?.length, list.length, 'XML: one <incident> each');

  const head = await app.inject(`${BASE}?${query}&limit=1`);
  t.equal(Number(head.headers['x-total-count']), truth.events, 'events = X-Total-Count of the same query');

  // The events of each incident are where its index range says.
  for (const incident of truth.incidents) {
    const res = await app.inject(`${BASE}?${query}&offset=${incident.first_event_index - 1}&limit=3000&format=ndjson`);
    const page = parseRecords('ndjson', res.body, PerformanceEventSchema, 'performance_event') as unknown as PerformanceEvent[];
    t.ok(Date.parse((page[0] as PerformanceEvent)['@timestamp']) < Date.parse(incident.started_at), `${incident.incident_id}: event before first_event_index precedes it`);
    const inside = page.slice(1);
    t.ok(inside.every((e) => Date.parse(e['@timestamp']) >= Date.parse(incident.started_at)), `${incident.incident_id}: events from first_event_index on are inside`);
    const caught = inside.filter((e) => e.incident_id === incident.incident_id);
    t.ok(caught.length > 0, `${incident.incident_id}: its events are there`);
    t.ok(caught.every((e) => incident.affected_services.includes(e.service_name)), `${incident.incident_id}: on affected services`);
  }

  const mappingRes = await app.inject(`${BASE}/mapping`);
  t.equal(mappingRes.statusCode, 200);
  const mapping = mappingRes.json() as { mappings: { dynamic: string; properties: Record<string, { type: string; fields?: unknown }> } };
  const properties = mapping.mappings.properties;
  t.equal(mapping.mappings.dynamic, 'strict');
  t.same(Object.keys(properties), Object.keys(PerformanceEventSchema.properties), 'one mapped field per schema field, same order');
  t.equal(properties['@timestamp']?.type, 'date', '@timestamp is a date');
  t.equal(properties.response_time_ms?.type, 'long');
  t.equal(properties.cpu_percent?.type, 'float');
  t.equal(properties.event_id?.type, 'keyword');
  t.equal(properties.status?.type, 'keyword');
  t.equal(properties.incident_id?.type, 'keyword');
  t.equal(properties.error_message?.type, 'text');
  // Every value of real documents fits its mapped type.
  const sample = (await app.inject(`${BASE}?${query}&offset=${truth.incidents[0]?.first_event_index ?? 0}&limit=2000`)).json() as Record<string, unknown>[];
  let misfits = 0;
  for (const doc of sample) {
    t.same(Object.keys(doc), Object.keys(properties), 'documents have exactly the mapped fields');
    for (const [name, value] of Object.entries(doc)) {
      if (value === null) continue;
      const type = properties[name]?.type;
      const fits =
        type === 'date' ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
        : type === 'long' ? Number.isInteger(value)
        : type === 'float' ? typeof value === 'number'
        : typeof value === 'string';
      if (!fits) misfits++;
    }
    if (misfits > 0) break;
  }
  t.equal(misfits, 0, 'every value fits its mapping');
  t.ok(sample.some((d) => d.incident_id !== null && d.status === 'error'), 'the sample holds incident errors');
});

t.test('format=bulk: action and document lines for OpenSearch _bulk', async (t) => {
  const app = await testApp(t);
  const query = 'seed=42&days=1&offset=1000&limit=700';
  const res = await app.inject(`${BASE}?${query}&format=bulk`);
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-type']), /^application\/x-ndjson/);
  t.equal(res.headers['content-disposition'], 'attachment; filename="performance-events-seed42.bulk.ndjson"');
  const lines = res.body.split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.equal(lines.length, 1400, 'two lines per document');
  const documents = (await app.inject(`${BASE}?${query}&format=ndjson`)).body.split('\n').filter(Boolean);
  let bad = 0;
  for (let k = 0; k < lines.length; k += 2) {
    const action = JSON.parse(lines[k] as string) as { index?: { _index?: string; _id?: string } };
    const doc = JSON.parse(lines[k + 1] as string) as PerformanceEvent;
    if (Object.keys(action).join() !== 'index' || action.index?._index !== 'ecommerce_performance_demo' || action.index._id !== doc.event_id) bad++;
    if (lines[k + 1] !== documents[k / 2]) bad++;
  }
  t.equal(bad, 0, 'each action line names the default index and the next document event_id; documents equal the NDJSON lines');
  t.same(parseRecords('bulk', res.body, PerformanceEventSchema, 'performance_event'), parseRecords('ndjson', documents.join('\n'), PerformanceEventSchema, 'performance_event'), 'parses back to the same records');

  const custom = await app.inject(`${BASE}?seed=42&days=1&limit=2&format=bulk&index=shop-telemetry.2025`);
  t.equal(custom.statusCode, 200);
  t.match(custom.body.split('\n')[0] ?? '', /^\{"index":\{"_index":"shop-telemetry\.2025","_id":"[0-9a-f-]{36}"\}\}$/, 'index= names the index');

  const projected = await app.inject(`${BASE}?seed=42&days=1&limit=2&format=bulk&fields=event_id,@timestamp,status`);
  t.equal(projected.statusCode, 200, 'fields work with bulk when they hold event_id');
  t.same(Object.keys(JSON.parse(projected.body.split('\n')[1] ?? '{}') as object), ['event_id', '@timestamp', 'status']);
});

t.test('XML and CSV carry @timestamp', async (t) => {
  const app = await testApp(t);
  const query = 'seed=3&days=1&offset=20&limit=5';
  const json = (await app.inject(`${BASE}?${query}`)).json() as Record<string, unknown>[];
  const xml = await app.inject(`${BASE}?${query}&format=xml`);
  t.match(xml.body, /<_timestamp>2025-01-01T00:00:\d\d\.\d{3}Z<\/_timestamp>/, 'XML element _timestamp (an XML name cannot hold @)');
  t.notMatch(xml.body, /<@/, 'no invalid element names');
  t.same(parseRecords('xml', xml.body, PerformanceEventSchema, 'performance_event'), json, 'XML parses back to the JSON records');
  const csv = await app.inject(`${BASE}?${query}&format=csv`);
  t.match(csv.body, /^event_id,@timestamp,transaction_id,/, 'CSV header keeps @timestamp');
  t.same(parseRecords('csv', csv.body, PerformanceEventSchema, 'performance_event'), json, 'CSV parses back to the JSON records');
});

t.test('bad parameters get a 400 naming them', async (t) => {
  const app = await testApp(t);
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    [`${BASE}?days=0`, 'INVALID_PARAMETER', 'days'],
    [`${BASE}?days=91`, 'INVALID_PARAMETER', 'days'],
    [`${BASE}?days=two`, 'INVALID_PARAMETER', 'days'],
    [`${BASE}?days=1.5`, 'INVALID_PARAMETER', 'days'],
    [`${BASE}?incidents_per_day=25`, 'INVALID_PARAMETER', 'incidents_per_day'],
    [`${BASE}?base_tps=0`, 'INVALID_PARAMETER', 'base_tps'],
    [`${BASE}?peak_multiplier=0.5`, 'INVALID_PARAMETER', 'peak_multiplier'],
    [`${BASE}?error_rate_normal=0.5`, 'INVALID_PARAMETER', 'error_rate_normal'],
    [`${BASE}?error_rate_incident=1.5`, 'INVALID_PARAMETER', 'error_rate_incident'],
    [`${BASE}?start_date=2025-01-01&end_date=2025-01-08`, 'INVALID_PARAMETER', 'end_date'],
    [`${BASE}?days=3&start_date=2025-01-05&end_date=2025-01-08`, 'INVALID_PARAMETER', 'end_date'],
    [`${BASE}?days=90&base_tps=1000&peak_multiplier=10`, 'INVALID_PARAMETER', 'base_tps'],
    [`${BASE}?index=demo`, 'INVALID_PARAMETER', 'index'],
    [`${BASE}?format=bulk&index=_demo`, 'INVALID_PARAMETER', 'index'],
    [`${BASE}?format=bulk&index=Demo`, 'INVALID_PARAMETER', 'index'],
    [`${BASE}?format=bulk&fields=status`, 'INVALID_PARAMETER', 'fields'],
    ['/api/v1/users?format=bulk', 'INVALID_PARAMETER', 'format'],
    ['/api/v1/users?days=3', 'UNKNOWN_PARAMETER', 'days'],
    [`${BASE}/incidents?days=0`, 'INVALID_PARAMETER', 'days'],
    [`${BASE}/incidents?start_date=2025-01-01&end_date=2025-01-08`, 'INVALID_PARAMETER', 'end_date'],
    [`${BASE}/incidents?limit=0`, 'INVALID_PARAMETER', 'limit'],
    [`${BASE}/incidents?format=bulk`, 'INVALID_PARAMETER', 'format'],
    [`${BASE}/incidents?page=2`, 'UNKNOWN_PARAMETER', 'page'],
    [`${BASE}/mapping?seed=5`, 'UNKNOWN_PARAMETER', 'seed'],
  ];
  for (const [url, code, name] of cases) {
    const res = await app.inject(url);
    const body = res.json() as { statusCode: number; code: string; message: string };
    t.equal(res.statusCode, 400, `${url}: 400`);
    t.equal(body.code, code, `${url}: ${code}`);
    t.match(body.message, new RegExp(`^${name}: `), `${url}: message names ${name} (${body.message})`);
  }
});

t.test('the registry opts performance-events in to bulk, and only it', async (t) => {
  t.equal(ENTITIES['performance-events'].bulkIndex, 'ecommerce_performance_demo');
  const others = Object.entries(ENTITIES).filter(([name, d]) => name !== 'performance-events' && 'bulkIndex' in d && d.bulkIndex !== undefined);
  t.same(others.map(([name]) => name), [], 'no other entity offers bulk');
});
