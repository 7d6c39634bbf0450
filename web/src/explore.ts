/** Explore: the table preview with pagination, record count, downloads, curl and ground truth. */
import { getJson, messageOf } from './api.js';
import { byId, fmt, h, say } from './dom.js';
import { worldParams } from './world.js';

interface Manifest {
  sizes: Record<string, number>;
  totals?: Record<string, number>;
  entities: { entity: string; population: number; csv_bytes?: number; csv_sha256?: string }[];
}

let offset = 0;
let total = 0;

const entity = () => byId<HTMLSelectElement>('entity-select').value;
const limit = () => Number((byId<HTMLFormElement>('world-form').elements.namedItem('limit') as HTMLSelectElement).value);

/** The query on screen: the world, the page and (for downloads) a format. */
function query(format?: string): URLSearchParams {
  const params = worldParams();
  params.set('limit', String(limit()));
  params.set('offset', String(offset));
  if (format) params.set('format', format);
  return params;
}

const pathOf = (format?: string) => `/api/v1/${entity()}?${query(format).toString()}`;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}…` : text;
  }
  return String(value);
}

function renderTable(rows: Record<string, unknown>[]): void {
  const table = byId<HTMLTableElement>('preview');
  const columns = rows.length > 0 ? Object.keys(rows[0] as object) : [];
  table.tHead?.replaceChildren(h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c))));
  table.tBodies[0]?.replaceChildren(...rows.map((row) => h('tr', {}, ...columns.map((c) => h('td', {}, cell(row[c]))))));
}

function renderDownloads(): void {
  const formats = ['json', 'ndjson', 'csv', 'xml', ...(entity() === 'performance-events' ? ['bulk'] : [])];
  byId('downloads').replaceChildren(
    ...formats.map((format) => h('a', { class: 'button secondary', href: pathOf(format), download: `${entity()}-${offset}.${format === 'bulk' ? 'ndjson' : format}` }, `Download ${format.toUpperCase()}`)),
  );
  byId<HTMLInputElement>('curl').value = `curl '${location.origin}${pathOf()}'`;
}

async function renderTruth(): Promise<void> {
  const truth = byId('truth');
  const params = worldParams();
  params.set('entities', entity());
  try {
    const { body } = await getJson<Manifest>(`/api/v1/manifest?${params.toString()}`);
    const entry = body.entities.find((e) => e.entity === entity());
    const items: [string, string][] = [];
    if (entry) {
      items.push(['Population', fmt(entry.population)]);
      if (entry.csv_bytes !== undefined) items.push(['CSV size', `${fmt(entry.csv_bytes)} bytes`]);
      if (entry.csv_sha256) items.push(['CSV SHA-256', entry.csv_sha256]);
    }
    for (const [name, value] of Object.entries(body.totals ?? {})) items.push([name.replace(/_/g, ' '), fmt(value)]);
    truth.replaceChildren(...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  } catch (error) {
    truth.replaceChildren(h('dt', {}, 'Not available'), h('dd', {}, messageOf(error)));
  }
}

/** Loads the page at `offset` of the chosen entity. */
export async function preview(): Promise<void> {
  const error = byId('explore-error');
  say(error, '');
  renderDownloads();
  try {
    const { body, response } = await getJson<Record<string, unknown>[]>(pathOf());
    total = Number(response.headers.get('x-total-count') ?? body.length);
    renderTable(body);
    const first = body.length === 0 ? 0 : offset + 1;
    byId('record-count').textContent = `${entity()}: records ${fmt(first)}–${fmt(offset + body.length)} of ${fmt(total)}`;
    byId<HTMLButtonElement>('prev-page').disabled = offset === 0;
    byId<HTMLButtonElement>('next-page').disabled = offset + limit() >= total;
  } catch (e) {
    say(error, messageOf(e));
    renderTable([]);
    byId('record-count').textContent = '';
  }
  await renderTruth();
}

export async function setupExplore(): Promise<void> {
  const { body: index } = await getJson<{ entities: Record<string, string> }>('/');
  const select = byId<HTMLSelectElement>('entity-select');
  select.replaceChildren(...Object.keys(index.entities).map((name) => h('option', { value: name, selected: name === 'orders' }, name)));
  const form = byId<HTMLFormElement>('world-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    offset = 0;
    void preview();
  });
  byId('prev-page').addEventListener('click', () => {
    offset = Math.max(0, offset - limit());
    void preview();
  });
  byId('next-page').addEventListener('click', () => {
    offset += limit();
    void preview();
  });
  byId('copy-curl').addEventListener('click', () => {
    const input = byId<HTMLInputElement>('curl');
    input.select();
    void navigator.clipboard?.writeText(input.value).catch(() => undefined);
  });
  await preview();
}
