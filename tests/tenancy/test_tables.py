"""tenancy.tables: the township filter and column sort the overview tables share. Query parameters
are data: an unknown township or column falls back to the default with a message, never an error."""
from __future__ import annotations

import pytest

from tenancy.tables import TableQuery, Township, filter_sort, parse_table_query, sort_headers

TOWNSHIPS = [Township(3, "古沛镇"), Township(9, "明东街道")]
COLUMNS = ("name", "score")


def _parse(**params):
    return parse_table_query(params, columns=COLUMNS, default_sort="name", townships=TOWNSHIPS)


def test_a_valid_query():
    query = _parse(township="9", sort="-score")
    assert (query.township, query.sort, query.descending, query.errors) == (9, "score", True, ())
    assert query.params() == {"sort": "-score", "township": "9"}


@pytest.mark.parametrize("params, errors", [
    ({}, 0), ({"township": ""}, 0), ({"sort": ""}, 0),
    ({"township": "4"}, 1), ({"township": "abc"}, 1), ({"township": "3 OR 1=1"}, 1),
    ({"sort": "password"}, 1), ({"sort": "-"}, 0), ({"sort": "--score"}, 0), ({"township": "4", "sort": "x"}, 2),
])
def test_bad_values_fall_back_to_the_default(params, errors):
    query = _parse(**params)
    if params.get("township") == "3 OR 1=1" or params.get("township") in ("4", "abc"):
        assert query.township is None
    assert len(query.errors) == errors
    if errors or not params.get("sort"):
        assert query.sort in COLUMNS


def test_missing_values_go_last_both_ways():
    rows = [{"name": "a", "score": 2, "t": 3}, {"name": "b", "score": None, "t": 3}, {"name": "c", "score": 5, "t": 9},
            {"name": "d", "score": 2, "t": 9}]
    keys = {"name": lambda r: r["name"], "score": lambda r: r["score"]}

    def order(query):
        return [r["name"] for r in filter_sort(rows, query, township_of=lambda r: r["t"], keys=keys,
                                               tie=lambda r: r["name"])]

    assert order(TableQuery(sort="score")) == ["a", "d", "c", "b"]
    assert order(TableQuery(sort="score", descending=True)) == ["c", "a", "d", "b"]  # ties keep the tie order
    assert order(TableQuery(sort="name", descending=True)) == ["d", "c", "b", "a"]
    assert order(TableQuery(sort="score", township=9)) == ["d", "c"]


def test_headers_turn_the_current_column_round():
    headers = sort_headers(TableQuery(sort="score", township=3), [{"key": "name"}, {"key": "score"}], {"district": "1"})
    assert headers[0]["params"] == "district=1&sort=name&township=3" and headers[0]["aria"] == "none"
    assert headers[1]["params"] == "district=1&sort=-score&township=3" and headers[1]["aria"] == "ascending"
