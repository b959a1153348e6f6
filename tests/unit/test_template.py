"""Templates: placeholders filled from each recipient's row, malformed texts refused by position.

The property tests build the expected text by plain concatenation from the same chunks the
template is written from, so they share no parsing with dispatcher/domain/template.py.
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.audience import read_recipients
from dispatcher.domain.template import Template
from dispatcher.domain.text import Encoding, measure
from dispatcher.errors import MissingFieldsError, TemplateError

ORDER = "Bonjour {first_name}, votre commande {order} est prête."


def escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@pytest.mark.parametrize(
    ("source", "values", "fields", "rendered"),
    [
        ("Soldes -20% ce week-end", {}, (), "Soldes -20% ce week-end"),
        ("", {}, (), ""),
        ("Bonjour {name}", {"name": "Ana"}, ("name",), "Bonjour Ana"),
        ("{name}", {"name": "Ana"}, ("name",), "Ana"),
        (ORDER, {"first_name": "Ana", "order": "A-12"}, ("first_name", "order"),
         "Bonjour Ana, votre commande A-12 est prête."),
        ("{b}{a}{b}, {a}!", {"a": "1", "b": "2"}, ("b", "a"), "212, 1!"),
        ("{{name}} stays", {}, (), "{name} stays"),
        ("{{{name}}}", {"name": "Ana"}, ("name",), "{Ana}"),
        ("}}{{", {}, (), "}{"),
        ("100%s %d %% {x}%", {"x": "5"}, ("x",), "100%s %d %% 5%"),
        ("{order-id} {client.city} {_x1}", {"order-id": "7", "client.city": "Lyon", "_x1": "z"},
         ("order-id", "client.city", "_x1"), "7 Lyon z"),
        ("{prénom}", {"prénom": "Zoé"}, ("prénom",), "Zoé"),
        ("ligne 1\n{x}\nligne 3", {"x": "2"}, ("x",), "ligne 1\n2\nligne 3"),
        ("{x}", {"x": ""}, ("x",), ""),  # an empty value is present
        ("{x}", {"x": "{y} %s"}, ("x",), "{y} %s"),  # values are never re-read as templates
    ],
)  # fmt: skip
def test_render(
    source: str, values: dict[str, str], fields: tuple[str, ...], rendered: str
) -> None:
    template = Template.parse(source)
    assert template.fields == fields
    assert template.is_static == (not fields)
    assert template.render(values) == rendered


@pytest.mark.parametrize(
    ("source", "column", "says"),
    [
        ("Bonjour {name", 9, "'{' is never closed (write {{"),
        ("Bonjour {na{me}", 9, "'{' is never closed"),
        ("Bonjour name}", 13, "'}' closes nothing (write }}"),
        ("{{name}", 7, "'}' closes nothing"),
        ("{name}}", 7, "'}' closes nothing"),
        ("a}}}", 4, "'}' closes nothing"),
        ("Bonjour {}", 9, "{}: positional placeholders are not supported"),
        ("Bonjour {0}", 9, "{0}: positional placeholders are not supported"),
        ("x {12}", 3, "{12}: positional"),
        ("x { name }", 3, "{ name }: no spaces inside the braces, write {name}"),
        ("x {name }", 3, "write {name}"),
        ("x {amount:.2f}", 3, "format specs and conversions are not supported"),
        ("x {name!r}", 3, "format specs and conversions are not supported"),
        ("x {0.__class__}", 3, "a name is a letter or '_'"),
        ("x {first name}", 3, "{first name}: a name is a letter or '_'"),
        ("x {1st}", 3, "a name is a letter or '_'"),
        ("x {-a}", 3, "a name is a letter or '_'"),
        ("x {.a}", 3, "a name is a letter or '_'"),
        ("x {a/b}", 3, "a name is a letter or '_'"),
        ("x {" + "y" * 40 + " z}", 3, "{" + "y" * 29 + "…}"),
        ("ok {a} then {", 13, "never closed"),
    ],
)
def test_malformed_texts_are_refused_naming_the_column(source: str, column: int, says: str) -> None:
    with pytest.raises(TemplateError) as caught:
        Template.parse(source)
    assert str(caught.value).startswith(f"column {column}: ")
    assert says in str(caught.value)
    assert (caught.value.line, caught.value.column, caught.value.position) == (
        1,
        column,
        column - 1,
    )
    assert isinstance(caught.value, ValueError)


def test_a_multi_line_text_names_the_line_too() -> None:
    with pytest.raises(TemplateError, match=r"^line 3, column 4: '}' closes nothing") as caught:
        Template.parse("Bonjour {name},\nvotre code:\nXYZ}")
    assert caught.value.position == 31


def test_the_constructor_validates_like_parse() -> None:
    assert Template("{a}") == Template.parse("{a}")
    with pytest.raises(TemplateError):
        Template("{a")


def test_a_template_is_frozen_and_compares_by_source() -> None:
    template = Template.parse(ORDER)
    with pytest.raises(AttributeError):
        template.source = "x"  # type: ignore[misc]
    assert template == Template.parse(ORDER) != Template.parse("{first_name}")
    assert hash(template) == hash(Template.parse(ORDER))
    assert repr(template) == f"Template(source={ORDER!r}, fields=('first_name', 'order'))"


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({}, ("first_name", "order")),
        ({"first_name": "Ana"}, ("order",)),
        ({"first_name": None, "order": "A-12"}, ("first_name",)),
        ({"first_name": "Ana", "order": float("nan")}, ("order",)),  # pandas' blank cell
        ({"first_name": "Ana", "ordre": "A-12"}, ("order",)),
        ({"first_name": None, "First_Name": "Ana", "order": "1"}, ("first_name",)),  # exact wins
    ],
)
def test_missing_values_are_listed_in_template_order(
    values: dict[str, object], missing: tuple[str, ...]
) -> None:
    with pytest.raises(MissingFieldsError) as caught:
        Template.parse(ORDER).render(values)
    assert caught.value.missing == missing
    assert caught.value.ambiguous == ()
    assert str(caught.value) == "no value for " + ", ".join(missing)
    assert isinstance(caught.value, KeyError)


def test_a_repeated_placeholder_is_listed_once() -> None:
    with pytest.raises(MissingFieldsError) as caught:
        Template.parse("{a} {b} {a}").render({"b": "x"})
    assert caught.value.missing == ("a",)


@pytest.mark.parametrize(
    "key",
    ["first_name", " First_Name", "FIRST_NAME ", "First_name", "\tfirst_NAME\t"],
)
def test_headers_match_ignoring_case_and_surrounding_spaces(key: str) -> None:
    assert Template.parse("Bonjour {first_name}").render({key: "Ana"}) == "Bonjour Ana"


def test_unicode_headers_match_whatever_their_normal_form_and_case() -> None:
    decomposed = "Pre\u0301nom"  # as some spreadsheets on macOS write "Prénom"
    assert Template.parse("{prénom}").render({decomposed: "Zoé"}) == "Zoé"
    assert Template.parse("{STRASSE}").render({"straße": "x"}) == "x"  # casefold, not lower


def test_several_keys_matching_without_an_exact_one_are_refused() -> None:
    with pytest.raises(MissingFieldsError) as caught:
        Template.parse(ORDER).render({"First_Name": "Ana", "first_name ": "Bob"})
    assert (caught.value.missing, caught.value.ambiguous) == (("order",), ("first_name",))
    assert str(caught.value) == "no value for order; several columns match first_name"


def test_an_exact_key_wins_over_other_keys_matching_loosely() -> None:
    values = {"First_Name": "Bob", "first_name": "Ana", "FIRST_NAME": "Eve", "order": "1"}
    assert Template.parse(ORDER).render(values) == "Bonjour Ana, votre commande 1 est prête."


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (42, "42"),
        (0, "0"),
        (-3, "-3"),
        (12.5, "12.5"),
        (Decimal("19.90"), "19.90"),
        (True, "True"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (dt.datetime(2024, 5, 1, 14, 30), "2024-05-01 14:30:00"),
        ("", ""),
    ],
)
def test_values_that_are_not_strings_go_in_as_str(value: object, shown: str) -> None:
    assert Template.parse("[{v}]").render({"V ": value}) == f"[{shown}]"
    assert Template.parse("[{v}]").render({"v": value}) == f"[{shown}]"


def test_a_placeholder_never_reaches_an_attribute() -> None:
    template = Template.parse("{a.__class__}")
    assert template.fields == ("a.__class__",)
    with pytest.raises(MissingFieldsError):
        template.render({"a": object()})
    assert template.render({"a.__class__": "plain column"}) == "plain column"


def test_a_value_can_turn_a_gsm_text_into_unicode_and_render_keeps_it_exact() -> None:
    template = Template.parse("Bonjour {first_name}, à demain")
    assert measure(template.render({"first_name": "Zoé"})).encoding is Encoding.GSM
    rendered = template.render({"first_name": "Benoît"})
    assert rendered == "Bonjour Benoît, à demain"
    assert measure(rendered).encoding is Encoding.UNICODE
    assert measure(rendered).non_gsm == ("î",)


def test_rows_read_from_a_csv_fill_the_template() -> None:
    csv = "phone; First_Name ;Order\n0612345678;Ana;A-12\n0712345678;Éloïse;B-7\n"
    template = Template.parse(ORDER)
    texts = [template.render(r.fields or {}) for r in read_recipients(io.StringIO(csv))]
    assert texts == [
        "Bonjour Ana, votre commande A-12 est prête.",
        "Bonjour Éloïse, votre commande B-7 est prête.",
    ]


def test_errors_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(TemplateError("a\n{", 2, "'{' is never closed")))
    assert (str(error), error.line, error.column) == ("line 2, column 1: '{' is never closed", 2, 1)
    missing = pickle.loads(pickle.dumps(MissingFieldsError(("a",), ("b",))))
    assert (missing.missing, missing.ambiguous) == (("a",), ("b",))


# Property-based ----------------------------------------------------------------------------

NO_BRACES = st.text(st.characters(exclude_characters="{}"))
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True) | st.sampled_from(
    ["prénom", "Ville", "client.city", "order-id", "_"]
)
CHUNKS = st.lists(
    st.tuples(st.just(False), st.text()) | st.tuples(st.just(True), NAMES), max_size=12
)


@given(NO_BRACES)
def test_a_text_without_braces_renders_as_itself(text: str) -> None:
    template = Template.parse(text)
    assert template.is_static
    assert template.fields == ()
    assert template.render({}) == text


@given(st.text())
def test_escaping_round_trips(text: str) -> None:
    template = Template.parse(escaped(text))
    assert template.is_static
    assert template.render({}) == text


@given(CHUNKS, st.data())
def test_a_template_renders_as_its_chunks_concatenated(
    chunks: list[tuple[bool, str]], data: st.DataObject
) -> None:
    names = list(dict.fromkeys(chunk for is_name, chunk in chunks if is_name))
    values = {name: data.draw(st.text(), label=name) for name in names}
    source = "".join("{" + c + "}" if is_name else escaped(c) for is_name, c in chunks)
    expected = "".join(values[c] if is_name else c for is_name, c in chunks)
    template = Template.parse(source)
    assert template.fields == tuple(names)
    assert template.render(values) == expected


@given(st.lists(NAMES, unique_by=str.casefold, min_size=1, max_size=5), st.data())
def test_loosely_matched_headers_render_like_exact_ones(
    names: list[str], data: st.DataObject
) -> None:
    values = {name: data.draw(st.text() | st.integers(), label=name) for name in names}
    template = Template.parse(" / ".join("{" + name + "}" for name in names))
    loose = {f" {name.upper()}\t": value for name, value in values.items()}
    assert template.render(loose) == template.render(values)
    assert template.render(values) == " / ".join(str(v) for v in values.values())


@given(NO_BRACES, st.data(), st.sampled_from("{}"))
def test_a_lone_brace_is_refused_at_its_position(
    text: str, data: st.DataObject, brace: str
) -> None:
    at = data.draw(st.integers(0, len(text)), label="at")
    source = text[:at] + brace + text[at:]
    with pytest.raises(TemplateError) as caught:
        Template.parse(source)
    assert caught.value.position == at
    assert caught.value.line == source.count("\n", 0, at) + 1
