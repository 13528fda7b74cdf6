// Signs in to Cognate with Amplify v6's choice-based sign-in and an email code:
// signIn({ authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' }), the code read from
// Cognate's outbox (/_cognate/code), then confirmSignIn with it. Prints the result as JSON;
// exits non-zero on the first failed check.
//
//   node amplify-email-otp.mjs ENDPOINT POOL_ID CLIENT_ID USERNAME EMAIL
import assert from 'node:assert/strict'
import { Amplify } from 'aws-amplify'
import { confirmSignIn, fetchAuthSession, getCurrentUser, signIn } from 'aws-amplify/auth'
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito'

const [endpoint, poolId, clientId, username, email] = process.argv.slice(2)
assert.ok(endpoint && poolId && clientId && username && email, 'usage: ENDPOINT POOL_ID CLIENT_ID USERNAME EMAIL')

// The operation of every Cognito request Amplify sends.
const operations = []
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init = {}) => {
  const target = new Headers(init.headers).get('x-amz-target') ?? ''
  const prefix = 'AWSCognitoIdentityProviderService.'
  if (target.startsWith(prefix)) operations.push(target.slice(prefix.length))
  return realFetch(input, init)
}

// Node has no localStorage: keep Amplify's tokens in memory.
const items = new Map()
cognitoUserPoolsTokenProvider.setKeyValueStorage({
  async setItem(key, value) {
    items.set(key, value)
  },
  async getItem(key) {
    return items.get(key) ?? null
  },
  async removeItem(key) {
    items.delete(key)
  },
  async clear() {
    items.clear()
  },
})

Amplify.configure({
  Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: endpoint } },
})

const started = await signIn({ username, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } })
assert.equal(started.isSignedIn, false)
assert.equal(started.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE')
const delivery = started.nextStep.codeDeliveryDetails

const resp = await realFetch(`${endpoint}/_cognate/code?to=${encodeURIComponent(email)}`)
assert.equal(resp.status, 200, 'a code in the outbox')
const code = (await resp.text()).trim()

const done = await confirmSignIn({ challengeResponse: code })
assert.ok(done.isSignedIn, `signed in (next step ${done.nextStep?.signInStep})`)
assert.equal(done.nextStep.signInStep, 'DONE')
const user = await getCurrentUser()
const tokens = (await fetchAuthSession()).tokens
assert.ok(tokens?.accessToken && tokens?.idToken, 'tokens after sign-in')

console.log(
  JSON.stringify({
    username: user.username,
    userId: user.userId,
    delivery,
    operations,
    access: tokens.accessToken.toString(),
  }),
)
