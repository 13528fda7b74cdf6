// The hosted sign-in pages in a real browser (Chromium driven by playwright-core) and the OAuth
// endpoints through a real OpenID Connect client (openid-client v6):
//
//  1. discovery, then an authorization URL with PKCE (S256), state, nonce and `openid email`;
//  2. in the browser: sign-in page → "Sign up" → sign-up form → confirmation code (read from the
//     development outbox) → sign in → the app's callback with `code` and `state`;
//  3. authorizationCodeGrant (state, PKCE and nonce checked, ID token signature checked against
//     the JWKS), the ID token's claims, fetchUserInfo, refreshTokenGrant;
//  4. a second authorize in the same browser goes straight back to the app (session cookie);
//     after /logout the sign-in form is shown again;
//  5. a wrong password shows the form again with the error;
//  6. a user with an authenticator app (TOTP, computed here per RFC 6238) passes the MFA page;
//  7. optionally, a user without one sets one up (the secret read from the setup page).
//
// Screenshots of the sign-in, sign-up, confirmation, error and MFA pages go to SCREENSHOT_DIR.
// Prints one JSON line of results; exits non-zero with the reason on the first failed check.
//
//   node hosted-ui.mjs ENDPOINT POOL_ID CLIENT_ID CALLBACK_URL SCREENSHOT_DIR MFA_USERNAME MFA_PASSWORD MFA_SECRET \
//     [SETUP_POOL_ID SETUP_CLIENT_ID SETUP_USERNAME]
//
// With the last three, a user of a pool that requires MFA (authenticator apps only) and who has
// no authenticator yet signs in (password MFA_PASSWORD) and sets one up on the MFA setup page.
//
// CALLBACK_URL (e.g. http://localhost:PORT/cb) is served by this script; the client must also
// allow the logout URL http://localhost:PORT/signed-out. Chromium is Debian's /usr/bin/chromium
// (override with CHROMIUM); playwright's own browser download is never used.
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import * as client from 'openid-client'
import { chromium } from 'playwright-core'

const [endpoint, poolId, clientId, callbackUrl, screenshotDir, mfaUsername, mfaPassword, mfaSecret, ...setup] =
  process.argv.slice(2)
assert.ok(
  endpoint && poolId && clientId && callbackUrl && screenshotDir && mfaUsername && mfaPassword && mfaSecret,
  'usage: ENDPOINT POOL_ID CLIENT_ID CALLBACK_URL SCREENSHOT_DIR MFA_USERNAME MFA_PASSWORD MFA_SECRET ' +
    '[SETUP_POOL_ID SETUP_CLIENT_ID SETUP_USERNAME]',
)
// Optional: a pool that requires an authenticator app, and a user who has none yet.
const [setupPoolId, setupClientId, setupUsername] = setup
const callback = new URL(callbackUrl)
const logoutUri = new URL('/signed-out', callback).href
mkdirSync(screenshotDir, { recursive: true })

const results = { screenshots: [] }
let step = 'start'

// ---------------------------------------------------------------------------------------------
// The app: a tiny HTTP server at the callback's origin.
// ---------------------------------------------------------------------------------------------
const app = createServer((req, res) => {
  const url = new URL(req.url, callback)
  const body =
    url.pathname === callback.pathname
      ? `<h1>Callback</h1><p>code received: ${url.searchParams.has('code')}</p>`
      : url.pathname === '/signed-out'
        ? '<h1>Signed out</h1>'
        : '<h1>Not found</h1>'
  res.writeHead(url.pathname === callback.pathname || url.pathname === '/signed-out' ? 200 : 404, {
    'content-type': 'text/html; charset=utf-8',
  })
  res.end(`<!DOCTYPE html><title>app</title>${body}`)
})
await new Promise((resolve, reject) => {
  app.once('error', reject)
  app.listen(Number(callback.port), callback.hostname === 'localhost' ? '127.0.0.1' : callback.hostname, resolve)
})

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret at `time` (ms). */
function totp(secret, time = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch)
    assert.ok(v >= 0, `MFA secret is not base32: ${secret}`)
    bits += v.toString(2).padStart(5, '0')
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8))
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2)
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / 30)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return value.toString().padStart(6, '0')
}

/** The newest code sent to `address`, from the development outbox (polled briefly). */
async function outboxCode(address) {
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${endpoint}/_cognate/messages?to=${encodeURIComponent(address)}`)
    assert.equal(res.status, 200, `outbox answered ${res.status}`)
    const messages = await res.json()
    const last = messages.filter((m) => m.to === address).pop()
    if (last?.code) return last.code
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no code was sent to ${address}`)
}

async function shot(page, name) {
  const path = join(screenshotDir, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  results.screenshots.push(path)
}

/** A fresh authorization request: its URL and the checks its answer must pass. */
async function authorization(config) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier()
  const expectedState = client.randomState()
  const expectedNonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callback.href,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
  })
  return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true } }
}

/** The paths the browser was sent to on this server (to tell whether a form was shown). */
function recordPaths(page) {
  const paths = []
  const origin = new URL(endpoint).origin
  page.on('response', (r) => {
    const u = new URL(r.url())
    if (u.origin === origin) paths.push(`${r.request().method()} ${u.pathname} ${r.status()}`)
  })
  return paths
}

/** Fails on a page that is not the expected one, with what it shows instead. */
async function expectOn(page, path, what) {
  const here = new URL(page.url())
  if (here.pathname !== path) {
    const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 400)
    throw new Error(`expected ${what} (${path}) but the browser is at ${page.url()}: ${text}`)
  }
}

/** The callback the browser reached: code and state present, no error. */
function expectCallback(page) {
  const u = new URL(page.url())
  assert.equal(`${u.origin}${u.pathname}`, callback.href, `expected the callback, got ${page.url()}`)
  assert.equal(u.searchParams.get('error'), null, `the callback carries an error: ${page.url()}`)
  assert.ok(u.searchParams.get('code'), `the callback has no code: ${page.url()}`)
  assert.ok(u.searchParams.get('state'), `the callback has no state: ${page.url()}`)
  return u
}

const decode = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
})
try {
  step = 'discovery'
  const issuer = new URL(`${endpoint}/${poolId}`)
  const config = await client.discovery(issuer, clientId, undefined, undefined, {
    execute: [client.allowInsecureRequests],
  })
  // Also verify the ID tokens' signatures against the pool's JWKS.
  client.enableNonRepudiationChecks(config)
  const meta = config.serverMetadata()
  results.issuer = meta.issuer
  assert.equal(meta.issuer, issuer.href, 'the discovered issuer is the pool')
  for (const key of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'end_session_endpoint']) {
    assert.ok(meta[key], `discovery has no ${key}`)
  }

  const context = await browser.newContext({ viewport: { width: 800, height: 800 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const paths = recordPaths(page)

  // --- sign up through the pages, then sign in --------------------------------------------
  step = 'sign-in page'
  const first = await authorization(config)
  let res = await page.goto(first.url.href)
  assert.ok(res.ok(), `the sign-in page answered ${res.status()}`)
  await expectOn(page, '/login', 'the sign-in page')
  await page.locator('input[name=username]:visible').waitFor()
  await page.locator('input[name=password]').waitFor()
  await shot(page, 'sign-in')

  step = 'sign-up page'
  await page.getByRole('link', { name: /sign up/i }).click()
  await page.waitForURL((u) => u.pathname === '/signup')
  const username = `browser${randomBytes(4).toString('hex')}`
  const email = `${username}@example.com`
  const password = `Br0wser!${randomBytes(6).toString('hex')}`
  await page.locator('input[name=username]:visible').fill(username)
  await page.locator('input[name="requiredAttributes[email]"]').fill(email)
  await page.locator('input[name=password]').fill(password)
  await shot(page, 'sign-up')

  step = 'sign-up submit'
  const [signUpResponse] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/signup'),
    page.locator('input[name=signUpButton]').click(),
  ])
  assert.ok(signUpResponse.status() < 400, `sign-up answered ${signUpResponse.status()}`)
  await page.locator('input[name=code]').waitFor()
  assert.equal(await page.locator('input[name=username]:visible').inputValue(), username, 'confirm page knows the user')
  await shot(page, 'confirm')

  step = 'confirm'
  const code = await outboxCode(email)
  await page.locator('input[name=code]').fill(code)
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/confirm'),
    page.locator('input[name=confirm]').click(),
  ])
  await page.locator('input[name=password]').waitFor()
  const errorAfterConfirm = await page.locator('#errorMessage').count()
  assert.equal(errorAfterConfirm, 0, `confirmation failed: ${await page.locator('body').innerText()}`)

  step = 'sign in after sign-up'
  assert.equal(await page.locator('input[name=username]:visible').inputValue(), username, 'sign-in is pre-filled')
  await page.locator('input[name=password]').fill(password)
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback.href)), page.locator('input[name=signInSubmitButton]').click()])
  const firstCallback = expectCallback(page)

  // --- the code through openid-client ----------------------------------------------------
  step = 'authorizationCodeGrant'
  const tokens = await client.authorizationCodeGrant(config, firstCallback, first.checks)
  assert.ok(tokens.access_token && tokens.id_token && tokens.refresh_token, 'code grant returns three tokens')
  assert.equal(tokens.token_type.toLowerCase(), 'bearer')
  const claims = tokens.claims()
  assert.equal(claims.email, email, 'ID token email')
  assert.equal(claims['cognito:username'], username, 'ID token cognito:username')
  assert.equal(claims.nonce, first.checks.expectedNonce, 'ID token nonce')
  assert.equal(claims.token_use, 'id', 'ID token token_use')
  assert.equal(claims.aud, clientId, 'ID token aud')
  const access = decode(tokens.access_token)
  assert.equal(access.token_use, 'access')
  assert.deepEqual(access.scope.split(' ').sort(), ['email', 'openid'], 'access token scopes')
  results.idToken = {
    sub: claims.sub,
    email: claims.email,
    email_verified: claims.email_verified,
    'cognito:username': claims['cognito:username'],
    nonce_matches: claims.nonce === first.checks.expectedNonce,
    token_use: claims.token_use,
    at_hash: typeof claims.at_hash === 'string',
  }
  results.accessTokenScope = access.scope

  step = 'fetchUserInfo'
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  assert.equal(info.email, email, 'userInfo email')
  assert.equal(info.username, username, 'userInfo username')
  results.userInfo = info

  step = 'refreshTokenGrant'
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  assert.ok(refreshed.access_token && refreshed.id_token, 'refresh returns new tokens')
  assert.notEqual(refreshed.access_token, tokens.access_token, 'a new access token')
  assert.equal(refreshed.claims().sub, claims.sub, 'refreshed ID token is the same user')
  assert.equal(decode(refreshed.access_token).scope, access.scope, 'refresh keeps the scopes')
  const infoAfterRefresh = await client.fetchUserInfo(config, refreshed.access_token, claims.sub)
  assert.equal(infoAfterRefresh.email, email)
  results.refreshed = { id_token: true, refresh_token_returned: Boolean(refreshed.refresh_token) }

  // --- a second authorize: the browser's session, no form ----------------------------------
  step = 'silent authorize'
  const second = await authorization(config)
  paths.length = 0
  await page.goto(second.url.href)
  const secondCallback = expectCallback(page)
  assert.ok(!paths.some((p) => p.includes(' /login ')), `the sign-in form was shown again: ${paths.join(', ')}`)
  const secondTokens = await client.authorizationCodeGrant(config, secondCallback, second.checks)
  assert.equal(secondTokens.claims().sub, claims.sub, 'silent sign-in is the same user')
  assert.equal(secondTokens.claims().nonce, second.checks.expectedNonce, 'second nonce')
  results.silentReauth = { paths: [...paths] }

  // --- logout: the next authorize shows the form -------------------------------------------
  step = 'logout'
  const logout = new URL(meta.end_session_endpoint)
  logout.searchParams.set('client_id', clientId)
  logout.searchParams.set('logout_uri', logoutUri)
  await page.goto(logout.href)
  assert.equal(page.url(), logoutUri, 'logout goes to logout_uri')
  const third = await authorization(config)
  res = await page.goto(third.url.href)
  await expectOn(page, '/login', 'the sign-in page after logout')
  assert.ok(res.ok(), `sign-in page after logout answered ${res.status()}`)
  await page.locator('input[name=password]').waitFor()
  results.loggedOut = true

  // --- a wrong password ---------------------------------------------------------------------
  step = 'wrong password'
  await page.locator('input[name=username]:visible').fill(username)
  await page.locator('input[name=password]').fill(`${password}-wrong`)
  const [wrong] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
    page.locator('input[name=signInSubmitButton]').click(),
  ])
  await page.locator('#errorMessage').waitFor()
  const errorText = (await page.locator('#errorMessage').innerText()).trim()
  assert.ok(wrong.status() < 500, `a wrong password answered ${wrong.status()}`)
  assert.match(errorText, /Incorrect username or password/, 'the error says why')
  assert.ok(await page.locator('input[name=password]').isVisible(), 'the form is shown again')
  await shot(page, 'sign-in-error')
  results.wrongPassword = { status: wrong.status(), error: errorText }

  // --- MFA: a user with an authenticator app ---------------------------------------------
  step = 'MFA sign-in'
  await page.locator('input[name=username]:visible').fill(mfaUsername)
  await page.locator('input[name=password]').fill(mfaPassword)
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
    page.locator('input[name=signInSubmitButton]').click(),
  ])
  await page.locator('input[name=code]').waitFor()
  assert.equal(await page.locator('input[name=password]').count(), 0, 'the MFA page asks for a code only')
  await shot(page, 'mfa')

  step = 'wrong MFA code'
  const right = totp(mfaSecret)
  await page.locator('input[name=code]').fill(right === '000000' ? '111111' : '000000')
  const [wrongCode] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/mfa'),
    page.locator('input[type=submit]').first().click(),
  ])
  await page.locator('#errorMessage').waitFor()
  assert.ok(wrongCode.status() < 500, `a wrong MFA code answered ${wrongCode.status()}`)
  const mfaError = (await page.locator('#errorMessage').innerText()).trim()
  await page.locator('input[name=code]').waitFor()

  step = 'MFA code'
  await page.locator('input[name=code]').fill(totp(mfaSecret))
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(callback.href)),
    page.locator('input[type=submit]').first().click(),
  ])
  const mfaCallback = expectCallback(page)
  const mfaTokens = await client.authorizationCodeGrant(config, mfaCallback, third.checks)
  assert.equal(mfaTokens.claims()['cognito:username'], mfaUsername, 'the MFA user is signed in')
  assert.equal(mfaTokens.claims().nonce, third.checks.expectedNonce)
  results.mfa = { username: mfaTokens.claims()['cognito:username'], wrongCode: { status: wrongCode.status(), error: mfaError } }

  await context.close()

  // --- MFA setup: a pool that requires an authenticator app ------------------------------
  if (setupPoolId) {
    step = 'MFA setup discovery'
    const setupConfig = await client.discovery(new URL(`${endpoint}/${setupPoolId}`), setupClientId, undefined, undefined, {
      execute: [client.allowInsecureRequests],
    })
    client.enableNonRepudiationChecks(setupConfig)
    const setupContext = await browser.newContext({ viewport: { width: 800, height: 800 } })
    const setupPage = await setupContext.newPage()
    setupPage.setDefaultTimeout(15_000)
    const auth = await authorization(setupConfig)
    step = 'MFA setup sign-in'
    await setupPage.goto(auth.url.href)
    await expectOn(setupPage, '/login', 'the sign-in page of the MFA pool')
    await setupPage.locator('input[name=username]:visible').fill(setupUsername)
    await setupPage.locator('input[name=password]').fill(mfaPassword)
    await setupPage.locator('input[name=signInSubmitButton]').click()
    await setupPage.locator('#secretCode').waitFor()
    const secret = (await setupPage.locator('#secretCode').innerText()).trim()
    assert.match(secret, /^[A-Z2-7]{16,}=*$/, `the setup page shows a base32 secret: ${secret}`)
    assert.equal(await setupPage.locator('.qr svg').count(), 1, 'the setup page shows a QR code')
    await shot(setupPage, 'mfa-setup')
    step = 'MFA setup code'
    await setupPage.locator('input[name=code]').fill(totp(secret))
    await Promise.all([
      setupPage.waitForURL((u) => u.href.startsWith(callback.href)),
      setupPage.locator('input[type=submit]').first().click(),
    ])
    const setupTokens = await client.authorizationCodeGrant(setupConfig, expectCallback(setupPage), auth.checks)
    assert.equal(setupTokens.claims()['cognito:username'], setupUsername, 'the user who set up MFA is signed in')
    results.mfaSetup = { username: setupTokens.claims()['cognito:username'] }
    await setupContext.close()
  }

  results.ok = true
  console.log(JSON.stringify(results))
} catch (e) {
  console.error(`hosted-ui.mjs failed at step "${step}": ${e?.stack ?? e}`)
  if (e?.cause) console.error('cause:', e.cause)
  process.exitCode = 1
} finally {
  await browser.close()
  app.close()
}
