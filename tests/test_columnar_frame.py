"""A Frame sent to a worker process (pickled) arrives with the same rows and values: the text columns
travel as pyarrow arrays and date vocabularies as day numbers (engine/columnar/frame.py), not as they
are held."""
from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import numpy as np

from engine.columnar.frame import Frame, cat_from_values, num_from_values, objects


def test_a_pickled_frame_holds_the_same_rows():
    cols = {"established_on": cat_from_values([date(2023, 5, 1), None, date(2020, 1, 31)], "date"),
            "tags": cat_from_values([("专精特新",), (), None], "tags"),
            "revenue_ytd": num_from_values([Decimal("12.30"), None, Decimal("-1.05")], "money")}
    frame = Frame(3, objects(["9150010100000001X", "9150010100000002X", "id 3"]),
                  objects(["甲公司", "乙公司", "丙 公司"]), objects(["分水镇", "高峰街道", "分水镇"]),
                  np.array([True, False, True]), cols)
    back = pickle.loads(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))
    assert [back.row_values(i) for i in range(3)] == [frame.row_values(i) for i in range(3)]
    assert all(type(v) is date for v in back.columns["established_on"].vocab)
    assert back.enterprise_id.dtype == object and back.name.tolist() == frame.name.tolist()


def test_ids_and_names_given_as_arrow_arrays_read_as_the_same_rows():
    """The Arrow reader leaves a batch's ids and names as pyarrow arrays (Frame.arrow_texts): read, copied,
    pickled or taken, the frame holds the same Python strings as one built from lists."""
    import dataclasses

    import pytest
    pa = pytest.importorskip("pyarrow")
    ids, names = ["9150010100000001X", "9150010100000002X", "id 3"], ["甲公司", "乙公司", "丙 公司"]
    cols = {"established_on": cat_from_values([date(2023, 5, 1), None, date(2020, 1, 31)], "date")}

    def made(i, n):
        return Frame(3, i, n, objects(["分水镇", "高峰街道", "分水镇"]), np.array([True, False, True]), dict(cols))
    lazy, plain = made(pa.array(ids), pa.array(names)), made(objects(ids), objects(names))
    assert set(lazy.arrow_texts) == {"enterprise_id", "name"} and not plain.arrow_texts
    assert "enterprise_id" not in lazy.__dict__                     # no Python strings made yet
    assert "name" not in lazy.narrowed().__dict__ and "name" not in lazy.all_categorical().__dict__
    assert "name" not in lazy.__dict__                              # nor by the copies the evaluator makes
    back = pickle.loads(pickle.dumps(lazy, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.enterprise_id.tolist() == ids and back.name.tolist() == names
    assert [lazy.row_values(i) for i in range(3)] == [plain.row_values(i) for i in range(3)]
    assert lazy.enterprise_id.dtype == object and lazy.enterprise_id.tolist() == ids
    assert dataclasses.replace(lazy, columns={}).name.tolist() == names
    assert lazy.take([2, 0]).name.tolist() == ["丙 公司", "甲公司"]
    with pytest.raises(AttributeError):
        lazy.town_code
