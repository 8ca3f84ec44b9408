/**
 * The ceiling: a bare node:http server that answers every request with the body GET /users/me
 * returns for johndoe, and does nothing else. No framework, no auth, no database: what this
 * machine's Node can serve at all. Run as its own process (`node --import tsx bench/ceiling-server.ts`).
 */
import { createServer } from 'node:http';

const CEILING_BODY = JSON.stringify({ username: 'johndoe', email: 'johndoe@example.com', full_name: 'John Doe', disabled: false });

const body = Buffer.from(CEILING_BODY);
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) };

const server = createServer((request, response) => {
  // Read (and discard) any body so keep-alive connections stay usable.
  request.resume();
  response.writeHead(200, headers);
  response.end(body);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  process.stdout.write(`ceiling is listening on http://127.0.0.1:${address.port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
