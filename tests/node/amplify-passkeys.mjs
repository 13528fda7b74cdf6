// Passkeys end to end in a real browser: Amplify v6 in Debian's Chromium (driven by
// playwright-core; never `playwright install`), with a virtual authenticator from the DevTools
// WebAuthn domain (CTAP2, internal transport, resident keys, user verification) standing in for
// the device's platform authenticator.
//
//  1. bundles amplify-passkeys-app.mjs (aws-amplify) with esbuild and serves it on
//     http://localhost:PORT/ (a secure context, and an origin of relying party `localhost`);
//  2. signs in with the password (USER_AUTH, PASSWORD), then associateWebAuthnCredential:
//     StartWebAuthnRegistration, navigator.credentials.create, CompleteWebAuthnRegistration;
//  3. listWebAuthnCredentials shows the authenticator's credential;
//  4. signs out, and signs in with the passkey: USER_AUTH with preferredChallenge WEB_AUTHN,
//     navigator.credentials.get against CREDENTIAL_REQUEST_OPTIONS, RespondToAuthChallenge;
//  5. signs out, and signs in choosing WEB_AUTHN from SELECT_CHALLENGE (confirmSignIn);
//  6. deleteWebAuthnCredential, and the list is empty.
//
// Prints one JSON line of results; exits non-zero with the reason on the first failed check.
//
//   node amplify-passkeys.mjs ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD [SCREENSHOT_DIR]
//
// ENDPOINT is Cognate's http://127.0.0.1:PORT. Chromium is /usr/bin/chromium (override with
// CHROMIUM).
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'

const [endpoint, poolId, clientId, username, password, screenshotDir] = process.argv.slice(2)
assert.ok(
  endpoint && poolId && clientId && username && password,
  'usage: ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD [SCREENSHOT_DIR]',
)
const here = dirname(fileURLToPath(import.meta.url))
const results = { screenshots: [] }
let step = 'start'
const browserLog = []

step = 'bundle'
const outdir = mkdtempSync(join(tmpdir(), 'amplify-passkeys-'))
await build({
  entryPoints: [join(here, 'amplify-passkeys-app.mjs')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  outfile: join(outdir, 'app.js'),
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  logLevel: 'error',
})
const bundle = readFileSync(join(outdir, 'app.js'))

const page = (cfg) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Passkeys</title>
<script>window.cognateConfig = ${JSON.stringify(cfg).replace(/</g, '\\u003c')}</script>
<script type="module" src="/app.js"></script></head>
<body><h1>Passkeys with Amplify</h1><p>status: <code id="status">loading</code></p>
<pre id="result" style="white-space: pre-wrap; word-break: break-all"></pre></body></html>`

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost')
  if (url.pathname === '/app.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
    return res.end(bundle)
  }
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    return res.end(page({ endpoint, userPoolId: poolId, userPoolClientId: clientId }))
  }
  res.writeHead(404, { 'content-type': 'text/plain' })
  res.end('not found')
})
await new Promise((resolve, reject) => {
  server.once('error', reject)
  server.listen(0, '127.0.0.1', resolve)
})
const appUrl = `http://localhost:${server.address().port}/`

async function shot(tab, name) {
  if (!screenshotDir) return
  mkdirSync(screenshotDir, { recursive: true })
  const path = join(screenshotDir, `${name}.png`)
  await tab.screenshot({ path, fullPage: true })
  results.screenshots.push(path)
}

/** Calls `window.passkeyApp[name](...args)` in the page; fails on a reported error. */
async function call(tab, name, ...args) {
  const out = await tab.evaluate(([n, a]) => window.passkeyApp[n](...a), [name, args])
  await tab.evaluate((o) => {
    document.getElementById('result').textContent = JSON.stringify(o, null, 2)
  }, out)
  assert.ok(!out?.error, `${name}: ${out?.error?.name}: ${out?.error?.message}`)
  return out
}

const operations = (tab) => tab.evaluate(() => window.passkeyApp.operations.splice(0))

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
})
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 700 } })
  const tab = await context.newPage()
  tab.setDefaultTimeout(20_000)
  tab.on('console', (m) => browserLog.push(`${m.type()}: ${m.text()}`))
  tab.on('pageerror', (e) => browserLog.push(`pageerror: ${e.message}`))

  step = 'virtual authenticator'
  const cdp = await context.newCDPSession(tab)
  await cdp.send('WebAuthn.enable', { enableUI: false })
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })

  step = 'app'
  await tab.goto(appUrl)
  await tab.waitForFunction(() => document.getElementById('status')?.textContent === 'ready')
  results.secureContext = await tab.evaluate(() => window.isSecureContext)

  step = 'password sign-in'
  const signedIn = await call(tab, 'signInWithPassword', username, password)
  assert.equal(signedIn.isSignedIn, true, `signed in with the password: ${JSON.stringify(signedIn)}`)
  await operations(tab)

  step = 'associateWebAuthnCredential'
  await call(tab, 'register')
  results.registerOperations = await operations(tab)
  const { credentials: stored } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
  assert.equal(stored.length, 1, 'the authenticator holds one credential')
  assert.equal(stored[0].isResidentCredential, true, 'a discoverable credential')
  assert.equal(stored[0].rpId, 'localhost')
  const credentialId = Buffer.from(stored[0].credentialId, 'base64').toString('base64url')
  results.credentialId = credentialId
  results.userHandle = Buffer.from(stored[0].userHandle ?? '', 'base64').toString()

  step = 'listWebAuthnCredentials'
  const listed = await call(tab, 'list')
  results.listed = listed.credentials
  assert.deepEqual(
    listed.credentials.map((c) => c.credentialId),
    [credentialId],
    'the listed credential is the authenticator one',
  )
  await shot(tab, 'passkey-registered')

  step = 'sign out'
  await call(tab, 'signOut')
  await operations(tab)

  step = 'passkey sign-in (preferredChallenge WEB_AUTHN)'
  const passkey = await call(tab, 'signInWithPasskey', username)
  assert.equal(passkey.isSignedIn, true, `signed in with the passkey: ${JSON.stringify(passkey)}`)
  assert.equal(passkey.nextStep.signInStep, 'DONE')
  results.signInOperations = await operations(tab)
  const session = await call(tab, 'session')
  assert.equal(session.username, username)
  assert.equal(session.accessToken.client_id, clientId)
  assert.equal(session.idToken.iss, `${endpoint}/${poolId}`)
  results.session = { username: session.username, userId: session.userId, sub: session.idToken.sub }
  const afterFirst = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount
  await shot(tab, 'passkey-signed-in')

  step = 'passkey sign-in (SELECT_CHALLENGE)'
  await call(tab, 'signOut')
  await operations(tab)
  const chosen = await call(tab, 'signInChoosingPasskey', username)
  assert.equal(chosen.first.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION')
  results.availableChallenges = chosen.first.nextStep.availableChallenges
  assert.equal(chosen.chosen.isSignedIn, true, `signed in choosing the passkey: ${JSON.stringify(chosen)}`)
  results.selectOperations = await operations(tab)
  const afterSecond = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount
  results.signCounts = [afterFirst, afterSecond]

  step = 'deleteWebAuthnCredential'
  await call(tab, 'remove', credentialId)
  const empty = await call(tab, 'list')
  assert.deepEqual(empty.credentials, [], 'no passkey left')

  step = 'a deleted passkey signs in no more'
  await call(tab, 'signOut')
  const refused = await tab.evaluate((u) => window.passkeyApp.signInWithPasskey(u), username)
  results.afterDelete = refused.error ? { error: refused.error.name } : refused
  results.ok = true
} catch (e) {
  results.ok = false
  results.failedStep = step
  results.error = e?.message ?? String(e)
  results.browserLog = browserLog.slice(-30)
} finally {
  await browser.close()
  server.close()
  rmSync(outdir, { recursive: true, force: true })
}
console.log(JSON.stringify(results))
process.exit(results.ok ? 0 : 1)
