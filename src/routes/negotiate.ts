import type { IncomingMessage } from 'node:http';
import accepts from 'accepts';
import type { FormatName } from '../formats/index.js';
import { PARQUET_CONTENT_TYPE } from '../formats/parquet.js';

/**
 * Content negotiation of the list routes: which format an `Accept` header asks for.
 *
 * `format=` wins. Otherwise the media types below are offered, in this order, to the `accepts`
 * package (jshttp's negotiator): the client's highest q wins, then the most specific range, then
 * the order of the client's list, then this order. So no `Accept`, `*\/*` and `application/*`
 * give JSON, `text/*` gives CSV (the first text type here), and Parquet only when asked for by
 * its own type. The aliases (`application/ndjson`, `application/jsonl`, `text/xml`) select the
 * format of the type before them. A browser's address bar (an Accept that lists `text/html`
 * first) gets JSON, which browsers display, rather than the XML it accepts as a fallback for
 * XHTML; when nothing offered is acceptable the caching plugin answers 406 (src/plugins/caching.ts).
 */
const TEXT_TYPES: readonly (readonly [string, FormatName])[] = [
  ['application/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['text/csv', 'csv'],
  ['application/xml', 'xml'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['text/xml', 'xml'],
];

/**
 * The parameters of the Content-Type each offered type is written with. An Accept range with
 * parameters matches only a type that has them (RFC 9110 12.5.1; jshttp's negotiator compares
 * them), so the types are offered as they are sent: `Accept: application/json; charset=utf-8`
 * (what many HTTP clients send) names exactly the type of a JSON answer, and
 * `text/plain; version=0.0.4` the Prometheus text format of /metrics (prom-client's
 * `Registry.PROMETHEUS_CONTENT_TYPE`). A parameter we do not send (`charset=latin1`) still gets
 * a 406. Types not listed (Parquet, `text/event-stream`) are sent without parameters.
 */
const SENT_PARAMETERS: Readonly<Record<string, string>> = {
  'application/json': '; charset=utf-8',
  'application/x-ndjson': '; charset=utf-8',
  'text/csv': '; charset=utf-8',
  'application/xml': '; charset=utf-8',
  // The aliases select the format before them: the same parameters as its type.
  'application/ndjson': '; charset=utf-8',
  'application/jsonl': '; charset=utf-8',
  'text/xml': '; charset=utf-8',
  'text/plain': '; version=0.0.4; charset=utf-8',
};

/** A media type as it is offered to the negotiator: with the parameters it is sent with. */
function asSent(type: string): string {
  return type + (SENT_PARAMETERS[type] ?? '');
}

/** A format an entity route writes: the text formats (and bulk, by `format=` only) or Parquet. */
export type EntityFormat = FormatName | 'parquet';

const ENTITY_TYPES: readonly (readonly [string, EntityFormat])[] = [...TEXT_TYPES, [PARQUET_CONTENT_TYPE, 'parquet']];

/** What a browser's navigation lists first: we serve no HTML, and answer such a request with JSON. */
const BROWSER_FIRST = 'text/html';

/** Answers by Accept header, per list of types; cleared when full (clients send few distinct headers). */
const MEMO_SIZE = 256;

class Negotiation<F extends string> {
  private readonly types: string[];
  private readonly formats: Map<string, F>;
  private readonly memo = new Map<string, F | undefined>();

  constructor(table: readonly (readonly [string, F])[]) {
    this.types = table.map(([type]) => asSent(type));
    this.formats = new Map(table.map(([type, format]) => [asSent(type), format]));
  }

  /** The format `accept` selects, or undefined when it accepts none of the types (a 406). */
  choose(accept: string): F | undefined {
    let chosen = this.memo.get(accept);
    if (chosen !== undefined || this.memo.has(accept)) return chosen;
    // accepts reads only `headers.accept` of the request.
    const negotiator = accepts({ headers: { accept } } as IncomingMessage);
    // Given a list, `type` answers one of its entries or false; without, the client's ranges by preference.
    const best = negotiator.type(this.types) as string | false;
    if (best !== false) {
      const preferred = negotiator.types() as string[];
      const json = asSent('application/json');
      const browser = preferred[0] === BROWSER_FIRST && negotiator.type([json]) !== false;
      chosen = this.formats.get(browser ? json : best);
    }
    if (this.memo.size >= MEMO_SIZE) this.memo.clear();
    this.memo.set(accept, chosen);
    return chosen;
  }
}

const textNegotiation = new Negotiation(TEXT_TYPES);
const entityNegotiation = new Negotiation(ENTITY_TYPES);

/**
 * The format of a route that writes json, ndjson, csv and xml: `format=` wins, then `Accept`
 * (see above), then JSON (also when Accept accepts nothing offered: the caching plugin has
 * answered 406 before the handler runs).
 */
export function chooseFormat(format: FormatName | undefined, accept: string | undefined): FormatName {
  if (format) return format;
  if (!accept) return 'json';
  return textNegotiation.choose(accept) ?? 'json';
}

/** As {@link chooseFormat}, for the entity routes, which also write Parquet (`application/vnd.apache.parquet`). */
export function chooseEntityFormat(format: EntityFormat | undefined, accept: string | undefined): EntityFormat {
  if (format) return format;
  if (!accept) return 'json';
  return entityNegotiation.choose(accept) ?? 'json';
}

/**
 * The media types a route accepts in `Accept`, from the types its 200 response documents: each
 * with its aliases above (`application/xml` brings `text/xml`), so the 406 check and the format
 * chosen agree.
 */
export function acceptedTypes(documented: readonly string[]): string[] {
  const formats = new Set(documented.flatMap((type) => ENTITY_TYPES.filter(([t]) => t === type).map(([, format]) => format)));
  const aliases = ENTITY_TYPES.filter(([type, format]) => formats.has(format) && !documented.includes(type)).map(([type]) => type);
  return [...documented, ...aliases];
}

/** Whether `accept` accepts one of `types` (the 406 check of src/plugins/caching.ts, by the same negotiator). */
export function acceptsAny(accept: string, types: readonly string[]): boolean {
  return accepts({ headers: { accept } } as IncomingMessage).type(types.map(asSent)) !== false;
}
