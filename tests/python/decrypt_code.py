"""Decrypt a Cognito custom sender `request.code` exactly as a Python handler does.

AWS Encryption SDK for Python + StrictAwsKmsMasterKeyProvider naming the pool's key; boto3 takes
the KMS endpoint from AWS_ENDPOINT_URL_KMS (Cognate's built-in KMS).

    python decrypt_code.py --key-arn ARN --code BASE64 [--pool-id POOL_ID]

Prints the plaintext (UTF-8, no newline) on stdout. With --pool-id, also checks that the
message's encryption context has `userpool-id` = POOL_ID.
"""

import argparse
import base64
import sys

import aws_encryption_sdk
from aws_encryption_sdk import CommitmentPolicy


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key-arn", required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--pool-id")
    args = parser.parse_args()

    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    )
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[args.key_arn])
    plaintext, header = client.decrypt(
        source=base64.b64decode(args.code), key_provider=provider
    )
    if args.pool_id is not None:
        found = header.encryption_context.get("userpool-id")
        if found != args.pool_id:
            print(f"userpool-id is {found!r}, expected {args.pool_id!r}", file=sys.stderr)
            return 1
    sys.stdout.write(plaintext.decode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
