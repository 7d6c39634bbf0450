import http from 'node:http';

/**
 * One `GET /health` on a fresh connection to 127.0.0.1:`port`: its status once the body has
 * been read. The tests that show the event loop is free count how many of these are answered
 * while a long request runs.
 */
export function healthStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
