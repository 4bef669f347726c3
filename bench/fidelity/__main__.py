"""Run public suites written against the real QuickBooks and Stripe APIs, unchanged, against the sandboxes.

    .venv/bin/python -m bench.fidelity --quickbooks ~/src/python-quickbooks [--stripe ~/src/stripe-python]
                                       [--verbose] [-k EXPR]

Give local checkouts of ej2/python-quickbooks and/or stripe/stripe-python (their code is never copied into
this repository). Each suite runs in a virtualenv of its own under .sierra/fidelity/ (made once, reused),
with a pytest plugin from bench/fidelity/plugins/ pointing it at a sandbox started here. Prints one line per
suite (`python-quickbooks: N passed, M failed`), and with --verbose every failure and its first line.
Exit status: 0 when it ran (whatever the figures), 2 when a checkout or an install is wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.fidelity import quickbooks, stripe
from bench.fidelity.runner import HarnessError, SuiteResult

Runner = Callable[[Path, Path, Sequence[str], int], SuiteResult]
SUITES: dict[str, Runner] = {"quickbooks": quickbooks.run, "stripe": stripe.run}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fidelity", description=__doc__.splitlines()[0])
    for name in SUITES:
        parser.add_argument(
            f"--{name}", type=Path, metavar="CHECKOUT", help=f"a checkout for the {name} suite"
        )
    parser.add_argument("--cache", type=Path, default=Path(".sierra/fidelity"), help="where the venvs live")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every failure and its reason")
    parser.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=150,
        help="added to every sandbox API request, as the real services take (default 150; some suites name "
        "records after the current second and collide when requests answer in microseconds)",
    )
    args = parser.parse_args(argv)
    chosen = [(name, getattr(args, name)) for name in SUITES if getattr(args, name)]
    if not chosen:
        parser.error("give at least one checkout: " + ", ".join(f"--{n} DIR" for n in SUITES))
    pytest_args = ["-k", args.keyword] if args.keyword else []
    try:
        for name, checkout in chosen:
            result = SUITES[name](checkout, args.cache.resolve(), pytest_args, args.latency_ms)
            print(result.summary(), flush=True)
            if args.verbose:
                for failure in sorted(result.failures(), key=lambda o: o.nodeid):
                    print(f"  {failure.outcome.upper()} {failure.nodeid}: {failure.reason}")
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
