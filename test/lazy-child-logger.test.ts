import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { lazyChildLoggerFactory } from '../src/http/lazy-child-logger.js';

function capture(): { logger: FastifyBaseLogger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  const logger = Fastify({ logger: { level: 'info', stream } }).log;
  return { logger, lines: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const make = (parent: FastifyBaseLogger) => lazyChildLoggerFactory.call(undefined as never, parent, { reqId: 'r-1' }, {}, undefined as never);

test('a request logger writes what an eager child would: its bindings, fields and message', () => {
  const lazy = capture();
  const eager = capture();
  make(lazy.logger).info({ audit: 'login.success', user: 'johndoe' }, 'login.success');
  eager.logger.child({ reqId: 'r-1' }).info({ audit: 'login.success', user: 'johndoe' }, 'login.success');
  const strip = ({ time: _t, pid: _p, ...rest }: Record<string, unknown>) => rest;
  assert.deepEqual(lazy.lines().map(strip), eager.lines().map(strip));
  assert.equal(lazy.lines()[0]!.reqId, 'r-1');
});

test('every level Fastify calls is a function, levels filter as on the parent, and a child keeps both bindings', () => {
  const { logger, lines } = capture();
  const log = make(logger);
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', 'child'] as const) assert.equal(typeof log[level], 'function', level);
  assert.equal(log.level, 'info');
  log.debug('not written');
  log.child({ part: 'x' }).warn('written');
  log.level = 'error';
  log.warn('not written either');
  log.error(new Error('boom'), 'failed');
  assert.deepEqual(
    lines().map((l) => [l.msg, l.reqId, l.part]),
    [
      ['written', 'r-1', 'x'],
      ['failed', 'r-1', undefined],
    ],
  );
  assert.equal((lines()[1]!.err as { message: string }).message, 'boom');
});

test("a child's own level shows before its first line, and pino's isLevelEnabled and bindings answer as on the eager child", () => {
  const { logger, lines } = capture();
  const log = make(logger) as FastifyBaseLogger & { isLevelEnabled(level: string): boolean; bindings(): Record<string, unknown> };
  assert.equal(log.isLevelEnabled('info'), true);
  assert.equal(log.isLevelEnabled('debug'), false);
  assert.deepEqual(log.bindings(), { reqId: 'r-1' });
  const verbose = lazyChildLoggerFactory.call(undefined as never, logger, { reqId: 'r-2' }, { level: 'debug' }, undefined as never) as typeof log;
  assert.equal(verbose.level, 'debug');
  assert.equal(verbose.isLevelEnabled('debug'), true);
  verbose.debug('written at debug');
  log.debug('not written');
  assert.deepEqual(
    lines().map((l) => [l.msg, l.reqId]),
    [['written at debug', 'r-2']],
  );
});
