"""Preferences, CompanyCurrency, ExchangeRate, TaxAgency and TaxService over raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox.quickbooks.conftest import Sandbox

Client = tuple[str, httpx.Client]


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["Fault"]["Error"][0]["code"])


@pytest.fixture
def books(qbo: Sandbox) -> Iterator[Client]:
    realm_id, tokens = qbo.realm(seed="lists", name="Craig's Design")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        yield realm_id, api


def test_preferences_read_and_update(books: Client) -> None:
    _, api = books
    read = api.get("/preferences")
    assert read.status_code == 200, read.text
    prefs = read.json()["Preferences"]
    assert prefs["Id"] == "1" and prefs["SyncToken"] == "0" and prefs["domain"] == "QBO"
    assert prefs["EmailMessagesPrefs"]["InvoiceMessage"]["Subject"] == "Invoice from Craig's Design"
    assert prefs["CurrencyPrefs"] == {"HomeCurrency": {"value": "USD"}, "MultiCurrencyEnabled": True}
    assert prefs["SalesFormsPrefs"]["CustomField"][1]["CustomField"] == [
        {"Name": "SalesFormsPrefs.SalesCustomName1", "Type": "StringType", "StringValue": "Crew #"}
    ]
    assert prefs["OtherPrefs"]["NameValue"][0]["Name"] == "SalesFormsPrefs.DefaultCustomerMessage"
    changed: dict[str, Any] = {**prefs}
    changed["EmailMessagesPrefs"] = {"EstimateMessage": {"Subject": "Your estimate"}}
    changed["CurrencyPrefs"] = {"HomeCurrency": {"value": "EUR"}, "MultiCurrencyEnabled": False}  # read-only
    changed["TimeTrackingPrefs"] = {"WorkWeekStartDate": "Sunday"}
    updated = api.post("/preferences", json=changed)
    assert updated.status_code == 200, updated.text
    after = updated.json()["Preferences"]
    assert (
        after["SyncToken"] == "1"
        and after["EmailMessagesPrefs"]["EstimateMessage"]["Subject"] == "Your estimate"
    )
    assert after["EmailMessagesPrefs"]["EstimateMessage"]["Message"].startswith("Please review the estimate")
    assert after["EmailMessagesPrefs"]["InvoiceMessage"] == prefs["EmailMessagesPrefs"]["InvoiceMessage"]
    assert (
        after["CurrencyPrefs"] == prefs["CurrencyPrefs"]
        and after["TimeTrackingPrefs"]["WorkWeekStartDate"] == "Sunday"
    )
    assert api.get("/preferences").json()["Preferences"] == after
    sparse = {"Id": "1", "SyncToken": "1", "sparse": True, "SalesFormsPrefs": {"AllowShipping": True}}
    assert (
        api.post("/preferences", json=sparse).json()["Preferences"]["SalesFormsPrefs"]["AllowShipping"]
        is True
    )
    assert code_of(api.post("/preferences", json={**changed, "SyncToken": "0"})) == "5010"
    wrong_type = {"Id": "1", "SyncToken": "2", "sparse": True, "SalesFormsPrefs": {"AllowShipping": "yes"}}
    assert code_of(api.post("/preferences", json=wrong_type)) == "2010"
    assert code_of(api.post("/preferences", json={"SalesFormsPrefs": {}})) == "500"  # no create
    delete = api.post("/preferences", params={"operation": "delete"}, json={"Id": "1", "SyncToken": "2"})
    assert code_of(delete) == "500"
    listed = api.get("/query", params={"query": "select * from Preferences"}).json()["QueryResponse"]
    assert [p["Id"] for p in listed["Preferences"]] == ["1"]


def test_company_currency_and_exchange_rates(books: Client) -> None:
    _, api = books
    listed = api.get("/query", params={"query": "select * from CompanyCurrency"}).json()["QueryResponse"]
    assert [c["Code"] for c in listed["CompanyCurrency"]] == ["GBP", "EUR", "CAD"]
    assert api.get("/companycurrency/1").json()["CompanyCurrency"]["Name"] == "Canadian Dollar"
    added = api.post("/companycurrency", json={"Code": "AUD"}).json()["CompanyCurrency"]
    assert added["Name"] == "Australian Dollar" and added["Active"] is True
    assert code_of(api.post("/companycurrency", json={"Code": "AUD"})) == "6240"
    assert code_of(api.post("/companycurrency", json={"Code": "usd!"})) == "2010"
    assert code_of(api.post("/companycurrency", json={"Code": "USD"})) == "6000"  # the home currency
    # Rates: the sample's rate in effect, a new dated rate, an update of it, faults.
    eur = api.get("/exchangerate", params={"sourcecurrencycode": "EUR", "asofdate": "2025-06-30"}).json()
    assert eur["ExchangeRate"]["Rate"] == 1.08 and eur["ExchangeRate"]["AsOfDate"] == "2025-06-10"
    assert eur["ExchangeRate"]["TargetCurrencyCode"] == "USD" and "Id" not in eur["ExchangeRate"]
    before = api.get("/exchangerate", params={"sourcecurrencycode": "EUR", "asofdate": "2025-01-01"}).json()
    assert before["ExchangeRate"]["AsOfDate"] == "2025-01-01" and before["ExchangeRate"]["SyncToken"] == "0"
    body = {"SourceCurrencyCode": "EUR", "Rate": 1.1, "AsOfDate": "2025-06-20", "SyncToken": "0"}
    created = api.post("/exchangerate", json=body).json()["ExchangeRate"]
    assert created["Rate"] == 1.1 and created["SyncToken"] == "0"
    updated = api.post("/exchangerate", json={**body, "Rate": 1.12}).json()["ExchangeRate"]
    assert updated["Rate"] == 1.12 and updated["SyncToken"] == "1"
    assert code_of(api.post("/exchangerate", json={**body, "Rate": 2})) == "5010"
    query = "select * from ExchangeRate where SourceCurrencyCode = 'EUR'"
    rows = api.get("/query", params={"query": query}).json()["QueryResponse"]["ExchangeRate"]
    assert [(r["AsOfDate"], r["Rate"]) for r in rows] == [("2025-06-10", 1.08), ("2025-06-20", 1.12)]
    later = api.get("/exchangerate", params={"sourcecurrencycode": "EUR"}).json()["ExchangeRate"]
    assert later["AsOfDate"] == "2025-06-10"  # today (2025-06-10) comes before the rate of the 20th
    assert code_of(api.post("/exchangerate", json={**body, "SourceCurrencyCode": "USD"})) == "6000"
    assert code_of(api.post("/exchangerate", json={**body, "SourceCurrencyCode": "JPY"})) == "610"
    assert code_of(api.post("/exchangerate", json={"SourceCurrencyCode": "EUR", "Rate": 1})) == "2020"
    assert code_of(api.get("/exchangerate")) == "2020"
    # A bill in a vendor's foreign currency takes the company's rate for its date.
    vendor = api.post("/vendor", json={"DisplayName": "Paris Stone", "CurrencyRef": {"value": "EUR"}}).json()
    line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": 100,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}},
    }
    bill = {"VendorRef": {"value": vendor["Vendor"]["Id"]}, "TxnDate": "2025-06-25", "Line": [line]}
    made = api.post("/bill", json=bill).json()["Bill"]
    assert (
        made["CurrencyRef"]["value"] == "EUR" and made["ExchangeRate"] == 1.12 and made["HomeTotalAmt"] == 112
    )
    usd = api.post("/bill", json={**bill, "CurrencyRef": {"value": "USD"}})
    assert code_of(usd) == "6000"  # not the vendor's currency


def test_tax_agency_and_tax_service(books: Client) -> None:
    _, api = books
    agencies = api.get("/query", params={"query": "select * from TaxAgency"}).json()["QueryResponse"]
    assert [a["DisplayName"] for a in agencies["TaxAgency"]] == [
        "Arizona Dept. of Revenue",
        "Board of Equalization",
    ]
    made = api.post("/taxagency", json={"DisplayName": "City Tax Agency"}).json()["TaxAgency"]
    assert made["TaxTrackedOnSales"] is True and made["TaxTrackedOnPurchases"] is False
    assert code_of(api.post("/taxagency", json={**made, "DisplayName": "Renamed"})) == "500"  # no update
    assert code_of(api.post("/taxagency", json={"DisplayName": ""})) == "2020"
    body = {
        "TaxCode": "MyTaxCodeName",
        "TaxRateDetails": [
            {
                "TaxRateName": "myNewTaxRateName",
                "RateValue": "8",
                "TaxAgencyId": made["Id"],
                "TaxApplicableOn": "Sales",
            },
            {"TaxRateId": "3", "TaxApplicableOn": "Purchase"},
        ],
    }
    created = api.post("/taxservice/taxcode", json=body)
    assert created.status_code == 200, created.text
    service = created.json()
    assert set(service) == {"TaxCode", "TaxCodeId", "TaxRateDetails"}
    new_rate, existing = service["TaxRateDetails"]
    assert (
        new_rate["RateValue"] == 8
        and new_rate["TaxAgencyId"] == made["Id"]
        and new_rate["TaxApplicableOn"] == "Sales"
    )
    assert existing == {
        "TaxRateName": "California",
        "TaxRateId": "3",
        "RateValue": 8,
        "TaxAgencyId": "1",
        "TaxApplicableOn": "Purchase",
    }
    code = api.get(f"/taxcode/{service['TaxCodeId']}").json()["TaxCode"]
    assert (
        code["Name"] == "MyTaxCodeName"
        and code["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"] == new_rate["TaxRateId"]
    )
    assert api.get(f"/taxrate/{new_rate['TaxRateId']}").json()["TaxRate"]["RateValue"] == 8
    assert code_of(api.post("/taxservice/taxcode", json=body)) == "6240"  # the name is taken
    twice = {"TaxCode": "Twice", "TaxRateDetails": [{"TaxRateId": "3"}, {"TaxRateId": "3"}]}
    assert code_of(api.post("/taxservice/taxcode", json=twice)) == "6000"
    no_agency = {
        "TaxCode": "X",
        "TaxRateDetails": [{"TaxRateName": "X", "RateValue": 1, "TaxAgencyId": "999999"}],
    }
    assert code_of(api.post("/taxservice/taxcode", json=no_agency)) == "610"
    too_high = {
        "TaxCode": "Y",
        "TaxRateDetails": [{"TaxRateName": "Y", "RateValue": 101, "TaxAgencyId": "1"}],
    }
    assert code_of(api.post("/taxservice/taxcode", json=too_high)) == "2010"
    assert code_of(api.post("/taxservice/taxcode", json={"TaxRateDetails": []})) == "2020"
