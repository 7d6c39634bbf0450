/**
 * Watch: every job with a live progress bar, pushed by GET /api/v1/jobs/events (server-sent
 * events), cancel buttons, errors in plain words, and the per-sink statistics with a reset.
 */
import { getJson, messageOf, send } from './api.js';
import { ago, byId, bytes, duration, fmt, h, say } from './dom.js';

interface EntityJson {
  entity: string;
  state: string;
  planned: number;
  records: number;
  failed: number;
  destination: string | null;
  error: string | null;
}
export interface JobJson {
  id: string;
  sink: string;
  state: string;
  started_at: string | null;
  finished_at: string | null;
  records: number;
  bytes: number;
  failed: number;
  /** Sink jobs list their entities; a stream job may not (then the bar shows records only). */
  entities?: EntityJson[];
  errors?: string[];
  error_count?: number;
  /** Streams: how far the stream is behind its clock, when the server tells. */
  lag_ms?: number;
  /** Streams: the events planned (`max_events`), when the stream has an end in events. */
  planned?: number;
  /** `stream` for a stream of POST /api/v1/streams (its own fields are below). */
  kind?: string;
  mode?: string;
}

/** A stream as GET /api/v1/streams/{id} (and the jobs list) shows it. */
interface StreamJson {
  id: string;
  kind: 'stream';
  sink: string;
  mode: string;
  state: string;
  created_at: string;
  finished_at: string | null;
  delivered: number;
  failed: number;
  bytes: number;
  lag_seconds: number;
  errors: string[];
  error_count: number;
  request?: { max_events?: number };
}

/**
 * A job line from what the API answers: a stream counts its delivered events as records, started
 * when it was created, with its lag. (Read as a sink job, a stream had no `records`, and the NaN
 * bar it made threw, which stopped the Watch on any server that had run a stream.)
 */
export function asJob(raw: JobJson | StreamJson): JobJson {
  if (raw.kind !== 'stream' || !('delivered' in raw)) return raw as JobJson;
  const stream = raw as StreamJson;
  return {
    id: stream.id,
    kind: 'stream',
    mode: stream.mode,
    sink: stream.sink,
    state: stream.state,
    started_at: stream.created_at,
    finished_at: stream.finished_at,
    records: stream.delivered,
    bytes: stream.bytes,
    failed: stream.failed,
    errors: stream.errors,
    error_count: stream.error_count,
    lag_ms: stream.lag_seconds * 1000,
    ...(stream.request?.max_events !== undefined ? { planned: stream.request.max_events } : {}),
  };
}
interface SinkStats {
  records: number;
  bytes: number;
  failed: number;
  jobs: Record<string, number>;
  last_activity: string | null;
}
interface Stats {
  since: string;
  sinks: Record<string, SinkStats>;
}

const ENDED = new Set(['succeeded', 'partial', 'failed', 'cancelled']);
const SHOWN = 20;
const jobs = new Map<string, JobJson>();
let stats: Stats | undefined;

const words: Record<string, string> = {
  queued: 'Waiting for a free slot',
  running: 'Running',
  succeeded: 'Done',
  partial: 'Done, with records that failed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What a job's line says now: bar, counts, rate, ETA or lag. */
function factsOf(job: JobJson): { planned: number; facts: string; ended: boolean } {
  // A live stream without max_events has no planned total: its bar is indeterminate while it runs.
  const planned = (job.entities ?? []).reduce((sum, e) => sum + e.planned, 0) || job.planned || job.records;
  const seconds = job.started_at ? ((job.finished_at ? Date.parse(job.finished_at) : Date.now()) - Date.parse(job.started_at)) / 1000 : 0;
  const rate = seconds > 0 ? job.records / seconds : 0;
  const ended = ENDED.has(job.state);
  const eta = !ended && rate > 0 && planned > job.records ? `ETA ${duration((planned - job.records) / rate)}` : '';
  const lag = job.lag_ms !== undefined ? `lag ${duration(job.lag_ms / 1000)}` : '';
  const noun = job.kind === 'stream' ? 'events' : 'records';
  const counts = job.kind === 'stream' && job.planned === undefined ? `${fmt(job.records)} ${noun}` : `${fmt(job.records)}/${fmt(planned)} ${noun}`;
  const facts = [counts, bytes(job.bytes), `${fmt(Math.round(rate))} ${noun}/s`, eta, lag, job.failed > 0 ? `${fmt(job.failed)} failed` : ''].filter(Boolean);
  return { planned, facts: facts.join(' · '), ended };
}

/** The line of one job, created once and then updated in place (so focus stays where it is). */
const items = new Map<string, HTMLElement>();

function jobItem(job: JobJson): HTMLElement {
  const label = `job-${job.id}-label`;
  let item = items.get(job.id);
  if (!item) {
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-cancel': job.id, 'aria-label': `Cancel ${job.sink} job ${job.id.slice(0, 8)}` }, 'Cancel');
    cancel.addEventListener('click', () => void cancelJob(cancel, job.id));
    item = h(
      'li',
      { 'data-job': job.id },
      h('div', { class: 'job-head' }, h('strong', { id: label }, `${job.sink} · ${job.kind === 'stream' ? `${job.mode ?? ''} stream`.trim() : (job.entities ?? []).map((e) => e.entity).join(', ') || 'stream'}`), h('span', { class: 'badge' }), cancel),
      h('progress', { 'aria-labelledby': label }),
      h('p', { class: 'facts', 'data-progress': job.id }),
      h('ul', { class: 'errors' }),
    );
    items.set(job.id, item);
  }
  const { planned, facts, ended } = factsOf(job);
  item.className = `job ${job.state}`;
  item.dataset.state = job.state;
  const badge = item.querySelector('.badge') as HTMLElement;
  badge.className = `badge ${job.state}`;
  badge.textContent = words[job.state] ?? job.state;
  const bar = item.querySelector('progress') as HTMLProgressElement;
  if (job.kind === 'stream' && job.planned === undefined && !ended) {
    bar.removeAttribute('value'); // indeterminate: a live stream runs until stopped
    bar.setAttribute('aria-valuetext', `${job.records} events`);
  } else {
    bar.max = Math.max(Number.isFinite(planned) ? planned : 0, 1);
    bar.value = Number.isFinite(job.records) ? job.records : 0;
    bar.setAttribute('aria-valuetext', `${job.records} of ${planned} ${job.kind === 'stream' ? 'events' : 'records'}`);
  }
  (item.querySelector('.facts') as HTMLElement).textContent = facts;
  if (ended) item.querySelector('button[data-cancel]')?.remove();
  const errors = (job.errors ?? []).slice(0, 3).map((e) => h('li', {}, e));
  const errorCount = job.error_count ?? errors.length;
  if (errorCount > errors.length) errors.push(h('li', {}, `and ${fmt(errorCount - errors.length)} more`));
  (item.querySelector('.errors') as HTMLElement).replaceChildren(...errors);
  return item;
}

function renderJobs(): void {
  const list = [...jobs.values()].reverse().sort((a, b) => Number(ENDED.has(a.state)) - Number(ENDED.has(b.state))).slice(0, SHOWN);
  const element = byId('jobs');
  const wanted = list.length > 0 ? list.map(jobItem) : [h('li', { class: 'hint' }, 'No jobs yet: start one under Run.')];
  // Move only what changed place: replacing the children would drop the focus of a Cancel button.
  wanted.forEach((child, i) => {
    if (element.children[i] !== child) element.insertBefore(child, element.children[i] ?? null);
  });
  while (element.children.length > wanted.length) element.lastElementChild?.remove();
  for (const id of items.keys()) if (!list.some((j) => j.id === id)) items.delete(id);
}

function renderStats(): void {
  if (!stats) return;
  byId('stats-since').textContent = `Since ${new Date(stats.since).toLocaleString()}.`;
  byId<HTMLTableElement>('stats').tBodies[0]?.replaceChildren(
    ...Object.entries(stats.sinks).map(([name, s]) =>
      h(
        'tr',
        { 'data-sink': name },
        h('th', { scope: 'row' }, name),
        h('td', {}, fmt(s.records)),
        h('td', {}, bytes(s.bytes)),
        h('td', {}, fmt(s.failed)),
        h('td', {}, `${fmt(s.jobs.total ?? 0)} (${fmt(s.jobs.running ?? 0)} running)`),
        h('td', {}, ago(s.last_activity)),
      ),
    ),
  );
}

async function cancelJob(button: HTMLButtonElement, id: string): Promise<void> {
  button.disabled = true;
  try {
    const job = await send<JobJson>('DELETE', `/api/v1/jobs/${id}`);
    update(job);
  } catch (error) {
    say(byId('watch-error'), messageOf(error));
    button.disabled = false;
  }
}

/** A job the panel just started, unless an event already told more. */
export function addIfNew(job: JobJson | StreamJson): void {
  if (!jobs.has(job.id)) update(asJob(job));
}

/** A job as the API shows it now: newer news replaces older. */
export function update(job: JobJson | StreamJson): void {
  jobs.set(job.id, asJob(job));
  renderJobs();
}

/**
 * Streams have no event stream (GET /api/v1/jobs/events pushes sink jobs only): while one runs,
 * it is read again every second, until it has ended.
 */
async function refreshStreams(): Promise<void> {
  const running = [...jobs.values()].filter((j) => j.kind === 'stream' && !ENDED.has(j.state));
  await Promise.all(running.map(async (j) => update((await getJson<StreamJson>(`/api/v1/streams/${j.id}`)).body)));
}

export async function setupWatch(): Promise<void> {
  byId('reset-stats').addEventListener('click', async () => {
    try {
      stats = await send<Stats>('DELETE', '/api/v1/stats');
      renderStats();
      say(byId('watch-error'), '');
    } catch (error) {
      say(byId('watch-error'), messageOf(error));
    }
  });
  const [{ body: list }, { body: now }] = await Promise.all([getJson<JobJson[]>('/api/v1/jobs'), getJson<Stats>('/api/v1/stats')]);
  for (const job of list.slice(0, SHOWN).reverse()) jobs.set(job.id, asJob(job));
  stats = now;
  renderJobs();
  renderStats();

  const live = byId('live-status');
  const source = new EventSource('/api/v1/jobs/events');
  let lost = false;
  source.addEventListener('open', () => {
    live.textContent = 'Live: jobs and statistics update as they change.';
    // Jobs that ended while the connection was down are not in the new stream's first events.
    if (lost) void getJson<JobJson[]>('/api/v1/jobs').then(({ body }) => body.slice(0, SHOWN).reverse().forEach(update), () => undefined);
    lost = false;
  });
  source.addEventListener('error', () => {
    lost = true;
    live.textContent = 'Connection lost; reconnecting…';
  });
  source.addEventListener('job', (event) => update(JSON.parse((event as MessageEvent<string>).data) as JobJson));
  source.addEventListener('stats', (event) => {
    stats = JSON.parse((event as MessageEvent<string>).data) as Stats;
    renderStats();
  });
  // "Last activity 5 s ago" and rates move with the clock, not only with events.
  setInterval(() => {
    renderStats();
    if ([...jobs.values()].some((j) => !ENDED.has(j.state))) renderJobs();
    refreshStreams().catch((error: unknown) => say(byId('watch-error'), messageOf(error)));
  }, 1000);
}
