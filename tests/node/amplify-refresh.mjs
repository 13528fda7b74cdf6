// Signs in to Cognate with Amplify v6 (SRP, Amplify's default), then moves this process's clock
// past the access token's expiry so that Amplify refreshes the tokens by itself (Amplify ≥ 6.15.4
// does that only with GetTokensFromRefreshToken), then forces one more refresh. Checks that the
// new tokens are new and work (getCurrentUser, fetchUserAttributes → GetUser), and records the
// X-Amz-Target of every request Amplify sends. Prints the result as JSON; exits non-zero on the
// first failed check.
//
//   node amplify-refresh.mjs ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD
import assert from 'node:assert/strict'
import { Amplify } from 'aws-amplify'
import { fetchAuthSession, fetchUserAttributes, getCurrentUser, signIn } from 'aws-amplify/auth'
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito'

const [endpoint, poolId, clientId, username, password] = process.argv.slice(2)
assert.ok(endpoint && poolId && clientId && username && password, 'usage: ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD')

// Every Cognito request Amplify sends: its operation and JSON body.
const requests = []
const realFetch = globalThis.fetch
globalThis.fetch = async (input, init = {}) => {
  const target = new Headers(init.headers).get('x-amz-target') ?? ''
  const prefix = 'AWSCognitoIdentityProviderService.'
  if (target.startsWith(prefix)) {
    requests.push({ operation: target.slice(prefix.length), body: JSON.parse(init.body ?? '{}') })
  }
  return realFetch(input, init)
}
const operations = () => requests.map((r) => r.operation)
const count = (operation) => operations().filter((o) => o === operation).length

// This process's clock, movable: Amplify reads both Date.now() and new Date().
let offsetMs = 0
const RealDate = Date
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs)
    else super(...args)
  }
  static now() {
    return RealDate.now() + offsetMs
  }
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

const { isSignedIn, nextStep } = await signIn({ username, password })
assert.ok(isSignedIn, `signed in (next step ${nextStep?.signInStep})`)
assert.equal(nextStep.signInStep, 'DONE')
const user = await getCurrentUser()
assert.equal(user.username, username)

const first = (await fetchAuthSession()).tokens
assert.ok(first?.accessToken && first?.idToken, 'tokens after sign-in')
assert.equal(count('GetTokensFromRefreshToken'), 0, 'fresh tokens are not refreshed')
const signInOperations = operations()

// Two hours later for Amplify: the one-hour access token has expired, so fetchAuthSession
// refreshes it by itself. (Cognate's clock has not moved: the refresh token is still valid.)
offsetMs = 2 * 3600 * 1000
assert.ok(Date.now() / 1000 > first.accessToken.payload.exp, 'the clock is past the access token expiry')
const second = (await fetchAuthSession()).tokens
assert.ok(second?.accessToken && second?.idToken, 'fetchAuthSession refreshed the expired tokens')
assert.equal(count('GetTokensFromRefreshToken'), 1, `one refresh: ${operations()}`)
const refresh = requests.find((r) => r.operation === 'GetTokensFromRefreshToken').body
assert.equal(refresh.ClientId, clientId)
assert.ok(refresh.RefreshToken, 'the refresh request carries the refresh token')

const again = await getCurrentUser()
assert.equal(again.username, username)
assert.equal(again.userId, user.userId)
// GetUser with the refreshed access token.
const attributes = await fetchUserAttributes()
assert.equal(attributes.sub, user.userId)
const getUser = requests.filter((r) => r.operation === 'GetUser').at(-1)
assert.equal(getUser.body.AccessToken, second.accessToken.toString(), 'GetUser used the refreshed access token')
assert.equal(count('GetTokensFromRefreshToken'), 1, 'the refreshed tokens are not refreshed again')

const third = (await fetchAuthSession({ forceRefresh: true })).tokens
assert.ok(third?.accessToken && third?.idToken, 'forced refresh')
assert.equal(count('GetTokensFromRefreshToken'), 2, `a second refresh: ${operations()}`)
const lastRefresh = requests.filter((r) => r.operation === 'GetTokensFromRefreshToken').at(-1).body
assert.equal(lastRefresh.RefreshToken, refresh.RefreshToken, 'without rotation the refresh token stays the same')

const describe = (tokens) => ({
  access: tokens.accessToken.toString(),
  id: tokens.idToken.toString(),
  accessJti: tokens.accessToken.payload.jti,
  accessIat: tokens.accessToken.payload.iat,
  idJti: tokens.idToken.payload.jti,
})
const result = {
  username: user.username,
  userId: user.userId,
  email: attributes.email,
  signInOperations,
  operations: operations(),
  refreshToken: refresh.RefreshToken,
  tokens: [describe(first), describe(second), describe(third)],
}
for (const [a, b] of [
  [result.tokens[0], result.tokens[1]],
  [result.tokens[1], result.tokens[2]],
]) {
  assert.notEqual(a.access, b.access, 'a refresh gives a new access token')
  assert.notEqual(a.accessJti, b.accessJti, 'a refresh gives a new jti')
  assert.notEqual(a.idJti, b.idJti, 'a refresh gives a new ID token')
}
console.log(JSON.stringify(result))
