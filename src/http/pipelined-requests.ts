import type { FastifyInstance, FastifyReply, HookHandlerDoneFunction } from 'fastify';
import type { Socket } from 'node:net';

/** The requests held on a socket behind its unsafe request in flight: reply and continuation, in arrival order. */
type Held = [FastifyReply, HookHandlerDoneFunction][];

/** Set on a socket while one of its requests with an unsafe method is being served. */
const UNSAFE_IN_FLIGHT = Symbol('unsafe request in flight');
/** How many of a socket's requests are waiting for the answers before theirs. */
const QUEUED = Symbol('requests queued behind earlier answers');
type PipelinedSocket = Socket & { [UNSAFE_IN_FLIGHT]?: Held | undefined; [QUEUED]?: number };

/**
 * How many requests one connection may have waiting behind the one being answered. Node parses
 * every request in what it reads at once: 60 KiB of pipelined `GET /openapi.json`, never read by
 * the client, queued 1,600 answers of 27 KiB each. Clients that pipeline keep a few in flight.
 */
export const MAX_QUEUED_REQUESTS = 16;

/** RFC 9110 §9.2.1: methods whose requests change nothing on the server. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Serves the requests a client pipelines on one connection after an unsafe one (POST, PUT...) only
 * once that request has been answered, and an unsafe one only once every request before it has
 * been. Node hands every pipelined request to the app as soon as its headers are parsed, so
 * `POST /logout` then `GET /users/me` with the same token answered the GET 200, checked before the
 * logout had ended the session, and `GET /users/me` then `POST /logout` at times answered the GET
 * 401. RFC 9112 §9.3.2 lets a server serve only safe requests in parallel; a client pipelining
 * expects each request to see what those before it did, and none to see what those after it do.
 * Registered first, so a held request runs none of the other hooks until it is released.
 */
export function orderPipelinedRequests(app: FastifyInstance): void {
  // Callback-style and allocation-free unless an unsafe request is in flight: it runs on every request.
  app.addHook('onRequest', (_request, reply, done) => {
    // A response has no socket while earlier ones on its connection are unanswered.
    if (reply.raw.socket === null && !queue(reply)) return;
    admit(reply, done);
  });
}

/**
 * Counts a request queued behind earlier answers until its turn comes. Past the bound, the
 * connection is closed and its requests dropped (false): answering them would queue more.
 */
function queue(reply: FastifyReply): boolean {
  const socket = reply.request.raw.socket as PipelinedSocket;
  const queued = (socket[QUEUED] ?? 0) + 1;
  if (socket.destroyed || queued > MAX_QUEUED_REQUESTS) {
    socket.destroy();
    return false;
  }
  socket[QUEUED] = queued;
  reply.raw.once('socket', () => (socket[QUEUED] = socket[QUEUED]! - 1));
  return true;
}

function admit(reply: FastifyReply, done: HookHandlerDoneFunction): void {
  // The request's socket: a pipelined response has none until the responses before it are sent.
  const socket = reply.request.raw.socket as PipelinedSocket;
  const held = socket[UNSAFE_IN_FLIGHT];
  if (held !== undefined) {
    held.push([reply, done]);
    return;
  }
  if (SAFE_METHODS.has(reply.request.method)) return done();
  socket[UNSAFE_IN_FLIGHT] = [];
  // 'close' follows 'finish' on every response, and comes alone when the connection is lost first.
  reply.raw.once('close', () => release(socket));
  // Node gives a response the socket only once the responses before it have finished, in order:
  // none yet means a request before this one is still unanswered, perhaps still running.
  if (reply.raw.socket !== null) return done();
  // The connection lost first, the socket never comes: the unsafe request is dropped, never served.
  // Resumed on the next tick, outside Node's hand-over of the socket from the previous response.
  reply.raw.once('socket', () => process.nextTick(done));
}

function release(socket: PipelinedSocket): void {
  const held = socket[UNSAFE_IN_FLIGHT]!;
  socket[UNSAFE_IN_FLIGHT] = undefined;
  // The client is gone and can read no answer: its held requests are dropped, never served.
  if (socket.destroyed) return;
  // In order: the first unsafe one among them is in flight again, and holds those after it.
  for (const [reply, done] of held) admit(reply, done);
}
