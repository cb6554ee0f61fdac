"""Tabular datasets and a CSV reader that explains itself.

``read_csv_dataset`` turns a CSV file (the Telco customer-churn file is the classic) into
the float32 matrix a network needs, using only the csv module: numeric columns are
detected and scaled, text columns one-hot encoded, the target mapped to class ids, and
every step is written down in a ``PreprocessingReport`` a lesson can show. A problem in
the file is a ValueError naming the file, the row (as a spreadsheet numbers it: the
header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .preprocessing import ScalingParams

__all__ = [
    "PreprocessingReport",
    "ReadCancelled",
    "csv_header_of_text",
    "detect_delimiter",
    "TabularDataset",
    "load_breast_cancer_data",
    "read_csv_dataset",
    "read_csv_text",
]

_YES_NO = {"yes": 1, "no": 0, "true": 1, "false": 0, "y": 1, "n": 0}
_BINARY_WORDS = ({"yes", "no"}, {"true", "false"}, {"y", "n"})
MAX_CLASSES = 50
#: a numeric cell beyond this is refused: float32 holds ±3.4e38, and min-max scaling needs
#: max − min to fit too (1e308 − (−1e308) overflows even float64 and made NaN features)
MAX_MAGNITUDE = 1e38
#: separators a CSV file may use: spreadsheets in much of Europe save with ";" (the comma
#: is their decimal mark), some tools with tabs or "|"
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons (;)", "\t": "tabs", "|": "bars (|)"}
#: rows read between two progress reports
_PROGRESS_ROWS = 20_000


class ReadCancelled(Exception):
    """The reader's `progress` callback returned False: reading stopped, nothing kept."""


@dataclass
class PreprocessingReport:
    """What ``read_csv_dataset`` did, step by step.

    ``lines`` are sentences for a lesson to display. The other fields let code repeat the
    same transformation on a new row with ``encode``.
    """

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped_rows: tuple[int, ...] = ()
    dropped_columns: tuple[str, ...] = ()
    numeric_columns: tuple[str, ...] = ()
    categorical_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    binary_columns: dict[str, str] = field(default_factory=dict)
    fill_values: dict[str, object] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    target: str = ""
    target_mapping: dict[str, int] = field(default_factory=dict)
    scaling: ScalingParams | None = None
    delimiter: str = ","
    #: numbers written with a decimal comma ("3,5"), read in a semicolon-separated file
    decimal_comma: bool = False
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def encode(self, record: Mapping[str, object]) -> np.ndarray:
        """Encode one new row (column name -> cell text or number) exactly as the file
        was: float32 (F,). Unknown categories and unparsable numbers raise ValueError."""
        values: list[float] = []
        numeric: list[float] = []
        numeric_pos: list[int] = []
        for col in self.columns:
            if col not in record:
                raise ValueError(f"the row has no value for column '{col}'")
            cell = str(record[col]).strip()
            if cell == "" and col in self.fill_values:
                cell = str(self.fill_values[col])
            if col in self.numeric_columns:
                number = _parse_number(cell, self.decimal_comma)
                if number is None:
                    raise ValueError(f"column '{col}': {cell!r} is not a number")
                numeric_pos.append(len(values))
                numeric.append(number)
                values.append(number)
            elif col in self.binary_columns:
                cats = self.categorical_columns[col]
                if cell not in cats:
                    raise ValueError(f"column '{col}': {cell!r} is not one of {list(cats)}")
                values.append(1.0 if cell == self.binary_columns[col] else 0.0)
            else:
                cats = self.categorical_columns[col]
                if cell not in cats:
                    raise ValueError(f"column '{col}': {cell!r} is not one of {list(cats)}")
                values.extend(1.0 if cell == c else 0.0 for c in cats)
        out = np.asarray(values, dtype=np.float32)  # (F,)
        if self.scaling is not None and numeric_pos:
            out[numeric_pos] = self.scaling.apply(np.asarray([numeric], dtype=np.float32))[0]
        return out


@dataclass
class TabularDataset:
    """A table ready for a network: x float32 (N, F), y int64 class ids (N,)."""

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    class_names: tuple[str, ...]
    description: str
    synthetic: bool
    report: PreprocessingReport | None = None

    def __post_init__(self):
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        self.y = np.ascontiguousarray(self.y, dtype=np.int64)
        self.feature_names = tuple(self.feature_names)
        self.class_names = tuple(self.class_names)
        if self.x.ndim != 2 or self.y.ndim != 1 or len(self.x) != len(self.y):
            raise ValueError(f"x must be (N, F) and y (N,), got {self.x.shape} and {self.y.shape}")
        if self.x.shape[1] != len(self.feature_names):
            raise ValueError(
                f"{self.x.shape[1]} feature columns but {len(self.feature_names)} feature names"
            )
        if self.y.size and (self.y.min() < 0 or self.y.max() >= len(self.class_names)):
            raise ValueError("a class id in y has no class name")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def num_features(self) -> int:
        return self.x.shape[1]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _parse_number(cell: str, decimal_comma: bool = False) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        if not decimal_comma or cell.count(",") != 1:
            return None
        try:
            value = float(cell.replace(",", "."))
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def _free_in_steps(rows: list, step: int = 20_000) -> None:
    """Empty a long list a slice at a time: freeing a million rows at once is one C call
    that holds the GIL for half a second, and a reader in a worker thread would freeze the
    window that long."""
    while rows:
        del rows[-step:]


def _opens_unclosed_quote(text: str, first: int, last: int) -> bool:
    """Does the record on lines first…last (1-based) hold a quote that is never closed?
    Only asked for a record spanning several lines (rare: a cell with a line break)."""
    lines = text.splitlines()
    if last < len(lines):
        return False   # the record ended before the file did: its quotes were closed
    return "\n".join(lines[first - 1:]).count('"') % 2 == 1


def _unclosed_quote(source: str, first: int, last: int) -> str:
    return (f"{source}, row {first}: a cell opens a quote (\") that is never closed, so "
            f"rows {first}-{last} were read as one cell. Close the quote on row {first} "
            f"(or double it, \"\", to write a quote inside a cell).")


def detect_delimiter(text: str) -> str:
    """The separator of CSV `text`: the one of DELIMITERS that splits its first rows into
    the same number (≥ 2) of columns; a comma when it works, as the format's name says."""
    sample = text[:65536]
    best, best_cols = ",", 1
    for delim in DELIMITERS:
        counts = set()
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim)
            for cells in reader:
                if cells and any(c.strip() for c in cells):
                    counts.add(len(cells))
                if reader.line_num >= 20:
                    break
        except csv.Error:
            continue
        if len(counts) == 1 and (cols := counts.pop()) >= 2:
            if delim == ",":
                return ","
            if cols > best_cols:
                best, best_cols = delim, cols
    return best


def csv_header_of_text(text: str, source: str = "the file") -> list[str]:
    """The column names of CSV `text`: its first non-empty row, split by its separator."""
    try:
        for cells in csv.reader(io.StringIO(text[:1 << 20], newline=""),
                                delimiter=detect_delimiter(text)):
            if cells and any(c.strip() for c in cells):
                return [c.strip() for c in cells]
    except csv.Error as exc:
        raise ValueError(f"{source}, row 1: not valid CSV ({exc})") from None
    raise ValueError(f"{source} is empty")


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def read_csv_dataset(
    path: str | os.PathLike,
    target: str,
    drop: Iterable[str] = (),
    *,
    categorical: Iterable[str] = (),
    numeric: Iterable[str] = (),
    scaling: str | None = "min-max",
    missing: str = "drop",
    max_categories: int = 50,
    progress=None,
) -> tuple[TabularDataset, PreprocessingReport]:
    """Read a CSV file into ``(TabularDataset, PreprocessingReport)``.

    - ``target``: the column to predict. Yes/No (or True/False) becomes 0/1, whole
      numbers stay as they are, other text becomes ids in sorted order.
    - ``drop``: columns to ignore (an ID column, for example).
    - Column types are inferred: a column whose every filled cell is a number is numeric,
      a column of text is categorical. ``categorical=`` / ``numeric=`` force the choice.
      A mostly numeric column with some text is an error naming the first bad cell.
    - Categorical columns are one-hot encoded ("Contract=One year"); a column with only
      two values becomes one 0/1 column (the second value in sorted order, e.g.
      "Partner=Yes").
    - ``scaling``: "min-max" (to [0, 1], as the course does), "standard", or None, on
      numeric columns, fitted on the whole file. For a strict validation score, read with
      ``scaling=None`` and fit ``min_max_scale`` on the training split instead.
    - ``missing``: what to do with blank cells (Telco's TotalCharges is blank for brand
      new customers): "drop" the row (counted in the report), "mean" (numeric columns get
      the column mean, categorical ones a "(blank)" category; rows with a blank target
      are still dropped), or "error".
    - The separator is detected (commas; semicolons, with decimal commas, as spreadsheets
      in much of Europe save CSV; tabs; bars) and named in the report.
    - ``progress``: called now and then with the fraction done (0…1), from the thread that
      reads; returning False stops the reading with ``ReadCancelled``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError as exc:
        raise ValueError(f"{path} is a folder, not a CSV file") from exc
    except OSError as exc:
        raise ValueError(f"cannot open {path.name}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (undecodable byte at offset {exc.start}); save it as a UTF-8 CSV"
        ) from exc
    return read_csv_text(
        text, target, drop, source=str(path), categorical=categorical, numeric=numeric,
        scaling=scaling, missing=missing, max_categories=max_categories, progress=progress,
    )


def read_csv_text(
    text: str,
    target: str,
    drop: Iterable[str] = (),
    *,
    source: str = "<csv text>",
    categorical: Iterable[str] = (),
    numeric: Iterable[str] = (),
    scaling: str | None = "min-max",
    missing: str = "drop",
    max_categories: int = 50,
    progress=None,
) -> tuple[TabularDataset, PreprocessingReport]:
    """``read_csv_dataset`` for CSV already in memory; ``source`` names it in messages."""
    if scaling not in ("min-max", "standard", None):
        raise ValueError(f"scaling must be 'min-max', 'standard' or None, got {scaling!r}")
    if missing not in ("drop", "mean", "error"):
        raise ValueError(f"missing must be 'drop', 'mean' or 'error', got {missing!r}")
    drop = tuple(drop)
    force_cat = set(categorical)
    force_num = set(numeric)
    if force_cat & force_num:
        raise ValueError(f"columns both categorical and numeric: {sorted(force_cat & force_num)}")

    if not text.strip():
        raise ValueError(f"{source} is empty")

    def report_progress(fraction: float) -> None:
        if progress is not None and progress(min(1.0, max(0.0, fraction))) is False:
            raise ReadCancelled(f"reading {source} was cancelled")

    delimiter = detect_delimiter(text)
    decimal_comma = delimiter == ";"
    parse = (lambda cell: _parse_number(cell, True)) if decimal_comma else _parse_number
    header: list[str] | None = None
    header_row = 0
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # A row's number is the line it starts on: a cell in quotes may span lines, and an
    # unclosed quote swallows the rest of the file, which must not be blamed on its end.
    start = 1
    n_chars = max(1, len(text))
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            # a tuple of strings leaves the garbage collector's lists at its first pass: a
            # million row lists kept in them made every full collection walk them all,
            # holding the GIL (and so the window) for up to a second at a time
            cells = tuple([c.strip() for c in cells])
            if header is None:
                header, header_row = list(cells), line
                continue
            if len(cells) != len(header):
                if reader.line_num > line and _opens_unclosed_quote(text, line, reader.line_num):
                    raise ValueError(_unclosed_quote(source, line, reader.line_num))
                raise ValueError(
                    f"{source}, row {line}: {len(cells)} cells but the header (row {header_row}) "
                    f"has {len(header)} columns"
                )
            if reader.line_num > line and _opens_unclosed_quote(text, line, reader.line_num):
                raise ValueError(_unclosed_quote(source, line, reader.line_num))
            rows.append(cells)
            row_numbers.append(line)
            if len(rows) % _PROGRESS_ROWS == 0:
                # rows are about equally long: rows so far / rows expected, from the header
                report_progress(0.5 * min(1.0, len(rows) * (len(",".join(cells)) + 1) / n_chars))
    except csv.Error as exc:
        raise ValueError(f"{source}, row {start}: not valid CSV ({exc})") from exc
    if header is None:
        raise ValueError(f"{source} is empty")
    if len(header) == 1 and len(header[0]) > 1 and any(d in header[0] for d in ";\t|"):
        raise ValueError(
            f"{source}, row {header_row}: the header is one column ({header[0][:60]!r}); "
            f"its separator could not be told apart: use commas between columns")
    for i, name in enumerate(header):
        if not name:
            raise ValueError(f"{source}, row {header_row}: column {i + 1} of the header has no name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ValueError(f"{source}, row {header_row}: column name repeated: {', '.join(dupes)}")
    if target not in header:
        raise ValueError(
            f"{source} has no column '{target}' to predict; its columns are: {', '.join(header)}"
        )
    for name in (*drop, *force_cat, *force_num):
        if name not in header:
            raise ValueError(f"{source} has no column '{name}'; its columns are: {', '.join(header)}")
    if target in drop:
        raise ValueError(f"the target column '{target}' cannot also be dropped")
    if not rows:
        raise ValueError(f"{source} has a header but no data rows")

    report = PreprocessingReport(source=source, rows_read=len(rows), target=target,
                                 delimiter=delimiter, decimal_comma=decimal_comma)
    report.lines.append(f"Read {len(rows)} rows and {len(header)} columns from {source}.")
    if delimiter != ",":
        report.lines.append(
            f"The columns are separated by {_DELIMITER_NAMES[delimiter]}"
            + (", and numbers may use a decimal comma (3,5 = 3.5), as spreadsheets in much "
               "of Europe save CSV." if decimal_comma else "."))
    if drop:
        report.dropped_columns = drop
        report.lines.append(f"Ignored column{'s' if len(drop) > 1 else ''}: {', '.join(drop)}.")

    index = {name: i for i, name in enumerate(header)}
    features = [h for h in header if h != target and h not in drop]
    if not features:
        raise ValueError(f"{source}: no feature columns left besides '{target}'")

    # Decide each column's kind on the filled cells before touching blanks.
    kinds: dict[str, str] = {}
    for done, col in enumerate(features):
        report_progress(0.5 + 0.2 * done / len(features))
        j = index[col]
        filled = [(r, cells[j]) for r, cells in zip(row_numbers, rows) if cells[j] != ""]
        if not filled:
            raise ValueError(f"{source}: column '{col}' is blank in every row; drop it with drop=('{col}',)")
        bad = [(r, c) for r, c in filled if parse(c) is None]
        if col in force_cat:
            kinds[col] = "categorical"
        elif col in force_num or (bad and len(bad) < len(filled) / 2):
            if bad:
                r, c = bad[0]
                more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
                raise ValueError(
                    f"{source}, row {r}, column '{col}': {c!r} is not a number, but the column is "
                    f"numeric{more}. Fix the cell, or pass categorical=('{col}',)"
                )
            kinds[col] = "numeric"
        else:
            kinds[col] = "numeric" if not bad else "categorical"

    # Blank cells.
    tcol = index[target]
    blank_counts: dict[str, int] = {}
    keep = []
    for r, cells in zip(row_numbers, rows):
        blanks = [col for col in (*features, target) if cells[index[col]] == ""]
        if blanks and missing == "error":
            raise ValueError(
                f"{source}, row {r}, column '{blanks[0]}': the cell is blank "
                f"(pass missing='drop' or missing='mean' to handle blanks)"
            )
        for col in blanks:
            blank_counts[col] = blank_counts.get(col, 0) + 1
        drop_row = cells[tcol] == "" or (blanks and missing == "drop")
        keep.append(not drop_row)
    dropped = tuple(r for r, k in zip(row_numbers, keep) if not k)
    kept_rows = [r for r, k in zip(row_numbers, keep) if k]
    rows = [cells for cells, k in zip(rows, keep) if k]
    if blank_counts:
        where = ", ".join(f"{col}: {n}" for col, n in blank_counts.items())
        report.lines.append(f"Blank cells found ({where}).")
    if dropped:
        shown = ", ".join(str(r) for r in dropped[:10]) + (" ..." if len(dropped) > 10 else "")
        why = "a blank target" if missing != "drop" else "blank cells"
        report.lines.append(f"Dropped {len(dropped)} row{'s' if len(dropped) > 1 else ''} with {why} (rows {shown}).")
    if not rows:
        raise ValueError(f"{source}: every row has a blank cell; nothing is left to learn from")
    report.dropped_rows = dropped
    report.rows_kept = len(rows)

    # Target -> class ids.
    target_cells = [cells[tcol] for cells in rows]
    distinct = sorted(set(target_cells))
    if len(distinct) < 2:
        raise ValueError(f"{source}: the target '{target}' has only one value ({distinct[0]!r}); nothing to classify")
    if len(distinct) == 2 and {v.lower() for v in distinct} in _BINARY_WORDS:
        mapping = {v: _YES_NO[v.lower()] for v in distinct}
        class_names = tuple(sorted(distinct, key=lambda v: mapping[v]))
    elif all(parse(v) is not None for v in distinct):
        numbers = [parse(v) for v in distinct]
        if any(n != int(n) or n < 0 for n in numbers):
            raise ValueError(
                f"{source}: the target '{target}' holds numbers that are not class ids "
                f"(e.g. {distinct[0]!r}); this reader prepares classification data"
            )
        mapping = {v: int(parse(v)) for v in distinct}
        top = max(mapping.values())
        if top >= MAX_CLASSES:
            raise ValueError(f"{source}: target '{target}' has class id {top}; at most {MAX_CLASSES} classes")
        class_names = tuple(str(i) for i in range(top + 1))
    else:
        if len(distinct) > MAX_CLASSES:
            raise ValueError(f"{source}: target '{target}' has {len(distinct)} different values; too many classes")
        mapping = {v: i for i, v in enumerate(distinct)}
        class_names = tuple(distinct)
    y = np.fromiter((mapping[v] for v in target_cells), dtype=np.int64, count=len(rows))  # (N,)
    report.target_mapping = mapping
    counts = np.bincount(y, minlength=len(class_names))
    share = ", ".join(f"{name} = {mapping_id} ({counts[mapping_id]}, {100 * counts[mapping_id] / len(y):.1f}%)"
                      for name, mapping_id in sorted(mapping.items(), key=lambda kv: kv[1]))
    report.lines.append(f"Target '{target}' mapped to class ids: {share}.")

    # Features.
    columns: list[np.ndarray] = []
    names: list[str] = []
    numeric_blocks: list[int] = []
    numeric_names: list[str] = []
    for done, col in enumerate(features):
        report_progress(0.7 + 0.3 * done / len(features))
        j = index[col]
        cells = [c[j] for c in rows]
        if kinds[col] == "numeric":
            values = np.array([parse(c) if c != "" else np.nan for c in cells], dtype=np.float64)
            huge = np.abs(values) > MAX_MAGNITUDE
            if huge.any():
                i = int(np.argmax(huge))
                more = f" (and {int(huge.sum()) - 1} more)" if huge.sum() > 1 else ""
                raise ValueError(
                    f"{source}, row {kept_rows[i]}, column '{col}': {cells[i]!r} is too large "
                    f"a number{more}; the network computes with 32-bit numbers, so cells must "
                    f"lie within ±{MAX_MAGNITUDE:g}. Fix the cell or drop the column.")
            if np.isnan(values).any():
                fill = float(np.nanmean(values))
                values[np.isnan(values)] = fill
                report.fill_values[col] = fill
                report.lines.append(f"{col}: blank cells filled with the column mean {_fmt(fill)}.")
            numeric_blocks.append(len(names))
            numeric_names.append(col)
            columns.append(values[:, None])
            names.append(col)
        else:
            if "" in cells:
                cells = ["(blank)" if c == "" else c for c in cells]
                report.fill_values[col] = "(blank)"
            cats = tuple(sorted(set(cells)))
            if len(cats) > max_categories:
                raise ValueError(
                    f"{source}: column '{col}' has {len(cats)} different text values (more than "
                    f"{max_categories}); if it is an ID, pass drop=('{col}',)"
                )
            report.categorical_columns[col] = cats
            codes = np.array([cats.index(c) for c in cells], dtype=np.int64)
            if len(cats) == 2:
                report.binary_columns[col] = cats[1]
                columns.append((codes == 1).astype(np.float64)[:, None])
                names.append(f"{col}={cats[1]}")
                report.lines.append(f"{col}: two values, one column '{col}={cats[1]}' (1 = {cats[1]}, 0 = {cats[0]}).")
            else:
                block = np.zeros((len(cells), len(cats)))
                block[np.arange(len(cells)), codes] = 1.0
                columns.append(block)
                names.extend(f"{col}={c}" for c in cats)
                if len(cats) == 1:
                    report.lines.append(f"{col}: only one value ({cats[0]!r}) in the file; its column is constant.")
                else:
                    report.lines.append(f"{col}: one-hot encoded into {len(cats)} columns ({', '.join(cats)}).")
    x = np.hstack(columns)  # (N, F)
    report.numeric_columns = tuple(numeric_names)
    report.columns = tuple(features)

    if scaling is not None and numeric_blocks:
        block = x[:, numeric_blocks]
        if scaling == "min-max":
            lo = block.min(axis=0)
            hi = block.max(axis=0)
            span = hi - lo
            span[span == 0] = 1.0  # a constant column maps to 0
            shift, scale = lo, span
            params = ScalingParams("min-max", lo.astype(np.float32), span.astype(np.float32))
            for col, a, b in zip(numeric_names, lo, hi):
                report.lines.append(f"{col}: min-max scaled to [0, 1] (min {_fmt(a)}, max {_fmt(b)}).")
        else:
            mean = block.mean(axis=0)
            std = block.std(axis=0)
            std[std == 0] = 1.0
            shift, scale = mean, std
            params = ScalingParams("standard", mean.astype(np.float32), std.astype(np.float32))
            for col, m, s in zip(numeric_names, mean, std):
                report.lines.append(f"{col}: standardised (mean {_fmt(m)}, standard deviation {_fmt(s)}).")
        # Scaled in float64 so the minimum lands on exactly 0 and the maximum on 1.
        x[:, numeric_blocks] = (block - shift) / scale
        report.scaling = params
    elif numeric_blocks:
        report.lines.append(f"Numeric columns left unscaled: {', '.join(numeric_names)}.")

    report.lines.append(
        f"Result: {len(rows)} samples x {len(names)} features, {len(class_names)} classes."
    )
    _free_in_steps(rows)
    dataset = TabularDataset(
        x=x.astype(np.float32),
        y=y,
        feature_names=tuple(names),
        target_name=target,
        class_names=class_names,
        description=f"Read from {Path(source).name}: {len(rows)} rows, {len(names)} features after encoding.",
        synthetic=False,
        report=report,
    )
    return dataset, report


def load_breast_cancer_data() -> TabularDataset:
    """scikit-learn's bundled Wisconsin breast-cancer set (real data, 569 tumours,
    30 measurements each): y 0 = malignant, 1 = benign. Features are unscaled; fit
    ``min_max_scale`` or ``standardize`` on the training split."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return TabularDataset(
        x=bunch.data,
        y=bunch.target,
        feature_names=tuple(str(n) for n in bunch.feature_names),
        target_name="diagnosis",
        class_names=tuple(str(n) for n in bunch.target_names),
        description=(
            "Breast Cancer Wisconsin (Diagnostic): 569 real tumour samples, 30 measurements "
            "of cell nuclei from a digitised image; predict malignant (0) or benign (1). "
            "Bundled with scikit-learn."
        ),
        synthetic=False,
    )
