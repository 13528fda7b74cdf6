// Remembers a device with Amplify v6 and signs in with it again, skipping MFA: signIn (SRP) and
// confirmSignIn with the SMS code from the development outbox (Amplify confirms the new device
// itself with ConfirmDevice), rememberDevice, fetchDevices, signOut; then a second signIn that
// Amplify finishes through DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER, with no MFA step; then
// forgetDevice. Records the X-Amz-Target (and ChallengeName) of every request. Prints "ok".
//
//   node amplify-devices.mjs ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD PHONE
import assert from 'node:assert/strict'
import { Amplify } from 'aws-amplify'
import {
  confirmSignIn, fetchAuthSession, fetchDevices, forgetDevice, rememberDevice, signIn, signOut,
} from 'aws-amplify/auth'
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito'

const [endpoint, poolId, clientId, username, password, phone] = process.argv.slice(2)
assert.ok(endpoint && poolId && clientId && username && password && phone,
  'usage: ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD PHONE')
const base = endpoint.replace(/\/?$/, '/')

// Amplify names the device after `navigator` (ConfirmDevice's DeviceName), which browsers and
// Node >= 21 have; Node 20 has none, and Amplify would then skip ConfirmDevice silently.
globalThis.navigator ??= { userAgent: 'Node.js (amplify-devices.mjs)' }

const requests = []
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init = {}) => {
  const target = new Headers(init.headers).get('x-amz-target') ?? ''
  const prefix = 'AWSCognitoIdentityProviderService.'
  if (target.startsWith(prefix)) {
    const body = JSON.parse(init.body ?? '{}')
    const op = target.slice(prefix.length)
    requests.push(body.ChallengeName ? `${op}:${body.ChallengeName}` : op)
  }
  return realFetch(input, init)
}

const items = new Map()
cognitoUserPoolsTokenProvider.setKeyValueStorage({
  async setItem(key, value) { items.set(key, value) },
  async getItem(key) { return items.get(key) ?? null },
  async removeItem(key) { items.delete(key) },
  async clear() { items.clear() },
})
Amplify.configure({
  Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: endpoint } },
})

async function latestCode() {
  const res = await realFetch(`${base}_cognate/messages?to=${encodeURIComponent(phone)}`)
  const messages = (await res.json()).filter((m) => m.to === phone)
  const code = /\b(\d{6})\b/.exec(messages.at(-1)?.body ?? '')
  assert.ok(code, 'an SMS with a code was sent')
  return code[1]
}

// 1. A new device: SMS MFA; Amplify confirms the device on its own.
const first = await signIn({ username, password })
assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_SMS_CODE', JSON.stringify(first.nextStep))
const confirmed = await confirmSignIn({ challengeResponse: await latestCode() })
assert.ok(confirmed.isSignedIn, JSON.stringify(confirmed.nextStep))
assert.ok(requests.includes('ConfirmDevice'), `Amplify confirmed the device: ${requests}`)
await rememberDevice()
assert.ok(requests.includes('UpdateDeviceStatus'), `rememberDevice: ${requests}`)
const devices = await fetchDevices()
assert.equal(devices.length, 1, JSON.stringify(devices))
const deviceKey = devices[0].id
const session1 = await fetchAuthSession()
assert.equal(session1.tokens.accessToken.payload.device_key, deviceKey)
await signOut()

// 2. The remembered device: no MFA step.
requests.length = 0
const second = await signIn({ username, password })
assert.ok(second.isSignedIn, `no MFA on the remembered device: ${JSON.stringify(second.nextStep)}`)
assert.deepEqual(requests, [
  'InitiateAuth',
  'RespondToAuthChallenge:PASSWORD_VERIFIER',
  'RespondToAuthChallenge:DEVICE_SRP_AUTH',
  'RespondToAuthChallenge:DEVICE_PASSWORD_VERIFIER',
])
const session2 = await fetchAuthSession()
assert.equal(session2.tokens.accessToken.payload.device_key, deviceKey)

// 3. Forgotten.
await forgetDevice()
assert.deepEqual(await fetchDevices(), [])
console.log('ok')
