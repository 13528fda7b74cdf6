// Signs in to Cognate with amazon-cognito-identity-js (USER_SRP_AUTH, as browser apps do),
// then checks that a wrong password is refused. Exits non-zero on the first failed check;
// prints "ok" when all pass.
//
//   node srp-identity-js.mjs ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD
import assert from 'node:assert/strict'
import identity from 'amazon-cognito-identity-js'

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identity
const [endpoint, poolId, clientId, username, password] = process.argv.slice(2)
assert.ok(endpoint && poolId && clientId && username && password, 'usage: ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD')

const pool = new CognitoUserPool({
  UserPoolId: poolId,
  ClientId: clientId,
  endpoint: endpoint.replace(/\/?$/, '/'),
})

function signIn(pw) {
  const user = new CognitoUser({ Username: username, Pool: pool })
  const details = new AuthenticationDetails({ Username: username, Password: pw })
  return new Promise((resolve, reject) => {
    user.authenticateUser(details, {
      onSuccess: resolve,
      onFailure: reject,
      newPasswordRequired: () => reject(new Error('unexpected NEW_PASSWORD_REQUIRED')),
      mfaRequired: () => reject(new Error('unexpected SMS_MFA')),
      totpRequired: () => reject(new Error('unexpected SOFTWARE_TOKEN_MFA')),
      customChallenge: () => reject(new Error('unexpected CUSTOM_CHALLENGE')),
    })
  })
}

const session = await signIn(password)
assert.ok(session.isValid(), 'the session is valid')
const id = session.getIdToken().decodePayload()
assert.equal(id.token_use, 'id')
assert.equal(id.aud, clientId)
assert.equal(id.iss, `${endpoint.replace(/\/$/, '')}/${poolId}`)
assert.ok(session.getAccessToken().getJwtToken().split('.').length === 3)
assert.ok(session.getRefreshToken().getToken().length > 0)

await assert.rejects(signIn(`${password}-wrong`), (err) => {
  assert.equal(err.code, 'NotAuthorizedException', `got ${err.code}: ${err.message}`)
  assert.equal(err.message, 'Incorrect username or password.')
  return true
})

console.log('ok')
