import { IncomingMessage, ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';

/** A response's headers as `writeHead` takes them: names and values in one flat list. */
export type FlatHead = (string | number | string[])[];

/**
 * A kept head's text around its slots: `texts[0]`, the value at `head[at[0]]`, `texts[1]`, …,
 * `texts[at.length]`; every header line, none of Node's own (Date, Connection, Keep-Alive).
 */
export interface HeadText {
  readonly texts: readonly string[];
  readonly at: readonly number[];
}

/** Header names Node's `writeHead` acts on (beyond Content-Length): a head with one is always written by `writeHead`. */
const NODE_HEADERS = new Set(['connection', 'transfer-encoding', 'date', 'expect', 'trailer', 'keep-alive']);

/**
 * The text of a 200 answer's head whose values change only at `slots` (positions of values in
 * `head`), or undefined when `writeHead` must write it: a header Node acts on (Connection, Date,
 * Transfer-Encoding, …), a value that is a list (Node writes a line for each), no Content-Length.
 * The head's names and constant values were sent once by Fastify through `writeHead`, which
 * validated them; the slots' values are the request id (a sane client id or a UUID,
 * src/plugins/http.ts), the seed's headers (digits, dates, a Link of a URL the WHATWG parser
 * serialised, a file name of an entity and digits) and Content-Length.
 */
export function headText(head: FlatHead, slots: readonly number[]): HeadText | undefined {
  let sized = false;
  for (let k = 0; k < head.length; k += 2) {
    const name = String(head[k]).toLowerCase();
    if (NODE_HEADERS.has(name) || Array.isArray(head[k + 1])) return undefined;
    sized ||= name === 'content-length';
  }
  if (!sized) return undefined;
  const at = [...slots].sort((a, b) => a - b);
  const texts: string[] = [];
  let text = 'HTTP/1.1 200 OK\r\n';
  for (let k = 0; k < head.length; k += 2) {
    text += `${head[k] as string}: `;
    if (at.includes(k + 1)) {
      texts.push(text);
      text = '';
    } else text += String(head[k + 1]);
    text += '\r\n';
  }
  texts.push(text);
  return { texts, at };
}

/** The fields of Node's `ServerResponse` (node:_http_outgoing, node:_http_server) that decide how it ends a head. */
interface NodeResponse {
  _header: string | null;
  _headerSent: boolean;
  _contentLength: number | null;
  _keepAliveTimeout: number;
  _defaultKeepAlive: boolean;
  _maxRequestsPerSocket: number;
  _removedConnection: boolean;
  _expect_continue: boolean;
  maxRequestsOnConnectionReached: boolean;
  shouldKeepAlive: boolean;
  sendDate: boolean;
  statusMessage: string;
  statusCode: number;
}

/**
 * Whether this Node stores a response's head as `writeHead` leaves it, in `_header`, and sends
 * it before the body (checked once, on a response to a stand-in request): else every head goes
 * through `writeHead`.
 */
const NODE_STORES_HEAD = ((): boolean => {
  try {
    const res = new ServerResponse(new IncomingMessage(new Socket())) as unknown as NodeResponse & ServerResponse;
    const fields: (keyof NodeResponse)[] = ['_headerSent', '_defaultKeepAlive', '_removedConnection', '_expect_continue', 'sendDate', 'shouldKeepAlive'];
    if (res._header !== null || !fields.every((name) => typeof res[name] === 'boolean')) return false;
    res.shouldKeepAlive = true;
    res._keepAliveTimeout = 5000;
    res.writeHead(200, ['x-a', '1', 'content-length', 0] as unknown as OutgoingHttpHeaders);
    return /^HTTP\/1\.1 200 OK\r\nx-a: 1\r\ncontent-length: 0\r\nDate: [^\r\n]+\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n$/.test(res._header ?? '') && res._headerSent === false && res._contentLength === 0;
  } catch {
    return false;
  }
})();

/** The Date header's value, as Node writes it (a second's resolution: made once a second). */
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  // eslint-disable-next-line no-restricted-properties -- a response's Date header, not generation
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Keep-Alive lines by timeout (one server: one entry). */
const keepAliveLines = new Map<number, string>();

/**
 * Writes a 200 answer: `head` (its slots filled) and `body`. With `text`, the head is written as
 * its text with the slots' values and Node's own lines, exactly what `writeHead(200, head)`
 * writes (test/plugins/raw-head.test.ts compares the bytes on the wire), on a kept-alive
 * connection in the server's default keep-alive; otherwise, and where this Node keeps its head
 * elsewhere, through `writeHead`.
 *
 * Why: `writeHead` validates every header's name and value and matches each against the headers
 * it acts on. For the ~25 headers of a page (helmet's, CORS, the page's own) that was ~12% of
 * the main thread under load, the largest cost of an answer of the page cache's front after
 * the socket's write; answered this way, a repeated seeded page cost ~29 µs of server CPU
 * against ~43 (docs/performance.md, "Fifteenth round"). Node offers no public way to write a
 * head it has not validated, so this sets the two fields `writeHead` sets (`_header`,
 * `_headerSent`); {@link NODE_STORES_HEAD} checks once that this Node stores its head there.
 */
export function writeAnswer(res: ServerResponse, head: FlatHead, text: HeadText | undefined, length: number, body: string | Uint8Array): void {
  const raw = res as unknown as NodeResponse;
  if (
    text !== undefined &&
    NODE_STORES_HEAD &&
    raw._header === null &&
    raw.shouldKeepAlive &&
    raw.sendDate &&
    raw._defaultKeepAlive &&
    raw._keepAliveTimeout > 0 &&
    !raw.maxRequestsOnConnectionReached &&
    !raw._removedConnection &&
    !raw._expect_continue &&
    !(raw._maxRequestsPerSocket > 0)
  ) {
    const { texts, at } = text;
    let out = texts[0] as string;
    for (let k = 0; k < at.length; k++) out += `${head[at[k] as number] as string | number}${texts[k + 1] as string}`;
    let keepAlive = keepAliveLines.get(raw._keepAliveTimeout);
    if (keepAlive === undefined) {
      keepAlive = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(raw._keepAliveTimeout / 1000)}\r\n\r\n`;
      keepAliveLines.set(raw._keepAliveTimeout, keepAlive);
    }
    raw.statusCode = 200;
    raw.statusMessage = 'OK';
    raw._contentLength = length;
    raw._header = `${out}Date: ${httpDate()}\r\n${keepAlive}`;
    raw._headerSent = false;
  } else res.writeHead(200, head as unknown as OutgoingHttpHeaders);
  res.end(body);
}
