"""Tabular data: the CSV reader a learner points at their own file, and the small
teaching sets (insurance, churn, breast cancer)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from core.data import (
    INSURANCE_RULE,
    TabularDataset,
    churn_csv_text,
    load_breast_cancer_data,
    load_churn_synthetic,
    load_insurance,
    load_insurance_course_table,
    read_csv_dataset,
    write_churn_csv,
)

GOOD = """id,age,plan,smoker,bought
a,20,basic,no,No
b,40,gold,yes,Yes
c,30,silver,no,Yes
d,60,basic,yes,No
"""


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_by_hand(tmp_path):
    ds, report = read_csv_dataset(_write(tmp_path, GOOD), "bought", drop=("id",))
    assert ds.feature_names == ("age", "plan=basic", "plan=gold", "plan=silver", "smoker=yes")
    expected = np.array([
        # age (20..60 -> 0..1), one-hot plan, smoker=yes
        [0.00, 1, 0, 0, 0],
        [0.50, 0, 1, 0, 1],
        [0.25, 0, 0, 1, 0],
        [1.00, 1, 0, 0, 1],
    ], dtype=np.float32)
    np.testing.assert_allclose(ds.x, expected, atol=1e-7)
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
    np.testing.assert_array_equal(ds.y, [0, 1, 1, 0])
    assert ds.class_names == ("No", "Yes") and ds.target_name == "bought"
    assert ds.synthetic is False
    assert report.target_mapping == {"No": 0, "Yes": 1}
    text = str(report)
    assert "plan: one-hot encoded into 3 columns" in text
    assert "age: min-max scaled to [0, 1] (min 20, max 60)" in text
    assert "Ignored column: id" in text
    # the report repeats the transformation on a new row
    np.testing.assert_allclose(
        report.encode({"age": "50", "plan": "gold", "smoker": "no"}), [0.75, 0, 1, 0, 0], atol=1e-7)
    with pytest.raises(ValueError, match="platinum"):
        report.encode({"age": "50", "plan": "platinum", "smoker": "no"})


def test_standard_scaling_by_hand(tmp_path):
    ds, report = read_csv_dataset(_write(tmp_path, GOOD), "bought", drop=("id",), scaling="standard")
    ages = np.array([20.0, 40.0, 30.0, 60.0])
    mean = ages.mean()  # 37.5
    std = np.sqrt(((ages - mean) ** 2).mean())  # population std, as StandardScaler
    np.testing.assert_allclose(ds.x[:, 0], (ages - mean) / std, rtol=1e-6)
    ds2, _ = read_csv_dataset(_write(tmp_path, GOOD), "bought", drop=("id",), scaling=None)
    np.testing.assert_array_equal(ds2.x[:, 0], ages)


def test_other_target_kinds(tmp_path):
    text = "x,kind\n1,cat\n2,dog\n3,bird\n4,dog\n"
    ds, _ = read_csv_dataset(_write(tmp_path, text), "kind")
    assert ds.class_names == ("bird", "cat", "dog")
    np.testing.assert_array_equal(ds.y, [1, 2, 0, 2])
    ds, _ = read_csv_dataset(_write(tmp_path, "x,label\n1,0\n2,2\n3,1\n"), "label")
    np.testing.assert_array_equal(ds.y, [0, 2, 1])
    assert ds.class_names == ("0", "1", "2")
    with pytest.raises(ValueError, match="not class ids"):
        read_csv_dataset(_write(tmp_path, "x,price\n1,2.5\n2,3.5\n"), "price")
    with pytest.raises(ValueError, match="only one value"):
        read_csv_dataset(_write(tmp_path, "x,y\n1,Yes\n2,Yes\n"), "y")


def test_ragged_row_names_the_row(tmp_path):
    text = GOOD.replace("c,30,silver,no,Yes", "c,30,silver,no,Yes,extra")
    with pytest.raises(ValueError) as info:
        read_csv_dataset(_write(tmp_path, text, "ragged.csv"), "bought")
    msg = str(info.value)
    assert "ragged.csv" in msg and "row 4" in msg and "6 cells" in msg and "5 columns" in msg


def test_text_in_numeric_column_names_row_and_column(tmp_path):
    rows = [f"{i},{i % 2 and 'Yes' or 'No'}" for i in range(1, 21)]
    rows[15] = "abc,Yes"  # file row 17 (the header is row 1)
    path = _write(tmp_path, "tenure,Churn\n" + "\n".join(rows) + "\n", "churn.csv")
    with pytest.raises(ValueError) as info:
        read_csv_dataset(path, "Churn")
    msg = str(info.value)
    assert "churn.csv" in msg and "row 17" in msg and "column 'tenure'" in msg and "'abc'" in msg
    # forcing the column to be categorical is the documented way out
    ds, _ = read_csv_dataset(path, "Churn", categorical=("tenure",))
    assert "tenure=abc" in ds.feature_names


def test_missing_target_lists_the_columns(tmp_path):
    with pytest.raises(ValueError) as info:
        read_csv_dataset(_write(tmp_path, GOOD), "Churn")
    msg = str(info.value)
    assert "no column 'Churn'" in msg and "id, age, plan, smoker, bought" in msg


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("   \n\n", "is empty"),
    ("a,b,target\n", "no data rows"),
    ("a,,target\n1,2,Yes\n2,3,No\n", "column 2 of the header has no name"),
    ("a,a,target\n1,2,Yes\n2,3,No\n", "column name repeated: a"),
    ("id,target\nx1,Yes\nx2,No\nx3,Yes\n", "no feature columns left"),
])
def test_malformed_files(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_csv_dataset(_write(tmp_path, text), "target", drop=("id",) if "id" in text else ())


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,target\n1,Oui\n2,Non\xff\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_csv_dataset(path, "target")


def test_too_many_categories_suggests_dropping_an_id(tmp_path):
    rows = "\n".join(f"cust{i},{i},{'Yes' if i % 3 else 'No'}" for i in range(60))
    with pytest.raises(ValueError, match=r"drop=\('customerID',\)"):
        read_csv_dataset(_write(tmp_path, "customerID,tenure,Churn\n" + rows + "\n"), "Churn")


BLANKS = """tenure,Contract,TotalCharges,Churn
1,Month-to-month,29.85,No
0,Two year, ,No
34,One year,1889.5,Yes
0,Two year,,No
45,One year,1840.75,
2,Month-to-month,108.15,Yes
"""


def test_blank_cells_drop_policy_is_reported(tmp_path):
    ds, report = read_csv_dataset(_write(tmp_path, BLANKS), "Churn", scaling=None)
    assert len(ds) == 3
    assert report.dropped_rows == (3, 5, 6)
    assert report.rows_read == 6 and report.rows_kept == 3
    np.testing.assert_allclose(ds.x[:, ds.feature_names.index("TotalCharges")], [29.85, 1889.5, 108.15], rtol=1e-6)
    text = str(report)
    assert "TotalCharges: 2" in text and "Churn: 1" in text and "Dropped 3 rows" in text


def test_blank_cells_error_and_mean_policies(tmp_path):
    path = _write(tmp_path, BLANKS)
    with pytest.raises(ValueError, match="row 3, column 'TotalCharges'"):
        read_csv_dataset(path, "Churn", missing="error")
    ds, report = read_csv_dataset(path, "Churn", missing="mean", scaling=None)
    assert len(ds) == 5  # only the row with a blank target is gone
    mean = np.mean([29.85, 1889.5, 108.15])  # over the rows kept (row 6 has no target)
    np.testing.assert_allclose(ds.x[[1, 3], ds.feature_names.index("TotalCharges")], [mean, mean], rtol=1e-6)
    assert report.dropped_rows == (6,)


# --- synthetic churn ---------------------------------------------------------------------


def test_churn_csv_round_trip_through_the_reader(tmp_path):
    path = write_churn_csv(tmp_path / "churn.csv", n=600, seed=5)
    ds, report = read_csv_dataset(path, "Churn", drop=("customerID",))
    ref = load_churn_synthetic(n=600, seed=5)
    np.testing.assert_array_equal(ds.x, ref.x)
    np.testing.assert_array_equal(ds.y, ref.y)
    assert ref.synthetic is True and "SYNTHETIC" in ref.description
    assert "Contract=One year" in ds.feature_names
    # independent look at the file: blank TotalCharges exactly where tenure is 0
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 600
    blank = [i + 2 for i, r in enumerate(rows) if not r["TotalCharges"].strip()]
    assert blank and all(rows[i - 2]["tenure"] == "0" for i in blank)
    assert report.dropped_rows == tuple(blank)
    churned = sum(r["Churn"] == "Yes" for i, r in enumerate(rows) if i + 2 not in blank)
    assert ds.y.sum() == churned
    # the report re-encodes a raw row exactly like the file
    first = rows[0] if 2 not in blank else rows[1]
    np.testing.assert_allclose(report.encode(first), ds.x[0], atol=1e-6)


def test_churn_is_imbalanced_like_telco_and_seeded():
    ds = load_churn_synthetic()
    assert 1980 <= len(ds) < 2000
    assert 0.22 < ds.y.mean() < 0.31
    assert churn_csv_text(300, 1) == churn_csv_text(300, 1)
    assert churn_csv_text(300, 1) != churn_csv_text(300, 2)
    header = churn_csv_text(20, 0).splitlines()[0].split(",")
    for col in ("gender", "SeniorCitizen", "Partner", "tenure", "Contract", "MonthlyCharges",
                "TotalCharges", "Churn"):
        assert col in header
    assert 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    # month-to-month customers churn more, as in the real data
    m2m = ds.x[:, ds.feature_names.index("Contract=Month-to-month")] == 1
    assert ds.y[m2m].mean() > 2 * ds.y[~m2m].mean()


# --- insurance and breast cancer ---------------------------------------------------------


def test_insurance_is_synthetic_seeded_and_in_range():
    a, b = load_insurance(200, seed=0), load_insurance(200, seed=0)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, load_insurance(200, seed=1).x)
    assert a.synthetic is True and "SYNTHETIC" in a.description
    assert a.x.shape == (200, 2) and a.x.dtype == np.float32 and a.y.dtype == np.int64
    assert a.feature_names == ("age", "affordability")
    assert a.x[:, 0].min() >= 18 and a.x[:, 0].max() <= 70
    assert set(np.unique(a.x[:, 1])) == {0.0, 1.0}
    assert set(np.unique(a.y)) == {0, 1}


def test_insurance_is_what_one_sigmoid_neuron_can_learn():
    """An unregularised logistic regression (a single sigmoid neuron) recovers the rule
    and beats always guessing the majority class clearly."""
    from sklearn.linear_model import LogisticRegression

    ds = load_insurance(n=20000, seed=0)
    scaled = ds.x / np.array([100.0, 1.0], dtype=np.float32)  # age / 100, as the course does
    model = LogisticRegression(C=1e6, max_iter=1000).fit(scaled, ds.y)
    np.testing.assert_allclose(model.coef_[0, 0] / 100, INSURANCE_RULE["age_weight"], rtol=0.1)
    np.testing.assert_allclose(model.coef_[0, 1], INSURANCE_RULE["affordability_weight"], rtol=0.1)
    np.testing.assert_allclose(model.intercept_[0], INSURANCE_RULE["bias"], rtol=0.1)
    assert model.score(scaled, ds.y) > 0.8
    older = ds.y[ds.x[:, 0] >= 50].mean()
    younger = ds.y[ds.x[:, 0] < 30].mean()
    assert older > 0.8 and younger < 0.2


def test_insurance_course_table():
    ds = load_insurance_course_table()
    assert len(ds) == 28 and ds.feature_names == ("age", "affordability")
    assert ds.x[0].tolist() == [22.0, 1.0] and ds.y[0] == 0


def test_breast_cancer_is_sklearns_real_data():
    from sklearn.datasets import load_breast_cancer

    ref = load_breast_cancer()
    ds = load_breast_cancer_data()
    assert ds.x.shape == (569, 30) and ds.x.dtype == np.float32
    np.testing.assert_allclose(ds.x, ref.data, rtol=1e-6)
    np.testing.assert_array_equal(ds.y, ref.target)
    assert ds.class_names == ("malignant", "benign") and ds.synthetic is False


def test_tabular_dataset_validates_itself():
    with pytest.raises(ValueError, match="feature names"):
        TabularDataset(np.zeros((3, 2)), np.zeros(3), ("a",), "t", ("n", "y"), "", False)
    with pytest.raises(ValueError, match="class id"):
        TabularDataset(np.zeros((2, 1)), [0, 2], ("a",), "t", ("n", "y"), "", False)
    with pytest.raises(ValueError, match=r"\(N, F\)"):
        TabularDataset(np.zeros((3, 1)), np.zeros(2), ("a",), "t", ("n",), "", False)
