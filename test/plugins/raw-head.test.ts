/** A head written as text (src/plugins/raw-head.ts) is, on the wire, exactly what Node's writeHead writes. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { headText, writeAnswer, type FlatHead } from '../../src/plugins/raw-head.js';

const BODY = Buffer.from('{"name":"Zoë","n":[1,2,3]}');
const REQUEST_ID_AT = 3;
const LENGTH_AT = 9;
/** A page's head: helmet-like constants, the request id and Content-Length in slots. */
const HEAD: FlatHead = ['x-data-version', 6, 'x-request-id', '', 'vary', 'Accept', 'content-type', 'application/json; charset=utf-8', 'content-length', 0];
const TEXT = headText(HEAD, [REQUEST_ID_AT, LENGTH_AT]);

/**
 * A server answering `/raw` with writeAnswer and `/node` with writeHead, the same head and body;
 * it counts the answers writeHead wrote (the raw path leaves it uncalled).
 */
async function server(t: Test, configure: (server: Server) => void = () => {}): Promise<{ port: number; byNode: () => number }> {
  let byNode = 0;
  const s = createServer((req, res: ServerResponse) => {
    const head = HEAD.slice();
    head[REQUEST_ID_AT] = req.headers['x-request-id'] ?? 'none';
    head[LENGTH_AT] = BODY.length;
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((...args: Parameters<typeof writeHead>) => {
      byNode++;
      return writeHead(...args);
    }) as typeof res.writeHead;
    if (req.url === '/raw') writeAnswer(res, head, TEXT, BODY.length, BODY);
    else {
      res.writeHead(200, head as unknown as Record<string, string>);
      res.end(BODY);
    }
  });
  configure(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    s.closeAllConnections();
    s.close();
  });
  return { port: (s.address() as AddressInfo).port, byNode: () => byNode };
}

/** Writes `text` on a new connection and reads until `answers` whole responses (or the server closes): the bytes, and whether it closed. */
function exchange(port: number, text: string, answers: number): Promise<{ bytes: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let bytes = '';
    const done = (closed: boolean) => {
      socket.destroy();
      resolve({ bytes, closed });
    };
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1');
      if (bytes.split(BODY.toString('latin1')).length - 1 >= answers) setTimeout(() => done(socket.readableEnded), 50);
    });
    socket.on('end', () => done(true));
    socket.on('error', reject);
    socket.write(text);
  });
}

/** The Date lines masked (the two answers may fall in different seconds). */
const masked = (bytes: string) => bytes.replace(/\r\nDate: [^\r]+\r\n/g, '\r\nDate: -\r\n');

const get = (path: string, version = '1.1', extra = '') => `GET ${path} HTTP/${version}\r\nHost: test\r\nX-Request-Id: wire-7\r\n${extra}\r\n`;

t.test('on a kept-alive connection the head is written as text, byte for byte what writeHead writes', async (t) => {
  const { port, byNode } = await server(t);
  const raw = await exchange(port, get('/raw'), 1);
  t.equal(byNode(), 0, 'writeHead not called');
  const node = await exchange(port, get('/node'), 1);
  t.equal(byNode(), 1);
  t.equal(masked(raw.bytes), masked(node.bytes), 'the same bytes');
  t.match(raw.bytes, /^HTTP\/1\.1 200 OK\r\nx-data-version: 6\r\nx-request-id: wire-7\r\n/, 'the slot holds the request’s id');
  t.match(raw.bytes, new RegExp(`\\r\\ncontent-length: ${BODY.length}\\r\\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\\r\\nConnection: keep-alive\\r\\nKeep-Alive: timeout=5\\r\\n\\r\\n`), 'Node’s own lines after the head');
  t.ok(raw.bytes.endsWith(BODY.toString('latin1')), 'then the body');
  t.notOk(raw.closed, 'the connection stays open');
});

t.test('three requests pipelined on one connection: three whole answers, the same bytes as writeHead’s', async (t) => {
  const { port, byNode } = await server(t);
  const raw = await exchange(port, get('/raw').repeat(3), 3);
  const node = await exchange(port, get('/node').repeat(3), 3);
  t.equal(byNode(), 3, 'only /node called writeHead');
  t.equal(masked(raw.bytes), masked(node.bytes));
  t.equal(raw.bytes.split('HTTP/1.1 200 OK').length - 1, 3);
});

t.test('where Node writes other lines, writeHead writes the head, and the bytes are the same', async (t) => {
  const cases: { name: string; request: string; configure?: (s: Server) => void; closes: boolean }[] = [
    { name: 'Connection: close', request: get('/P', '1.1', 'Connection: close\r\n'), closes: true },
    { name: 'HTTP/1.0', request: get('/P', '1.0'), closes: true },
    { name: 'HTTP/1.0 with keep-alive', request: get('/P', '1.0', 'Connection: keep-alive\r\n'), closes: false },
    { name: 'a server with maxRequestsPerSocket', request: get('/P'), configure: (s) => (s.maxRequestsPerSocket = 2), closes: false },
    { name: 'a server without keep-alive timeout', request: get('/P'), configure: (s) => (s.keepAliveTimeout = 0), closes: false },
  ];
  for (const { name, request, configure, closes } of cases) {
    const { port, byNode } = await server(t, configure);
    const raw = await exchange(port, request.replace('/P', '/raw'), 1);
    const node = await exchange(port, request.replace('/P', '/node'), 1);
    t.equal(masked(raw.bytes), masked(node.bytes), `${name}: the same bytes`);
    t.equal(raw.closed, closes, `${name}: the connection ${closes ? 'closes' : 'stays open'} as Node decides`);
    if (name !== 'HTTP/1.0 with keep-alive') t.equal(byNode(), 2, `${name}: through writeHead`);
  }
  // The last answer a socket may carry says Connection: close, as Node writes it.
  const { port } = await server(t, (s) => (s.maxRequestsPerSocket = 2));
  const raw = await exchange(port, get('/raw').repeat(2), 2);
  const node = await exchange(port, get('/node').repeat(2), 2);
  t.equal(masked(raw.bytes), masked(node.bytes), 'maxRequestsPerSocket reached: the same bytes');
  t.match(raw.bytes, /Connection: close\r\n/);
});

t.test('headText: heads writeHead must write', async (t) => {
  t.ok(TEXT, 'a plain head has a text');
  t.same(TEXT?.at, [REQUEST_ID_AT, LENGTH_AT]);
  t.equal(headText(['x-a', '1'], [1]), undefined, 'no Content-Length');
  for (const name of ['Connection', 'date', 'Transfer-Encoding', 'keep-alive', 'Trailer', 'expect']) {
    t.equal(headText([name, 'x', 'content-length', 1], [3]), undefined, `${name}: Node acts on it`);
  }
  t.equal(headText(['x-a', ['1', '2'], 'content-length', 1], [3]), undefined, 'a list (a line per value)');
  const text = headText(['x-a', 1, 'x-b', 'two', 'content-length', 3], [3, 5]);
  t.same(text?.texts, ['HTTP/1.1 200 OK\r\nx-a: 1\r\nx-b: ', '\r\ncontent-length: ', '\r\n'], 'the constant lines around the slots');
});
