// One federated sign-in in a real browser (Chromium driven by playwright-core): the app's
// authorize URL at the federating pool, then (unless the URL names the provider already) the
// provider's button on its sign-in page, the provider's own sign-in page (another Cognate), its
// form, and back through /oauth2/idpresponse to the app's callback with a code.
//
//   node federation.mjs AUTHORIZE_URL CALLBACK_URL USERNAME PASSWORD SCREENSHOT_DIR PREFIX
//
// The callback (http://localhost:PORT/...) is served by this script. Prints one JSON line:
// {"ok": true, "callback": URL, "screenshots": [...]}; exits non-zero with the reason otherwise.
// Chromium is Debian's /usr/bin/chromium (override with CHROMIUM).
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const [authorizeUrl, callbackUrl, username, password, screenshotDir, prefix] = process.argv.slice(2)
assert.ok(
  authorizeUrl && callbackUrl && username && password && screenshotDir && prefix,
  'usage: AUTHORIZE_URL CALLBACK_URL USERNAME PASSWORD SCREENSHOT_DIR PREFIX',
)
mkdirSync(screenshotDir, { recursive: true })
const results = { screenshots: [] }
let step = 'launch'
let callback = null
const callbackTarget = new URL(callbackUrl)
const app = createServer((req, res) => {
  const url = new URL(req.url, callbackTarget)
  if (url.pathname === callbackTarget.pathname) callback = url.href
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
  res.end('<!DOCTYPE html><title>app</title><h1>Callback</h1>')
})
await new Promise((resolve, reject) => {
  app.once('error', reject)
  app.listen(Number(callbackTarget.port), '127.0.0.1', resolve)
})

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
})
try {
  const context = await browser.newContext()
  const page = await context.newPage()
  const shot = async (name) => {
    const path = join(screenshotDir, `${prefix}-${name}.png`)
    await page.screenshot({ path, fullPage: true })
    results.screenshots.push(path)
  }

  step = 'authorize'
  await page.goto(authorizeUrl)
  const button = page.locator('a.idpButton-customizable')
  if (!new URL(authorizeUrl).searchParams.has('identity_provider')) {
    step = 'federating sign-in page'
    await button.first().waitFor()
    await shot('sign-in-with-buttons')
    results.buttons = await button.allTextContents()
    await button.first().click()
  }
  step = 'provider sign-in page'
  await page.waitForSelector('input[name=username]')
  results.providerPage = new URL(page.url()).origin
  await shot('provider-sign-in')
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  step = 'provider sign-in'
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(callbackUrl), { timeout: 20000 }),
    page.click('input[name=signInSubmitButton]'),
  ])
  await shot('back-at-the-app')
  assert.ok(callback, 'the app callback was not reached')
  results.callback = callback
  results.ok = true
  console.log(JSON.stringify(results))
} catch (e) {
  console.error(`failed at ${step}: ${e.stack || e}`)
  process.exitCode = 1
} finally {
  await browser.close()
  app.close()
}
