"""Amounts and fields written like the source's; US ZIP codes as published."""

import pytest
from superstore_generator.csv_output import (
    as_bytes_text,
    csv_fields,
    format_ten_thousandths,
    published_postal_code,
)


@pytest.mark.parametrize(
    ("value", "min_places", "text"),
    [
        (2619600, 2, "261.96"),
        (9575775, 2, "957.5775"),
        (419136, 0, "41.9136"),
        (-3830310, 0, "-383.031"),
        (-7, 0, "-0.0007"),
        (10000, 0, "1"),
        (0, 0, "0"),
        (0, 2, "0.00"),
        (22972008603, 4, "2297200.8603"),
        (-50000, 4, "-5.0000"),
    ],
)
def test_amounts_are_exact_decimals(value, min_places, text):
    assert format_ten_thousandths(value, min_places) == text


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        (("CG-12520", "Claire Gute"), "CG-12520,Claire Gute"),
        (("Hon Deluxe Chairs, Rounded Back", "x"), '"Hon Deluxe Chairs, Rounded Back",x'),
        (('Eldon 12" Shelf', "x"), '"Eldon 12"" Shelf",x'),
        (("two\nlines", "carriage\rreturn"), '"two\nlines","carriage\rreturn"'),
        (("", "empty first"), ",empty first"),
    ],
)
def test_fields_are_quoted_where_needed(values, fragment):
    assert csv_fields(values) == fragment


def test_output_text_holds_utf8_bytes_one_per_character():
    name = "Tenex Chairmats \ufffd Hard Floors"

    text = as_bytes_text(name)

    assert len(text) == len(name.encode("utf-8"))
    assert text.encode("latin-1") == name.encode("utf-8")
    assert as_bytes_text("plain ASCII") == "plain ASCII"


@pytest.mark.parametrize(
    ("source", "published"),
    [("2149", "02149"), ("05408", "05408"), ("42420", "42420"), ("501", "00501")],
)
def test_us_zip_codes_get_five_digits(source, published):
    assert published_postal_code("United States", source) == published


def test_other_postal_codes_are_kept_as_they_are():
    assert published_postal_code("Canada", "K1A") == "K1A"
