// Amplify v6 `signInWithRedirect` end to end against Cognate served over HTTPS (`--tls-dev`), in
// a real browser (Debian's Chromium driven by playwright-core; never `playwright install`):
//
//  1. bundles amplify-redirect-app.mjs (aws-amplify) with esbuild into a temporary folder and
//     serves it at APP_URL (http://localhost:PORT/, the client's callback and logout URL);
//  2. the app, signed out, calls signInWithRedirect (with a custom state): Amplify sends the
//     browser to https://DOMAIN/oauth2/authorize, and this script fills Cognate's sign-in page;
//  3. back at the app with `?code=`, Amplify redeems the code at https://DOMAIN/oauth2/token
//     (a cross-origin fetch), and the app reports fetchAuthSession's token claims,
//     getCurrentUser, fetchUserAttributes (GetUser at userPoolEndpoint, which needs the
//     aws.cognito.signin.user.admin scope), a forced refresh (GetTokensFromRefreshToken) and the
//     custom state;
//  4. with Amplify's storage cleared, signInWithRedirect again: Cognate's session cookie signs the
//     browser in without the form, and the state comes back intact;
//  5. signInWithRedirect with prompt LOGIN while signed in: the form again, and a new sign-in;
//  6. signOut: RevokeToken, then the domain's /logout, back at the app signed out; a new
//     signInWithRedirect (with loginHint) shows the sign-in form again, pre-filled.
//
// Prints one JSON line of results; exits non-zero with the reason on the first failed check.
//
//   node amplify-redirect.mjs ENDPOINT POOL_ID CLIENT_ID APP_URL USERNAME PASSWORD CA_FILE [SCREENSHOT_DIR]
//
// ENDPOINT is https://127.0.0.1:PORT (Cognate with --tls-dev); CA_FILE the development CA it
// printed. Trust: the script connects to ENDPOINT trusting only CA_FILE, takes the server
// certificate that verified, and starts Chromium with `--ignore-certificate-errors-spki-list`
// naming that certificate's key: Chromium accepts Cognate's certificate and no other unknown one
// (rather than `ignoreHTTPSErrors`, which would accept any). Chromium is /usr/bin/chromium
// (override with CHROMIUM).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { connect } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'

const [endpoint, poolId, clientId, appUrl, username, password, caFile, screenshotDir] = process.argv.slice(2)
assert.ok(
  endpoint && poolId && clientId && appUrl && username && password && caFile,
  'usage: ENDPOINT POOL_ID CLIENT_ID APP_URL USERNAME PASSWORD CA_FILE [SCREENSHOT_DIR]',
)
const here = dirname(fileURLToPath(import.meta.url))
const idp = new URL(endpoint)
const app = new URL(appUrl)
// Amplify hex-encodes the custom state into `state` (two hex digits a character, so only
// characters up to U+00FF survive its own round trip); spaces, `&`, `=`, `%`, `#` must come
// back as they went.
const customState = 'back to /orders?id=42&tab=a b%20#top'
const results = { screenshots: [] }
let step = 'start'
const browserLog = []

// ---------------------------------------------------------------------------------------------
// The app: bundled now, served from a temporary folder.
// ---------------------------------------------------------------------------------------------
step = 'bundle'
const outdir = mkdtempSync(join(tmpdir(), 'amplify-redirect-'))
await build({
  entryPoints: [join(here, 'amplify-redirect-app.mjs')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  outfile: join(outdir, 'app.js'),
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  logLevel: 'error',
})
const bundle = readFileSync(join(outdir, 'app.js'))
results.bundleBytes = bundle.length

const page = (cfg) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Amplify app</title>
<script>window.cognateConfig = ${JSON.stringify(cfg).replace(/</g, '\\u003c')}</script>
<script type="module" src="/app.js"></script></head>
<body><h1>Amplify app</h1>
<button id="signIn">Sign in</button> <button id="signInPromptLogin">Sign in (prompt: LOGIN)</button>
<button id="signInWithHint">Sign in (loginHint)</button> <button id="signOut">Sign out</button>
<p>status: <code id="status">loading</code></p><pre id="result" style="white-space: pre-wrap; word-break: break-all"></pre></body></html>`

const appConfig = {
  endpoint: idp.origin,
  domain: idp.host,
  userPoolId: poolId,
  userPoolClientId: clientId,
  appUrl: app.href,
  customState,
  loginHint: username,
}
const server = createServer((req, res) => {
  const url = new URL(req.url, app)
  if (url.pathname === '/app.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
    return res.end(bundle)
  }
  if (url.pathname === app.pathname) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    return res.end(page(appConfig))
  }
  if (url.pathname === '/favicon.ico') {
    res.writeHead(204)
    return res.end()
  }
  res.writeHead(404, { 'content-type': 'text/plain' })
  res.end('not found')
})
await new Promise((resolve, reject) => {
  server.once('error', reject)
  server.listen(Number(app.port), app.hostname === 'localhost' ? '127.0.0.1' : app.hostname, resolve)
})

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** SHA-256 (base64) of the public key of the certificate ENDPOINT presents, verified by CA_FILE. */
async function serverKeyPin() {
  const socket = connect({
    host: idp.hostname,
    port: Number(idp.port || 443),
    ca: readFileSync(caFile),
    servername: idp.hostname === '127.0.0.1' ? undefined : idp.hostname,
  })
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve)
    socket.once('error', reject)
  })
  assert.ok(socket.authorized, `the server's certificate does not verify against ${caFile}`)
  const spki = socket.getPeerX509Certificate().publicKey.export({ type: 'spki', format: 'der' })
  socket.destroy()
  return createHash('sha256').update(spki).digest('base64')
}

async function shot(page, name) {
  if (!screenshotDir) return
  mkdirSync(screenshotDir, { recursive: true })
  const path = join(screenshotDir, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  results.screenshots.push(path)
}

/** Waits for the app (at APP_URL) to settle and returns its status and report. */
async function appState(page) {
  await page.waitForURL((u) => u.origin === app.origin)
  await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'loading')
  const status = await page.locator('#status').innerText()
  const text = await page.locator('#result').innerText()
  const report = text ? JSON.parse(text) : {}
  if (status === 'error') throw new Error(`the app reports an error: ${text}`)
  return { status, report }
}

/** The paths the browser was sent to on Cognate (to tell whether a form was shown). */
function recordPaths(page) {
  const paths = []
  page.on('response', (r) => {
    const u = new URL(r.url())
    if (u.origin === idp.origin) paths.push(`${r.request().method()} ${u.pathname} ${r.status()}`)
  })
  return paths
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------
step = 'pin the server certificate'
const pin = await serverKeyPin()
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    // Trust Cognate's development certificate (and only it): see the header.
    `--ignore-certificate-errors-spki-list=${pin}`,
  ],
})
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 800 } })
  const tab = await context.newPage()
  tab.setDefaultTimeout(20_000)
  tab.on('console', (m) => browserLog.push(`${m.type()}: ${m.text()}`))
  tab.on('pageerror', (e) => browserLog.push(`pageerror: ${e.message}`))
  const paths = recordPaths(tab)

  step = 'app, signed out'
  await tab.goto(app.href)
  let state = await appState(tab)
  assert.equal(state.status, 'signed-out', 'the app starts signed out')

  step = 'signInWithRedirect'
  await tab.locator('#signIn').click()
  await tab.waitForURL((u) => u.origin === idp.origin && u.pathname === '/login')
  const authorize = paths.find((p) => p.startsWith('GET /oauth2/authorize'))
  assert.ok(authorize, `Amplify went to /oauth2/authorize: ${paths.join(', ')}`)
  await tab.locator('input[name=username]:visible').fill(username)
  await tab.locator('input[name=password]').fill(password)
  await shot(tab, 'amplify-sign-in')

  step = 'sign in on the hosted page'
  await tab.locator('input[name=signInSubmitButton]').click()
  state = await appState(tab)
  assert.equal(state.status, 'signed-in', `the app is signed in: ${JSON.stringify(state.report)}`)
  const r = state.report
  assert.equal(r.arrivedWithCode, true, 'the app was reached with ?code=')
  assert.equal(new URL(r.url).search, '', 'Amplify cleared the code from the URL')
  assert.equal(r.customState, customState, 'the custom state came back')
  assert.ok(r.events.includes('signInWithRedirect') && r.events.includes('signedIn'), `Hub events: ${r.events}`)
  assert.equal(r.user.username, username, 'getCurrentUser().username')
  assert.equal(r.user.userId, r.idToken.sub, 'getCurrentUser().userId is the sub')
  assert.equal(r.idToken.aud, clientId, 'ID token aud')
  assert.equal(r.idToken.token_use, 'id')
  assert.equal(r.idToken.iss, `${idp.origin}/${poolId}`, 'ID token iss')
  assert.equal(r.accessToken.token_use, 'access')
  assert.equal(r.accessToken.client_id, clientId)
  const fresh = r.refreshedAccessToken
  assert.ok(fresh && fresh.jti !== r.accessToken.jti, 'fetchAuthSession({ forceRefresh: true }) got a new access token')
  assert.equal(fresh.sub, r.accessToken.sub, 'the refreshed token is the same user')
  assert.equal(fresh.origin_jti, r.accessToken.origin_jti, 'the refreshed token keeps origin_jti')
  assert.equal(r.refreshedIdToken?.aud, clientId, 'the refreshed ID token')
  await shot(tab, 'amplify-signed-in')
  results.username = r.user.username
  results.userId = r.user.userId
  results.attributes = r.attributes
  results.idToken = {
    aud: r.idToken.aud,
    iss: r.idToken.iss,
    sub: r.idToken.sub,
    email: r.idToken.email,
    'cognito:username': r.idToken['cognito:username'],
    token_use: r.idToken.token_use,
  }
  results.accessToken = {
    scope: r.accessToken.scope,
    client_id: r.accessToken.client_id,
    username: r.accessToken.username,
    origin_jti: typeof r.accessToken.origin_jti === 'string',
  }
  results.refreshed = { scope: fresh.scope, sameOrigin: fresh.origin_jti === r.accessToken.origin_jti }
  results.customState = r.customState
  results.events = r.events

  // --- again, Amplify's storage cleared: Cognate's session signs in without the form -------
  step = 'silent signInWithRedirect'
  await tab.evaluate(() => localStorage.clear())
  await tab.reload()
  state = await appState(tab)
  assert.equal(state.status, 'signed-out', 'with its storage cleared the app is signed out')
  paths.length = 0
  await tab.locator('#signIn').click()
  await tab.waitForURL((u) => u.origin === app.origin && u.searchParams.has('code'))
  state = await appState(tab)
  assert.equal(state.status, 'signed-in', `signed in again: ${JSON.stringify(state.report)}`)
  assert.ok(!paths.some((p) => p.includes(' /login ')), `the sign-in form was shown again: ${paths.join(', ')}`)
  assert.equal(state.report.user.username, username)
  assert.equal(state.report.customState, customState, 'the custom state came back on the silent sign-in')
  results.silent = { paths: [...paths], username: state.report.user.username, customState: state.report.customState }

  // --- prompt LOGIN: signed in at Cognate, but the form is shown again ---------------------
  step = 'signInWithRedirect prompt LOGIN'
  await tab.locator('#signInPromptLogin').click()
  await tab.waitForURL((u) => u.origin === idp.origin && u.pathname === '/login')
  await tab.locator('input[name=username]:visible').fill(username)
  await tab.locator('input[name=password]').fill(password)
  await tab.locator('input[name=signInSubmitButton]').click()
  state = await appState(tab)
  assert.equal(state.status, 'signed-in', `signed in with prompt LOGIN: ${JSON.stringify(state.report)}`)
  assert.equal(state.report.user.username, username)
  results.promptLogin = { username: state.report.user.username }

  // --- signOut: RevokeToken, /logout, back at the app signed out --------------------------
  step = 'signOut'
  paths.length = 0
  await tab.locator('#signOut').click()
  await tab.waitForURL((u) => u.origin === app.origin && paths.some((p) => p.startsWith('GET /logout ')))
  state = await appState(tab)
  assert.equal(state.status, 'signed-out', `signed out: ${JSON.stringify(state.report)}`)
  assert.ok(paths.includes('POST / 200'), `signOut revoked the refresh token (RevokeToken): ${paths.join(', ')}`)
  results.signedOut = { paths: [...paths], url: tab.url() }

  step = 'sign-in form after signOut (loginHint)'
  await tab.locator('#signInWithHint').click()
  await tab.waitForURL((u) => u.origin === idp.origin && u.pathname === '/login')
  await tab.locator('input[name=password]').waitFor()
  assert.equal(await tab.locator('input[name=username]:visible').inputValue(), username, 'the form is pre-filled with loginHint')
  results.formAfterSignOut = true
  results.loginHintPrefilled = true

  await context.close()
  results.ok = true
  console.log(JSON.stringify(results))
} catch (e) {
  console.error(`amplify-redirect.mjs failed at step "${step}": ${e?.stack ?? e}`)
  if (browserLog.length) console.error(`browser console:\n${browserLog.join('\n')}`)
  process.exitCode = 1
} finally {
  await browser.close()
  server.close()
  rmSync(outdir, { recursive: true, force: true })
}
