"""CSV files as learners' spreadsheets write them (issue 13 item 10): semicolon-separated
files are read, an unclosed quote is reported on the row that opens it, numbers too large
for the network are named by row and column, and reading reports progress and can be
cancelled."""
import numpy as np
import pytest

from core.data import ReadCancelled, csv_header_of_text, read_csv_dataset, read_csv_text
from core.teaching.imbalance import load_table, raw_preview
from core.teaching.tasks import csv_header, prepare_csv


def table(n=60, sep=","):
    rows = [sep.join([str(i), str(20 + i % 50), str(1000 + 7 * i), "Yes" if i % 3 == 0 else "No"])
            for i in range(n)]
    return sep.join(["id", "age", "income", "Churn"]) + "\n" + "\n".join(rows) + "\n"


def test_a_semicolon_separated_file_reads_like_the_comma_one():
    comma, _ = read_csv_text(table(), "Churn", ("id",))
    semi, report = read_csv_text(table(sep=";"), "Churn", ("id",))
    np.testing.assert_array_equal(semi.x, comma.x)
    np.testing.assert_array_equal(semi.y, comma.y)
    assert any("separated by semicolons" in line for line in report.lines)
    assert csv_header_of_text(table(sep=";")) == ["id", "age", "income", "Churn"]


def test_semicolon_files_may_use_decimal_commas():
    text = "price;size;label\n" + "\n".join(f"{i},5;{i};{'a' if i % 2 else 'b'}"
                                           for i in range(12))
    ds, report = read_csv_text(text, "label", scaling=None)
    np.testing.assert_allclose(ds.x[:3, 0], [0.5, 1.5, 2.5])
    assert report.encode({"price": "7,25", "size": "1"})[0] == pytest.approx(7.25)


def test_tab_separated_files_are_detected_and_the_header_helpers_agree(tmp_path):
    path = tmp_path / "people.tsv"
    path.write_text(table(sep="\t"), encoding="utf-8")
    assert csv_header(path) == ["id", "age", "income", "Churn"]
    data = prepare_csv(path, "Churn", ("id",))
    assert data.x_train.shape[1] == 2


def test_an_unclosed_quote_is_reported_on_the_row_that_opens_it():
    lines = table().splitlines()
    lines[4] = '4,"24,1028,No'                  # row 5 as a spreadsheet numbers it
    with pytest.raises(ValueError) as err:
        read_csv_text("\n".join(lines) + "\n", "Churn", ("id",))
    msg = str(err.value)
    assert "row 5:" in msg and "never closed" in msg
    assert "row 51" not in msg and "row 61:" not in msg


def test_an_unclosed_quote_that_keeps_the_column_count_is_still_found():
    # the quote swallows the rest of the file into the last cell: still 4 cells
    lines = table().splitlines()
    lines[4] = '4,24,1028,"No'
    with pytest.raises(ValueError, match=r"row 5: a cell opens a quote"):
        read_csv_text("\n".join(lines) + "\n", "Churn", ("id",))


def test_a_closed_quote_spanning_lines_is_a_normal_cell():
    text = 'id,note,Churn\n1,"two\nlines",Yes\n2,plain,No\n3,x,Yes\n4,y,No\n'
    ds, report = read_csv_text(text, "Churn", ("id",))
    assert len(ds) == 4


@pytest.mark.parametrize("cell", ["1e308", "-1e308", "3e38"])
def test_numbers_too_large_for_the_network_name_their_row_and_column(cell):
    text = table().replace("1035", cell)        # row 7 (id 5): 1000 + 7·5
    with pytest.raises(ValueError) as err:
        read_csv_text(text, "Churn", ("id",))
    msg = str(err.value)
    assert "row 7" in msg and "column 'income'" in msg and repr(cell) in msg


def test_the_dashboard_and_the_churn_lesson_name_them_too(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(table().replace("1035", "1e308"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 7, column 'income'"):
        prepare_csv(path, "Churn", ("id",))      # was: NaN features, then an unnamed error
    with pytest.raises(ValueError, match=r"row 7, column 'income'"):
        load_table(path.read_text(), "huge.csv", "Churn", ["id"])   # was: NaN features


def test_large_but_representable_numbers_still_scale_to_finite_features():
    ds, _ = read_csv_text(table().replace("1035", "1e37"), "Churn", ("id",))
    assert np.isfinite(ds.x).all()


def test_reading_reports_progress_and_can_be_cancelled():
    text = table(50_000)
    seen = []
    read_csv_text(text, "Churn", ("id",), progress=seen.append)
    assert seen == sorted(seen) and 0 <= seen[0] < 0.5 and seen[-1] >= 0.7
    assert len(seen) >= 4
    calls = []

    def cancel_at_second(fraction):
        calls.append(fraction)
        return len(calls) < 2

    with pytest.raises(ReadCancelled):
        read_csv_text(text, "Churn", ("id",), progress=cancel_at_second)
    assert len(calls) == 2


def test_unreadable_file_says_so(tmp_path):
    path = tmp_path / "locked.csv"
    path.write_text(table(), encoding="utf-8")
    path.chmod(0)
    try:
        if path.stat().st_mode and _can_read(path):
            pytest.skip("running as a user who can read any file")
        with pytest.raises(ValueError, match="cannot open locked.csv"):
            read_csv_dataset(path, "Churn")
    finally:
        path.chmod(0o600)


def _can_read(path):
    try:
        path.read_bytes()
        return True
    except OSError:
        return False


def test_the_churn_preview_follows_the_files_separator():
    t = load_table(table(sep=";"), "semi.csv", "Churn", ["id"])
    header, rows = raw_preview(t, 3)
    assert header == ["id", "age", "income", "Churn"] and rows[0] == ["0", "20", "1000", "Yes"]
