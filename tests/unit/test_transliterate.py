"""transliterate(): replacement families, what stays, and properties over any text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED, Encoding, measure
from dispatcher.domain.transliterate import Transliteration, transliterate

GSM = GSM_BASIC | GSM_EXTENDED


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        # Apostrophes and single quotes.
        ("l\u2019offre", "l'offre"),
        ("\u2018oui\u2019", "'oui'"),
        ("\u201aok\u201b", "'ok'"),
        ("5\u2032", "5'"),
        ("l\u00b4offre", "l'offre"),
        ("it`s", "it's"),
        ("\u2039a\u203a", "'a'"),
        # Double quotes and guillemets.
        ("\u201cyes\u201d", '"yes"'),
        ("\u201eja\u201c", '"ja"'),
        ("\u00ab\u00a0Soldes\u00a0\u00bb", '" Soldes "'),
        ("12\u2033", '12"'),
        # Dashes, minus, bullets, middle dot.
        ("a \u2013 b \u2014 c \u2012 d", "a - b - c - d"),
        ("\u22125", "-5"),
        ("anti\u2011age", "anti-age"),
        ("\u2022 un", "- un"),
        ("client\u00b7e\u00b7s", "client.e.s"),
        ("col\u00b7legi", "col.legi"),
        ("Catalan \u0140l", "Catalan l.l"),
        # Ellipsis.
        ("Vite\u2026", "Vite..."),
        # Spaces.
        ("prix\u00a0: 5", "prix : 5"),
        ("Quoi\u202f?", "Quoi ?"),
        ("1\u20091\u2007000", "1 1 000"),
        ("a\tb", "a b"),
        ("a\u3000b", "a b"),
        ("a\u2028b", "a\nb"),
        # Invisible characters are removed.
        ("\ufeffBon\u200bjour", "Bonjour"),
        ("inter\u00adnational", "international"),
        ("a\u2060b", "ab"),
        ("a\u200db", "ab"),
        # French letters that GSM lacks.
        ("c\u0153ur \u0152UVRE", "coeur OEUVRE"),
        ("f\u00eate \u00e2ge \u00eele h\u00f4tel s\u00fbr", "fete age ile hotel sur"),
        ("No\u00ebl ma\u00efs L\u00ff", "Noel mais Ly"),
        ("gar\u00e7on", "garcon"),
        (
            "\u00c0 \u00c2 \u00c8 \u00ca \u00cb \u00ce \u00cf \u00d4 \u00d9 \u00db \u0178",
            "A A E E E I I O U U Y",
        ),
        # Other Latin-script languages.
        ("cami\u00f3n \u00e1rbol a\u00fan s\u00ed", "camion arbol aun si"),
        ("\u00c1 \u00cd \u00d3 \u00da \u00dd \u00c3 \u00d5 \u00cc \u00d2", "A I O U Y A O I O"),
        ("S\u00e3o Jo\u00e3o", "Sao Joao"),
        ("\u0141\u00f3d\u017a", "Lodz"),
        ("\u0161\u010d\u0159\u017e \u0219\u021b \u015f\u011f\u0131 \u0151\u0171", "scrz st sgi ou"),
        ("\u0111\u0110 \u00f0\u00d0 \u00fe\u00de \u0127", "dD dD thTh h"),
        ("STRA\u1e9eE", "STRASSE"),
        ("\ufb01n \u0133", "fin ij"),
        ("\uff21\uff22\uff23\uff01", "ABC!"),
        # Symbols.
        ("Marque\u2122", "MarqueTM"),
        ("\u00a9 2024 \u00ae", "(c) 2024 (R)"),
        ("N\u00b0 5, 20\u00b0C", "No 5, 20oC"),
        ("\u00bd prix, 1\u00bd kg, \u00bc", "1/2 prix, 1 1/2 kg, 1/4"),
        ("5\u2030", "5/1000"),
        ("45 m\u00b2", "45 m2"),
        ("2\u00d73 \u00b11 \u22645 \u2265 6 \u2192 x \u2190 y", "2x3 +/-1 <=5 >= 6 -> x <- y"),
        ("\u2116 7", "No 7"),
        # A lone accent means nothing; a circumflex or tilde keeps its GSM form.
        ("a\u00a8b\u00b8c", "abc"),
        ("\u02c6\u02dc", "^~"),
    ],
)
def test_replacements(original: str, expected: str) -> None:
    result = transliterate(original)
    assert result.text == expected
    assert result.changed
    assert result.remaining == ()
    assert measure(result.text).encoding is Encoding.GSM


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, votre code est 1234. R\u00e9pondez STOP au 36180",
        "\u00e9\u00e8\u00e0\u00f9\u00ec\u00f2\u00c7\u00c9\u00c4\u00d6\u00d1\u00dc\u00e4\u00f6\u00f1\u00fc\u00df",
        "\u00c6\u00e6\u00d8\u00f8\u00c5\u00e5\u00a3\u00a5\u00a7\u00bf\u00a1\u20ac{}[]~\\^|",
        "\u0394\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e @$\u00a4_\n\r\f",
        "",
    ],
)
def test_gsm_text_is_unchanged(text: str) -> None:
    assert transliterate(text) == Transliteration(text)
    assert not transliterate(text).changed


def test_french_marketing_sentence_fits_one_sms() -> None:
    text = (
        "Profitez de nos \u00ab\u00a0soldes d\u2019\u00e9t\u00e9\u00a0\u00bb : -30\u00a0% sur "
        "tout le magasin jusqu\u2019\u00e0 dimanche\u2026 R\u00e9pondez STOP au 36180"
    )
    before = measure(text)
    assert (before.encoding, before.segments) == (Encoding.UNICODE, 2)
    result = transliterate(text)
    after = measure(result.text)
    assert (after.encoding, after.segments) == (Encoding.GSM, 1)
    assert result.text == (
        'Profitez de nos " soldes d\'\u00e9t\u00e9 " : -30 % sur '
        "tout le magasin jusqu'\u00e0 dimanche... R\u00e9pondez STOP au 36180"
    )
    assert result.replaced == (
        ("\u00ab", '"'),
        ("\u00a0", " "),
        ("\u2019", "'"),
        ("\u00bb", '"'),
        ("\u2026", "..."),
    )
    assert result.remaining == ()


def test_emoji_and_other_scripts_remain_and_are_listed() -> None:
    result = transliterate(
        "Soldes \U0001f389 l\u2019\u00e9t\u00e9 \U0001f389 \u4e2d\u6587 \u2764\ufe0f"
    )
    assert result.text == "Soldes \U0001f389 l'\u00e9t\u00e9 \U0001f389 \u4e2d\u6587 \u2764\ufe0f"
    assert result.replaced == (("\u2019", "'"),)
    assert result.remaining == ("\U0001f389", "\u4e2d", "\u6587", "\u2764", "\ufe0f")
    assert measure(result.text).encoding is Encoding.UNICODE


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family emoji: its joiners stay
        "\U0001f44d\U0001f3fd",  # skin tone modifier
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian ZWNJ
        "\u05e9\u05dc\u05d5\u05dd\u200f",  # Hebrew with a right-to-left mark
        "\u041f\u0440\u0438\u0432\u0435\u0442 \u0451\u0436",  # Cyrillic, ё not touched
        "\u03b1\u0301 \u03ac",  # Greek lowercase
        "\u038f\u03a1\u0391",  # Greek capitals: \u038f is not made GSM's \u03a9
        "\u0915\u093c",  # Devanagari with nukta
    ],
)
def test_non_latin_sequences_are_kept_whole(text: str) -> None:
    result = transliterate(text)
    assert result.text == text
    assert not result.changed


def test_combining_sequences() -> None:
    result = transliterate("e\u0301te\u0301 E\u0301 a\u0300 c\u0327a e\u0302 x\u0301 \u00e7\u0301")
    assert result.text == "\u00e9t\u00e9 \u00c9 \u00e0 ca e x c"
    assert result.replaced == (
        ("e\u0301", "\u00e9"),
        ("E\u0301", "\u00c9"),
        ("a\u0300", "\u00e0"),
        ("c\u0327", "c"),
        ("e\u0302", "e"),
        ("x\u0301", "x"),
        ("\u00e7\u0301", "c"),
    )
    assert result.remaining == ()


def test_marks_and_selectors_after_a_replaced_character_go_with_it() -> None:
    assert transliterate("\u00a9\ufe0f \u2122\ufe0f #\ufe0f\u20e3").text == "(c) TM #"
    assert transliterate("\ufeff\u0301ok").text == "ok"


@pytest.mark.parametrize("text", ["a \u2260 b", "a =\u0338 b", "x \u2271 y", "<\u20d2"])
def test_a_negated_symbol_is_not_stripped_of_its_negation(text: str) -> None:
    assert transliterate(text).text == text


def test_french_ordinals_in_superscript() -> None:
    assert transliterate("1\u1d49\u02b3 prix, 2\u1d49").text == "1er prix, 2e"


def test_replaced_and_remaining_are_distinct_and_in_order() -> None:
    result = transliterate(
        "\u00bb\u2019\U0001f600\u00ab\u2019\u00bb\u4e00\U0001f600\u00ab\u4e00\u2019"
    )
    assert result.replaced == (("\u00bb", '"'), ("\u2019", "'"), ("\u00ab", '"'))
    assert result.remaining == ("\U0001f600", "\u4e00")


def test_a_narrower_set_never_gets_a_character_outside_it() -> None:
    basic = GSM_BASIC - {"'", "\u00e9"}
    result = transliterate("l\u2019\u00e9t\u00e9", basic=basic, extended=frozenset())
    assert result.text == "l\u2019ete"
    assert result.replaced == (("\u00e9", "e"),)
    assert result.remaining == ("\u2019",)
    assert transliterate("5\u20ac\u2026", extended=frozenset()).text == "5\u20ac..."


# Texts rich in what the module decides about, mixed with arbitrary Unicode.
INTERESTING = (
    "".join(sorted(GSM))
    + "\u2019\u00ab\u00bb\u2013\u2026\u00a0\u202f\u200b\u200c\u200d\u200f\u00ad\ufeff\t"
    + "\u0153\u00ea\u00e7\u00c0\u0141\u00bd\u00b2\u2122\u00b0\u2030\u00b7\u00b4`\u00a8\u02d8"
    + "\u0301\u0300\u0302\u0327\u0308\u20e3\ufe0f\U0001f600\U0001f3fd\u03b1\u0915\u093c"
    + "\u1100\u1161\u0627\u05d0\uff21\ufb01\u212b\u2126"
)
texts = st.one_of(st.text(), st.text(alphabet=INTERESTING))


@settings(max_examples=400)
@given(texts)
def test_every_character_is_sendable_or_listed(text: str) -> None:
    result = transliterate(text)
    assert all(c in GSM or c in result.remaining for c in result.text)
    assert len(set(result.remaining)) == len(result.remaining)
    assert all(c not in GSM and c in result.text for c in result.remaining)
    assert len({original for original, _ in result.replaced}) == len(result.replaced)


@settings(max_examples=400)
@given(texts)
def test_idempotent(text: str) -> None:
    once = transliterate(text)
    twice = transliterate(once.text)
    assert twice.text == once.text
    assert twice.replaced == ()
    assert twice.remaining == once.remaining


@given(st.text(alphabet="".join(sorted(GSM))))
def test_gsm_only_text_is_returned_unchanged(text: str) -> None:
    assert transliterate(text) == Transliteration(text)


def perceived(text: str) -> list[str]:
    """Split into what a reader sees as one character: a character and its following marks."""
    chars: list[str] = []
    for c in text:
        if chars and (unicodedata.category(c).startswith("M") or c in "\u200c\u200d\u200e\u200f"):
            chars[-1] += c
        else:
            chars.append(c)
    return chars


@settings(max_examples=400)
@given(texts)
def test_replaced_originals_are_gone(text: str) -> None:
    result = transliterate(text)
    seen = set(perceived(result.text))
    for original, replacement in result.replaced:
        # A ’ carrying a combining grave is another character than ’, and is kept whole.
        assert original not in seen
        assert all(c in GSM for c in replacement)
    assert result.changed == (result.text != text)


def test_a_replaced_character_is_gone_from_plain_text() -> None:
    result = transliterate("\u2019a\u2019\u00ab\u00e7\u00e7\u0153")
    assert not any(original in result.text for original, _ in result.replaced)


@settings(max_examples=300)
@given(texts, st.sets(st.sampled_from(sorted(GSM))))
def test_never_introduces_a_character_outside_the_sets(text: str, dropped: set[str]) -> None:
    basic = GSM_BASIC - dropped
    result = transliterate(text, basic=basic, extended=GSM_EXTENDED - dropped)
    assert set(result.remaining) <= set(text)
    sendable = basic | GSM_EXTENDED
    assert all(c in sendable for _, replacement in result.replaced for c in replacement)
