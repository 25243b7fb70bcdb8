from pwdlib.hashers.argon2 import Argon2Hasher

from service.security import passwords


def test_production_hashes_are_argon2id_and_verify() -> None:
    hasher = Argon2Hasher()
    digest = hasher.hash("Demo@123456")
    assert digest.startswith("$argon2id$")
    assert hasher.verify("Demo@123456", digest)
    assert not hasher.verify("wrong", digest)


def test_unknown_user_costs_a_verification_and_fails() -> None:
    assert passwords.verify_password("anything", None) is False
    assert passwords.verify_password("Demo@123456", passwords.hash_password("Demo@123456")) is True
