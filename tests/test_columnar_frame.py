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
