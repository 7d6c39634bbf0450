/** The public HTTP API, as the panel uses it: same origin, JSON, the API key as bearer token. */

const KEY = 'ecomgen.apiKey';

export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
}

/** A 4xx/5xx answer, with the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string): void => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY)),
};

/** Asks the person for the key (the page's dialog); resolves with it, or null if they cancel. */
let askForKey: () => Promise<string | null> = async () => null;
export function onKeyNeeded(ask: () => Promise<string | null>): void {
  askForKey = ask;
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> = {};
  try {
    body = (await response.json()) as Partial<ApiErrorBody>;
  } catch {
    // Not JSON: the status line says enough.
  }
  return new ApiError(response.status, body.message ?? `${response.status} ${response.statusText}`, body.code);
}

/** GET a JSON document; returns the body and the response (for headers). */
export async function getJson<T>(path: string): Promise<{ body: T; response: Response }> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await errorOf(response);
  return { body: (await response.json()) as T, response };
}

/** GET newline-delimited JSON, parsed line by line. */
export async function getNdjson<T>(path: string): Promise<T[]> {
  const response = await fetch(path, { headers: { accept: 'application/x-ndjson' } });
  if (!response.ok) throw await errorOf(response);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** POST or DELETE with the API key; on 401 asks for the key once and tries again. */
export async function send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const key = apiKey.get();
    if (key) headers.authorization = `Bearer ${key}`;
    const response = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (response.ok) return (await response.json()) as T;
    const error = await errorOf(response);
    if (response.status === 401 && attempt === 0) {
      const given = await askForKey();
      if (given) continue;
    }
    throw error;
  }
}

/** The message to show a person for anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return `The server could not be reached (${error.message}).`;
  return error instanceof Error ? error.message : String(error);
}
