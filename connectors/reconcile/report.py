"""What finance reads: the markdown summary, the per-run CSV and a self-contained HTML/SVG chart of
accuracy over runs (no plotting dependency; opens in any browser)."""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.csvsafe import safe_cell
from connectors.money_text import usd

TITLES = {"quickbooks": "QuickBooks", "xero": "Xero"}
CSV_FIELDS = (
    "entity_type",
    "kind",
    "app_id",
    "external_id",
    "stripe_id",
    "number",
    "app_amount",
    "qbo_amount",
    "stripe_amount",
    "difference",
    "detail",
    "action",
)


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Every discrepancy of a run, one line each (amounts as exact text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return path


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


def _amount(value: Any) -> str:
    return "" if value is None else usd(value)


def markdown(result: dict[str, Any], *, company: str, largest: int = 20) -> str:
    """Headline accuracy, totals per system, the largest discrepancies with the action for each."""
    lines = [
        f"# Reconciliation of {company}: {result['accuracy_pct']} % of records match",
        "",
        f"Period {result['period_start']} .. {result['period_end']}; tolerance {result['tolerance']} "
        "(one-cent tax rounding is reported as `rounding`, never counted as matched).",
        "",
        f"- **Records**: {result['records_matched']} of {result['records_total']} matched "
        f"({result['accuracy_pct']} %)",
        f"- **Amount**: {usd(result['amount_matched'])} of {usd(result['amount_total'])} matched "
        f"({result['amount_accuracy_pct']} %)",
        "",
        "| entity | records | matched | record accuracy | amount accuracy |",
        "|---|---:|---:|---:|---:|",
    ]
    for entity_type, fig in result["by_entity"].items():
        lines.append(
            f"| {entity_type} | {fig['records_total']} | {fig['records_matched']} | "
            f"{fig['record_accuracy_pct']} % | {fig['amount_accuracy_pct']} % |"
        )
    lines += ["", "## Totals per system", "", "| system | entity | records | amount |", "|---|---|---:|---:|"]
    totals = result["totals"]
    books = str(result.get("accounting", "quickbooks"))
    title = TITLES.get(books, books)
    for system in ("app", books):
        for entity_type, t in totals[system].items():
            lines.append(f"| {system} | {entity_type} | {t['records']} | {usd(t['amount'])} |")
    stripe = totals.get("stripe")
    if stripe:
        lines.append(
            f"| stripe | charges | {stripe['charges']} | {usd(stripe['amount'])} (refunded "
            f"{usd(stripe['refunded'])}, fees {usd(stripe['fees'])}, net {usd(stripe['net'])}) |"
        )
    else:
        lines.append("| stripe | - | - | not checked |")
    counts = result["counts"]
    lines += ["", "## Counts", "", " · ".join(f"{k} {v}" for k, v in counts.items())]
    rows = result["discrepancies"][:largest]
    if rows:
        lines += [
            "",
            f"## Largest discrepancies ({len(rows)} of {result['discrepancy_count']})",
            "",
            f"| entity | kind | number | app | {title} | Stripe | action |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['entity_type']} | {r['kind']} | "
                f"{_cell(r['number'] or r['external_id'] or r['stripe_id'])} | "
                f"{_amount(r['app_amount'])} | {_amount(r['qbo_amount'])} | {_amount(r['stripe_amount'])} | "
                f"{_cell(r['action'])} |"
            )
    else:
        lines += ["", f"No discrepancies: the app, {title} and Stripe agree to the cent."]
    repair = result.get("repair")
    if repair:
        lines += [
            "",
            "## Repair",
            "",
            f"Before: {repair['before']['accuracy_pct']} %, after: {result['accuracy_pct']} %. "
            f"Pushed {repair['pushed']} record(s); fixed {len(repair['fixed'])}, "
            f"still open {len(repair['still_open'])}.",
        ]
    return "\n".join(lines)


def chart_html(points: Sequence[dict[str, Any]], *, title: str) -> str:
    """Accuracy over runs (record and amount accuracy, %), as one HTML page with an inline SVG."""
    width, height, pad = 720, 320, 48
    n = max(len(points), 1)
    values = [Decimal(str(p["accuracy_pct"])) for p in points] + [
        Decimal(str(p["amount_accuracy_pct"])) for p in points
    ]
    low = min([Decimal(90), *values])
    span = Decimal(100) - low or Decimal(1)

    def xy(i: int, value: Any) -> tuple[int, int]:
        x = pad + (width - 2 * pad) * i // max(n - 1, 1)
        frac = (Decimal(str(value)) - low) / span
        y = height - pad - int((height - 2 * pad) * frac)
        return x, y

    def line(key: str, colour: str) -> str:
        pts = " ".join(f"{x},{y}" for x, y in (xy(i, p[key]) for i, p in enumerate(points)))
        dots = "".join(
            f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"><title>{html.escape(str(p["started_at"]))}: '
            f"{p[key]} %</title></circle>"
            for (x, y), p in ((xy(i, p[key]), p) for i, p in enumerate(points))
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>{dots}'

    grid = "".join(
        f'<line x1="{pad}" x2="{width - pad}" y1="{xy(0, v)[1]}" y2="{xy(0, v)[1]}" stroke="#ddd"/>'
        f'<text x="4" y="{xy(0, v)[1] + 4}" font-size="11">{v} %</text>'
        for v in sorted({low, (low + 100) / 2, Decimal(100)})
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">{grid}'
        f"{line('accuracy_pct', '#1f77b4')}{line('amount_accuracy_pct', '#ff7f0e')}"
        f'<text x="{pad}" y="20" font-size="13" fill="#1f77b4">records matched %</text>'
        f'<text x="{pad + 170}" y="20" font-size="13" fill="#ff7f0e">amount matched %</text></svg>'
    )
    rows = "".join(
        f"<tr><td>{html.escape(str(p['started_at']))}</td><td>{html.escape(p['period'])}</td>"
        f"<td>{p['accuracy_pct']}</td><td>{p['amount_accuracy_pct']}</td></tr>"
        for p in points
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{svg}<table border='1' cellpadding='4'>"
        f"<tr><th>run</th><th>period</th><th>records %</th><th>amount %</th></tr>{rows}</table></body></html>"
    )
