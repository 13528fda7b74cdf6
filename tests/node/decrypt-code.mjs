// Decrypts a Cognito custom sender `request.code` exactly as a CustomEmailSender /
// CustomSMSSender handler does: AWS Encryption SDK + KMS keyring naming the pool's key.
// The KMS client follows AWS_ENDPOINT_URL_KMS (Cognate's built-in KMS).
//
//   node decrypt-code.mjs --key-arn ARN --code BASE64 [--pool-id POOL_ID]
//
// Prints the plaintext (UTF-8, no newline) on stdout. With --pool-id, also checks that the
// message's encryption context has `userpool-id` = POOL_ID.
import { parseArgs } from 'node:util'
import { KmsKeyringNode, buildClient, CommitmentPolicy } from '@aws-crypto/client-node'

const { values } = parseArgs({
  options: {
    'key-arn': { type: 'string' },
    code: { type: 'string' },
    'pool-id': { type: 'string' },
  },
})
if (!values['key-arn'] || !values.code) {
  console.error('usage: node decrypt-code.mjs --key-arn ARN --code BASE64 [--pool-id POOL_ID]')
  process.exit(2)
}

const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
const keyring = new KmsKeyringNode({ keyIds: [values['key-arn']] })
const { plaintext, messageHeader } = await decrypt(keyring, Buffer.from(values.code, 'base64'))

const poolId = values['pool-id']
if (poolId !== undefined && messageHeader.encryptionContext['userpool-id'] !== poolId) {
  console.error(`userpool-id is ${messageHeader.encryptionContext['userpool-id']}, expected ${poolId}`)
  process.exit(1)
}
process.stdout.write(Buffer.from(plaintext).toString('utf8'))
