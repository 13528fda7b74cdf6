// Drives Cognate's built-in KMS with the real AWS SDK for JavaScript v3 KMS client.
// The endpoint comes from AWS_ENDPOINT_URL_KMS. Exits non-zero on the first failed check;
// prints "ok" when all pass.
//
//   node kms-sdk.mjs
import assert from 'node:assert/strict'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'

const kms = new KMSClient({})
const send = (command) => kms.send(command)

async function rejects(promise, name) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`)
    assert.equal(err.$metadata.httpStatusCode, 400)
    return true
  })
}

// CreateKey / DescribeKey / ListKeys
const created = await send(
  new CreateKeyCommand({
    Description: 'sdk test key',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyUsage: 'ENCRYPT_DECRYPT',
    Tags: [{ TagKey: 'team', TagValue: 'auth' }],
  }),
)
const meta = created.KeyMetadata
assert.match(meta.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
assert.equal(meta.Arn, `arn:aws:kms:us-east-1:123456789012:key/${meta.KeyId}`)
assert.equal(meta.Description, 'sdk test key')
assert.equal(meta.KeyState, 'Enabled')
assert.equal(meta.Enabled, true)
assert.ok(meta.CreationDate instanceof Date && !Number.isNaN(meta.CreationDate.getTime()))

const described = await send(new DescribeKeyCommand({ KeyId: meta.Arn }))
assert.equal(described.KeyMetadata.KeyId, meta.KeyId)

const listed = await send(new ListKeysCommand({}))
assert.ok(listed.Keys.some((k) => k.KeyId === meta.KeyId && k.KeyArn === meta.Arn))

// Encrypt / Decrypt, with and without KeyId, bound to the encryption context
const context = { 'userpool-id': 'us-east-1_EXAMPLE' }
const enc = await send(
  new EncryptCommand({ KeyId: meta.KeyId, Plaintext: Buffer.from('hello kms'), EncryptionContext: context }),
)
assert.equal(enc.KeyId, meta.Arn)
for (const KeyId of [undefined, meta.Arn]) {
  const dec = await send(
    new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context, KeyId }),
  )
  assert.equal(Buffer.from(dec.Plaintext).toString(), 'hello kms')
  assert.equal(dec.KeyId, meta.Arn)
}
await rejects(
  send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { 'userpool-id': 'other' } })),
  'InvalidCiphertextException',
)
await rejects(send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'InvalidCiphertextException')

// GenerateDataKey (KeySpec and NumberOfBytes), GenerateDataKeyWithoutPlaintext
const dk = await send(new GenerateDataKeyCommand({ KeyId: meta.Arn, KeySpec: 'AES_256', EncryptionContext: context }))
assert.equal(dk.Plaintext.length, 32)
assert.equal(dk.KeyId, meta.Arn)
const dkBack = await send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: context }))
assert.deepEqual(Buffer.from(dkBack.Plaintext), Buffer.from(dk.Plaintext))
const dk16 = await send(new GenerateDataKeyCommand({ KeyId: meta.KeyId, NumberOfBytes: 16 }))
assert.equal(dk16.Plaintext.length, 16)
const dkNoPlain = await send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: meta.KeyId, KeySpec: 'AES_128' }))
assert.equal(dkNoPlain.Plaintext, undefined)
assert.ok(dkNoPlain.CiphertextBlob.length > 0)
await rejects(send(new GenerateDataKeyCommand({ KeyId: meta.KeyId })), 'ValidationException')

// Aliases
await send(new CreateAliasCommand({ AliasName: 'alias/sdk-test', TargetKeyId: meta.KeyId }))
await rejects(
  send(new CreateAliasCommand({ AliasName: 'alias/sdk-test', TargetKeyId: meta.KeyId })),
  'AlreadyExistsException',
)
const byAlias = await send(new DescribeKeyCommand({ KeyId: 'alias/sdk-test' }))
assert.equal(byAlias.KeyMetadata.KeyId, meta.KeyId)
const aliasArn = 'arn:aws:kms:us-east-1:123456789012:alias/sdk-test'
const viaAliasArn = await send(new EncryptCommand({ KeyId: aliasArn, Plaintext: Buffer.from('x') }))
assert.equal(viaAliasArn.KeyId, meta.Arn)
const aliases = await send(new ListAliasesCommand({ KeyId: meta.KeyId }))
assert.deepEqual(
  aliases.Aliases.map((a) => [a.AliasName, a.AliasArn, a.TargetKeyId]),
  [['alias/sdk-test', aliasArn, meta.KeyId]],
)
await send(new DeleteAliasCommand({ AliasName: 'alias/sdk-test' }))
await rejects(send(new DescribeKeyCommand({ KeyId: 'alias/sdk-test' })), 'NotFoundException')
await rejects(send(new DeleteAliasCommand({ AliasName: 'alias/sdk-test' })), 'NotFoundException')

// ReEncrypt to a second key
const second = (await send(new CreateKeyCommand({}))).KeyMetadata
const moved = await send(
  new ReEncryptCommand({
    CiphertextBlob: enc.CiphertextBlob,
    SourceEncryptionContext: context,
    DestinationKeyId: second.KeyId,
  }),
)
assert.equal(moved.SourceKeyId, meta.Arn)
assert.equal(moved.KeyId, second.Arn)
const movedBack = await send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob }))
assert.equal(Buffer.from(movedBack.Plaintext).toString(), 'hello kms')
await rejects(
  send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, KeyId: meta.KeyId })),
  'IncorrectKeyException',
)

// Disabled keys, unknown keys
await send(new DisableKeyCommand({ KeyId: second.KeyId }))
await rejects(send(new EncryptCommand({ KeyId: second.KeyId, Plaintext: Buffer.from('x') })), 'DisabledException')
await send(new EnableKeyCommand({ KeyId: second.KeyId }))
await rejects(
  send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })),
  'NotFoundException',
)

console.log('ok')
