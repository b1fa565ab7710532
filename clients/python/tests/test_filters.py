"""The filter builder makes the proto Filter the server reads."""

import pytest
from google.protobuf import json_format

from jointspace import F


def as_dict(f):
    return json_format.MessageToDict(f.proto)


def test_conditions():
    assert as_dict(F.eq("color", "blue")) == {"equals": {"key": "color", "value": "blue"}}
    assert as_dict(F.in_("n", [1, "2", True, None])) == {"in": {"key": "n", "values": [1.0, "2", True, None]}}
    assert as_dict(F.range("n", gte=10, lt=20)) == {"range": {"key": "n", "gte": 10.0, "lt": 20.0}}
    assert as_dict(F.exists("info.author")) == {"exists": "info.author"}


def test_and_or_not_flatten():
    a, b, c = F.eq("a", 1), F.eq("b", 2), F.eq("c", 3)
    assert as_dict(a & b & c) == {"and": {"filters": [as_dict(a), as_dict(b), as_dict(c)]}}
    assert as_dict(a | (b | c)) == {"or": {"filters": [as_dict(a), as_dict(b), as_dict(c)]}}
    assert as_dict((a & b) | c) == {"or": {"filters": [as_dict(a & b), as_dict(c)]}}
    assert as_dict(~a) == {"not": as_dict(a)}
    assert ~~a == a


def test_range_needs_a_bound():
    with pytest.raises(ValueError):
        F.range("n")
