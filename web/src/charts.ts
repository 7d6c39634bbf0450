/**
 * Charts of the chosen world, drawn with uPlot. Every fetch is bounded: at most 20,000 orders,
 * 2,000 products of the analytics endpoint, and one day of performance events at a low rate.
 */
import uPlot from 'uplot';
import { getJson, getNdjson, messageOf } from './api.js';
import { byId, fmt, h } from './dom.js';
import { worldParams } from './world.js';

const MAX_ORDERS = 20_000;
const MAX_PRODUCTS = 2_000;
/** Events per second of the performance sample (the API's default is 20: a day is ~2.5 million). */
const PERFORMANCE_TPS = 0.2;
/** At most this many sampled events (a day at PERFORMANCE_TPS is about 25,000). */
const MAX_EVENTS = 40_000;
const DAY = 86_400;

interface OrderRow {
  created_at: string;
  total: number;
  item_count: number;
}
interface ProductRow {
  product_id: string;
  units_sold: number;
}
interface EventRow {
  '@timestamp': string;
  response_time_ms: number;
  status: string;
}
/** GET /performance-events/incidents: a list, like every list endpoint. */
type Incidents = { incident_id: string; started_at: string; recovery_ended_at: string }[];

const colors = { blue: '#1f5fbf', green: '#1a7f37', orange: '#b35900', red: '#c62828', shade: 'rgba(198, 40, 40, 0.12)' };

/** A figure with a heading, a text summary for screen readers, and the chart. */
function figure(title: string, summary: string): { box: HTMLElement; width: number } {
  const box = h('figure', { class: 'chart', role: 'group', 'aria-label': title }, h('figcaption', {}, h('strong', {}, title), h('span', { class: 'hint' }, ` ${summary}`)));
  byId('charts').append(box);
  return { box, width: Math.max(260, Math.min(600, box.clientWidth - 32)) };
}

function lineChart(title: string, summary: string, data: uPlot.AlignedData, series: uPlot.Series[], options: Partial<uPlot.Options> = {}): void {
  const { box, width } = figure(title, summary);
  new uPlot({ width, height: 220, legend: { live: false }, series: [{}, ...series], ...options }, data, box);
}

const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;

function ordersCharts(orders: OrderRow[], population: number): void {
  const perDay = new Map<number, { orders: number; revenue: number }>();
  const byHour = new Array<number>(24).fill(0);
  const baskets = new Map<number, number>();
  for (const order of orders) {
    const t = Date.parse(order.created_at) / 1000;
    const day = Math.floor(t / DAY) * DAY;
    const slot = perDay.get(day) ?? { orders: 0, revenue: 0 };
    slot.orders++;
    slot.revenue += order.total;
    perDay.set(day, slot);
    byHour[new Date(t * 1000).getUTCHours()]! += 1;
    baskets.set(order.item_count, (baskets.get(order.item_count) ?? 0) + 1);
  }
  const days = [...perDay.keys()].sort((a, b) => a - b);
  const sample = orders.length < population ? `the first ${fmt(orders.length)} of ${fmt(population)} orders` : `all ${fmt(orders.length)} orders`;
  lineChart(
    'Orders and revenue per day',
    `${sample}; busiest day ${fmt(Math.max(0, ...days.map((d) => perDay.get(d)?.orders ?? 0)))} orders.`,
    [days, days.map((d) => perDay.get(d)?.orders ?? 0), days.map((d) => Math.round((perDay.get(d)?.revenue ?? 0) * 100) / 100)],
    [
      { label: 'orders', stroke: colors.blue, scale: 'n' },
      { label: 'revenue', stroke: colors.green, scale: 'money' },
    ],
    { axes: [{}, { scale: 'n' }, { scale: 'money', side: 1, size: 60, grid: { show: false } }] },
  );
  const hours = [...byHour.keys()];
  lineChart('Orders by hour of day (UTC)', `peak at ${byHour.indexOf(Math.max(...byHour))}:00.`, [hours, byHour], [{ label: 'orders', stroke: colors.blue, fill: 'rgba(31,95,191,0.35)', paths: bars }], { scales: { x: { time: false } } });
  const sizes = [...baskets.keys()].sort((a, b) => a - b);
  lineChart('Basket sizes (items per order)', `most common: ${sizes.reduce((best, s) => ((baskets.get(s) ?? 0) > (baskets.get(best) ?? 0) ? s : best), sizes[0] ?? 0)} items.`, [sizes, sizes.map((s) => baskets.get(s) ?? 0)], [{ label: 'orders', stroke: colors.orange, fill: 'rgba(179,89,0,0.35)', paths: bars }], {
    scales: { x: { time: false } },
  });
}

function productsChart(products: ProductRow[], population: number): void {
  const units = products.map((p) => p.units_sold).sort((a, b) => b - a);
  const ranks = units.map((_, i) => i + 1);
  const top = units.slice(0, 10).reduce((a, b) => a + b, 0);
  const all = units.reduce((a, b) => a + b, 0);
  lineChart(
    'Top products: units sold by rank (the long tail)',
    `${fmt(units.length)} of ${fmt(population)} products; the top 10 sold ${all > 0 ? Math.round((top / all) * 100) : 0}% of their units.`,
    [ranks, units],
    [{ label: 'units sold', stroke: colors.blue, fill: 'rgba(31,95,191,0.15)' }],
    { scales: { x: { time: false } } },
  );
}

function performanceChart(events: EventRow[], incidents: Incidents): void {
  const minutes = new Map<number, { n: number; latency: number; errors: number }>();
  for (const e of events) {
    const minute = Math.floor(Date.parse(e['@timestamp']) / 60_000) * 60;
    const slot = minutes.get(minute) ?? { n: 0, latency: 0, errors: 0 };
    slot.n++;
    slot.latency += e.response_time_ms;
    if (e.status !== 'success') slot.errors++;
    minutes.set(minute, slot);
  }
  const xs = [...minutes.keys()].sort((a, b) => a - b);
  const bands = incidents.map((i) => [Date.parse(i.started_at) / 1000, Date.parse(i.recovery_ended_at) / 1000] as const);
  const shade = (u: uPlot) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.fillStyle = colors.shade;
    for (const [from, to] of bands) {
      const left = u.valToPos(from, 'x', true);
      const right = u.valToPos(to, 'x', true);
      ctx.fillRect(left, bbox.top, Math.max(2, right - left), bbox.height);
    }
    ctx.restore();
  };
  lineChart(
    'Performance events: latency and error rate per minute',
    `one day, ${fmt(events.length)} events sampled at ${PERFORMANCE_TPS} per second; ${incidents.length} incidents shaded.`,
    [xs, xs.map((x) => Math.round((minutes.get(x)?.latency ?? 0) / (minutes.get(x)?.n ?? 1))), xs.map((x) => Math.round(((minutes.get(x)?.errors ?? 0) / (minutes.get(x)?.n ?? 1)) * 1000) / 10)],
    [
      { label: 'mean latency (ms)', stroke: colors.blue, scale: 'ms' },
      { label: 'error rate (%)', stroke: colors.red, scale: '%' },
    ],
    { axes: [{}, { scale: 'ms', size: 60 }, { scale: '%', side: 1, grid: { show: false } }], hooks: { drawClear: [shade] } },
  );
}

export async function drawCharts(): Promise<void> {
  const status = byId('charts-status');
  byId('charts').replaceChildren();
  status.textContent = 'Drawing…';
  const world = worldParams();
  const problems: string[] = [];
  try {
    const orders = new URLSearchParams(world);
    orders.set('fields', 'created_at,total,item_count');
    orders.set('limit', String(MAX_ORDERS));
    orders.set('format', 'ndjson');
    const { body: manifest } = await getJson<{ sizes: Record<string, number> }>(`/api/v1/manifest?${world.toString()}&entities=orders`);
    ordersCharts(await getNdjson<OrderRow>(`/api/v1/orders?${orders.toString()}`), manifest.sizes.orders ?? 0);
    const products = new URLSearchParams(world);
    products.set('fields', 'product_id,units_sold');
    products.set('limit', String(MAX_PRODUCTS));
    products.set('format', 'ndjson');
    productsChart(await getNdjson<ProductRow>(`/api/v1/analytics/products?${products.toString()}`), manifest.sizes.products ?? 0);
  } catch (error) {
    problems.push(`Orders and products: ${messageOf(error)}`);
  }
  try {
    const perf = new URLSearchParams({ seed: world.get('seed') ?? '42', days: '1', base_tps: String(PERFORMANCE_TPS) });
    const { body: incidents } = await getJson<Incidents>(`/api/v1/performance-events/incidents?${perf.toString()}`);
    perf.set('fields', '@timestamp,response_time_ms,status');
    perf.set('limit', String(MAX_EVENTS));
    perf.set('format', 'ndjson');
    performanceChart(await getNdjson<EventRow>(`/api/v1/performance-events?${perf.toString()}`), incidents);
  } catch (error) {
    problems.push(`Performance events: ${messageOf(error)}`);
  }
  status.textContent = problems.length > 0 ? problems.join(' ') : '';
}
