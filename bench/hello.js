// The anchor of the small-page comparison in bench/compare.js: a hello-world Fastify route,
// default settings, no plugins. Started as a child process: `node bench/hello.js <port>`.
import Fastify from 'fastify';

const [port = '0'] = process.argv.slice(2);
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
