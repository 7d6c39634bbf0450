/** The world chosen in the Explore form: the query every view and job of the panel shares. */
import { byId } from './dom.js';

export interface World {
  seed: number;
  scale: number;
  locale: string;
  start_date: string;
  end_date: string;
}

const form = () => byId<HTMLFormElement>('world-form');

export function currentWorld(): World {
  const data = new FormData(form());
  const text = (name: string) => String(data.get(name) ?? '').trim();
  return { seed: Number(text('seed')), scale: Number(text('scale')), locale: text('locale'), start_date: text('start_date'), end_date: text('end_date') };
}

/** The world as query parameters (empty fields left out, dates as the API expects them). */
export function worldParams(world: World = currentWorld()): URLSearchParams {
  const params = new URLSearchParams({ seed: String(world.seed), scale: String(world.scale) });
  if (world.locale) params.set('locale', world.locale);
  if (world.start_date) params.set('start_date', world.start_date);
  if (world.end_date) params.set('end_date', world.end_date);
  return params;
}

/** The world as a sink request body (the same fields, typed). */
export function worldBody(world: World = currentWorld()): Record<string, unknown> {
  const body: Record<string, unknown> = { seed: world.seed, scale: world.scale };
  if (world.locale) body.locale = world.locale;
  if (world.start_date) body.start_date = world.start_date;
  if (world.end_date) body.end_date = world.end_date;
  return body;
}
