// The browser app of amplify-passkeys.mjs: Amplify v6 passkeys against Cognate. The script
// bundles this file with esbuild and serves it on http://localhost:PORT/ with a page that
// defines `window.cognateConfig` ({ endpoint, userPoolId, userPoolClientId }).
//
// It exposes `window.passkeyApp`, whose functions the script calls one at a time; each returns
// plain JSON (or throws, with the error's name and message):
//   signInWithPassword(username, password)  signIn USER_AUTH, preferredChallenge PASSWORD
//   register()                              associateWebAuthnCredential (navigator.credentials.create)
//   list()                                  listWebAuthnCredentials
//   remove(credentialId)                    deleteWebAuthnCredential
//   signInWithPasskey(username)             signIn USER_AUTH, preferredChallenge WEB_AUTHN
//                                           (navigator.credentials.get)
//   signInChoosingPasskey(username)         signIn USER_AUTH without a preference, then
//                                           confirmSignIn({ challengeResponse: 'WEB_AUTHN' })
//   session()                               getCurrentUser and the tokens' claims
//   signOut()
// `operations` lists the Cognito operation of every request Amplify sent.
import { Amplify } from 'aws-amplify'
import {
  associateWebAuthnCredential,
  confirmSignIn,
  deleteWebAuthnCredential,
  fetchAuthSession,
  getCurrentUser,
  listWebAuthnCredentials,
  signIn,
  signOut,
} from 'aws-amplify/auth'

const config = window.cognateConfig
const operations = []
const realFetch = window.fetch.bind(window)
window.fetch = async (input, init = {}) => {
  const target = new Headers(init.headers).get('x-amz-target') ?? ''
  const prefix = 'AWSCognitoIdentityProviderService.'
  if (target.startsWith(prefix)) operations.push(target.slice(prefix.length))
  return realFetch(input, init)
}

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: config.userPoolId,
      userPoolClientId: config.userPoolClientId,
      userPoolEndpoint: config.endpoint,
    },
  },
})

/** Runs `f`, and reports a failure as `{ error: { name, message } }` rather than throwing. */
async function report(f) {
  try {
    return await f()
  } catch (e) {
    return { error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } }
  }
}

function steps(out) {
  return { isSignedIn: out.isSignedIn, nextStep: out.nextStep }
}

window.passkeyApp = {
  operations,
  signInWithPassword: (username, password) =>
    report(async () =>
      steps(await signIn({ username, password, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD' } })),
    ),
  register: () =>
    report(async () => {
      await associateWebAuthnCredential()
      return { registered: true }
    }),
  list: () =>
    report(async () => {
      const { credentials, nextToken } = await listWebAuthnCredentials()
      return {
        nextToken: nextToken ?? null,
        credentials: credentials.map((c) => ({ ...c, createdAt: c.createdAt?.toISOString() ?? null })),
      }
    }),
  remove: (credentialId) =>
    report(async () => {
      await deleteWebAuthnCredential({ credentialId })
      return { removed: credentialId }
    }),
  signInWithPasskey: (username) =>
    report(async () =>
      steps(await signIn({ username, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } })),
    ),
  signInChoosingPasskey: (username) =>
    report(async () => {
      const first = await signIn({ username, options: { authFlowType: 'USER_AUTH' } })
      const chosen = await confirmSignIn({ challengeResponse: 'WEB_AUTHN' })
      return { first: steps(first), chosen: steps(chosen) }
    }),
  session: () =>
    report(async () => {
      const user = await getCurrentUser()
      const { tokens } = await fetchAuthSession()
      return {
        username: user.username,
        userId: user.userId,
        accessToken: tokens?.accessToken?.payload ?? null,
        idToken: tokens?.idToken?.payload ?? null,
      }
    }),
  signOut: () =>
    report(async () => {
      await signOut()
      return { signedOut: true }
    }),
}
document.getElementById('status').textContent = 'ready'
