import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { inCi } from './helpers/in-ci.js';

/**
 * The interactive docs in a real browser, as a person uses FastAPI's: /docs renders Swagger UI
 * from the package's own assets, Authorize runs the OAuth2 password flow against /token, and
 * "Try it out" on GET /users/me then answers with johndoe's data.
 *
 * Needs Debian's chromium (`apt-get install chromium`); playwright-core only drives it.
 */

const CHROMIUM = '/usr/bin/chromium';
const STEP_TIMEOUT = 30_000;
const SCHEME = 'OAuth2PasswordBearer';
const CLIENT_SCHEME = 'clientBasic';
const SCREENSHOT = '/tmp/docs.png';

/** Every request one browser context made, and the ones that left the test server. */
interface Traffic {
  readonly requests: Request[];
  foreign(): string[];
}

async function openContext(browser: Browser, origin: string): Promise<{ context: BrowserContext; page: Page; traffic: Traffic }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  const requests: Request[] = [];
  context.on('request', (request) => requests.push(request));
  // Recorded above (so the test fails on them) and never let out: no CDN, no validator badge.
  await context.route(
    (url) => url.origin !== origin,
    (route) => route.abort('blockedbyclient'),
  );
  const page = await context.newPage();
  const traffic: Traffic = {
    requests,
    foreign: () =>
      requests
        .map((r) => r.url())
        .filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin),
  };
  return { context, page, traffic };
}

/** Opens the docs page (any way in ends at /docs) and waits until Swagger UI has rendered the operations. */
async function openDocs(page: Page, origin: string, path: string): Promise<void> {
  const response = await page.goto(`${origin}${path}`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200, `GET ${path}`);
  assert.equal(page.url(), `${origin}/docs`, `GET ${path} ends at /docs`);
  await page.locator('.swagger-ui .info .title', { hasText: 'Gatehouse' }).waitFor();
  await page.locator('.opblock-summary-path[data-path="/users/me"]').waitFor();
}

/**
 * Fills the Authorize dialog's password flow form and submits it; returns the dialog, its password
 * flow section and the token request it made (wherever it went, so a wrong URL fails with that URL,
 * not a timeout). The dialog also offers HTTP Basic client authentication, with buttons of its own.
 */
async function logInThroughDialog(page: Page, username: string, password: string, scopes: string[]) {
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  await dialog.locator('.auth-container h4', { hasText: `${CLIENT_SCHEME} (http, Basic)` }).waitFor();
  const oauth = dialog.locator('.auth-container').filter({ has: page.locator('h4', { hasText: `${SCHEME} (OAuth2, password)` }) });
  await oauth.locator('#oauth_username').fill(username);
  await oauth.locator('#oauth_password').fill(password);
  for (const scope of scopes) {
    // The checkboxes are visually hidden: their labels are what a person clicks.
    const id = `${scope}-password-checkbox-${SCHEME}`;
    await oauth.locator(`label[for="${id}"]`).click();
    assert.equal(await oauth.locator(`input[id="${id}"]`).isChecked(), true, `scope ${scope} ticked`);
  }
  const posted = page.waitForRequest((r) => r.method() === 'POST' && /\/token$/.test(new URL(r.url()).pathname));
  await oauth.locator('button.modal-btn.auth.authorize', { hasText: 'Authorize' }).click();
  const tokenRequest = await posted;
  return { dialog, oauth, tokenRequest };
}

function tokenPosts(traffic: Traffic): Request[] {
  return traffic.requests.filter((r) => r.method() === 'POST' && /\/token$/.test(new URL(r.url()).pathname));
}

test('interactive docs: Swagger UI logs in with the password flow and calls GET /users/me', { timeout: 240_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const message = `chromium not installed: ${CHROMIUM} is missing (apt-get install -y --no-install-recommends chromium)`;
    if (inCi()) assert.fail(`${message}; CI must run the browser test of /docs`);
    t.diagnostic(`SKIPPED: ${message}`);
    process.stderr.write(`\n*** docs-browser.test.ts SKIPPED: ${message} ***\n\n`);
    t.skip(message);
    return;
  }

  let testApp: TestApp | undefined;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await testApp?.close();
  });

  // A real listening server (a browser cannot use inject()); the issuer stays config-driven.
  testApp = await createTestApp();
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = testApp.app.server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: STEP_TIMEOUT,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const launched = browser;

  // Swagger UI resolves the relative tokenUrl against the page, so each way into the docs must
  // end on /docs (from /docs/ it would log in at /docs/token).
  for (const docsPath of ['/docs', '/docs/', '/docs/static/index.html']) {
    await t.test(`johndoe authorizes from ${docsPath} and reads /users/me`, async () => {
      const { context, page, traffic } = await openContext(launched, origin);
      try {
        const assetResponses: { url: string; status: number }[] = [];
        page.on('response', (r) => {
          if (!r.request().isNavigationRequest()) assetResponses.push({ url: r.url(), status: r.status() });
        });
        await openDocs(page, origin, docsPath);

        // Swagger UI came from the package, under /docs/static, and loaded the spec from /docs/json.
        const paths = traffic.requests.map((r) => new URL(r.url()).pathname);
        for (const asset of ['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css', '/docs/static/swagger-initializer.js', '/docs/json']) {
          assert.ok(paths.includes(asset), `the page loaded ${asset}; it loaded ${paths.join(', ')}`);
        }
        for (const { url, status } of assetResponses) assert.ok(status === 200 || status === 304, `${url} answered ${status}`);
        assert.deepEqual(traffic.foreign(), [], 'rendering the docs requested nothing off the test server');

        const { dialog, oauth, tokenRequest } = await logInThroughDialog(page, 'johndoe', 'secret', ['me', 'items']);
        // The dialog POSTed the form to /token itself, not to a path relative to the docs page.
        assert.equal(tokenRequest.url(), `${origin}/token`);
        await oauth.locator('button', { hasText: 'Logout' }).waitFor();
        await oauth.locator('h6', { hasText: /^\s*Authorized\s*$/ }).first().waitFor();
        assert.equal(await dialog.locator('.errors').count(), 0, 'no auth error shown');

        const posts = tokenPosts(traffic);
        assert.equal(posts.length, 1, `one token request: ${posts.map((r) => r.url()).join(', ')}`);
        const post = posts[0]!;
        assert.equal(post.url(), `${origin}/token`);
        const form = new URLSearchParams(post.postData() ?? '');
        assert.equal(form.get('grant_type'), 'password');
        assert.equal(form.get('username'), 'johndoe');
        assert.deepEqual((form.get('scope') ?? '').split(' ').sort(), ['items', 'me']);
        const tokenResponse = await post.response();
        assert.equal(tokenResponse?.status(), 200);
        const token = (await tokenResponse!.json()) as { token_type: string; scope: string };
        assert.equal(token.token_type, 'bearer');
        assert.deepEqual(token.scope.split(' ').sort(), ['items', 'me']);

        if (docsPath === '/docs') await page.screenshot({ path: SCREENSHOT, fullPage: true });

        await oauth.locator('button.btn-done', { hasText: 'Close' }).click();
        await dialog.waitFor({ state: 'detached' });
        await page.locator('.auth-wrapper button.authorize.locked').waitFor();

        const operation = page
          .locator('.opblock.opblock-get')
          .filter({ has: page.locator('.opblock-summary-path[data-path="/users/me"]') });
        await operation.locator('.opblock-summary-control').click();
        await operation.locator('button.try-out__btn', { hasText: 'Try it out' }).click();
        await operation.locator('button.execute').click();

        const live = operation.locator('.live-responses-table');
        const status = live.locator('tr.response .response-col_status');
        await status.waitFor();
        assert.equal((await status.innerText()).trim(), '200');
        const body = live.locator('.response-col_description .highlight-code');
        await body.waitFor();
        const text = await body.innerText();
        assert.match(text, /"username": "johndoe"/);
        assert.match(text, /"email": "johndoe@example\.com"/);
        assert.match(text, /"disabled": false/);

        const me = traffic.requests.find((r) => r.method() === 'GET' && r.url() === `${origin}/users/me`);
        assert.ok(me, 'the browser called GET /users/me');
        assert.match((await me.allHeaders()).authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

        assert.deepEqual(traffic.foreign(), [], 'every request went to the test server');
      } finally {
        await context.close();
      }
    });
  }

  await t.test('alice (disabled) sees "Inactive user" in the Authorize dialog', async () => {
    const { context, page, traffic } = await openContext(launched, origin);
    try {
      await openDocs(page, origin, '/docs');
      const { dialog, oauth, tokenRequest } = await logInThroughDialog(page, 'alice', 'secret2', ['me']);
      assert.equal(tokenRequest.url(), `${origin}/token`);
      const error = dialog.locator('.errors', { hasText: 'Inactive user' });
      await error.waitFor();
      const shown = await error.innerText();
      assert.match(shown, /Inactive user/);
      assert.match(shown, /invalid_grant/);

      const posts = tokenPosts(traffic);
      assert.equal(posts.length, 1);
      assert.equal(posts[0]!.url(), `${origin}/token`);
      assert.equal((await posts[0]!.response())?.status(), 400);
      // Still logged out: no Logout button, the Authorize button is still offered.
      assert.equal(await dialog.locator('button', { hasText: 'Logout' }).count(), 0);
      await oauth.locator('button.modal-btn.auth.authorize', { hasText: 'Authorize' }).waitFor();

      assert.deepEqual(traffic.foreign(), [], 'every request went to the test server');
    } finally {
      await context.close();
    }
  });
});
