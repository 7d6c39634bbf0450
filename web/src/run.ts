/**
 * Run: one card per sink (from GET /api/v1/sinks) with the reference simulator's controls, and a
 * live-stream card for POST /api/v1/streams. Every request goes to the public API; its 4xx
 * message is shown as it is.
 */
import { ApiError, getJson, messageOf, send } from './api.js';
import { byId, h, say } from './dom.js';
import { streamBody } from './stream-body.js';
import { worldBody } from './world.js';

interface Sink {
  name: string;
  endpoint: string;
  configured: boolean;
  requires: string;
  default_entities: string[];
  options: string[];
}
interface JobJson {
  id: string;
}

/** Called with each job the panel starts (Watch shows it at once, before its first event). */
let started: (job: JobJson) => void = () => {};
export function onJobStarted(listener: (job: JobJson) => void): void {
  started = listener;
}

const titles: Record<string, string> = {
  webhook: 'Webhook: signed transactions',
  gcs: 'Google Cloud Storage: CSV uploads',
  postgres: 'PostgreSQL: load the world',
  opensearch: 'OpenSearch: a day of performance events',
  kafka: 'Kafka: produce an entity',
};

let cardCount = 0;

/** A card: heading, configured or not, the controls, and a status line for results and errors. */
function card(name: string, title: string, configured: boolean, requires: string, ...controls: Node[]): HTMLElement {
  const id = `card-${++cardCount}`;
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-status': name });
  const note = configured ? h('p', { class: 'ok' }, 'Configured') : h('p', { class: 'warn' }, `Not configured: set ${requires} in the server's environment.`);
  return h('section', { class: 'card', 'aria-labelledby': id, 'data-sink': name }, h('h3', { id }, title), note, ...controls, status);
}

function statusOf(element: HTMLElement): HTMLElement {
  return element.closest('.card')?.querySelector<HTMLElement>('.status') as HTMLElement;
}

/** POSTs a sink job from a button; shows the job id or the API's message. */
async function start(button: HTMLButtonElement, path: string, body: Record<string, unknown>, what: string): Promise<void> {
  const status = statusOf(button);
  status.classList.remove('error');
  button.disabled = true;
  try {
    const job = await send<JobJson>('POST', path, body);
    status.textContent = `Started: ${what} (job ${job.id.slice(0, 8)}). Follow it under Watch.`;
    started(job);
  } catch (error) {
    status.classList.add('error');
    status.textContent = error instanceof ApiError && error.status === 404 ? 'Not available on this server.' : messageOf(error);
  } finally {
    button.disabled = false;
  }
}

/** A range slider with a number box beside it, kept in step, both labelled. */
function slider(name: string, label: string, min: number, max: number, value: number, unit: string): { element: HTMLElement; value: () => number } {
  const range = h('input', { type: 'range', id: `${name}-range`, name, min, max, value, step: 1, 'aria-describedby': `${name}-unit` });
  const box = h('input', { type: 'number', id: `${name}-number`, min, max, value, step: 1, 'aria-label': `${label} (number)` });
  range.addEventListener('input', () => (box.value = range.value));
  box.addEventListener('input', () => (range.value = box.value));
  const element = h('div', { class: 'slider' }, h('label', { for: `${name}-range` }, label), h('div', { class: 'slider-row' }, range, box, h('span', { id: `${name}-unit` }, unit)));
  // The number box is sent as typed, so the API's own validation answers out-of-range values.
  return { element, value: () => Number(box.value) };
}

function webhookCard(sink: Sink): HTMLElement {
  const count = slider('webhook-count', 'Transactions', 1, 1000, 20, 'records');
  const delay = slider('webhook-delay', 'Delay between them', 0, 2000, 50, 'ms');
  const button = h('button', { type: 'button', id: 'webhook-send' }, 'Stream transactions');
  button.addEventListener('click', () => void start(button, sink.endpoint, { ...worldBody(), count: count.value(), delay_ms: delay.value() }, `${count.value()} transactions`));
  return card(sink.name, titles.webhook ?? sink.name, sink.configured, sink.requires, count.element, delay.element, h('div', { class: 'buttons' }, button));
}

function gcsCard(sink: Sink): HTMLElement {
  const buttons = ['products', 'shops', 'transactions'].map((entity) => {
    const button = h('button', { type: 'button', id: `gcs-${entity}` }, `Upload ${entity}`);
    button.addEventListener('click', () => void start(button, sink.endpoint, { ...worldBody(), entity, format: 'csv' }, `${entity} CSV upload`));
    return button;
  });
  return card(sink.name, titles.gcs ?? sink.name, sink.configured, sink.requires, h('p', { class: 'hint' }, 'Each upload is one timestamped CSV object of the whole entity.'), h('div', { class: 'buttons' }, ...buttons));
}

function postgresCard(sink: Sink): HTMLElement {
  const schema = h('input', { id: 'postgres-schema', name: 'schema', value: 'public', pattern: '[a-z_][a-z0-9_]*' });
  const button = h('button', { type: 'button', id: 'postgres-load' }, 'Load the world');
  button.addEventListener('click', () => void start(button, sink.endpoint, { ...worldBody(), schema: schema.value }, 'world load'));
  return card(sink.name, titles.postgres ?? sink.name, sink.configured, sink.requires, h('label', {}, 'Schema ', schema), h('div', { class: 'buttons' }, button));
}

function opensearchCard(sink: Sink): HTMLElement {
  const button = h('button', { type: 'button', id: 'opensearch-day' }, 'Index one day');
  button.addEventListener('click', () => void start(button, sink.endpoint, { seed: worldBody().seed, entity: 'performance-events', days: 1 }, 'one day of performance events'));
  return card(sink.name, titles.opensearch ?? sink.name, sink.configured, sink.requires, h('p', { class: 'hint' }, 'About 2.5 million events at the default rate.'), h('div', { class: 'buttons' }, button));
}

function genericCard(sink: Sink, entities: string[]): HTMLElement {
  const select = h('select', { id: `${sink.name}-entity` }, ...entities.map((e) => h('option', { value: e, selected: e === 'orders' }, e)));
  const button = h('button', { type: 'button', id: `${sink.name}-send` }, 'Send');
  button.addEventListener('click', () => void start(button, sink.endpoint, { ...worldBody(), entity: select.value }, select.value));
  return card(sink.name, titles[sink.name] ?? sink.name, sink.configured, sink.requires, h('label', {}, 'Entity ', select), h('div', { class: 'buttons' }, button));
}

/** The live stream (POST /api/v1/streams): rate, mix, burst, chaos, duration. */
function streamCard(sinks: Sink[], available: boolean): HTMLElement {
  const field = (label: string, input: HTMLInputElement | HTMLSelectElement) => h('label', {}, `${label} `, input);
  // The first configured sink is chosen (not the first listed, which may answer 409); the others say what they need.
  const streamSinks = sinks.filter((s) => s.name !== 'gcs');
  const chosen = streamSinks.find((s) => s.configured)?.name;
  const sink = h('select', { id: 'stream-sink' }, ...streamSinks.map((s) => h('option', { value: s.name, selected: s.name === chosen }, s.configured ? s.name : `${s.name} (not configured: ${s.requires})`)));
  const mode = h('select', { id: 'stream-mode' }, h('option', { value: 'live' }, 'live'), h('option', { value: 'replay' }, 'replay'));
  const rate = h('input', { id: 'stream-rate', type: 'number', min: 1, max: 10000, value: 10 });
  // The reference generator's mix: orders (with payments and shipments), customer interactions, inventory.
  const orders = h('input', { id: 'stream-w-orders', type: 'number', min: 0, max: 100, value: 0.6, step: 'any' });
  const interactions = h('input', { id: 'stream-w-interactions', type: 'number', min: 0, max: 100, value: 0.3, step: 'any' });
  const inventory = h('input', { id: 'stream-w-inventory', type: 'number', min: 0, max: 100, value: 0.1, step: 'any' });
  const burst = h('input', { id: 'stream-burst', type: 'number', min: 1, max: 1000000, value: 10, step: 1 });
  const duplicates = h('input', { id: 'stream-duplicates', type: 'number', min: 0, max: 1, value: 0, step: 0.01 });
  const late = h('input', { id: 'stream-late', type: 'number', min: 0, max: 1, value: 0, step: 0.01 });
  const duration = h('input', { id: 'stream-duration', type: 'number', min: 1, max: 86400, value: 60, placeholder: 'until stopped' });
  /** A number box's value, or undefined when it is empty (the API's default then applies). */
  const numberOf = (input: HTMLInputElement): number | undefined => (input.value.trim() === '' ? undefined : Number(input.value));
  const button = h('button', { type: 'button', id: 'stream-start', disabled: !available }, 'Start stream');
  button.addEventListener('click', () => {
    const body = streamBody(worldBody(), {
      sink: sink.value,
      mode: mode.value === 'replay' ? 'replay' : 'live',
      eventsPerSecond: numberOf(rate),
      weights: { orders: Number(orders.value), interactions: Number(interactions.value), inventory: Number(inventory.value) },
      burst: numberOf(burst),
      duplicateRatio: numberOf(duplicates),
      lateRatio: numberOf(late),
      durationS: numberOf(duration),
    });
    void start(button, '/api/v1/streams', body, `${mode.value} stream to ${sink.value}`);
  });
  const fieldset = h(
    'fieldset',
    { disabled: !available },
    h('legend', {}, 'Rate and mix'),
    field('Sink', sink),
    field('Mode', mode),
    field('Events per second', rate),
    field('Weight of orders, payments and shipments', orders),
    field('Weight of customer interactions', interactions),
    field('Weight of inventory changes', inventory),
    field('Burst (events above the rate after a pause)', burst),
    field('Duplicate ratio', duplicates),
    field('Late ratio', late),
    field('Duration (s; empty: until stopped)', duration),
  );
  const note = available ? h('p', { class: 'ok' }, 'Streams follow the feed of the world at a rate; progress shows under Watch.') : h('p', { class: 'warn', id: 'stream-unavailable' }, 'Live streams are not available on this server.');
  return h('section', { class: 'card wide', 'aria-labelledby': 'stream-title', 'data-sink': 'stream' }, h('h3', { id: 'stream-title' }, 'Live stream'), note, fieldset, h('div', { class: 'buttons' }, button), h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }));
}

/** Whether this server documents POST /api/v1/streams (its OpenAPI document says so). */
async function streamsAvailable(): Promise<boolean> {
  try {
    const { body } = await getJson<{ paths?: Record<string, { post?: unknown }> }>('/docs/json');
    return body.paths?.['/api/v1/streams']?.post !== undefined;
  } catch {
    return false;
  }
}

export async function setupRun(entities: string[]): Promise<void> {
  const cards = byId('sink-cards');
  try {
    const [{ body: sinks }, streams] = await Promise.all([getJson<Sink[]>('/api/v1/sinks'), streamsAvailable()]);
    const build: Record<string, (s: Sink) => HTMLElement> = { webhook: webhookCard, gcs: gcsCard, postgres: postgresCard, opensearch: opensearchCard };
    const order = ['webhook', 'gcs', 'postgres', 'opensearch', 'kafka'];
    const sorted = [...sinks].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    cards.replaceChildren(...sorted.map((s) => (build[s.name] ?? ((x: Sink) => genericCard(x, entities)))(s)), streamCard(sinks, streams));
  } catch (error) {
    const message = h('p', { class: 'error', role: 'alert' });
    say(message, messageOf(error));
    cards.replaceChildren(message);
  }
}
