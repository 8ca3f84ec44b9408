/** The requests the scenarios send, and the one-off calls that check a server before loading it. */
import type autocannon from 'autocannon';

const FORM = 'application/x-www-form-urlencoded';

/** GET /users/me with a bearer token. */
export function usersMe(token: string): autocannon.Request {
  return { method: 'GET', path: '/users/me', headers: { authorization: `Bearer ${token}` } };
}

/** POST /token, password grant, form-encoded. */
export function login(username: string, password: string): autocannon.Request {
  const body = new URLSearchParams({ grant_type: 'password', username, password }).toString();
  return { method: 'POST', path: '/token', headers: { 'content-type': FORM }, body };
}

/** Deals `items` round-robin to `connections` connections: connection i gets items i, i+n, i+2n, ... */
export function dealt<T>(items: readonly T[], connections: number, connection: number): T[] {
  const mine: T[] = [];
  for (let i = connection % connections; i < items.length; i += connections) mine.push(items[i]!);
  // More connections than items: reuse from the start rather than leave a connection idle.
  return mine.length > 0 ? mine : [items[connection % items.length]!];
}

/** Logs in once and returns the access token; throws with the server's answer otherwise. */
export async function fetchToken(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': FORM },
    body: new URLSearchParams({ username, password }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`login of ${username} failed: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** Checks that `token` reads /users/me as `username`, so a load of it measures real work, not 401s. */
export async function assertTokenWorks(url: string, token: string, username: string): Promise<void> {
  const response = await fetch(`${url}/users/me`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { username?: string };
  if (response.status !== 200 || body.username !== username) {
    throw new Error(`token of ${username} refused: ${response.status} ${JSON.stringify(body)}`);
  }
}
