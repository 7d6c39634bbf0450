import { Buffer } from 'node:buffer';
import type { IdSpace } from '../generators/random.js';
import { DAY, dayString } from '../generators/time.js';
import { moneyText, numberText } from './compiled.js';
import type { FormatContext } from './types.js';

/**
 * A record written field by field, in its columns' order, straight into bytes. A generator that
 * can produce its records this way (see {@link FieldSource}) skips the record object, the
 * strings of its fields, the batch's text and its UTF-8 encoding. The generator says what kind
 * each value is; the format decides the punctuation and the escaping, so the bytes are exactly
 * those the format's record writer makes from the record.
 *
 * Used for whole batches (`renderBatch`: render workers, checksums), where it pays: a batch of
 * 2,048 users as one string was held whole until encoded (its rows outlived the scavenger's
 * nursery); written as bytes it costs 1.3-1.6x less CPU (CSV, NDJSON, XML). Streams on the main
 * thread keep the string writers, which were as fast or faster there (64 KB chunks of 256-row
 * batches die young), measured 0.86x for this path.
 */
export interface FieldWriter {
  /** Starts a record. */
  begin(): void;
  /** A string field that never needs escaping (uuids, dates, plain words). */
  safe(value: string): void;
  /** A free-text field. */
  text(value: string): void;
  /** A free-text field built from pieces: `open()`, then `piece` and `digits`, then `close()`. */
  open(): void;
  piece(value: string): void;
  /** The decimal digits of a non-negative integer, inside an open field. */
  digits(n: number): void;
  close(): void;
  /** A uuid field: `ids.uuid(index, sub)`, written as bytes without the string. */
  uuid(ids: IdSpace, index: number, sub?: number): void;
  /** A date field, `YYYY-MM-DD` of a day number (days since 1970-01-01): `dayString(days)`. */
  date(days: number): void;
  /** A timestamp field, `YYYY-MM-DDTHH:MM:SSZ` of epoch ms: `iso(ms)`. */
  timestamp(ms: number): void;
  /** A number field (not money: see `money`). */
  number(n: number): void;
  /** A boolean field. */
  bool(b: boolean): void;
  /**
   * A money field of whole cents (the record holds `money(cents)`): as each format's record
   * writer writes money, two decimals in CSV and XML, the shortest number in JSON and inside a
   * CSV cell's JSON.
   */
  money(cents: number): void;
  /** A null field (CSV: an empty cell; JSON: null; XML: an element with `xsi:nil`). */
  nil(): void;
  /**
   * A field holding `count` objects whose fields are `members`, in order (an order's lines):
   * `list(members, count)`, then for each object `item()`, its fields by the methods above
   * (not `list`), `endItem()`; then `endList()`. `members` should be one array kept for the
   * process (the runs of text around the members' values are built once for it).
   */
  list(members: readonly string[], count: number): void;
  item(): void;
  endItem(): void;
  endList(): void;
  /** Ends a record. */
  end(): void;
}

/** Records of an entity that can be written field by field: `write(i, w)` writes record i. */
export interface FieldSource {
  /** The fields `write` writes, in order: the fast path is taken only when these are the columns asked for. */
  readonly columns: readonly string[];
  write(i: number, writer: FieldWriter): void;
}

// Dates and times as bytes, for the date and timestamp fields: the text of a day from 1900 to
// 2199 copied into a byte table on first use, the clock from a two-digit table. Copying the
// cached day and clock strings char by char cost more than the rest of the field (many
// distinct strings, a cache miss each).
const FIRST_DAY = -25567; // 1900-01-01
const DAYS = 109574; // to 2199-12-31
const DAY_BYTES = new Uint8Array(DAYS * 10);
const DAY_FILLED = new Uint8Array(DAYS);
const TWO_DIGITS = new Uint8Array(200);
for (let k = 0; k < 100; k++) {
  TWO_DIGITS[2 * k] = 48 + Math.floor(k / 10);
  TWO_DIGITS[2 * k + 1] = 48 + (k % 10);
}

/** The first buffer's size (unless reserved), and the room added when it grows. */
const FIRST_BYTES = 64 * 1024;
const RECORD_ROOM = 16 * 1024;
const NO_BYTES = Buffer.alloc(0);

const TRUE = 'true';
const FALSE = 'false';

/**
 * The byte buffer under every field writer, growing as records are written and handed out
 * whole (never reused: a worker transfers its ArrayBuffer, so buffers are never taken from
 * Node's shared allocation pool). Strings are copied char by char: field values are short
 * ASCII, where a loop is cheaper than a call into the encoder per value; anything beyond ASCII
 * goes through the UTF-8 encoder.
 */
export abstract class ByteRows implements FieldWriter {
  protected buf: Buffer = NO_BYTES;
  /** A view of the buffer, for the stores of runs of text (made when the buffer changes, see `adopt`). */
  protected view: DataView = new DataView(new ArrayBuffer(0));
  protected pos = 0;
  /** Where the open field's value starts (for the escaping check when it closes). */
  protected start = 0;

  /** The bytes written since the last take, in a buffer of their own (the writer starts a new one when written to). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.adopt(NO_BYTES);
    this.pos = 0;
    return out;
  }

  /** Bytes written since the last take (where the next page of a batch starts, see `restart`). */
  get length(): number {
    return this.pos;
  }

  /**
   * Starts another page after the bytes written, in the same buffer, as a new writer would
   * start it (src/render/page.ts `renderPageBatch`: a batch of small pages in one buffer).
   */
  restart(): void {}

  /** Writes into `buf` from now on (every change of buffer comes here). */
  protected adopt(buf: Buffer): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  /**
   * Room for about `bytes` before the first record, when the caller knows the size to expect
   * (a batch like the last one): growing by doubling copied each batch's bytes about once more.
   */
  reserve(bytes: number): void {
    if (this.pos === 0 && this.buf.length < bytes) this.adopt(Buffer.allocUnsafeSlow(bytes));
  }

  /**
   * Writes from the start of `buf` when nothing is written yet: a slot of the memory the page
   * thread shares with the main thread (src/render/pool.ts `PageSlots`). Bytes beyond it go to
   * a buffer of the writer's own, as when it grows.
   */
  into(buf: Buffer): void {
    if (this.pos === 0) this.adopt(buf);
  }

  /** Appends a format's own text as it is (a page's opening and closing text around its records). */
  raw(s: string): void {
    this.ascii(s);
  }

  /** Appends text that is written as it is (ASCII fast, UTF-8 otherwise). */
  protected ascii(s: string): void {
    const n = s.length;
    if (this.pos + 3 * n > this.buf.length) this.grow(3 * n);
    const buf = this.buf;
    let pos = this.pos;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) {
        this.pos = pos + buf.write(s.slice(k), pos, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** Makes room for `n` more bytes. */
  protected room(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Writes `YYYY-MM-DD` of a day number at the end (10 bytes, room already made), from the day table. */
  private day(days: number): void {
    const slot = days - FIRST_DAY;
    if (!(slot >= 0 && slot < DAYS)) {
      this.ascii(dayString(days));
      return;
    }
    const from = slot * 10;
    if (DAY_FILLED[slot] === 0) {
      const text = dayString(days);
      for (let k = 0; k < 10; k++) DAY_BYTES[from + k] = text.charCodeAt(k);
      DAY_FILLED[slot] = 1;
    }
    const buf = this.buf;
    const pos = this.pos;
    for (let k = 0; k < 10; k++) buf[pos + k] = DAY_BYTES[from + k] as number;
    this.pos = pos + 10;
  }

  uuid(ids: IdSpace, index: number, sub = 0): void {
    this.openSafe();
    this.room(36);
    ids.write(index, this.buf, this.pos, sub);
    this.pos += 36;
    this.closeSafe();
  }

  date(days: number): void {
    this.openSafe();
    this.room(10);
    this.day(days);
    this.closeSafe();
  }

  timestamp(ms: number): void {
    const days = Math.floor(ms / DAY);
    const seconds = Math.floor((ms - days * DAY) / 1000);
    this.openSafe();
    this.room(20);
    this.day(days);
    this.room(10);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds - h * 3600) / 60);
    const sec = seconds - h * 3600 - m * 60;
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = 0x54; // T
    buf[pos + 1] = TWO_DIGITS[2 * h] as number;
    buf[pos + 2] = TWO_DIGITS[2 * h + 1] as number;
    buf[pos + 3] = 0x3a;
    buf[pos + 4] = TWO_DIGITS[2 * m] as number;
    buf[pos + 5] = TWO_DIGITS[2 * m + 1] as number;
    buf[pos + 6] = 0x3a;
    buf[pos + 7] = TWO_DIGITS[2 * sec] as number;
    buf[pos + 8] = TWO_DIGITS[2 * sec + 1] as number;
    buf[pos + 9] = 0x5a; // Z
    this.pos = pos + 10;
    this.closeSafe();
  }

  /** Appends bytes encoded once (keys, tags): copied without reading a string, which is slow for a concatenated one. */
  protected bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    const pos = this.pos;
    for (let k = 0; k < n; k++) buf[pos + k] = b[k] as number;
    this.pos = pos + n;
  }

  protected byte(c: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  private grow(more: number): void {
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, FIRST_BYTES, this.pos + more + RECORD_ROOM));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.adopt(bigger);
  }

  /** Replaces the bytes of the field opened at `start` with `escape` of its text. */
  protected rewrite(escape: (text: string) => string): void {
    const text = this.buf.toString('utf8', this.start, this.pos);
    this.pos = this.start;
    this.ascii(escape(text));
  }

  digits(n: number): void {
    if (n >= 0 && n < 1e9 && (n | 0) === n) {
      // Two digits at a time from the end, in 32-bit integer arithmetic (indexes, points).
      const len = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : 9;
      if (this.pos + len > this.buf.length) this.grow(len);
      const buf = this.buf;
      let at = this.pos + len;
      this.pos = at;
      while (n >= 100) {
        const q = (n / 100) | 0;
        const r = 2 * (n - q * 100);
        buf[--at] = TWO_DIGITS[r + 1] as number;
        buf[--at] = TWO_DIGITS[r] as number;
        n = q;
      }
      if (n >= 10) {
        buf[--at] = TWO_DIGITS[2 * n + 1] as number;
        buf[--at] = TWO_DIGITS[2 * n] as number;
      } else {
        buf[--at] = 48 + n;
      }
    } else if (Number.isInteger(n) && n >= 0 && n < 1e15) {
      if (this.pos + 16 > this.buf.length) this.grow(16);
      let d = 1;
      while (d * 10 <= n) d *= 10;
      const buf = this.buf;
      let pos = this.pos;
      for (; d >= 1; d /= 10) {
        const q = Math.floor(n / d);
        buf[pos++] = 48 + q;
        n -= q * d;
      }
      this.pos = pos;
    } else {
      this.ascii(String(n));
    }
  }

  piece(value: string): void {
    this.ascii(value);
  }

  /**
   * Appends text (ASCII fast, UTF-8 otherwise) and tells whether it holds a byte `special` is
   * true for: free text is tested as it is copied, in one pass (copying and then scanning took
   * two: ~115 bytes of a user's row are free text).
   */
  protected checked(value: string, special: Uint8Array): boolean {
    const n = value.length;
    if (this.pos + 3 * n > this.buf.length) this.room(3 * n);
    const buf = this.buf;
    let pos = this.pos;
    let seen = 0;
    for (let k = 0; k < n; k++) {
      const c = value.charCodeAt(k);
      if (c >= 0x80) {
        // Beyond ASCII: the rest through the encoder, then tested as bytes.
        const from = pos;
        this.pos = pos + buf.write(value.slice(k), pos, 'utf8');
        return seen === 1 || holds(buf, from, this.pos, special);
      }
      seen |= special[c] as number;
      buf[pos++] = c;
    }
    this.pos = pos;
    return seen === 1;
  }

  /** `'' + n`, for whole numbers from the digits (no number-to-string conversion: see `decimal` in random.ts). */
  protected numberText(n: number): void {
    if (Number.isInteger(n) && n >= 0 && n < 1e15) this.digits(n);
    else this.ascii('' + n);
  }

  text(value: string): void {
    this.open();
    this.ascii(value);
    this.close();
  }

  safe(value: string): void {
    this.openSafe();
    this.ascii(value);
    this.closeSafe();
  }

  /**
   * The text of `money(c)` for whole cents c as the record writers write it: with two decimals
   * (`moneyText`: `59.60`, `0.00`) or as the shortest number (`numberText`: `59.6`, `0`), from
   * the digits (no number becomes a string); anything else through those functions.
   */
  protected cents(c: number, two: boolean): void {
    if (!(Number.isInteger(c) && c > -1e15 && c < 1e15)) {
      this.ascii(two ? moneyText(Math.round(c) / 100) : numberText(Math.round(c) / 100));
      return;
    }
    if (c < 0) {
      this.byte(0x2d);
      c = -c;
    }
    const whole = Math.floor(c / 100);
    const rest = c - whole * 100;
    this.digits(whole);
    if (two || rest !== 0) {
      this.room(3);
      const buf = this.buf;
      let pos = this.pos;
      buf[pos++] = 0x2e;
      buf[pos++] = TWO_DIGITS[2 * rest] as number;
      // The shortest number drops a last zero (`.5`).
      if (two || rest % 10 !== 0) buf[pos++] = TWO_DIGITS[2 * rest + 1] as number;
      this.pos = pos;
    }
  }

  /** Appends run r of `runs` (see {@link Runs}). */
  protected put(runs: Runs, r: number): void {
    const n = runs.lengths[r] as number;
    // The stores may write past the run (its padding, up to 23 bytes): room for them too (they are written over next).
    if (this.pos + n + SHORT_RUN > this.buf.length) this.room(n + SHORT_RUN);
    const view = this.view;
    const pos = this.pos;
    const eights = runs.eights;
    const e = runs.at[r] as number;
    // Three stores whatever the run's length, a loop only past 24 bytes.
    view.setFloat64(pos, eights[e] as number, true);
    view.setFloat64(pos + 8, eights[e + 1] as number, true);
    view.setFloat64(pos + 16, eights[e + 2] as number, true);
    const end = runs.at[r + 1] as number;
    for (let k = e + 3, at = pos + 24; k < end; k++, at += 8) view.setFloat64(at, eights[k] as number, true);
    this.pos = pos + n;
  }

  // A list's objects as JSON (a CSV cell's, with its quotes doubled, or JSON's own): the same
  // runs of keys as JsonRows, built for the members, and the same held-back closing quote.
  /** The open list's runs (see {@link memberRuns}), while one is open. */
  protected members: Runs | undefined = undefined;
  /** The open list's number of members' fields, its field being written, and whether an object was written. */
  protected memberCount = 0;
  protected memberColumn = 0;
  protected memberQuoted = false;
  protected firstItem = true;

  /** Opens a JSON list's objects (after the text before it). */
  protected openMembers(members: readonly string[], doubled: boolean): void {
    this.members = memberRuns(members, doubled);
    this.memberCount = members.length;
    this.firstItem = true;
  }

  item(): void {
    if (!this.firstItem) this.byte(0x2c);
    this.firstItem = false;
    this.memberColumn = 0;
    this.memberQuoted = false;
  }

  endItem(): void {
    if (this.members) this.put(this.members, 4 * this.memberCount + (this.memberQuoted ? AFTER_STRING : 0));
    this.memberQuoted = false;
  }

  /** The text before a JSON object's next field, with the held-back quote and, `before` a string, its opening quote. */
  protected memberKey(before: number): void {
    const r = 4 * this.memberColumn++ + (this.memberQuoted ? AFTER_STRING : 0) + before;
    this.memberQuoted = false;
    this.put(this.members as Runs, r);
  }

  /** A JSON object's field from its JSON text (free text, in the rare lists that hold it): `doubled` for a CSV cell. */
  protected memberJson(json: string, doubled: boolean): void {
    this.memberKey(0);
    this.ascii(doubled ? json.replace(/"/g, '""') : json);
  }

  /** A JSON object's number field (JSON.stringify writes null for NaN and infinities). */
  protected memberNumber(n: number): void {
    this.memberKey(0);
    if (n - n === 0) this.numberText(n);
    else this.ascii('null');
  }

  /** What a format writes before and after a value that needs no escaping. */
  protected abstract openSafe(): void;
  protected abstract closeSafe(): void;
  abstract begin(): void;
  abstract open(): void;
  abstract close(): void;
  abstract number(n: number): void;
  abstract bool(b: boolean): void;
  abstract money(cents: number): void;
  abstract nil(): void;
  abstract list(members: readonly string[], count: number): void;
  abstract endList(): void;
  abstract end(): void;
}

/** Whether bytes start..end-1 of `buf` hold one of the bytes `special` is true for. */
function holds(buf: Buffer, start: number, end: number, special: Uint8Array): boolean {
  for (let k = start; k < end; k++) if (special[buf[k] as number] === 1) return true;
  return false;
}

function table(bytes: readonly number[], below = 0): Uint8Array {
  const t = new Uint8Array(256);
  for (const b of bytes) t[b] = 1;
  for (let b = 0; b < below; b++) t[b] = 1;
  return t;
}

const CSV_SPECIAL = table([0x22, 0x2c, 0x0d, 0x0a]);
const csvQuote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * CSV rows as the CSV format writes them: cells quoted only when they hold a quote, comma or line
 * break, tested as the text is copied (`checked`).
 */
export class CsvRows extends ByteRows {
  private column = 0;
  /** Whether the open cell holds a byte that makes it quoted. */
  private special = false;
  /** Whether the open list is empty (written `[]`, unquoted, as the record writer writes it). */
  private emptyList = false;

  begin(): void {
    this.column = 0;
  }

  private next(): void {
    if (this.column++ > 0) this.byte(0x2c);
  }

  protected openSafe(): void {
    if (this.members) this.memberKey(BEFORE_STRING);
    else this.next();
  }

  protected closeSafe(): void {
    if (this.members) this.memberQuoted = true;
  }

  open(): void {
    if (this.members) this.memberKey(0);
    else this.next();
    this.start = this.pos;
    this.special = false;
  }

  /** Copies text into the open cell, noting whether it holds a byte CSV quotes for. */
  override piece(value: string): void {
    if (this.checked(value, CSV_SPECIAL)) this.special = true;
  }

  override text(value: string): void {
    if (this.members) {
      this.memberJson(JSON.stringify(value), true);
      return;
    }
    this.open();
    this.piece(value);
    this.close();
  }

  close(): void {
    if (this.members) {
      // Text inside a list's JSON, from pieces: rewritten as a JSON string, its quotes doubled.
      const text = this.buf.toString('utf8', this.start, this.pos);
      this.pos = this.start;
      this.ascii(JSON.stringify(text).replace(/"/g, '""'));
    } else if (this.special) this.rewrite(csvQuote);
  }

  number(n: number): void {
    if (this.members) return this.memberNumber(n);
    this.next();
    this.numberText(n);
  }

  bool(b: boolean): void {
    if (this.members) this.memberKey(0);
    else this.next();
    this.ascii(b ? TRUE : FALSE);
  }

  money(cents: number): void {
    if (this.members) this.memberKey(0);
    else this.next();
    this.cents(cents, this.members === undefined);
  }

  nil(): void {
    if (this.members) this.memberJson('null', false);
    else this.next();
  }

  /** A list is a quoted cell of JSON, its quotes doubled; an empty one `[]`. */
  list(members: readonly string[], count: number): void {
    this.next();
    this.emptyList = count === 0;
    if (this.emptyList) {
      this.ascii('[]');
      return;
    }
    this.byte(0x22);
    this.byte(0x5b);
    this.openMembers(members, true);
  }

  endList(): void {
    if (!this.emptyList) {
      this.byte(0x5d);
      this.byte(0x22);
    }
    this.members = undefined;
  }

  end(): void {
    this.byte(0x0d);
    this.byte(0x0a);
  }
}

// JSON escapes quotes, backslashes and control characters; surrogates are not in the byte
// view (UTF-8 of a valid string), and field text from the generators holds no lone ones.
const JSON_SPECIAL = table([0x22, 0x5c], 0x20);

/** Whether a char code must be escaped in a JSON string, or is not ASCII (then the UTF-8 bytes are checked instead). */
const jsonAside = (c: number) => c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80;

/** The variants of the text before a JSON value: after a string value (its closing quote first), before one (its opening quote last). */
const AFTER_STRING = 1;
const BEFORE_STRING = 2;

/**
 * Constant runs of text between a record's values (JSON keys, XML tags), encoded once and
 * copied with a few wide stores instead of a byte loop (see {@link RunRows}).
 */
interface Runs {
  /** Run r's length in bytes. */
  readonly lengths: Int32Array;
  /** Run r as little-endian doubles from `at[r]` to `at[r + 1]`, zero-padded to at least three. */
  readonly eights: Float64Array;
  readonly at: Int32Array;
}

/** The fewest bytes a run is stored as: three 8-byte stores, no loop (most keys and tags are shorter). */
const SHORT_RUN = 24;

function runsOf(runs: readonly Uint8Array[]): Runs {
  const lengths = Int32Array.from(runs, (run) => run.length);
  const at = new Int32Array(runs.length + 1);
  runs.forEach((run, r) => {
    at[r + 1] = (at[r] as number) + Math.max(SHORT_RUN / 8, Math.ceil(run.length / 8));
  });
  const bytes = new Uint8Array(8 * (at[runs.length] as number));
  runs.forEach((run, r) => bytes.set(run, 8 * (at[r] as number)));
  // Read as little-endian, as the stores write them, whatever the platform's byte order.
  const eights = new Float64Array(at[runs.length] as number);
  const reader = new DataView(bytes.buffer);
  for (let e = 0; e < eights.length; e++) eights[e] = reader.getFloat64(8 * e, true);
  // A double carries its 8 bytes through a load and a store unchanged unless it is a NaN (whose
  // bits V8 may change). UTF-8 text, zero-padded, never reads as one: a NaN's last two bytes
  // are 0x7f or 0xff and one of 0xf0 or more before it, a lead byte that a continuation byte
  // (0x80-0xbf) or the padding's 0 would follow.
  if (eights.some(Number.isNaN)) throw new Error('a run of text read as a NaN: not UTF-8');
  return { lengths, eights, at };
}

/**
 * A writer whose records are constant runs of text around their values: a run is copied eight
 * bytes at a time (DataView stores of precomputed doubles). The byte loop over the ~250 bytes of
 * keys in a user's JSON row was most of what NDJSON cost over CSV (docs/performance.md, seventh
 * round), and a loop of 4-byte stores was ~10% of a user's row; XML's ~420 bytes of tags a row
 * went the same way (sixteenth round).
 */
abstract class RunRows extends ByteRows {
  constructor(private readonly runs: Runs) {
    super();
  }

  /** Appends run r of the record's runs. */
  protected run(r: number): void {
    this.put(this.runs, r);
  }
}

/** A record's end (`}` or `"}`), for JSON array members and NDJSON lines (read only). */
const OBJECT_ENDS: readonly [Uint8Array, Uint8Array] = [Buffer.from('}', 'utf8'), Buffer.from('"}', 'utf8')];
const LINE_ENDS: readonly [Uint8Array, Uint8Array] = [Buffer.from('}\n', 'utf8'), Buffer.from('"}\n', 'utf8')];

/** The runs before each JSON value, 4 variants per column (run r = 4 × column + variant), built once per column list and shared (a 10-row page built them for every page, more than its rows cost; docs/performance.md, "Eighth round"). */
const jsonRunsOf = new WeakMap<readonly string[], Runs>();

function jsonRuns(columns: readonly string[]): Runs {
  let runs = jsonRunsOf.get(columns);
  if (runs === undefined) {
    const texts: Uint8Array[] = [];
    columns.forEach((c, k) => {
      const key = (k === 0 ? '{' : ',') + JSON.stringify(c) + ':';
      for (let variant = 0; variant < 4; variant++) {
        texts.push(Buffer.from((variant & AFTER_STRING ? '"' : '') + key + (variant & BEFORE_STRING ? '"' : ''), 'utf8'));
      }
    });
    jsonRunsOf.set(columns, (runs = runsOf(texts)));
  }
  return runs;
}

/** The runs of a list's JSON objects (see ByteRows `memberKey`), by members, plain and with doubled quotes (a CSV cell's). */
const memberRunsOf = [new WeakMap<readonly string[], Runs>(), new WeakMap<readonly string[], Runs>()] as const;

/** 4 variants per member field, as {@link jsonRuns}, then the object's end: `}` and, after a string, `"}`. */
function memberRuns(members: readonly string[], doubled: boolean): Runs {
  const cache = memberRunsOf[doubled ? 1 : 0];
  let runs = cache.get(members);
  if (runs === undefined) {
    const quote = doubled ? '""' : '"';
    const json = (text: string) => (doubled ? text.replace(/"/g, '""') : text);
    const texts: Uint8Array[] = [];
    members.forEach((m, k) => {
      const key = (k === 0 ? '{' : ',') + json(JSON.stringify(m)) + ':';
      for (let variant = 0; variant < 4; variant++) {
        texts.push(Buffer.from((variant & AFTER_STRING ? quote : '') + key + (variant & BEFORE_STRING ? quote : ''), 'utf8'));
      }
    });
    texts.push(Buffer.from('}', 'utf8'), Buffer.from(quote + '}', 'utf8'));
    cache.set(members, (runs = runsOf(texts)));
  }
  return runs;
}

/**
 * JSON objects (NDJSON lines, or members of the JSON array) as the JSON writer writes them.
 *
 * The text between two values is constant (`","email":"` between the uuid and the e-mail), so
 * it is written as one run per column, encoded once in four variants (after a string value or
 * not, before one or not): a string's closing quote is held back and goes out with the next
 * key (runs: {@link RunRows}). Free text is checked for what JSON escapes while it is copied,
 * not in a second pass over its bytes.
 */
export class JsonRows extends RunRows {
  private column = 0;
  private first: boolean;
  /** Whether the last value written was a string whose closing quote is still to write. */
  private quoted = false;
  /** Whether the open field's pieces held a byte to escape or a non-ASCII character. */
  private aside = false;
  /** The record's end: `}` or `"}`, and the line break for NDJSON. */
  private readonly ends: readonly [Uint8Array, Uint8Array];

  constructor(
    columns: readonly string[],
    private readonly lines: boolean,
    first: boolean,
  ) {
    super(jsonRuns(columns));
    this.ends = lines ? LINE_ENDS : OBJECT_ENDS;
    this.first = first;
  }

  /** A new page's first record has no comma before it (the writers of pages are made with `first`). */
  override restart(): void {
    this.first = true;
  }

  begin(): void {
    this.column = 0;
    this.quoted = false;
    if (!this.lines) {
      if (!this.first) this.byte(0x2c);
      this.first = false;
    }
  }

  /** Writes the text before the next column's value, with the held-back quote and, `before` a string, its opening quote. */
  private key(before: number): void {
    const r = 4 * this.column++ + (this.quoted ? AFTER_STRING : 0) + before;
    this.quoted = false;
    this.run(r);
  }

  protected openSafe(): void {
    if (this.members) this.memberKey(BEFORE_STRING);
    else this.key(BEFORE_STRING);
  }

  protected closeSafe(): void {
    if (this.members) this.memberQuoted = true;
    else this.quoted = true;
  }

  open(): void {
    if (this.members) {
      // Text inside a list, from pieces: copied as it is, rewritten as JSON when it closes.
      this.memberKey(0);
      this.start = this.pos;
      this.aside = true;
      return;
    }
    this.key(BEFORE_STRING);
    this.start = this.pos - 1;
    this.aside = false;
  }

  /** Copies ASCII that needs no escaping; true when it met something else (nothing copied past it). */
  private plain(value: string): boolean {
    const n = value.length;
    if (this.pos + n > this.buf.length) this.room(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let k = 0; k < n; k++) {
      const c = value.charCodeAt(k);
      if (jsonAside(c)) {
        this.pos = pos;
        return true;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
    return false;
  }

  override piece(value: string): void {
    if (!this.aside) {
      const at = this.pos;
      if (!this.plain(value)) return;
      // From here the field goes the general way: UTF-8 copies, checked when it closes.
      this.pos = at;
      this.aside = true;
    }
    this.ascii(value);
  }

  override text(value: string): void {
    if (this.members) {
      this.memberJson(JSON.stringify(value), false);
      return;
    }
    this.key(BEFORE_STRING);
    const start = this.pos;
    if (!this.plain(value)) {
      this.quoted = true;
      return;
    }
    this.pos = start;
    this.start = start - 1;
    this.ascii(value);
    this.aside = true;
    this.close();
  }

  close(): void {
    if (this.members) {
      const text = this.buf.toString('utf8', this.start, this.pos);
      this.pos = this.start;
      this.ascii(JSON.stringify(text));
      return;
    }
    if (this.aside && holds(this.buf, this.start + 1, this.pos, JSON_SPECIAL)) {
      // The value, and the quote open() wrote before it, are rewritten as JSON.stringify writes them.
      const text = this.buf.toString('utf8', this.start + 1, this.pos);
      this.pos = this.start;
      this.ascii(JSON.stringify(text));
      return;
    }
    this.quoted = true;
  }

  number(n: number): void {
    if (this.members) return this.memberNumber(n);
    this.key(0);
    if (n - n === 0) this.numberText(n);
    else this.ascii('null');
  }

  bool(b: boolean): void {
    if (this.members) this.memberKey(0);
    else this.key(0);
    this.ascii(b ? TRUE : FALSE);
  }

  money(cents: number): void {
    if (this.members) this.memberKey(0);
    else this.key(0);
    this.cents(cents, false);
  }

  nil(): void {
    if (this.members) this.memberKey(0);
    else this.key(0);
    this.ascii('null');
  }

  list(members: readonly string[]): void {
    this.key(0);
    this.byte(0x5b);
    this.openMembers(members, false);
  }

  endList(): void {
    this.byte(0x5d);
    this.members = undefined;
  }

  end(): void {
    this.bytes(this.ends[this.quoted ? 1 : 0]);
    this.quoted = false;
  }
}

const XML_SPECIAL = table([0x26, 0x3c, 0x3e, 0x27, 0x22]);
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/>/g, '&gt;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** How the XML writer names elements: a field's element, and the element of each member of an array field (`items` -> `item`). */
export interface XmlNames {
  element(field: string): string;
  member(field: string): string;
}

/**
 * The tags between the values of an XML element's fields, by field list and element name (run k
 * before field k's value, run n the element's end): a record's columns, or a list's members.
 */
const xmlRunsOf = new WeakMap<readonly string[], Map<string, Runs>>();

function xmlRuns(columns: readonly string[], item: string, names: XmlNames): Runs {
  let byItem = xmlRunsOf.get(columns);
  if (byItem === undefined) xmlRunsOf.set(columns, (byItem = new Map()));
  let runs = byItem.get(item);
  if (runs === undefined) {
    byItem.set(item, (runs = runsOf(tagRuns(columns.map((c) => names.element(c)), item))));
  }
  return runs;
}

/** `<item><a>`, `</a><b>`, …, `</z></item>`: the tags around the values of elements `names` in an `item` element. */
function tagRuns(names: readonly string[], item: string): Uint8Array[] {
  const texts: Uint8Array[] = [];
  for (let k = 0; k <= names.length; k++) {
    texts.push(Buffer.from((k === 0 ? `<${item}>` : `</${names[k - 1]}>`) + (k < names.length ? `<${names[k]}>` : `</${item}>`), 'utf8'));
  }
  return texts;
}

const NIL = ' xsi:nil="true">';

/**
 * XML record elements as the XML writer writes them: `<item><column>value</column>…</item>`.
 * The tags between two values are one run (`</user_id><email>`), copied as {@link RunRows} do;
 * free text is checked for what XML escapes while it is copied. A list's members are elements
 * named for the field (`<items><item>…</item></items>`), their tags runs too.
 */
export class XmlRows extends RunRows {
  private column = 0;
  /** Whether the open element's text holds a byte to escape. */
  private special = false;
  /** The open list's member tags, while one is open. */
  private memberTags: Runs | undefined = undefined;

  constructor(
    private readonly columns: readonly string[],
    item: string,
    private readonly names: XmlNames,
  ) {
    super(xmlRuns(columns, item, names));
  }

  begin(): void {
    this.column = 0;
  }

  protected openSafe(): void {
    if (this.memberTags) this.put(this.memberTags, this.memberColumn++);
    else this.run(this.column++);
  }

  protected closeSafe(): void {}

  open(): void {
    this.openSafe();
    this.start = this.pos;
    this.special = false;
  }

  override piece(value: string): void {
    if (this.checked(value, XML_SPECIAL)) this.special = true;
  }

  override text(value: string): void {
    this.open();
    this.piece(value);
    this.close();
  }

  close(): void {
    if (this.special) this.rewrite(xmlEscape);
  }

  number(n: number): void {
    if (Object.is(n, -0)) {
      this.safe('-0');
      return;
    }
    this.openSafe();
    this.numberText(n);
  }

  bool(b: boolean): void {
    this.safe(b ? TRUE : FALSE);
  }

  money(cents: number): void {
    this.openSafe();
    this.cents(cents, true);
  }

  /** `<name xsi:nil="true"></name>`: the opening tag's `>` (a run's last byte) written over. */
  nil(): void {
    this.openSafe();
    this.pos--;
    this.ascii(NIL);
  }

  list(members: readonly string[]): void {
    const field = this.columns[this.column] as string;
    this.openSafe();
    this.memberTags = xmlRuns(members, this.names.member(field), this.names);
    this.memberCount = members.length;
  }

  override item(): void {
    this.memberColumn = 0;
  }

  override endItem(): void {
    this.put(this.memberTags as Runs, this.memberCount);
  }

  endList(): void {
    this.memberTags = undefined;
  }

  end(): void {
    this.run(this.column);
  }
}

/** Whether a source writes exactly the columns a response asks for, in the same order. */
export function writesColumns(source: FieldSource, context: FormatContext): boolean {
  const { columns } = context;
  return source.columns.length === columns.length && source.columns.every((c, k) => c === columns[k]);
}
