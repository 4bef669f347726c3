"""The classifier over the real fault fixtures and the odd shapes QBO answers with."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.quickbooks import errors
from connectors.quickbooks.classify import FAULT_RULES, classify, error_from_fault, parse_retry_after
from tests.connectors.quickbooks.qbo_fakes import fixture, fixture_bytes

FAULT_FIXTURES = [
    ("fault_2020_required.json", errors.ValidationError, "2020", "Name"),
    ("fault_2020_required_line_detailtype.json", errors.ValidationError, "2020", "Line.DetailType"),
    ("fault_4000_query_parse.json", errors.ValidationError, "4000", None),
    ("fault_5010_stale.json", errors.StaleObjectError, "5010", ""),
    ("fault_5010_stale_void.json", errors.StaleObjectError, "5010", ""),
    ("fault_610_not_found.json", errors.ObjectNotFoundError, "610", ""),
]


@pytest.mark.parametrize(("name", "error_type", "code", "element"), FAULT_FIXTURES)
def test_every_fault_fixture_is_classified(name, error_type, code, element):
    status = fixture(name)["response"]["status"]
    with pytest.raises(error_type) as info:
        classify(status, {"Content-Type": "application/json"}, fixture_bytes(name), context="create Item")
    err = info.value
    assert type(err) is error_type
    assert err.code == code
    assert err.status == status
    assert err.element == element
    assert err.retryable is False
    assert err.fault_type == "ValidationFault"
    assert str(err).startswith("QuickBooks create Item failed:")
    assert err.detail  # QBO's detail is kept for the sync log


def test_fault_message_is_actionable():
    with pytest.raises(errors.ValidationError) as info:
        classify(400, {}, fixture_bytes("fault_2020_required.json"))
    text = str(info.value)
    assert "Required param missing" in text
    assert "field Name" in text
    assert "fix it" in text


def test_a_fault_inside_http_200_is_an_error():
    body = fixture_bytes("fault_5010_stale.json")
    with pytest.raises(errors.StaleObjectError):
        classify(200, {"Content-Type": "application/json"}, body)


def test_success_is_parsed_with_decimal_money():
    data = classify(200, {}, fixture_bytes("invoice_create.json"))  # a real capture
    invoice = data["BatchItemResponse"][0]["Invoice"]
    assert isinstance(invoice["TotalAmt"], Decimal)
    assert str(invoice["TotalAmt"]) == "119.60"
    assert str(invoice["TxnTaxDetail"]["TotalTax"]) == "9.60"


def test_lower_case_401_body():
    body = (
        b'{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":"message=AuthenticationFailed; '
        b'errorCode=003200; statusCode=401","detail":"Token expired: AB11xxxx","code":"3200",'
        b'"element":null}],"type":"AUTHENTICATION"},"report":null,"time":1718000000000}'
    )
    with pytest.raises(errors.AuthenticationError) as info:
        classify(401, {"intuit_tid": "1-abc"}, body)
    err = info.value
    assert err.code == "3200"
    assert err.status == 401
    assert err.fault_type == "AUTHENTICATION"
    assert err.intuit_tid == "1-abc"
    assert "Reconnect QuickBooks" in str(err)


def test_lower_case_401_without_code_reads_errorcode_from_message():
    body = (
        b'{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401"}]}}'
    )
    with pytest.raises(errors.AuthenticationError) as info:
        classify(401, {}, body)
    assert info.value.code == "3200"


XML_THROTTLE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2025-06-10T06:19:51.939-07:00">'
    b'<Fault type="SERVICE"><Error code="3001" element="">'
    b"<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    b"<Detail>The request limit was reached.</Detail></Error></Fault></IntuitResponse>"
)


def test_xml_throttle_body_defaults_to_60_seconds():
    with pytest.raises(errors.ThrottledError) as info:
        classify(429, {"Content-Type": "application/xml"}, XML_THROTTLE)
    err = info.value
    assert err.code == "3001"
    assert err.retryable is True
    assert err.retry_after == 60.0
    assert err.fault_type == "SERVICE"
    assert err.detail == "The request limit was reached."


def test_xml_throttle_honours_retry_after():
    with pytest.raises(errors.ThrottledError) as info:
        classify(429, {"retry-after": "7"}, XML_THROTTLE)
    assert info.value.retry_after == 7.0


def test_plain_text_throttle_message():
    body = b"message=ThrottleExceeded; errorCode=003001; statusCode=429"
    with pytest.raises(errors.ThrottledError) as info:
        classify(429, {"Content-Type": "text/plain"}, body)
    assert info.value.code == "3001"


def test_throttle_fault_in_json_under_other_status_is_still_throttling():
    body = (
        b'{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=429"}],'
        b'"type":"SERVICE"}}'
    )
    with pytest.raises(errors.ThrottledError):
        classify(200, {}, body)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(status):
    with pytest.raises(errors.ServerError) as info:
        classify(status, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>")
    assert info.value.retryable is True
    assert info.value.status == status


def test_unreadable_200_is_retryable():
    with pytest.raises(errors.ServerError) as info:
        classify(200, {}, b'{"Invoice": {"Id": "1", "TotalAmt": 10')
    assert info.value.retryable is True


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        ("6140", errors.DuplicateDocNumberError),
        ("6240", errors.DuplicateNameError),
        ("6190", errors.CompanyStatusError),
        ("6200", errors.CompanyStatusError),
        ("6210", errors.CompanyStatusError),
        ("6000", errors.ValidationError),
        ("6999", errors.ValidationError),
        ("2010", errors.ValidationError),
        ("2500", errors.ValidationError),
        ("4001", errors.ValidationError),
        ("3100", errors.UnknownRealmError),
        ("3200", errors.AuthenticationError),
        ("3001", errors.ThrottledError),
    ],
)
def test_fault_table(code, error_type):
    err = error_from_fault(
        {"Error": [{"Message": "m", "Detail": "d", "code": code}], "type": "ValidationFault"}
    )
    assert type(err) is error_type
    assert err.code == code


def test_every_table_entry_has_advice():
    for rule in FAULT_RULES.values():
        assert rule.advice.endswith(".")


def test_duplicate_docnumber_names_the_existing_transaction():
    err = error_from_fault(
        {
            "Error": [
                {
                    "Message": "Duplicate Document Number Error",
                    "Detail": "Duplicate Document Number Error : You must specify a different number. "
                    "This number has already been used. "
                    "DocNumber=1042 is assigned to TxnType=Invoice with TxnId=177",
                    "code": "6140",
                }
            ]
        }
    )
    assert isinstance(err, errors.DuplicateDocNumberError)
    assert err.existing_txn_id == "177"


def test_unknown_code_falls_back_to_http_status():
    err = error_from_fault({"Error": [{"Message": "?", "code": "10000"}]}, status=503)
    assert type(err) is errors.ServerError
    err = error_from_fault({"Error": [{"Message": "?", "code": "10000"}]}, status=400)
    assert type(err) is errors.ValidationError


def test_403_without_fault_is_authorization_and_404_is_not_found():
    with pytest.raises(errors.AuthorizationError):
        classify(403, {}, b"")
    with pytest.raises(errors.ObjectNotFoundError):
        classify(404, {}, b"Not Found")


def test_messages_never_carry_tokens():
    body = (
        b'{"Fault":{"Error":[{"Message":"bad","Detail":"Authorization: Bearer '
        b'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_sig_sig_sig","code":"2010"}]}}'
    )
    with pytest.raises(errors.ValidationError) as info:
        classify(400, {}, body)
    assert "eyJhbGci" not in str(info.value)
    assert "eyJhbGci" not in (info.value.detail or "")


def test_parse_retry_after():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
