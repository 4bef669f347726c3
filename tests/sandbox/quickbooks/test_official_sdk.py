"""The new entities driven through the community Python SDK (python-quickbooks) and Intuit's OAuth client
(intuit-oauth), as an app would: AuthClient reads the sandbox's discovery document and refreshes the token,
QuickBooks talks to the sandbox's /v3. Dates are set on every document (the SDK sends "" otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects import (
    Account,
    Attachable,
    Bill,
    BillPayment,
    Deposit,
    PurchaseOrder,
    TaxAgency,
    TimeActivity,
    Transfer,
    Vendor,
    VendorCredit,
)
from quickbooks.objects.base import AttachableRef, Ref
from quickbooks.objects.billpayment import BillPaymentLine, CheckPayment
from quickbooks.objects.companycurrency import CompanyCurrency
from quickbooks.objects.creditcardpayment_entity import CreditCardPayment
from quickbooks.objects.deposit import DepositLine, DepositLineDetail
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
)
from quickbooks.objects.exchangerate import ExchangeRate
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.recurringtransaction import (
    RecurringBill,
    RecurringInfo,
    RecurringTransaction,
    ScheduleInfo,
)
from quickbooks.objects.taxservice import TaxRateDetails, TaxService

from tests.sandbox.quickbooks.conftest import BASIC, Sandbox

TODAY = "2025-06-10"  # the sandbox clock's date in the company's zone


@pytest.fixture(scope="module")
def qb(qbo: Sandbox) -> Iterator[QuickBooks]:
    """A python-quickbooks client on a new sample company, its session opened by intuit-oauth."""
    out = qbo.admin("POST", "realms", {"tokens": True, "seed": "sample"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain http on loopback
        auth = AuthClient(
            client_id=BASIC[0],
            client_secret=BASIC[1],
            redirect_uri="http://localhost:8000/callback",
            environment=f"{qbo.url}/.well-known/openid_configuration",
        )
        client = QuickBooks(
            auth_client=auth,
            refresh_token=out["tokens"]["refresh_token"],
            company_id=out["realm_id"],
            minorversion=75,
        )
        client.sandbox = True
        client.sandbox_api_url_v3 = f"{qbo.url}/v3"
        yield client


def ref(value: str, kind: str = "") -> Ref:
    out = Ref()
    out.value = value
    out.type = kind
    return out


def expense_line(account: str, amount: Any) -> AccountBasedExpenseLine:
    line = AccountBasedExpenseLine()
    line.Amount = amount
    line.DetailType = "AccountBasedExpenseLineDetail"
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = ref(account, "Account")
    return line


def new_bill(qb: QuickBooks, vendor: Vendor, amount: Any) -> Bill:
    bill = Bill()
    bill.Line.append(expense_line("7", amount))
    bill.VendorRef = vendor.to_ref()
    bill.TxnDate = bill.DueDate = TODAY
    return bill.save(qb=qb)


def test_bill_and_bill_payment(qb: QuickBooks) -> None:
    vendor = Vendor.all(max_results=1, qb=qb)[0]
    bill = new_bill(qb, vendor, 200)
    assert bill.TotalAmt == 200 and bill.Balance == 200 and bill.APAccountRef.name == "Accounts Payable (A/P)"
    payment = BillPayment()
    payment.PayType = "Check"
    payment.TotalAmt = 200
    payment.PrivateNote = "Private Note"
    payment.VendorRef = vendor.to_ref()
    payment.TxnDate = TODAY
    payment.CheckPayment = CheckPayment()
    payment.CheckPayment.BankAccountRef = Account.where("AccountSubType = 'Checking'", qb=qb)[0].to_ref()
    payment.APAccountRef = Account.where("AccountSubType = 'AccountsPayable'", qb=qb)[0].to_ref()
    line = BillPaymentLine()
    line.LinkedTxn.append(bill.to_linked_txn())
    line.Amount = 200
    payment.Line.append(line)
    saved = payment.save(qb=qb)
    got = BillPayment.get(saved.Id, qb=qb)
    assert got.TotalAmt == 200 and got.PrivateNote == "Private Note" and len(got.Line) == 1
    assert Bill.get(bill.Id, qb=qb).Balance == 0
    got.delete(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 200
    bad = Bill()
    bad.Line.append(expense_line("7", 1))
    bad.TxnDate = TODAY
    with pytest.raises(QuickbooksException) as refused:
        bad.save(qb=qb)  # no VendorRef
    assert refused.value.error_code == 2020


def test_vendor_credit_purchase_order_transfer_and_card_payment(qb: QuickBooks) -> None:
    credit = VendorCredit()
    credit.VendorRef = ref("30")
    credit.TxnDate = TODAY
    credit.Line.append(expense_line("8", 90))
    assert credit.save(qb=qb).Balance == 90
    po = PurchaseOrder()
    line = ItemBasedExpenseLine()
    line.Amount = 100
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.UnitPrice = 100
    line.ItemBasedExpenseLineDetail.Qty = 1
    line.ItemBasedExpenseLineDetail.ItemRef = ref("17")
    line.ItemBasedExpenseLineDetail.TaxCodeRef = ref("NON")
    po.Line.append(line)
    po.VendorRef = ref("41")
    po.APAccountRef = ref("33")
    po.TxnDate = TODAY
    saved_po = po.save(qb=qb)
    got = PurchaseOrder.get(saved_po.Id, qb=qb)
    assert got.TotalAmt == 100 and got.POStatus == "Open" and got.Line[0].ItemBasedExpenseLineDetail.Qty == 1
    transfer = Transfer()
    transfer.Amount = 100
    transfer.FromAccountRef = ref("35")
    transfer.ToAccountRef = ref("36")
    made = transfer.save(qb=qb)
    made.Amount += 1
    made.save(qb=qb)
    assert Transfer.get(made.Id, qb=qb).Amount == 101
    card = CreditCardPayment()
    card.Amount = 100
    card.BankAccountRef = ref("35")
    card.CreditCardAccountRef = ref("42")
    card.TxnDate = TODAY
    paid = card.save(qb=qb)
    assert CreditCardPayment.get(paid.Id, qb=qb).CreditCardAccountRef.value == "42"
    assert paid.Id in {p.Id for p in CreditCardPayment.all(qb=qb)}


def test_deposit_and_time_activity(qb: QuickBooks) -> None:
    banks = Account.filter(AccountType="Bank", max_results=2, qb=qb)
    detail = DepositLineDetail()
    detail.AccountRef = banks[0].to_ref()
    line = DepositLine()
    line.Amount = 20.00
    line.DetailType = "DepositLineDetail"
    line.DepositLineDetail = detail
    deposit = Deposit()
    deposit.DepositToAccountRef = banks[1].to_ref()
    deposit.TxnDate = TODAY
    deposit.Line.append(line)
    assert Deposit.get(deposit.save(qb=qb).Id, qb=qb).TotalAmt == 20
    activity = TimeActivity()
    activity.NameOf = "Employee"
    activity.EmployeeRef = ref("55")
    activity.StartTime = "2016-07-22T10:00:00-07:00"
    activity.EndTime = "2016-07-22T11:00:00-07:00"
    activity.CostRate = 50.0
    activity.Description = "Test description"
    saved = activity.save(qb=qb)
    got = TimeActivity.get(saved.Id, qb=qb)
    assert got.CostRate == 50 and got.EmployeeRef.value == "55" and got.TxnDate == "2016-07-22"


def test_attachable_note_and_file(qb: QuickBooks) -> None:
    vendor = Vendor.all(max_results=1, qb=qb)[0]
    link = AttachableRef()
    link.EntityRef = vendor.to_ref()
    note = Attachable()
    note.AttachableRef.append(link)
    note.Note = "Test note"
    note.save(qb=qb)
    assert Attachable.get(note.Id, qb=qb).AttachableRef[0].EntityRef.value == vendor.Id
    upload = Attachable()
    upload.AttachableRef.append(link)
    upload.Note = "Sample note with bytes"
    upload.FileName = "test.txt"
    upload._FileBytes = b"File contents in bytes"
    upload.ContentType = "text/plain"
    upload.save(qb=qb)
    got = Attachable.get(upload.Id, qb=qb)
    assert got.Note == "Sample note with bytes" and got.Size == len(b"File contents in bytes")
    assert httpx.get(got.TempDownloadUri).content == b"File contents in bytes"


def test_preferences_exchange_rates_and_currencies(qb: QuickBooks) -> None:
    prefs = Preferences.get(qb=qb)
    assert prefs.Id == "1" and prefs.AccountingInfoPrefs.TaxYearMonth == "January"
    assert prefs.OtherPrefs.NameValue[0].Name == "SalesFormsPrefs.DefaultCustomerMessage"
    subject = datetime.now().strftime("%d%H%M%S")
    prefs.EmailMessagesPrefs.EstimateMessage.Subject = subject
    prefs.save(qb=qb)
    assert Preferences.get(qb=qb).EmailMessagesPrefs.EstimateMessage.Subject == subject
    rate = ExchangeRate.where("SourceCurrencyCode = 'EUR'", qb=qb)[0]
    assert (rate.SourceCurrencyCode, rate.TargetCurrencyCode) == ("EUR", "USD")
    rate.Rate = rate.Rate + 1
    rate.save(qb=qb)
    assert ExchangeRate.where("SourceCurrencyCode = 'EUR'", qb=qb)[0].Rate == rate.Rate
    assert CompanyCurrency.get(1, qb=qb).Name == "Canadian Dollar" and len(CompanyCurrency.all(qb=qb)) == 3


def test_tax_agency_and_tax_service(qb: QuickBooks) -> None:
    agency = TaxAgency()
    agency.DisplayName = "SDK Tax Agency"
    agency.save(qb=qb)
    assert TaxAgency.get(agency.Id, qb=qb).DisplayName == "SDK Tax Agency"
    service = TaxService()
    service.TaxCode = "SDK TaxCode"
    detail = TaxRateDetails()
    detail.TaxRateName = "SDK Rate"
    detail.RateValue = 10
    detail.TaxAgencyId = agency.Id
    service.TaxRateDetails.append(detail)
    created = service.save(qb=qb)
    assert created.TaxCode == "SDK TaxCode" and created.TaxRateDetails[0].RateValue == 10
    assert created.TaxRateDetails[0].TaxAgencyId == agency.Id and created.TaxCodeId


def test_recurring_bill(qb: QuickBooks) -> None:
    bill = RecurringBill()
    bill.Line.append(expense_line("17", 500))
    bill.VendorRef = ref("40")
    info = RecurringInfo()
    info.Active = True
    info.Name = "SDK Rent"
    info.ScheduleInfo = ScheduleInfo()
    info.ScheduleInfo.StartDate = TODAY
    info.ScheduleInfo.EndDate = "2025-09-02"
    info.ScheduleInfo.NumInterval = 1
    info.ScheduleInfo.IntervalType = "Weekly"
    info.ScheduleInfo.DayOfWeek = "Friday"
    bill.RecurringInfo = info
    template = RecurringTransaction()
    template.Bill = bill
    saved = template.save(qb=qb)
    got = RecurringTransaction.get(saved.Bill.Id, qb=qb)
    assert got.Bill.RecurringInfo.ScheduleInfo.DayOfWeek == "Friday" and got.Bill.TotalAmt == 500
    assert all(hasattr(t, "Bill") for t in RecurringTransaction.where("Type = 'Bill'", qb=qb))
    kinds = {k for t in RecurringTransaction.all(qb=qb) for k in ("Bill", "Invoice") if hasattr(t, k)}
    assert kinds == {"Bill", "Invoice"}  # the sample company's invoice template and this bill
    got.delete(qb=qb)
    with pytest.raises(QuickbooksException):
        RecurringTransaction.get(saved.Bill.Id, qb=qb)


def test_batch_and_cdc(qbo: Sandbox, qb: QuickBooks) -> None:
    qbo.clock.advance(1)  # after every other test's changes
    since = qbo.clock.now().isoformat()
    qbo.clock.advance(1)
    bills = []
    for amount in (11, 12):
        bill = Bill()
        bill.Line.append(expense_line("7", amount))
        bill.VendorRef = ref("47")
        bill.TxnDate = bill.DueDate = TODAY
        bills.append(bill)
    result = batch_create(bills, qb=qb)
    assert len(result.successes) == 2 and not result.faults
    changes = change_data_capture([Bill], since, qb=qb)
    assert sorted(b.TotalAmt for b in changes.Bill) == [11, 12]
