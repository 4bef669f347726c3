"""The QBO query language: a parser (4000 on a parse error) and an evaluator over one realm.

    SELECT * | COUNT(*) | item[, item...] FROM Entity        item: * or a field (`*, Sku` = every field)
    [WHERE field op value [AND ...]]      op: = != < > <= >= IN (...) LIKE '%x%'
    [ORDERBY | ORDER BY field [ASC|DESC][, ...]] [STARTPOSITION n] [MAXRESULTS m]

Keywords and field names are case-insensitive; string literals use single quotes with `\\'` escaping.
No OR, no joins. A column query returns partial objects marked `"sparse": true`; a select list with `*`
anywhere in it returns whole objects. STARTPOSITION and MAXRESULTS take unsigned integers (a sign is a
parse error); STARTPOSITION 0 counts as 1, MAXRESULTS above the cap is capped. Name lists (customers,
items, accounts...) answer active objects only unless the WHERE clause mentions Active.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import SPECS, URL_NAMES, EntitySpec
from sandbox.quickbooks.store import Realm
from sandbox.quickbooks.wire import QboFault, parse_time

__all__ = ["Query", "parse", "run"]

ALIASES = {"currency": "CompanyCurrency"}
KEYWORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "and",
        "in",
        "like",
        "orderby",
        "order",
        "by",
        "asc",
        "desc",
        "startposition",
        "maxresults",
        "count",
        "null",
        "or",
    }
)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),*])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class Token:
    """One lexical token with its 1-based column."""

    kind: str  # str, num, op, punct, word, end
    text: str
    col: int

    @property
    def keyword(self) -> str | None:
        """The lower-case keyword this word is, if any."""
        return self.text.lower() if self.kind == "word" and self.text.lower() in KEYWORDS else None


@dataclass
class Condition:
    """`field op value(s)`."""

    path: list[str]
    op: str
    values: list[Any]


@dataclass
class Query:
    """A parsed query."""

    entity: str
    fields: list[str] | None  # None: SELECT *
    count: bool = False
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[list[str], bool]] = field(default_factory=list)
    start: int = 1
    max_results: int | None = None


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            col = pos + 1 + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise faults.query_parse(_encountered(text[pos:].strip()[:1], col, "<IDENTIFIER>"))
        kind = match.lastgroup or "word"
        start = match.start(kind)
        tokens.append(Token(kind, match.group(kind), start + 1))
        pos = match.end()
    tokens.append(Token("end", "<EOF>", len(text) + 1))
    return tokens


def _encountered(text: str, col: int, expecting: str) -> str:
    shown = f'"{text}" "{text.upper()} "' if text != "<EOF>" else "<EOF>"
    return f'Encountered " {shown}" at line 1, column {col}.\nWas expecting:\n    {expecting} ...\n    '


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def fail(self, expecting: str) -> QboFault:
        tok = self.peek()
        return faults.query_parse(_encountered(tok.text, tok.col, expecting))

    def keyword(self, word: str) -> None:
        if self.peek().keyword != word:
            raise self.fail(f'"{word.upper()}"')
        self.next()

    def punct(self, char: str) -> None:
        tok = self.peek()
        if tok.kind != "punct" or tok.text != char:
            raise self.fail(f'"{char}"')
        self.next()

    def ident(self) -> str:
        tok = self.peek()
        if tok.kind != "word" or tok.keyword is not None:
            raise self.fail("<IDENTIFIER>")
        self.next()
        return tok.text

    def integer(self) -> int:
        """An unsigned integer (STARTPOSITION, MAXRESULTS): `-1` or `2.5` is a parse error."""
        tok = self.peek()
        if tok.kind != "num" or not tok.text.isdigit():
            raise self.fail("<INTEGER>")
        self.next()
        return int(tok.text)

    def value(self) -> Any:
        tok = self.peek()
        if tok.kind == "str":
            self.next()
            return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
        if tok.kind == "num":
            self.next()
            return Decimal(tok.text)
        if tok.kind == "word" and tok.text.lower() in ("true", "false"):
            self.next()
            return tok.text.lower() == "true"
        raise self.fail("<STRING>")

    def parse(self) -> Query:
        self.keyword("select")
        fields: list[str] | None = None
        count = False
        tok = self.peek()
        if tok.keyword == "count":
            self.next()
            self.punct("(")
            self.punct("*")
            self.punct(")")
            count = True
        else:
            fields = self.select_list()
        self.keyword("from")
        entity = self.ident()
        query = Query(entity=entity, fields=fields, count=count)
        if self.peek().keyword == "where":
            self.next()
            query.where.append(self.condition())
            while self.peek().keyword == "and":
                self.next()
                query.where.append(self.condition())
        while self.peek().kind != "end":
            kw = self.peek().keyword
            if kw in ("orderby", "order"):
                self.next()
                if kw == "order":
                    self.keyword("by")
                query.order.append(self.order_item())
                while self.peek().kind == "punct" and self.peek().text == ",":
                    self.next()
                    query.order.append(self.order_item())
            elif kw == "startposition":
                self.next()
                query.start = max(1, self.integer())
            elif kw == "maxresults":
                self.next()
                query.max_results = self.integer()
            else:
                raise self.fail("<EOF>")
        return query

    def select_list(self) -> list[str] | None:
        """`item[, item...]` where an item is `*` or a field; None (whole objects) when `*` is in it."""
        items = [self.select_item()]
        while self.peek().kind == "punct" and self.peek().text == ",":
            self.next()
            items.append(self.select_item())
        return None if "*" in items else items

    def select_item(self) -> str:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "*":
            self.next()
            return "*"
        return self.ident()

    def order_item(self) -> tuple[list[str], bool]:
        path = self.ident().split(".")
        desc = False
        if self.peek().keyword in ("asc", "desc"):
            desc = self.next().text.lower() == "desc"
        return path, desc

    def condition(self) -> Condition:
        path = self.ident().split(".")
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("=", "!=", "<", ">", "<=", ">="):
            self.next()
            return Condition(path, tok.text, [self.value()])
        if tok.keyword == "in":
            self.next()
            self.punct("(")
            values = [self.value()]
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.next()
                values.append(self.value())
            self.punct(")")
            return Condition(path, "in", values)
        if tok.keyword == "like":
            self.next()
            return Condition(path, "like", [self.value()])
        raise self.fail("<OPERATOR>")


def parse(text: str) -> Query:
    """Parse a query; QboFault 4000 with Intuit's parser message on a syntax error."""
    if not text or not text.strip():
        raise faults.query_parse("The query provided was empty")
    return _Parser(text).parse()


def resolve_entity(name: str) -> EntitySpec:
    """The spec for a FROM name (case-insensitive; `Currency` means CompanyCurrency); 4001 when unknown."""
    lowered = name.lower()
    target = ALIASES.get(lowered) or URL_NAMES.get(lowered)
    if target is None:
        target = next((n for n in SPECS if n.lower() == lowered), None)
    if target is None:
        raise faults.query_validation(f"value {name} is not a valid entity")
    return SPECS[target]


# ---------------------------------------------------------------- evaluation


def _get(data: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        if part in data:
            data = data[part]
            continue
        lowered = part.lower()
        data = next((v for k, v in data.items() if k.lower() == lowered), None)
    if isinstance(data, dict) and "value" in data:
        return data["value"]
    return data


class _Cmp:
    """A sortable, comparable view of one value with the query's coercions."""

    def __init__(self, realm: Realm) -> None:
        self.tz = realm.tz

    def coerce(self, left: Any, right: Any) -> tuple[Any, Any] | None:
        if left is None:
            return None
        if isinstance(left, bool):
            rb = right if isinstance(right, bool) else str(right).lower() == "true"
            return left, rb
        if isinstance(left, int | Decimal):
            try:
                return Decimal(left), Decimal(str(right))
            except InvalidOperation:
                return None
        text_l, text_r = str(left), str(right)
        if text_l.isdigit() and text_r.isdigit():
            return int(text_l), int(text_r)
        if _DATE.match(text_l) and _DATE.match(text_r):
            try:
                return parse_time(text_l, self.tz), parse_time(text_r, self.tz)
            except ValueError:
                return text_l.casefold(), text_r.casefold()
        return text_l.casefold(), text_r.casefold()

    def test(self, cond: Condition, data: dict[str, Any]) -> bool:
        left = _get(data, cond.path)
        if cond.op == "in":
            return any(self._eq(left, v) for v in cond.values)
        if cond.op == "like":
            if left is None:
                return False
            pattern = "^" + ".*".join(re.escape(p) for p in str(cond.values[0]).split("%")) + "$"
            return re.match(pattern, str(left), re.IGNORECASE | re.DOTALL) is not None
        pair = self.coerce(left, cond.values[0])
        if pair is None:
            return False
        a, b = pair
        try:
            if cond.op == "=":
                return bool(a == b)
            if cond.op == "!=":
                return bool(a != b)  # a row without the field never matches (SQL's NULL)
            if cond.op == "<":
                return bool(a < b)
            if cond.op == ">":
                return bool(a > b)
            if cond.op == "<=":
                return bool(a <= b)
            return bool(a >= b)
        except TypeError:
            return False

    def compile(self, cond: Condition) -> Callable[[dict[str, Any]], bool]:
        """A row test for one condition; `=`/`IN` on plain text literals take a fast path (same results)."""
        texts = [v for v in cond.values if isinstance(v, str)]
        plain_text = len(texts) == len(cond.values) and not any(_DATE.match(v) for v in texts)
        if cond.op in ("=", "in") and plain_text:
            folded = {v.casefold() for v in texts}
            digits = {int(v) for v in texts if v.isdigit()}
            path = cond.path

            def fast(data: dict[str, Any]) -> bool:
                left = _get(data, path)
                if left is None:
                    return False
                if isinstance(left, str):
                    if left.isdigit() and int(left) in digits:
                        return True
                    return left.casefold() in folded
                return self.test(cond, data)

            return fast
        return lambda data: self.test(cond, data)

    def _eq(self, left: Any, right: Any) -> bool:
        pair = self.coerce(left, right)
        return pair is not None and pair[0] == pair[1]

    def sort_key(self, value: Any) -> tuple[int, Any]:
        if value is None:
            return (0, "")
        if isinstance(value, bool):
            return (1, int(value))
        if isinstance(value, int | Decimal):
            return (2, Decimal(value))
        text = str(value)
        if text.isdigit():
            return (2, Decimal(text))
        if _DATE.match(text):
            try:
                return (3, parse_time(text, self.tz).timestamp())
            except ValueError:
                pass
        return (4, text.casefold())


def project(spec: EntitySpec, data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """A partial object for a column query: selected fields, `sparse: true`, and QBO's stubs."""
    wanted = {f.split(".")[0].lower() for f in fields} | {"id", "synctoken"}
    out: dict[str, Any] = {}
    for key, value in data.items():
        lowered = key.lower()
        if key == "sparse":
            out["sparse"] = True
        elif key in ("domain", "MetaData") and lowered not in wanted:
            continue
        elif lowered in wanted or key in spec.sparse_keep:
            out[key] = value
        elif key in spec.sparse_empty:
            out[key] = []
        elif key in spec.sparse_id_only and isinstance(value, dict) and "Id" in value:
            out[key] = {"Id": value["Id"]}
    return out


def run(realm: Realm, text: str, max_cap: int = 1000, default_max: int = 100) -> dict[str, Any]:
    """Evaluate a query; the `QueryResponse` object (`{}` when nothing matches)."""
    query = parse(text)
    spec = resolve_entity(query.entity)
    cmp = _Cmp(realm)
    tests = [cmp.compile(c) for c in query.where]
    view = spec.query_view or (lambda data: data)  # what WHERE and ORDERBY see (RecurringTransaction: Type)
    rows = [rec.data for rec in realm.live(spec.name) if all(t(view(rec.data)) for t in tests)]
    if spec.name_key and not any(c.path[-1].lower() == "active" for c in query.where):
        # Name lists answer active objects only unless the query asks about Active (as QBO does).
        rows = [d for d in rows if d.get("Active", True) is not False]
    if query.count:
        return {"totalCount": len(rows)}
    order = query.order or [([spec.default_order[0]], spec.default_order[1])]
    for path, desc in reversed(order):
        rows.sort(key=lambda d, p=path: cmp.sort_key(_get(view(d), p)), reverse=desc)  # type: ignore[misc]
    total = len(rows)
    limit = default_max if query.max_results is None else max(0, min(query.max_results, max_cap))
    extra: list[dict[str, Any]] = []
    if spec.always_listed is not None:
        extra = [d for d in rows if spec.always_listed(d)]
        rows = [d for d in rows if not spec.always_listed(d)]
    page = extra + rows[query.start - 1 : query.start - 1 + limit]
    if not page:
        return {}
    if query.fields is not None:
        page = [project(spec, d, query.fields) for d in page]
    response: dict[str, Any] = {spec.key: page, "startPosition": query.start, "maxResults": len(page)}
    if spec.total_count:
        response["totalCount"] = total
    return response
