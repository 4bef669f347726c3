"""The Xero sandbox's `where` compares dates as Xero does (`Date >= DateTime(2026, 10, 01)`), over a real
socket; a day that does not exist is a 400 that says so."""

from __future__ import annotations

from tests.sandbox.xero.conftest import Xero


def test_where_selects_a_period_by_date(xero: Xero) -> None:
    tokens = xero.connect()
    with xero.api(tokens) as api:
        contact = api.put("/Contacts", json={"Name": "Rimu Roofing"}).json()["Contacts"][0]
        for number, day in (
            ("SEP", "2026-09-30"),
            ("OCT1", "2026-10-01"),
            ("OCT31", "2026-10-31"),
            ("NOV", "2026-11-01"),
        ):
            invoice = {
                "Type": "ACCREC",
                "InvoiceNumber": number,
                "Contact": {"ContactID": contact["ContactID"]},
                "Date": day,
                "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}],
            }
            assert api.put("/Invoices", json=invoice).status_code == 200
        where = 'Type=="ACCREC" && Date >= DateTime(2026, 10, 01) && Date <= DateTime(2026, 10, 31)'
        found = api.get("/Invoices", params={"where": where, "page": "1"}).json()["Invoices"]
        assert sorted(i["InvoiceNumber"] for i in found) == ["OCT1", "OCT31"]
        before = api.get("/Invoices", params={"where": "Date < DateTime(2026,10,1)"}).json()["Invoices"]
        assert [i["InvoiceNumber"] for i in before] == ["SEP"]
        bad = api.get("/Invoices", params={"where": "Date >= DateTime(2026, 2, 30)"})
        assert bad.status_code == 400 and "names no real day" in bad.text
