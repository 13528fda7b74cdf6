// Remembers a device with amazon-cognito-identity-js and signs in with it again, skipping MFA:
//   1. USER_SRP_AUTH, then SMS_MFA (the code read from the development outbox); the library
//      confirms the new device itself (ConfirmDevice with its own SRP verifier), and since the
//      pool remembers devices only on the user's prompt, setDeviceStatusRemembered follows.
//   2. A second sign-in: the library sends the cached DEVICE_KEY, answers DEVICE_SRP_AUTH and
//      DEVICE_PASSWORD_VERIFIER (getDeviceResponse), and no MFA challenge comes.
// Also getDevice and listDevices through the library. Prints "ok" when every check passes.
//
//   node devices-identity-js.mjs ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD PHONE
import assert from 'node:assert/strict'
import identity from 'amazon-cognito-identity-js'

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identity
const [endpoint, poolId, clientId, username, password, phone] = process.argv.slice(2)
assert.ok(endpoint && poolId && clientId && username && password && phone,
  'usage: ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD PHONE')
const base = endpoint.replace(/\/?$/, '/')

const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint: base })

async function latestCode() {
  const res = await fetch(`${base}_cognate/messages?to=${encodeURIComponent(phone)}`)
  assert.ok(res.ok, `outbox: ${res.status}`)
  const messages = (await res.json()).filter((m) => m.to === phone)
  assert.ok(messages.length > 0, 'an SMS was sent')
  const code = /\b(\d{6})\b/.exec(messages[messages.length - 1].body)
  assert.ok(code, 'the SMS holds a code')
  return code[1]
}

function signIn(user, { allowMfa }) {
  const details = new AuthenticationDetails({ Username: username, Password: password })
  let mfaAsked = false
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (session, userConfirmationNecessary) =>
        resolve({ session, userConfirmationNecessary, mfaAsked }),
      onFailure: reject,
      mfaRequired: () => {
        mfaAsked = true
        if (!allowMfa) {
          reject(new Error('unexpected SMS_MFA on a remembered device'))
          return
        }
        latestCode().then((code) => user.sendMFACode(code, callbacks), reject)
      },
      totpRequired: () => reject(new Error('unexpected SOFTWARE_TOKEN_MFA')),
      newPasswordRequired: () => reject(new Error('unexpected NEW_PASSWORD_REQUIRED')),
      customChallenge: () => reject(new Error('unexpected CUSTOM_CHALLENGE')),
    }
    user.authenticateUser(details, callbacks)
  })
}

const call = (fn) => new Promise((resolve, reject) => fn({ onSuccess: resolve, onFailure: reject }))

// 1. New device: MFA, then the library confirms the device; the user says "remember it".
const first = new CognitoUser({ Username: username, Pool: pool })
const one = await signIn(first, { allowMfa: true })
assert.ok(one.mfaAsked, 'the first sign-in asks for MFA')
assert.equal(one.userConfirmationNecessary, true, 'UserConfirmationNecessary (remembered on prompt)')
assert.ok(first.deviceKey, 'the library kept the device key')
const deviceKey = first.deviceKey
assert.match(deviceKey, /^[\w-]+_[0-9a-f-]+$/)
await call((cb) => first.setDeviceStatusRemembered(cb))
const got = await call((cb) => first.getDevice(cb))
const status = got.Device.DeviceAttributes.find((a) => a.Name === 'device_status')
assert.equal(status.Value, 'remembered')
const listed = await new Promise((resolve, reject) =>
  first.listDevices(10, null, { onSuccess: resolve, onFailure: reject }))
assert.deepEqual(listed.Devices.map((d) => d.DeviceKey), [deviceKey])

// 2. The remembered device: DEVICE_SRP_AUTH, no MFA.
const second = new CognitoUser({ Username: username, Pool: pool })
const two = await signIn(second, { allowMfa: false })
assert.equal(two.mfaAsked, false)
assert.ok(two.session.isValid())
const access = two.session.getAccessToken().decodePayload()
assert.equal(access.device_key, deviceKey, 'the access token names the device')
assert.equal(access.username, username)

// Refreshing the session sends the device key, as the library does on its own.
const refreshed = await new Promise((resolve, reject) =>
  second.refreshSession(two.session.getRefreshToken(), (err, s) => (err ? reject(err) : resolve(s))))
assert.equal(refreshed.getAccessToken().decodePayload().device_key, deviceKey)

console.log('ok')
