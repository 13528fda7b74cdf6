// Encrypts a code the way Cognito does (message format 1, suite 0x0378, encryption context
// `userpool-id`) with the AWS Encryption SDK for JavaScript and a KMS keyring, so Cognate's own
// decoder can be checked against the reference implementation.
//
//   node encrypt-code.mjs --key-arn ARN --pool-id POOL_ID --plaintext TEXT
//
// Prints the base64 message on stdout.
import { parseArgs } from 'node:util'
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  KmsKeyringNode,
  buildClient,
} from '@aws-crypto/client-node'

const { values } = parseArgs({
  options: {
    'key-arn': { type: 'string' },
    'pool-id': { type: 'string' },
    plaintext: { type: 'string' },
  },
})
if (!values['key-arn'] || !values['pool-id'] || values.plaintext === undefined) {
  console.error('usage: node encrypt-code.mjs --key-arn ARN --pool-id POOL_ID --plaintext TEXT')
  process.exit(2)
}

// Non-committing suites can only be written under FORBID_ENCRYPT_ALLOW_DECRYPT.
const { encrypt } = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)
const keyring = new KmsKeyringNode({ generatorKeyId: values['key-arn'] })
const { result } = await encrypt(keyring, Buffer.from(values.plaintext, 'utf8'), {
  encryptionContext: { 'userpool-id': values['pool-id'] },
  suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
})
process.stdout.write(Buffer.from(result).toString('base64'))
