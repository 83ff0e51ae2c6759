"""JSON paths: RFC 9535 queries, the short dotted form, and the diagnostics a failed check shows."""

import pytest

from postdeploy import paths

DOC = {
    "status": "ok",
    "checks": {"api": "ok", "database": "ok"},
    "items": [{"id": 1, "status": "sent"}, {"id": 2, "status": "queued"}, {"id": 3, "status": "sent"}],
    "user": {"role": "admin", "email": "a@example.com"},
    "app.version": "1.4.2",
    "feature-flags": {"beta": True, "new ui": False},
    "2fa": "on",
    "empty": {},
    "nothing": None,
}


def not_found(path: str, document=DOC) -> str:
    with pytest.raises(paths.PathNotFound) as err:
        paths.resolve(document, path)
    return str(err.value)


def malformed(path: str) -> str:
    with pytest.raises(ValueError) as err:
        paths.resolve(DOC, path)
    return str(err.value)


@pytest.mark.parametrize(("path", "value"), [
    ("status", "ok"),
    ("checks.database", "ok"),
    ("items[0].id", 1),
    ("items[-1].id", 3),
    ("user.role", "admin"),
    ("feature-flags.beta", True),  # not a shorthand name: quoted when translated
    ("feature-flags.new ui", False),
    ("2fa", "on"),
    ("nothing", None),  # null is a value, not a miss
    (" checks.api ", "ok"),
])
def test_the_short_form_still_resolves_to_one_value(path, value):
    assert paths.resolve(DOC, path) == value
    assert paths.exists(DOC, path)


@pytest.mark.parametrize(("path", "value"), [
    ("$.checks.database", "ok"),
    ("$['app.version']", "1.4.2"),
    ('$["app.version"]', "1.4.2"),
    ("$['feature-flags']['new ui']", False),
    ("$.items[1]['status']", "queued"),
    ("$.items[-1].id", 3),
])
def test_singular_rfc_9535_queries_resolve_to_one_value(path, value):
    assert paths.resolve(DOC, path) == value


def test_the_root_is_the_whole_document():
    assert paths.resolve(DOC, "$") is DOC
    assert paths.resolve(DOC, "") is DOC
    assert paths.parse("$") == paths.parse("") == []


@pytest.mark.parametrize(("path", "values"), [
    ("$.items[?@.status == 'sent'].id", [1, 3]),
    ("$.items[?@.id > 1 && @.status != 'sent'].id", [2]),
    ("$.items[*].id", [1, 2, 3]),
    ("$.checks.*", ["ok", "ok"]),
    ("$.items[0:2].id", [1, 2]),
    ("$.items[::-1].id", [3, 2, 1]),
    ("$..role", ["admin"]),
    ("$.items..id", [1, 2, 3]),
    ("$.items[0]['id', 'status']", [1, "sent"]),
    ("$.items[?match(@.status, 'se.t')].id", [1, 3]),
    ("$.items[?@.status == 'sent']", [DOC["items"][0], DOC["items"][2]]),
    ("$.items[?@.status == 'sent'].id[?@ > 99]", None),  # a filter on a number: nothing to filter
])
def test_non_singular_queries_resolve_to_the_list_of_matches(path, values):
    if values is None:
        assert not paths.exists(DOC, path)
    else:
        assert paths.resolve(DOC, path) == values


def test_a_non_singular_query_with_one_match_is_still_a_list():
    assert paths.resolve(DOC, "$.items[?@.id == 2].status") == ["queued"]


# the diagnostics: exact text, as a failed step shows them

def test_a_missing_key_names_the_keys_that_are_there():
    assert not_found("checks.databse") == \
        "JSON path 'checks.databse' not found: no key 'databse' (keys: api, database) at '$.checks'"
    assert not_found("$.checks.databse") == \
        "JSON path '$.checks.databse' not found: no key 'databse' (keys: api, database) at '$.checks'"


def test_a_missing_top_level_key_stops_at_the_root():
    big = {f"k{i:02}": i for i in range(12)}
    assert not_found("k99", big) == ("JSON path 'k99' not found: no key 'k99' (keys: k00, k01, k02, k03, k04, k05, "
                                     "k06, k07, k08, k09, ... (12 keys)) at '$'")
    assert not_found("empty.x") == "JSON path 'empty.x' not found: no key 'x' (the object is empty) at '$.empty'"


def test_an_index_into_an_object_or_past_the_end_says_so():
    assert not_found("checks[0]") == "JSON path 'checks[0]' not found: expected a list, found dict at '$.checks'"
    assert not_found("items[5].id") == \
        "JSON path 'items[5].id' not found: index 5 out of range (length 3) at '$.items'"
    assert not_found("$.items[-4]") == \
        "JSON path '$.items[-4]' not found: index -4 out of range (length 3) at '$.items'"


def test_a_name_on_a_list_or_a_scalar_says_what_it_found():
    assert not_found("items.id") == "JSON path 'items.id' not found: expected an object, found list at '$.items'"
    assert not_found("user.role.name") == \
        "JSON path 'user.role.name' not found: expected an object, found str at '$.user.role'"
    assert not_found("nothing.x") == \
        "JSON path 'nothing.x' not found: expected an object, found NoneType at '$.nothing'"


def test_the_place_reached_is_written_as_a_query_with_quotes_where_needed():
    assert not_found("feature-flags.gamma").endswith("at '$['feature-flags']'")
    assert not_found("$['app.version'].major") == \
        "JSON path '$['app.version'].major' not found: expected an object, found str at '$['app.version']'"
    assert not_found("items[1].id.x").endswith("at '$.items[1].id'")


def test_a_non_singular_query_that_matched_nothing_names_the_segment_that_emptied_it():
    assert not_found("$.items[?@.status == 'failed'].id") == (
        "JSON path '$.items[?@.status == 'failed'].id' not found: "
        "nothing matched [?@['status'] == 'failed'] in a list of 3 items at '$.items'")
    assert not_found("$.items[*].sku") == \
        "JSON path '$.items[*].sku' not found: nothing matched .sku in any of 3 values at '$.items[*]'"
    assert not_found("$..sku") == "JSON path '$..sku' not found: nothing matched ..sku in an object of 9 keys at '$'"
    assert not_found("$.empty.*") == \
        "JSON path '$.empty.*' not found: nothing matched [*] in an object of 0 keys at '$.empty'"


def test_a_singular_prefix_of_a_non_singular_query_keeps_the_detailed_reason():
    assert not_found("$.chekcs[*]") == \
        "JSON path '$.chekcs[*]' not found: no key 'chekcs' (keys: 2fa, app.version, checks, empty, " \
        "feature-flags, items, nothing, status, user) at '$'"


def test_path_not_found_carries_its_parts_for_the_checks_messages():
    with pytest.raises(paths.PathNotFound) as err:
        paths.resolve(DOC, "checks.smtp")
    assert (err.value.path, err.value.reached, err.value.reason) == \
        ("checks.smtp", "$.checks", "no key 'smtp' (keys: api, database)")
    assert isinstance(err.value, LookupError)
    assert not paths.exists(DOC, "checks.smtp")


# malformed queries

@pytest.mark.parametrize(("path", "message"), [
    ("$.[", "malformed JSON path '$.[': unexpected shorthand selector '[' at position 2"),
    ("$.items[", "malformed JSON path '$.items[': unbalanced brackets at position 8"),
    ("$checks", "malformed JSON path '$checks': expected '.', '..' or a bracketed selection, found 'c' at position 1"),
    ("$.items[?@.status ==]",
     "malformed JSON path '$.items[?@.status ==]': unexpected end of expression at position 20"),
    ("$.items[?nope(@)]", "malformed JSON path '$.items[?nope(@)]': function 'nope' is not defined at position 9"),
    ("items[*].id", "malformed JSON path 'items[*].id': unexpected '[*].id' at position 5 (the short form is dotted "
                    "names and [index]; a full RFC 9535 JSONPath query starts with '$')"),
    ("checks..database", "malformed JSON path 'checks..database': unexpected '..database' at position 6 (the short "
                         "form is dotted names and [index]; a full RFC 9535 JSONPath query starts with '$')"),
    ("items[99999999999999999]", "malformed JSON path 'items[99999999999999999]': index out of range"),
])
def test_a_malformed_query_is_a_value_error_with_a_readable_message(path, message):
    assert malformed(path) == message
    with pytest.raises(ValueError):
        paths.parse(path)
    with pytest.raises(ValueError):
        paths.exists(DOC, path)  # malformed is not "absent": the step is wrong, not the target


# parse: the parts of a singular query, as expand() uses them

@pytest.mark.parametrize(("path", "parts"), [
    ("services.api.base_url", ["services", "api", "base_url"]),
    ("accounts.qa-admin.username", ["accounts", "qa-admin", "username"]),
    ("items[0].id", ["items", 0, "id"]),
    ("$['app.version']", ["app.version"]),
    ("$.items[-1]['new ui']", ["items", -1, "new ui"]),
])
def test_parse_returns_the_names_and_indexes_of_a_singular_query(path, parts):
    assert paths.parse(path) == parts


@pytest.mark.parametrize("path", ["$.items[*]", "$..id", "$.items[0:2]", "$.items[?@.id == 1]", "$['a', 'b']"])
def test_parse_refuses_a_query_that_can_match_several_values(path):
    with pytest.raises(ValueError, match="can match several values"):
        paths.parse(path)


def test_short_form_names_with_quotes_and_backslashes_are_escaped_not_reinterpreted():
    document = {"it's": {"a\\b": 1}, "tab\there": 2}
    assert paths.resolve(document, "it's.a\\b") == 1
    assert paths.resolve(document, "tab\there") == 2
    assert paths.parse("it's.a\\b") == ["it's", "a\\b"]
