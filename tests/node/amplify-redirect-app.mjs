// The browser app of amplify-redirect.mjs: Amplify v6 with the user pool's hosted sign-in
// (`signInWithRedirect`) against Cognate. amplify-redirect.mjs bundles this file with esbuild
// into a temporary folder at test time and serves it with the page that defines
// `window.cognateConfig` ({ endpoint, domain, userPoolId, userPoolClientId, appUrl }).
//
// What the page shows (the script reads it):
//   #status  `loading`, then `signed-in`, `signed-out` or `error`
//   #result  JSON: the session's token claims (and those of a forced refresh), getCurrentUser(),
//            fetchUserAttributes(), the custom state handed back by the `customOAuthState` Hub
//            event, and the Hub events seen
// Buttons: #signIn (signInWithRedirect with a custom state), #signInPromptLogin (prompt LOGIN),
// #signInWithHint (loginHint), #signOut (signOut: RevokeToken, then the domain's /logout, which
// comes back here).
import { Amplify } from 'aws-amplify'
import { fetchAuthSession, fetchUserAttributes, getCurrentUser, signInWithRedirect, signOut } from 'aws-amplify/auth'
// Completes the code exchange when the page loads at the redirect URL with `?code=`.
import 'aws-amplify/auth/enable-oauth-listener'
import { Hub } from 'aws-amplify/utils'

const config = window.cognateConfig
const events = []
let customState = null
const redirectDone = new Promise((resolve) => {
  Hub.listen('auth', ({ payload }) => {
    events.push(payload.event)
    if (payload.event === 'customOAuthState') customState = payload.data
    if (payload.event === 'signInWithRedirect') resolve({ ok: true })
    if (payload.event === 'signInWithRedirect_failure') {
      resolve({ ok: false, error: `${payload.data?.error?.name}: ${payload.data?.error?.message}` })
    }
  })
})

// Read before Amplify completes the flow: it replaces the URL with the redirect URI afterwards.
const arrivedWithCode = new URLSearchParams(window.location.search).has('code')

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: config.userPoolId,
      userPoolClientId: config.userPoolClientId,
      // The Cognito API (GetUser, RevokeToken…): Cognate's endpoint.
      userPoolEndpoint: config.endpoint,
      loginWith: {
        oauth: {
          // host:port without a scheme: Amplify builds `https://${domain}/oauth2/authorize`.
          domain: config.domain,
          scopes: ['openid', 'email', 'aws.cognito.signin.user.admin'],
          redirectSignIn: [config.appUrl],
          redirectSignOut: [config.appUrl],
          responseType: 'code',
        },
      },
    },
  },
})

const $ = (id) => document.getElementById(id)

function show(status, result) {
  $('result').textContent = JSON.stringify(result, null, 2)
  $('status').textContent = status
  console.log(`amplify-app ${status} ${JSON.stringify(result)}`)
}

const claims = (token) => token?.payload ?? null

async function main() {
  $('signIn').addEventListener('click', () => {
    signInWithRedirect({ customState: config.customState }).catch((e) => show('error', { step: 'signInWithRedirect', error: `${e.name}: ${e.message}` }))
  })
  // While signed in: Cognate must show the form again (prompt=login) instead of its session.
  $('signInPromptLogin').addEventListener('click', () => {
    signInWithRedirect({ options: { prompt: 'LOGIN' } }).catch((e) =>
      show('error', { step: 'signInWithRedirect prompt', error: `${e.name}: ${e.message}` }),
    )
  })
  // The form comes pre-filled with the hint (login_hint).
  $('signInWithHint').addEventListener('click', () => {
    signInWithRedirect({ options: { loginHint: config.loginHint } }).catch((e) =>
      show('error', { step: 'signInWithRedirect hint', error: `${e.name}: ${e.message}` }),
    )
  })
  $('signOut').addEventListener('click', () => {
    signOut().catch((e) => show('error', { step: 'signOut', error: `${e.name}: ${e.message}` }))
  })
  if (arrivedWithCode) {
    const done = await redirectDone
    if (!done.ok) return show('error', { step: 'code exchange', error: done.error, events })
  }
  let user
  try {
    user = await getCurrentUser()
  } catch (e) {
    if (e.name === 'UserUnAuthenticatedException') return show('signed-out', { events, arrivedWithCode })
    return show('error', { step: 'getCurrentUser', error: `${e.name}: ${e.message}` })
  }
  try {
    const session = await fetchAuthSession()
    const attributes = await fetchUserAttributes()
    // GetTokensFromRefreshToken at userPoolEndpoint with the refresh token the code grant gave.
    const refreshed = await fetchAuthSession({ forceRefresh: true })
    show('signed-in', {
      arrivedWithCode,
      url: window.location.href,
      user,
      attributes,
      idToken: claims(session.tokens?.idToken),
      accessToken: claims(session.tokens?.accessToken),
      refreshedAccessToken: claims(refreshed.tokens?.accessToken),
      refreshedIdToken: claims(refreshed.tokens?.idToken),
      customState,
      events,
    })
  } catch (e) {
    show('error', { step: 'session', error: `${e.name}: ${e.message}` })
  }
}

main().catch((e) => show('error', { step: 'main', error: String(e?.stack ?? e) }))
