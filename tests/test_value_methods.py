"""The method texts stored with each run: the same data must give the same text."""

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from cxtext.value.methods import method_changes, method_shares, method_summary

METHODS = st.sampled_from(["crm", "simple_rate", "bgnbd_gammagamma", None])


@given(st.lists(METHODS, min_size=1, max_size=40), st.randoms())
def test_method_shares_do_not_depend_on_row_order(methods, rnd):
    shuffled = list(methods)
    rnd.shuffle(shuffled)
    assert method_shares(pd.Series(methods, dtype=object)) == method_shares(
        pd.Series(shuffled, dtype=object)
    )


def test_ties_are_ordered_by_name_and_the_largest_share_comes_first():
    assert method_shares(pd.Series(["simple_rate", "crm"])) == "crm 50%/simple_rate 50%"
    assert method_shares(pd.Series(["crm", "bgnbd_gammagamma", "bgnbd_gammagamma", None])) == (
        "bgnbd_gammagamma 50%/crm 25%/unknown 25%"
    )


def test_summary_and_changes_use_the_same_text():
    before = method_summary(pd.DataFrame({"method": ["simple_rate", "crm"]}), None)
    after = method_summary(pd.DataFrame({"method": ["crm", "simple_rate"]}), None)
    assert before == after == {"clv": "crm 50%/simple_rate 50%"}
    assert method_changes(before, after) == []
