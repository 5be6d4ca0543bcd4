import json

from shipping.core.redaction import (
    REDACTED,
    redact_body,
    redact_headers,
    redact_json,
    redact_query_string,
    redact_url,
    redact_xml,
)


def test_headers():
    headers = {
        "Authorization": "Bearer abc",
        "proxy-authorization": "Basic x",
        "Cookie": "s=1",
        "Set-Cookie": "s=2",
        "X-Api-Key": "k",
        "X-APIKEY": "k",
        "X-Auth-Token": "t",
        "X-Client-Secret": "s",
        "X-Password": "p",
        "Content-Type": "application/json",
        "Accept": "*/*",
    }
    redacted = redact_headers(headers)
    assert redacted.pop("Content-Type") == "application/json"
    assert redacted.pop("Accept") == "*/*"
    assert set(redacted.values()) == {REDACTED}


def test_json_recursively():
    doc = {
        "user": "bob",
        "Password": "p",
        "auth": {"access_token": "t", "refreshToken": "r", "apiKey": "k", "AccessKeyId": "a"},
        "items": [{"client_secret": "s", "sku": "A1"}, "plain"],
        "api_key": None,
    }
    assert redact_json(doc) == {
        "user": "bob",
        "Password": REDACTED,
        "auth": {
            "access_token": REDACTED,
            "refreshToken": REDACTED,
            "apiKey": REDACTED,
            "AccessKeyId": REDACTED,
        },
        "items": [{"client_secret": REDACTED, "sku": "A1"}, "plain"],
        "api_key": None,
    }


def test_query_string_and_url_keep_everything_else_verbatim():
    assert redact_query_string("page=2&Access_Token=abc&q=a%20b&passwd=x&empty=") == (
        f"page=2&Access_Token={REDACTED}&q=a%20b&passwd={REDACTED}&empty="
    )
    assert redact_url("https://u:pw@api.example/v1/orders?apikey=k&since=2024-01-01#frag") == (
        f"https://u:{REDACTED}@api.example/v1/orders?apikey={REDACTED}&since=2024-01-01#frag"
    )
    assert redact_url("https://api.example/v1") == "https://api.example/v1"


def test_xml_elements_and_attributes():
    xml = (
        '<?xml version="1.0"?><Request><Login><UserName>bob</UserName><Password>hunter2</Password>'
        '<wsse:Password Type="PasswordText">p2</wsse:Password></Login>'
        '<ApiKey>\n  k1\n</ApiKey><Auth token="t1" id="7"/><Empty/><SecretHint/></Request>'
    )
    out = redact_xml(xml)
    for secret in ("hunter2", "p2", "k1", "t1"):
        assert secret not in out
    assert "<UserName>bob</UserName>" in out
    assert f"<Password>{REDACTED}</Password>" in out
    assert '<wsse:Password Type="PasswordText">' in out
    assert 'id="7"' in out


def test_body_dispatches_on_content_type_or_shape():
    assert json.loads(redact_body(b'{"token": "t", "a": 1}', "application/json")) == {
        "token": REDACTED,
        "a": 1,
    }
    assert json.loads(redact_body('[{"secret": "s"}]')) == [{"secret": REDACTED}]
    assert redact_body("grant_type=password&password=p&username=u", "application/x-www-form-urlencoded") == (
        f"grant_type=password&password={REDACTED}&username=u"
    )
    assert redact_body("password=p&x=1") == f"password={REDACTED}&x=1"
    assert "hunter2" not in redact_body("<a><password>hunter2</password></a>", "text/xml")
    # JSON that does not parse (truncated) still loses string secrets.
    assert "abc" not in redact_body('{"access_token": "abc", "data": [1, 2', "application/json")
    assert redact_body("just text", "text/plain") == "just text"
    assert redact_body(None) is None
