"""Signs in to Cognate with pycognito (USER_SRP_AUTH through boto3), checks the tokens against
the pool's JWKS, checks that a wrong password is refused, then enrols a software token (pyotp)
and signs in again through SOFTWARE_TOKEN_MFA. Prints "ok" when all checks pass.

    python srp_pycognito.py ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD

The pool must offer software-token MFA with MfaConfiguration OPTIONAL.
"""
import sys
import time

import pyotp
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.exceptions import SoftwareTokenMFAChallengeException


def main() -> None:
    endpoint, pool_id, client_id, username, password = sys.argv[1:6]
    endpoint = endpoint.rstrip("/")

    def cognito() -> Cognito:
        return Cognito(pool_id, client_id, username=username, boto3_client_kwargs={"endpoint_url": endpoint})

    user = cognito()
    user.authenticate(password=password)  # also verifies both tokens against the JWKS
    assert user.id_claims["cognito:username"] == username, user.id_claims
    assert user.access_claims["token_use"] == "access", user.access_claims
    assert user.refresh_token

    try:
        cognito().authenticate(password=password + "-wrong")
        raise AssertionError("a wrong password was accepted")
    except ClientError as e:
        err = e.response["Error"]
        assert err["Code"] == "NotAuthorizedException", err
        assert err["Message"] == "Incorrect username or password.", err

    secret = user.associate_software_token()
    assert len(secret) == 32, secret
    totp = pyotp.TOTP(secret)
    assert user.verify_software_token(totp.now(), "pyotp")
    user.set_user_mfa_preference(sms_mfa=False, software_token_mfa=True, preferred="SOFTWARE_TOKEN")

    again = cognito()
    try:
        again.authenticate(password=password)
        raise AssertionError("no SOFTWARE_TOKEN_MFA challenge")
    except SoftwareTokenMFAChallengeException:
        pass
    # The code of the current step was used by VerifySoftwareToken; the next step's code is
    # within Cognito's window of one step either side.
    again.respond_to_software_token_mfa_challenge(totp.at(time.time() + 30))
    again.verify_tokens()
    assert again.id_claims["cognito:username"] == username
    print("ok")


if __name__ == "__main__":
    main()
