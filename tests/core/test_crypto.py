import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from shipping.core.crypto import DecryptionError, decrypt_text, encrypt_text, get_multifernet, rotate_token

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_round_trip(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    token = encrypt_text("s3cret ✓")
    assert "s3cret" not in token
    assert token != encrypt_text("s3cret ✓")  # random IV
    assert decrypt_text(token) == "s3cret ✓"


def test_old_token_still_decrypts_after_a_new_key_is_prepended(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = encrypt_text("hello")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert decrypt_text(token) == "hello"
    # The newest key encrypts.
    assert Fernet(NEW).decrypt(encrypt_text("x").encode()) == b"x"


def test_rotate_token_re_encrypts_with_the_newest_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = encrypt_text("hello")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    rotated = rotate_token(token)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert decrypt_text(rotated) == "hello"
    with pytest.raises(DecryptionError):
        decrypt_text(token)


def test_unknown_key_raises_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = encrypt_text("hello")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEYS"):
        decrypt_text(token)
    with pytest.raises(DecryptionError):
        rotate_token("not a token")


def test_cache_follows_the_setting(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    first = get_multifernet()
    assert isinstance(first, MultiFernet)
    assert get_multifernet() is first
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert get_multifernet() is not first


@pytest.mark.parametrize("keys", [[], None, "", OLD])
def test_missing_or_non_list_keys_are_improperly_configured(settings, keys):
    settings.FIELD_ENCRYPTION_KEYS = keys
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        get_multifernet()


def test_malformed_key_names_its_position_not_its_value(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW, "not-a-fernet-key-but-secret"]
    with pytest.raises(ImproperlyConfigured, match=r"FIELD_ENCRYPTION_KEYS\[1\]") as info:
        get_multifernet()
    assert "not-a-fernet-key-but-secret" not in str(info.value)
