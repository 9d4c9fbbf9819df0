from __future__ import annotations

import pickle

import pytest

from mailtrap_pandas.errors import (
    APIError,
    AuthenticationError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    error_from_response,
    parse_errors,
)

URL = "https://mailtrap.io/api/accounts/1/contacts/imports"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (409, APIError),
    ],
)
def test_status_maps_to_one_class(status: int, cls: type[APIError]) -> None:
    err = error_from_response(status, "GET", URL, {"errors": "x"})
    assert type(err) is cls
    assert err.status == err.status_code == status


def test_flat_and_nested_422_arrays_parse_the_same() -> None:
    flat = parse_errors({"errors": {"name": ["can't be blank", "must be a string"]}})
    nested = parse_errors({"errors": {"name": [["can't be blank", "must be a string"]]}})
    assert (
        flat
        == nested
        == [
            FieldError("name", "can't be blank"),
            FieldError("name", "must be a string"),
        ]
    )


def test_bare_string_values_and_top_level_error() -> None:
    assert parse_errors({"errors": {"filters": "invalid"}}) == [FieldError("filters", "invalid")]
    assert parse_errors({"error": "Not Found"}) == [FieldError("error", "Not Found")]
    assert parse_errors({"errors": "Rate limit exceeded"}) == [
        FieldError("errors", "Rate limit exceeded")
    ]
    assert parse_errors(None) == []
    assert parse_errors("") == []


def test_import_422_is_parsed_per_email_not_flattened() -> None:
    body = {
        "errors": [
            {"email": "a@x.io", "errors": {"email": ["is invalid"], "base": ["contacts limit"]}},
            {"email": "b@x.io", "errors": {"fields": ["contains invalid values: zip"]}},
        ]
    }
    err = error_from_response(422, "POST", URL, body)
    assert isinstance(err, ValidationError)
    assert set(err.by_email) == {"a@x.io", "b@x.io"}
    assert err.by_email["b@x.io"] == [
        FieldError("fields", "contains invalid values: zip", email="b@x.io")
    ]
    text = str(err)
    assert text.startswith("422 Unprocessable Entity for POST " + URL)
    assert "a@x.io: email is invalid" in text


def test_message_is_bounded_for_many_errors() -> None:
    body = {"errors": [{"email": f"{i}@x.io", "errors": {"email": ["bad"]}} for i in range(50)]}
    text = str(error_from_response(422, "POST", URL, body))
    assert "(and 45 more)" in text
    assert "49@x.io" not in text


def test_rate_limit_error_carries_retry_after_and_pickles() -> None:
    err = error_from_response(429, "GET", URL, {"errors": "Rate limit exceeded"}, 2.5)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 2.5
    copy = pickle.loads(pickle.dumps(error_from_response(404, "GET", URL, {"error": "Not Found"})))
    assert isinstance(copy, NotFoundError)
    assert copy.errors == [FieldError("error", "Not Found")]
