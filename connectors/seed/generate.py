"""Generate and insert the seed data.

Deterministic: company k of seed S is always the same data (its own RNG, its own UUIDs drawn from it),
whatever the other companies or the database. Idempotent: a company already present (same id) is left
alone, so re-running a seed never touches stored data. Rows go in through bulk Core inserts, which keeps
10,000 invoices well under the 30 s budget on SQLite.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, insert, select

from connectors.seed import catalog
from sierra_core.db.models import Company, Contact, Expense, Invoice, InvoiceLineItem, Payment, Project
from sierra_core.db.models.base import table_of

CENT = Decimal("0.01")
DEFAULT_AS_OF = date(2026, 10, 31)
CHUNK = 2000


@dataclass
class SeedSummary:
    companies_created: int = 0
    companies_skipped: int = 0
    customers: int = 0
    projects: int = 0
    invoices: int = 0
    line_items: int = 0
    payments: int = 0
    expenses: int = 0
    invoiced_total: Decimal = Decimal("0.00")
    paid_total: Decimal = Decimal("0.00")
    seconds: float = 0.0
    company_names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["invoiced_total"] = str(self.invoiced_total)
        d["paid_total"] = str(self.paid_total)
        d["seconds"] = round(self.seconds, 2)
        return d


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _CompanyBuilder:
    """Builds every row of one company from its own RNG."""

    def __init__(self, seed: int, index: int, invoices: int, as_of: date, now: datetime) -> None:
        self.rng = random.Random(f"sierra-seed:{seed}:{index}")
        self.index = index
        self.n_invoices = invoices
        self.as_of = as_of
        self.now = now
        self.rows: dict[str, list[dict[str, Any]]] = {
            "contacts": [],
            "projects": [],
            "invoices": [],
            "invoice_line_items": [],
            "payments": [],
            "expenses": [],
        }

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def stamp(self) -> dict[str, Any]:
        return {"created_at": self.now, "updated_at": self.now}

    def company(self) -> dict[str, Any]:
        base = catalog.COMPANY_NAMES[self.index % len(catalog.COMPANY_NAMES)]
        name = base if self.index < len(catalog.COMPANY_NAMES) else f"{base} #{self.index + 1}"
        self.company_id = self.uid()
        self.city = catalog.CITIES[self.index % len(catalog.CITIES)]
        slug = "".join(ch for ch in base.lower() if ch.isalnum())[:20]
        return {
            "id": self.company_id,
            "name": name,
            "legal_name": f"{name}, Inc.",
            "email": f"office@{slug}.example",
            "phone": f"(555) {self.rng.randint(200, 999)}-{self.rng.randint(1000, 9999)}",
            "currency": "USD",
            "timezone": "America/Los_Angeles",
            **self.stamp(),
        }

    def address(self) -> dict[str, Any]:
        city, region, zip3, _rate = self.city
        return {
            "bill_line1": f"{self.rng.randint(10, 9999)} {self.rng.choice(catalog.STREETS)}",
            "bill_line2": None if self.rng.random() < 0.8 else f"Suite {self.rng.randint(100, 400)}",
            "bill_city": city,
            "bill_region": region,
            "bill_postal_code": f"{zip3}{self.rng.randint(10, 99)}",
            "bill_country": "USA",
        }

    def customers(self) -> list[dict[str, Any]]:
        count = min(max(12, self.n_invoices // 12), 2000)
        seen: set[str] = set()
        for i in range(count):
            if self.rng.random() < 0.35:
                base = self.rng.choice(catalog.BUSINESS_CUSTOMERS)
                given = family = None
                company_name: str | None = base
            else:
                given = self.rng.choice(catalog.GIVEN_NAMES)
                family = self.rng.choice(catalog.FAMILY_NAMES)
                base = f"{given} {family}"
                company_name = None
            name = base if base not in seen else f"{base} ({i + 1})"  # QBO DisplayName must be unique
            seen.add(name)
            email_local = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:24] or "client"
            self.rows["contacts"].append(
                {
                    "id": self.uid(),
                    "company_id": self.company_id,
                    "contact_type": "customer",
                    "display_name": name,
                    "company_name": company_name,
                    "given_name": given,
                    "family_name": family,
                    "email": f"{email_local}{i}@example.com",
                    "phone": f"(555) {self.rng.randint(200, 999)}-{self.rng.randint(1000, 9999)}",
                    "currency": "USD",
                    "is_active": True,
                    "version": 1,
                    **self.address(),
                    **self.stamp(),
                }
            )
        return self.rows["contacts"]

    def projects(self) -> None:
        for customer in self.rows["contacts"]:
            if self.rng.random() < 0.6:
                start = self.as_of - timedelta(days=self.rng.randint(20, 400))
                self.rows["projects"].append(
                    {
                        "id": self.uid(),
                        "company_id": self.company_id,
                        "customer_id": customer["id"],
                        "name": f"{self.rng.choice(catalog.PROJECT_KINDS)} - {customer['bill_line1']}",
                        "code": f"P-{len(self.rows['projects']) + 101}",
                        "status": self.rng.choice(["active", "active", "completed", "on_hold", "lead"]),
                        "site_address": customer["bill_line1"],
                        "start_date": start,
                        "end_date": start + timedelta(days=self.rng.randint(14, 240)),
                        "budget": _money(Decimal(self.rng.randint(8_000, 450_000))),
                        **self.stamp(),
                    }
                )

    def invoices(self, summary: SeedSummary) -> None:
        customers = self.rows["contacts"]
        projects_by_customer: dict[uuid.UUID, list[uuid.UUID]] = {}
        for p in self.rows["projects"]:
            projects_by_customer.setdefault(p["customer_id"], []).append(p["id"])
        tax_rate = self.city[3]
        for n in range(self.n_invoices):
            customer = self.rng.choice(customers)
            invoice_id = self.uid()
            issue = self.as_of - timedelta(days=self.rng.randint(0, 364))
            terms, days = self.rng.choice(catalog.TERMS)
            subtotal = taxable_base = Decimal("0.00")
            for line_no in range(1, self.rng.randint(1, 8) + 1):
                code, desc, unit, (lo, hi), taxable = self.rng.choice(catalog.SERVICES)
                qty = Decimal(self.rng.randint(1, 40)) if unit in ("hr", "cu yd", "sq") else Decimal(1)
                if unit == "sqft":
                    qty = Decimal(self.rng.randint(80, 1800))
                unit_price = (Decimal(self.rng.randint(lo * 100, hi * 100)) / 100).quantize(CENT)
                amount = _money(qty * unit_price)
                subtotal += amount
                if taxable:
                    taxable_base += amount
                self.rows["invoice_line_items"].append(
                    {
                        "id": self.uid(),
                        "invoice_id": invoice_id,
                        "line_number": line_no,
                        "description": f"{desc} ({unit})",
                        "quantity": qty,
                        "unit_price": unit_price,
                        "amount": amount,
                        "item_code": code,
                        "taxable": taxable,
                        **self.stamp(),
                    }
                )
            tax = _money(taxable_base * tax_rate)
            total = subtotal + tax
            status = self.rng.choices(
                ["draft", "sent", "partially_paid", "paid", "void"], weights=[8, 37, 15, 35, 5]
            )[0]
            balance = total
            paid = Decimal("0.00")
            if status == "paid":
                paid = total
            elif status == "partially_paid":
                paid = _money(total * Decimal(self.rng.randint(20, 80)) / 100)
                paid = min(max(paid, CENT), total - CENT)
            elif status == "void":
                balance = Decimal("0.00")
            balance -= paid
            project_ids = projects_by_customer.get(customer["id"])
            self.rows["invoices"].append(
                {
                    "id": invoice_id,
                    "company_id": self.company_id,
                    "customer_id": customer["id"],
                    "project_id": self.rng.choice(project_ids) if project_ids else None,
                    "invoice_number": str(1001 + n),
                    "issue_date": issue,
                    "due_date": issue + timedelta(days=days),
                    "status": status,
                    "currency": "USD",
                    "subtotal": subtotal,
                    "tax_rate": tax_rate,
                    "tax_amount": tax,
                    "total": total,
                    "balance": balance,
                    "terms": terms,
                    "memo": None,
                    "sent_at": None
                    if status == "draft"
                    else datetime.combine(issue, datetime.min.time(), UTC),
                    "voided_at": self.now if status == "void" else None,
                    "version": 1,
                    **self.stamp(),
                }
            )
            summary.invoiced_total += total if status != "void" else Decimal("0.00")
            if paid > 0:
                summary.paid_total += paid
                self.payment(
                    invoice_id, customer["id"], paid, issue + timedelta(days=self.rng.randint(0, days + 10))
                )

    def payment(self, invoice_id: uuid.UUID, customer_id: uuid.UUID, amount: Decimal, when: date) -> None:
        method = self.rng.choice(["check", "check", "ach", "ach", "wire", "cash"])
        self.rows["payments"].append(
            {
                "id": self.uid(),
                "company_id": self.company_id,
                "customer_id": customer_id,
                "invoice_id": invoice_id,
                "amount": amount,
                "refunded_amount": Decimal("0.00"),
                "currency": "USD",
                "payment_date": min(when, self.as_of),
                "method": method,
                "status": "succeeded",
                "reference_number": f"{method.upper()}-{self.rng.randint(1000, 99999)}",
                "version": 1,
                **self.stamp(),
            }
        )

    def expenses(self) -> None:
        projects = self.rows["projects"]
        for _ in range(max(5, self.n_invoices // 2)):
            vendor, category = self.rng.choice(catalog.VENDORS)
            cents = (
                self.rng.randint(1_500, 900_000) if category != "fuel" else self.rng.randint(3_000, 25_000)
            )
            self.rows["expenses"].append(
                {
                    "id": self.uid(),
                    "company_id": self.company_id,
                    "project_id": self.rng.choice(projects)["id"]
                    if projects and self.rng.random() < 0.8
                    else None,
                    "vendor_name": vendor,
                    "category": category,
                    "payment_type": self.rng.choice(["credit_card", "credit_card", "check", "ach", "cash"]),
                    "amount": Decimal(cents) / 100,
                    "currency": "USD",
                    "expense_date": self.as_of - timedelta(days=self.rng.randint(0, 364)),
                    "description": f"{category.replace('_', ' ').capitalize()} - {vendor}",
                    "reference_number": f"R{self.rng.randint(100000, 999999)}",
                    "version": 1,
                    **self.stamp(),
                }
            )


def seed(
    engine: Engine,
    *,
    companies: int = 2,
    invoices: int = 500,
    seed_value: int = 42,
    as_of: date = DEFAULT_AS_OF,
) -> SeedSummary:
    """Seed `companies` companies with `invoices` invoices each. Returns counts of what was inserted."""
    if companies < 1 or invoices < 0:
        raise ValueError("companies must be at least 1 and invoices at least 0")
    started = time.perf_counter()
    summary = SeedSummary()
    now = datetime.now(UTC)
    tables = {
        "contacts": table_of(Contact),
        "projects": table_of(Project),
        "invoices": table_of(Invoice),
        "invoice_line_items": table_of(InvoiceLineItem),
        "payments": table_of(Payment),
        "expenses": table_of(Expense),
    }
    for index in range(companies):
        builder = _CompanyBuilder(seed_value, index, invoices, as_of, now)
        company_row = builder.company()
        with engine.begin() as conn:
            exists = conn.execute(
                select(Company.id).where(
                    (Company.id == company_row["id"]) | (Company.name == company_row["name"])
                )
            ).first()
            if exists:
                summary.companies_skipped += 1
                continue
            builder.customers()
            builder.projects()
            builder.invoices(summary)
            builder.expenses()
            conn.execute(insert(table_of(Company)), [company_row])
            for name, table in tables.items():
                rows = builder.rows[name]
                for start in range(0, len(rows), CHUNK):
                    conn.execute(insert(table), rows[start : start + CHUNK])
        summary.companies_created += 1
        summary.company_names.append(company_row["name"])
        summary.customers += len(builder.rows["contacts"])
        summary.projects += len(builder.rows["projects"])
        summary.invoices += len(builder.rows["invoices"])
        summary.line_items += len(builder.rows["invoice_line_items"])
        summary.payments += len(builder.rows["payments"])
        summary.expenses += len(builder.rows["expenses"])
    summary.seconds = time.perf_counter() - started
    return summary
