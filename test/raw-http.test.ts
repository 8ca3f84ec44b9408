import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, login, type TestApp } from './helpers/test-app.js';

/** Behaviour at the level of bytes on a socket: what app.inject cannot send. */

let t: TestApp;
let port: number;
let admin: string;
before(async () => {
  t = await createTestApp();
  await t.services.users.create({ username: 'root', password: 'a-long-admin-password', scopes: ['me', 'admin'] });
  admin = await login(t.app, 'root', 'a-long-admin-password', 'admin');
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as { port: number }).port;
});
after(() => t.close());

/** Opens a connection and writes `bytes`; the caller decides how it ends. */
async function open(bytes: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString()));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(bytes);
  return { socket, received: () => data, closed };
}

/** Log lines at warn or above, audit events aside. */
const warnings = () => t.logs.filter((line) => (line.level as number) >= 40);

describe('a client that aborts its request', () => {
  const heads = () => [
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n',
    `POST /admin/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
  ];

  test('mid-body is not logged as a database outage (was WARN "database unavailable", reason "aborted")', async () => {
    const before = t.logs.length;
    for (const head of heads()) {
      const { socket, closed } = await open(`${head}${'x'.repeat(10)}`);
      await sleep(50);
      socket.destroy();
      await closed;
    }
    await sleep(200);
    const lines = t.logs.slice(before);
    assert.equal(lines.some((line) => line.msg === 'database unavailable'), false, JSON.stringify(lines));
    assert.deepEqual(warnings().filter((line) => t.logs.indexOf(line) >= before), []);
  });

  test('half-closed mid-body, it is answered 400, never 503', async () => {
    for (const head of heads()) {
      const { socket, received, closed } = await open(`${head}${'x'.repeat(10)}`);
      await sleep(50);
      socket.end();
      await closed;
      assert.match(received(), /^HTTP\/1\.1 400 /);
    }
    assert.equal(t.logs.some((line) => line.msg === 'database unavailable'), false);
  });
});
