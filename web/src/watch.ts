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
  entities: EntityJson[];
  errors: string[];
  error_count: number;
  /** Streams: how far the stream is behind its clock, when the server tells. */
  lag_ms?: number;
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

function jobItem(job: JobJson): HTMLElement {
  const planned = job.entities.reduce((sum, e) => sum + e.planned, 0);
  const seconds = job.started_at ? ((job.finished_at ? Date.parse(job.finished_at) : Date.now()) - Date.parse(job.started_at)) / 1000 : 0;
  const rate = seconds > 0 ? job.records / seconds : 0;
  const ended = ENDED.has(job.state);
  const eta = !ended && rate > 0 && planned > job.records ? `ETA ${duration((planned - job.records) / rate)}` : '';
  const lag = job.lag_ms !== undefined ? `lag ${duration(job.lag_ms / 1000)}` : '';
  const label = `job-${job.id}-label`;
  const facts = [`${fmt(job.records)}/${fmt(planned)} records`, bytes(job.bytes), `${fmt(Math.round(rate))} records/s`, eta, lag, job.failed > 0 ? `${fmt(job.failed)} failed` : ''].filter(Boolean);
  const cancel = ended
    ? null
    : h('button', {
        type: 'button',
        class: 'secondary',
        'data-cancel': job.id,
        'aria-label': `Cancel ${job.sink} job ${job.id.slice(0, 8)}`,
        onclick: (event: Event) => void cancelJob(event.currentTarget as HTMLButtonElement, job.id),
      }, 'Cancel');
  const errors = job.errors.slice(0, 3).map((e) => h('li', {}, e));
  if (job.error_count > errors.length) errors.push(h('li', {}, `and ${fmt(job.error_count - errors.length)} more`));
  return h(
    'li',
    { class: `job ${job.state}`, 'data-job': job.id, 'data-state': job.state },
    h('div', { class: 'job-head' }, h('strong', { id: label }, `${job.sink} · ${job.entities.map((e) => e.entity).join(', ')}`), h('span', { class: `badge ${job.state}` }, words[job.state] ?? job.state), cancel),
    h('progress', { max: Math.max(planned, 1), value: job.records, 'aria-labelledby': label, 'aria-valuetext': `${job.records} of ${planned} records` }),
    h('p', { class: 'facts', 'data-progress': job.id }, facts.join(' · ')),
    errors.length > 0 ? h('ul', { class: 'errors' }, ...errors) : null,
  );
}

function renderJobs(): void {
  const list = [...jobs.values()].sort((a, b) => Number(ENDED.has(a.state)) - Number(ENDED.has(b.state))).slice(0, SHOWN);
  byId('jobs').replaceChildren(...(list.length > 0 ? list.map(jobItem) : [h('li', { class: 'hint' }, 'No jobs yet: start one under Run.')]));
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
export function addIfNew(job: JobJson): void {
  if (!jobs.has(job.id)) update(job);
}

/** A job as the API shows it now: newer news replaces older. */
export function update(job: JobJson): void {
  jobs.set(job.id, job);
  renderJobs();
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
  for (const job of list.slice(0, SHOWN).reverse()) jobs.set(job.id, job);
  stats = now;
  renderJobs();
  renderStats();

  const live = byId('live-status');
  const source = new EventSource('/api/v1/jobs/events');
  source.addEventListener('open', () => (live.textContent = 'Live: jobs and statistics update as they change.'));
  source.addEventListener('error', () => (live.textContent = 'Connection lost; reconnecting…'));
  source.addEventListener('job', (event) => update(JSON.parse((event as MessageEvent<string>).data) as JobJson));
  source.addEventListener('stats', (event) => {
    stats = JSON.parse((event as MessageEvent<string>).data) as Stats;
    renderStats();
  });
  // "Last activity 5 s ago" and rates move with the clock, not only with events.
  setInterval(() => {
    renderStats();
    if ([...jobs.values()].some((j) => !ENDED.has(j.state))) renderJobs();
  }, 1000);
}
