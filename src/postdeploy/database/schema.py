"""The schema as PostgreSQL's catalogs describe it: tables and columns, indexes (valid and ready), constraints,
row level security and its policies, functions and their signatures, and who may do what.

Every lookup goes through the catalogs by oid (``to_regclass``, ``to_regprocedure``), so it costs the same on
any database size and takes no lock on the tables it describes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..errors import SuiteError
from ._query import fail, query, relation, split_list

if TYPE_CHECKING:
    from ..sql import ReadOnlySession

#: short type names a feature may write, as ``format_type`` prints them
TYPE_ALIASES = {
    "int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint", "serial": "integer",
    "bigserial": "bigint", "bool": "boolean", "varchar": "character varying", "char": "character",
    "timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone",
    "timetz": "time with time zone", "time": "time without time zone", "float8": "double precision",
    "float4": "real", "decimal": "numeric",
}


def normal_type(name: str) -> str:
    t = " ".join(name.lower().split())
    array = t.endswith("[]")
    t = t.removesuffix("[]").strip()
    base, _, rest = t.partition("(")
    base = TYPE_ALIASES.get(base.strip(), base.strip())
    return base + (f"({rest}" if rest else "") + ("[]" if array else "")


def _normal_sql(text: str) -> str:
    """An expression compared loosely: case, spaces, quotes, outer parentheses and a string literal's ``::text``
    cast (which PostgreSQL adds when it prints an index) do not matter."""
    t = re.sub(r"('(?:[^']|'')*')::(?:text|character varying)", r"\1", text.lower())
    t = re.sub(r"\s+", "", t).replace('"', "")
    while t.startswith("(") and t.endswith(")"):
        t = t[1:-1]
    return t


_columns_of = split_list


# ---- tables ------------------------------------------------------------------------------------------

def columns(session: ReadOnlySession, table: str) -> dict[str, dict[str, object]]:
    """column -> {type, nullable, default} of an existing table."""
    name = relation(session, table)
    result = query(session, f"columns of {name}",
                   "SELECT a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, "
                   "NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default "
                   "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                   "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                   (table,))
    return {r["column"]: r for r in result.dicts()}


_YES = {"yes", "true", "y", "nullable", "null"}
_NO = {"no", "false", "n", "not null", "not nullable"}


def check_table(session: ReadOnlySession, table: str, expected: Iterable[Mapping[str, str]]) -> None:
    """The table has each column with its type, nullability and default (a blank cell is not checked; a
    default of ``(none)`` means no default)."""
    __tracebackhide__ = True
    found = columns(session, table)
    problems = []
    for row in expected:
        col = (row.get("column") or row.get("name") or "").strip()
        if not col:
            raise SuiteError("the table of columns needs a 'column' heading (and optionally type, nullable, default)")
        seen = found.get(col)
        if seen is None:
            problems.append(f"column {col}: expected it, found no such column")
            continue
        if row.get("type", "").strip() and normal_type(row["type"]) != normal_type(str(seen["type"])):
            problems.append(f"column {col}: expected type {row['type'].strip()}, found {seen['type']}")
        nullable = row.get("nullable", "").strip().lower()
        if nullable:
            if nullable not in _YES | _NO:
                raise SuiteError(f"nullable is yes or no, got {row['nullable']!r} (column {col})")
            if (nullable in _YES) != bool(seen["nullable"]):
                problems.append(f"column {col}: expected {'nullable' if nullable in _YES else 'NOT NULL'}, found "
                                f"{'nullable' if seen['nullable'] else 'NOT NULL'}")
        default = row.get("default", "").strip()
        if default:
            want = None if default.lower() in ("(none)", "none", "null") else default
            got = seen["default"]
            if (want is None) != (got is None) or (want is not None and _normal_sql(want) != _normal_sql(str(got))):
                problems.append(f"column {col}: expected default {want or '(none)'}, found {got or '(none)'}")
    if problems:
        fail(f"table {table}: expected the columns as listed, found {len(problems)} difference(s), first: "
             f"{problems[0]}", *problems[1:])


# ---- indexes -----------------------------------------------------------------------------------------

def indexes(session: ReadOnlySession, table: str) -> list[dict[str, object]]:
    name = relation(session, table)
    return query(session, f"indexes of {name}",
                 "SELECT c.relname AS index, i.indisvalid AS valid, i.indisready AS ready, i.indisunique AS unique, "
                 "ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) || CASE WHEN i.indoption[k - 1] & 1 = 1 "
                 "THEN ' DESC' ELSE '' END FROM generate_series(1, i.indnkeyatts) k) "
                 "AS keys, pg_get_expr(i.indpred, i.indrelid, true) AS predicate, "
                 "pg_get_indexdef(i.indexrelid) AS definition "
                 "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) "
                 "ORDER BY c.relname", (table,)).dicts()


def _matches(keys: list[str], wanted: list[str]) -> bool:
    return [_normal_sql(k) for k in keys] == [_normal_sql(w) for w in wanted]


def check_index(session: ReadOnlySession, table: str, on: str, *, unique: bool = False) -> dict[str, object]:
    """An index of ``table`` whose key columns (or expressions) are ``on``, in order, is valid and ready
    (a failed ``CREATE INDEX CONCURRENTLY`` leaves one that is neither)."""
    __tracebackhide__ = True
    wanted = _columns_of(on)
    found = indexes(session, table)
    what = f"{'unique ' if unique else ''}index on {table} ({', '.join(wanted)})"
    same = [i for i in found if _matches(list(i["keys"]), wanted) and (i["unique"] or not unique)]
    if not same:
        listed = "; ".join(f"{i['index']} ({', '.join(i['keys'])})" for i in found) or "none"
        fail(f"{what}: expected it to exist, found no such index (indexes of {table}: {listed})")
    good = [i for i in same if i["valid"] and i["ready"]]
    if not good:
        i = same[0]
        state = ", ".join(s for s, ok in (("not valid", i["valid"]), ("not ready", i["ready"])) if not ok)
        fail(f"{what}: expected it valid and ready, found {i['index']} {state} (a failed CREATE INDEX "
             "CONCURRENTLY? drop it and build it again)", str(i["definition"]))
    return good[0]


def check_named_index(session: ReadOnlySession, index: str) -> None:
    """The index exists and is valid and ready."""
    __tracebackhide__ = True
    result = query(session, f"index {index}",
                   "SELECT c.relname AS index, i.indisvalid AS valid, i.indisready AS ready, "
                   "pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE i.indexrelid = to_regclass(%s)", (index,))
    if not result.rows:
        fail(f"index {index}: expected it to exist, found no such index")
    row = result.dicts()[0]
    if not (row["valid"] and row["ready"]):
        state = ", ".join(s for s, ok in (("not valid", row["valid"]), ("not ready", row["ready"])) if not ok)
        fail(f"index {index}: expected it valid and ready, found it {state}", str(row["definition"]))


# ---- constraints -------------------------------------------------------------------------------------

CONSTRAINT_KINDS = {"primary key": "p", "unique": "u", "foreign key": "f", "check": "c", "exclusion": "x"}


def constraints(session: ReadOnlySession, table: str) -> list[dict[str, object]]:
    relation(session, table)
    return query(session, f"constraints of {table}",
                 "SELECT c.conname AS name, c.contype AS kind, c.convalidated AS validated, "
                 "ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a "
                 "ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS columns, "
                 "c.confrelid::regclass::text AS references, pg_get_constraintdef(c.oid, true) AS definition "
                 "FROM pg_constraint c WHERE c.conrelid = to_regclass(%s) ORDER BY c.conname", (table,)).dicts()


def check_constraint(session: ReadOnlySession, table: str, kind: str, on: str = "", references: str = "",
                     name: str = "") -> None:
    """A constraint of this kind on these columns (a foreign key: referencing that table; a check: by name
    or with ``on`` found in its definition) exists and is validated. A unique constraint may also be a valid
    unique index (PostgreSQL enforces both alike)."""
    __tracebackhide__ = True
    code = CONSTRAINT_KINDS.get(kind.lower().strip())
    if code is None:
        raise SuiteError(f"unknown constraint kind {kind!r}; known: {', '.join(CONSTRAINT_KINDS)}")
    found = [c for c in constraints(session, table) if c["kind"] == code]
    wanted = _columns_of(on) if on else []
    what = f"{kind} constraint{' ' + name if name else ''} on {table}" + (f" ({', '.join(wanted)})" if wanted else "")
    if references:
        what += f" referencing {references}"
    if name:
        same = [c for c in found if c["name"] == name]
    elif code == "c":
        same = [c for c in found if _normal_sql(on) in _normal_sql(str(c["definition"]))]
    else:
        same = [c for c in found if _matches(list(c["columns"]), wanted)]
    if references:
        target = relation(session, references)
        same = [c for c in same if c["references"] == target]
    if not same and code == "u" and wanted and any(
            _matches(list(i["keys"]), wanted) and i["unique"] and i["valid"] and not i["predicate"]
            for i in indexes(session, table)):
        return
    if not same:
        listed = "; ".join(f"{c['name']}: {c['definition']}" for c in found) or "none"
        fail(f"{what}: expected it to exist, found no such constraint ({kind} constraints of {table}: {listed})")
    if not any(c["validated"] for c in same):
        fail(f"{what}: expected it validated, found {same[0]['name']} NOT VALID (existing rows were never checked)")


# ---- row level security ------------------------------------------------------------------------------

def check_rls(session: ReadOnlySession, table: str, *, forced: bool = False, policies: Iterable[str] = ()) -> None:
    """Row level security is enabled on the table (and forced, so its owner is held to it too, when asked),
    and each named policy exists."""
    __tracebackhide__ = True
    relation(session, table)
    row = query(session, f"row level security of {table}",
                "SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced, "
                "ARRAY(SELECT p.polname FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1)::text[] AS policies "
                "FROM pg_class c WHERE c.oid = to_regclass(%s)", (table,)).dicts()[0]
    if not row["enabled"]:
        fail(f"table {table}: expected row level security enabled, found it disabled"
             + (f" (policies {', '.join(row['policies'])} exist but are not applied)" if row["policies"] else ""))
    if forced and not row["forced"]:
        fail(f"table {table}: expected row level security forced (FORCE ROW LEVEL SECURITY), found it enabled but "
             "not forced (the table's owner bypasses it)")
    missing = [p for p in policies if p not in row["policies"]]
    if missing:
        fail(f"table {table}: expected the row level security policy {missing[0]}, found "
             f"{', '.join(row['policies']) or 'no policy'}", *(f"also missing: {p}" for p in missing[1:]))


# ---- functions and procedures ------------------------------------------------------------------------

_SIGNATURE = re.compile(r"\s*([^()]+?)\s*\((.*)\)\s*$", re.DOTALL)


def check_function(session: ReadOnlySession, signature: str) -> str:
    """A function or procedure with exactly this signature (``schema.name(argtype, ...)``) exists; when it does
    not, the failure lists the overloads of that name that do."""
    __tracebackhide__ = True
    match = _SIGNATURE.match(signature)
    if not match:
        raise SuiteError(f"{signature!r} is not a signature; write schema.name(type, type), e.g. "
                         "activity.sp_get_unread_count(uuid, boolean)")
    found = query(session, f"function {signature}", "SELECT to_regprocedure(%s)::text AS found", (signature,)).scalar()
    if found is not None:
        return found
    name = match.group(1)
    schema, _, proc = name.rpartition(".")
    others = query(session, f"functions named {name}",
                   "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p WHERE p.proname = %s AND "
                   "(%s = '' AND pg_function_is_visible(p.oid) OR p.pronamespace = to_regnamespace(%s)) ORDER BY 1",
                   (proc.strip('"'), schema, schema or "public"))
    fail(f"function {signature}: expected it to exist, found "
         + (f"only {', '.join(r[0] for r in others)}" if others.rows else "no function of that name"))


def check_functions(session: ReadOnlySession, signatures: Iterable[str]) -> None:
    """Every signature exists; the failure names the first missing one and counts the others."""
    __tracebackhide__ = True
    missing = []
    for signature in signatures:
        try:
            check_function(session, signature)
        except AssertionError as exc:
            missing.append(str(exc).splitlines()[0])
    if missing:
        fail(missing[0] + (f" ({len(missing)} functions missing)" if len(missing) > 1 else ""), *missing[1:])


# ---- privileges --------------------------------------------------------------------------------------

_TABLE_PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}


def has_privilege(session: ReadOnlySession, role: str, privilege: str, obj: str) -> bool:
    """Whether ``role`` holds ``privilege`` on ``obj`` (a function when written with its argument types,
    ``schema NAME`` for a schema, else a table, view or sequence), directly, through a role it belongs to, or
    through PUBLIC."""
    privilege = privilege.strip().upper()
    exists = query(session, f"role {role}", "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if not exists.rows:
        fail(f"role {role}: expected it to exist, found no such role")
    if "(" in obj:
        found = check_function(session, obj)
        sql = "SELECT has_function_privilege(%s, to_regprocedure(%s), %s)"
        name = found
    elif obj.lower().startswith("schema "):
        name = obj.split(None, 1)[1]
        if query(session, f"schema {name}", "SELECT to_regnamespace(%s)", (name,)).scalar() is None:
            fail(f"schema {name}: expected it to exist, found no such schema")
        sql = "SELECT has_schema_privilege(%s, to_regnamespace(%s), %s)"
    else:
        if privilege not in _TABLE_PRIVILEGES and privilege != "USAGE":
            raise SuiteError(f"{privilege} is not a privilege on a table; write one of {', '.join(sorted(_TABLE_PRIVILEGES))}"
                             " (EXECUTE on a function: write the function with its argument types)")
        name = relation(session, obj)
        sql = ("SELECT has_sequence_privilege(%s, to_regclass(%s), %s)" if privilege == "USAGE"
               else "SELECT has_table_privilege(%s, to_regclass(%s), %s)")
        obj = obj.strip()
    key = obj.split(None, 1)[1] if obj.lower().startswith("schema ") else obj
    return bool(query(session, f"{privilege} of {role} on {name}", sql, (role, key, privilege)).scalar())


def check_privileges(session: ReadOnlySession, role: str, grants: Iterable[tuple[str, str]], *,
                     granted: bool = True, role_label: str = "") -> None:
    """For each (privilege, object): the role has it (``granted``) or does not (least privilege)."""
    __tracebackhide__ = True
    grants = list(grants)
    label = f"role {role_label} ({role})" if role_label and role_label != role else f"role {role}"
    wrong = [(p, o) for p, o in grants if has_privilege(session, role, p, o) != granted]
    if wrong:
        p, o = wrong[0]
        fail(f"{label}: expected {'to have' if granted else 'not to have'} {p.upper()} on {o}, found it "
             f"{'missing' if granted else 'granted'}" + (f" ({len(wrong)} of {len(grants)} wrong)"
                                                          if len(wrong) > 1 else ""),
             *(f"also: {pp.upper()} on {oo}" for pp, oo in wrong[1:]))
