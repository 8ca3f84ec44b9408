import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { IncorrectPassword, InvalidClient, InvalidGrant, TooManyRequests } from '../errors.js';
import { pathOf } from './error-handler.js';
import { requestAudit } from './request-audit.js';

/** The window of GATEHOUSE_LOGIN_FAILURES_PER_MINUTE. */
const WINDOW_MS = 60_000;
/**
 * Redis keys are `gatehouse-ip-<issuer>-<address>`: the instances of one deployment share an issuer
 * (their tokens name it), so they share counts, while another deployment on the same Redis (staging
 * beside production) keeps its own.
 */
const redisNamespace = (issuer: string) => `gatehouse-ip-${issuer}-`;
/** How long a login may wait on Redis before the limiter is skipped for it. */
const REDIS_TIMEOUT_MS = 500;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type LimitStatus = Awaited<ReturnType<Limiter>>;

/**
 * Registers @fastify/rate-limit (not global: only the routes that call `limitFailedAttempts`
 * use it), keyed by the client address (`request.ip`, which honours X-Forwarded-For only from
 * GATEHOUSE_TRUST_PROXY). With REDIS_URL the counts live in Redis, shared by every instance;
 * otherwise in this process.
 *
 * Redis outages fail open: an unreachable limiter must not lock every user out, so a request
 * whose count cannot be read or written is let through (the per-account lockout and the hash
 * queue still bound guessing) and the outage is logged once, with its recovery. The plugin's
 * own `skipOnError` would do the same silently, so it is off and the errors are caught here.
 */
export async function registerFailureRateLimit(app: FastifyInstance, config: Config): Promise<void> {
  let redis: Redis | undefined;
  if (config.redisUrl !== undefined) {
    redis = await connectRedis(app, config.redisUrl);
    const client = redis;
    app.addHook('onClose', async () => {
      await client.quit().catch(() => client.disconnect());
    });
    // Wait briefly for the first connection so the first logins are counted; a Redis that is
    // down at start is an outage like any other, not a reason to refuse to start.
    await client.connect().catch((err: unknown) => app.log.warn({ err }, 'rate-limit redis unreachable at start; failures are not counted until it is back'));
  }
  await app.register(rateLimit, {
    global: false,
    max: config.loginFailuresPerMinute,
    timeWindow: WINDOW_MS,
    skipOnError: false,
    ...(redis === undefined ? {} : { redis, nameSpace: redisNamespace(config.issuer) }),
  });
}

// ioredis is loaded only when REDIS_URL is set: most instances never need its ~9 MiB.
async function connectRedis(app: FastifyInstance, url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // While disconnected, commands fail at once (and the request is let through) instead of
    // queueing until a reconnect.
    enableOfflineQueue: false,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    app.log.warn({ err }, 'rate-limit redis connection failed');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    app.log.info('rate-limit redis connection restored');
  });
  return redis;
}

/**
 * Limits failed attempts on the routes of this (encapsulated) scope: a request from an address
 * that has used up its failures for the window is refused with 429 before any work, and a
 * request that ends in invalid_grant or invalid_client counts one failure. Successes never count.
 *
 * The check and the count are separate steps, so concurrent attempts from one address may
 * overshoot the limit by the number in flight at once; for logins that is bounded by the hash
 * concurrency and queue, and by the 16 attempts that may wait their turn at any one account
 * (beyond those /token answers 503 without checking anything). Closing the gap
 * would mean counting each attempt on arrival and taking successes back, but @fastify/rate-limit's
 * stores offer only `incr` and `read`, no decrement, and counting successes too would lock out
 * busy, honest addresses. Guesses at one account are bounded exactly by the per-account throttle.
 */
export function limitFailedAttempts(scope: FastifyInstance): void {
  const limiter = scope.createRateLimit();
  let degraded = false;

  async function consult(request: FastifyRequest, increment: boolean): Promise<LimitStatus | undefined> {
    try {
      const status = await limiter(request, { increment });
      if (degraded) {
        degraded = false;
        request.log.info('failed-login rate limit available again');
      }
      return status;
    } catch (err) {
      if (!degraded) {
        degraded = true;
        request.log.warn({ err }, 'failed-login rate limit unavailable; requests are not limited');
      }
      return undefined;
    }
  }

  scope.addHook('onRequest', async (request) => {
    const status = await consult(request, false);
    // `remaining` counts down to 0 as failures are recorded: the (max+1)-th attempt is refused.
    if (status !== undefined && !status.isAllowed && status.remaining <= 0) {
      requestAudit(request)('address.throttled', { endpoint: pathOf(request.url) });
      throw new TooManyRequests(status.ttlInSeconds);
    }
  });

  scope.addHook('onError', async (request, _reply, error) => {
    if (error instanceof InvalidGrant || error instanceof InvalidClient || error instanceof IncorrectPassword) await consult(request, true);
  });
}
