// Verifies Cognate's tokens with AWS's own verifier library, aws-jwt-verify, the way an API
// behind Cognito does: RS256 against the pool's JWKS, issuer, audience / client_id, token_use.
// Usage: node verify-tokens.mjs ISSUER CLIENT_ID ID_TOKEN ACCESS_TOKEN (ISSUER http:// or https://)
import { JwtRsaVerifier } from 'aws-jwt-verify';

const [issuer, clientId, idToken, accessToken] = process.argv.slice(2);
const jwksUri = `${issuer}/.well-known/jwks.json`;

const idVerifier = JwtRsaVerifier.create({
  issuer,
  jwksUri,
  audience: clientId,
  customJwtCheck: ({ payload }) => {
    if (payload.token_use !== 'id') throw new Error(`token_use is ${payload.token_use}`);
  },
});
const accessVerifier = JwtRsaVerifier.create({
  issuer,
  jwksUri,
  audience: null, // Cognito access tokens carry client_id, not aud
  customJwtCheck: ({ payload }) => {
    if (payload.token_use !== 'access') throw new Error(`token_use is ${payload.token_use}`);
    if (payload.client_id !== clientId) throw new Error(`client_id is ${payload.client_id}`);
  },
});

// aws-jwt-verify fetches JWKS over https only. With Cognate on https (--tls-dev, its CA trusted
// through NODE_EXTRA_CA_CERTS) it fetches them itself, unchanged; on plain http the application
// hands it the pool's JWKS (fetched from the same jwks_uri) through cacheJwks.
if (!jwksUri.startsWith('https://')) {
  const jwks = await (await fetch(jwksUri)).json();
  idVerifier.cacheJwks(jwks);
  accessVerifier.cacheJwks(jwks);
}

const id = await idVerifier.verify(idToken);
const access = await accessVerifier.verify(accessToken);

// Each token is refused where the other is expected, and a tampered one is refused.
const refused = async (p) => p.then(() => false, () => true);
const [payload] = accessToken.split('.').slice(1, 2);
const forged = JSON.parse(Buffer.from(payload, 'base64url').toString());
forged.username = 'someone-else';
const tampered = accessToken.replace(payload, Buffer.from(JSON.stringify(forged)).toString('base64url'));
const checks = {
  idAsAccessRefused: await refused(accessVerifier.verify(idToken)),
  accessAsIdRefused: await refused(idVerifier.verify(accessToken)),
  tamperedRefused: await refused(accessVerifier.verify(tampered)),
};
console.log(JSON.stringify({ id: id['cognito:username'], access: access.username, ...checks }));
