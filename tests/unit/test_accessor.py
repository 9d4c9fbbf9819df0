"""df.mailtrap shows the forwarded functions' parameters and docs, and keeps no state."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

import mailtrap_pandas as mtp

FORWARDS = {
    "validate": mtp.validate,
    "import_contacts": mtp.import_contacts,
    "to_import_payloads": mtp.to_import_payloads,
    "send_events": mtp.send_events,
    "plan": mtp.plan,
    "sync_list": mtp.sync_list,
    "delete_contacts": mtp.delete_contacts,
    "unsubscribe": mtp.unsubscribe,
    "resubscribe": mtp.resubscribe,
    "sync": mtp.sync,
}


@pytest.mark.parametrize("name", sorted(FORWARDS))
def test_methods_carry_the_functions_parameters_and_docs(name: str) -> None:
    method = getattr(pd.DataFrame({"email": []}).mailtrap, name)
    target = inspect.signature(FORWARDS[name])
    assert list(inspect.signature(method).parameters) == list(target.parameters)[1:]
    doc = (inspect.getdoc(FORWARDS[name]) or "").split("\nExamples\n--------")[0].rstrip()
    assert doc and doc in (method.__doc__ or "")
    assert ">>>" not in (method.__doc__ or "")  # examples stay the function's own doctests


def test_schema_takes_an_optional_client() -> None:
    params = inspect.signature(pd.DataFrame().mailtrap.schema).parameters
    assert params["client"].default is None and "unknown" in params


def test_accessor_is_stateless() -> None:
    df = pd.DataFrame({"email": ["a@x.io"]})
    report = df.mailtrap.validate(fields=[])
    assert report.ok and df.attrs == {} and not vars(df.mailtrap).keys() - {"_df"}
