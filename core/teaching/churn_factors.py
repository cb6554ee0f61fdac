"""Why do customers leave? The churn rate per value of each factor, before any network.

Tutorial 18 starts from the question "what are the factors?": the course plots churn
against tenure and monthly charges before it trains anything. `factor_rates` splits the
customers by one column (its categories, or ranges of a number) and counts, per group, how
many left. The rows are the ones the network sees (rows the reader dropped are left out
too), so every count here matches the preprocessing panel.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from core.data.tabular import _parse_number, detect_delimiter

__all__ = ["Bucket", "FactorRates", "read_columns", "factor_rates", "choose_factors",
           "churn_factors", "COURSE_FACTORS"]

#: the course's factors, in its order (the Telco file's spelling; matched ignoring case)
COURSE_FACTORS = ("tenure", "Contract", "MonthlyCharges")
#: a number column with at most this many distinct values is shown value by value (0/1 flags)
MAX_CATEGORIES = 12
#: ranges a number column is cut into (about: the edges are rounded to 1, 1.5, 2, 2.5 or 5 × 10^k)
NUMBER_BINS = 5
#: groups smaller than this do not decide which columns "tell the most"
MIN_GROUP = 20


@dataclass(frozen=True)
class Bucket:
    label: str          # "Month-to-month", "0–12"
    count: int          # customers in the group
    positive: int       # of them, customers of the class asked about (churned)

    @property
    def rate(self) -> float:
        return self.positive / self.count if self.count else 0.0


@dataclass(frozen=True)
class FactorRates:
    column: str
    numeric: bool
    buckets: tuple[Bucket, ...]
    positive_label: str     # "Churn = Yes"
    overall: float          # the rate over all rows counted

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    def spread(self, min_group: int = MIN_GROUP) -> float:
        """Highest minus lowest rate over groups of at least `min_group` customers."""
        rates = [b.rate for b in self.buckets if b.count >= min_group]
        return max(rates) - min(rates) if len(rates) >= 2 else 0.0


def read_columns(text: str, skip_rows=()) -> tuple[list[str], dict[str, list[str]]]:
    """The header and each column's cells (stripped) of CSV `text`, read as core.data reads
    it: its own separator, blank lines skipped, a row numbered by the line it starts on;
    rows whose number is in `skip_rows` (the reader's dropped rows) are left out."""
    skip = set(int(r) for r in skip_rows)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    header, columns = None, None
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not cells or all(not c.strip() for c in cells):
            continue
        cells = [c.strip() for c in cells]
        if header is None:
            header = cells
            columns = {name: [] for name in header}
            continue
        if line in skip or len(cells) != len(header):
            continue
        for name, cell in zip(header, cells):
            columns[name].append(cell)
    if header is None:
        raise ValueError("the file has no header row")
    return header, columns


def _nice_step(span: float, bins: int) -> float:
    raw = span / max(1, bins)
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 1.5, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def _number_label(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:,.0f}"


def _positives(positive) -> set[str]:
    return {positive.strip()} if isinstance(positive, str) else {str(p).strip() for p in positive}


def factor_rates(cells, target_cells, positive, column: str = "",
                 decimal_comma: bool = False, target_name: str = "target",
                 positive_name: str | None = None) -> FactorRates:
    """The share of rows whose target is `positive` (a cell text, or several: a numeric
    target may be written "1" and "1.0"), per group of `cells`.

    A column whose non-blank cells are all numbers with more than MAX_CATEGORIES distinct
    values is cut into about NUMBER_BINS ranges [a, b) of one rounded width (the last one
    closed); any other column is grouped by its values, most frequent first. Blank cells
    are not counted."""
    cells = [str(c).strip() for c in cells]
    target = [str(t).strip() for t in target_cells]
    if len(cells) != len(target):
        raise ValueError("one target cell per row is needed")
    keep = [i for i, c in enumerate(cells) if c != "" and target[i] != ""]
    wanted = _positives(positive)
    hit = np.array([target[i] in wanted for i in keep], dtype=bool)
    values = [cells[i] for i in keep]
    numbers = [_parse_number(v, decimal_comma) for v in values]
    numeric = bool(values) and all(n is not None for n in numbers)
    label = f"{target_name} = {positive_name or ' / '.join(sorted(wanted))}"
    overall = float(hit.mean()) if hit.size else 0.0
    if numeric and len(set(numbers)) > MAX_CATEGORIES:
        x = np.asarray(numbers, dtype=np.float64)
        lo, hi = float(x.min()), float(x.max())
        step = _nice_step(hi - lo, NUMBER_BINS)
        start = math.floor(lo / step) * step
        n_bins = max(1, int(math.ceil((hi - start) / step)))
        if start + n_bins * step <= hi:       # hi on an edge: the last range includes it
            n_bins += 1
        index = np.minimum(((x - start) // step).astype(int), n_bins - 1)
        buckets = []
        for k in range(n_bins):
            inside = index == k
            a, b = start + k * step, start + (k + 1) * step
            buckets.append(Bucket(f"{_number_label(a)}–{_number_label(b)}",
                                  int(inside.sum()), int(hit[inside].sum())))
        return FactorRates(column, True, tuple(buckets), label, overall)
    groups: dict[str, list[int]] = {}
    for v, h in zip(values, hit):
        g = groups.setdefault(v, [0, 0])
        g[0] += 1
        g[1] += int(h)
    order = sorted(groups, key=lambda v: (-groups[v][0], v))
    if numeric:      # a few numbers (a 0/1 flag): in their order, not by size
        order = sorted(groups, key=lambda v: _parse_number(v, decimal_comma))
    buckets = tuple(Bucket(v, groups[v][0], groups[v][1]) for v in order)
    return FactorRates(column, False, buckets, label, overall)


def choose_factors(rates: dict[str, FactorRates], how_many: int = 3) -> list[str]:
    """The course's factors when the table has them (tenure, contract, monthly charges);
    otherwise the columns whose groups' rates differ the most (and are not an ID: a column
    with a group per row tells nothing)."""
    by_lower = {name.lower(): name for name in rates}
    course = [by_lower[f.lower()] for f in COURSE_FACTORS if f.lower() in by_lower]
    if len(course) == len(COURSE_FACTORS):
        return course[:how_many]
    usable = [n for n, r in rates.items() if r.numeric or len(r.buckets) <= MAX_CATEGORIES]
    ranked = sorted(usable, key=lambda n: -rates[n].spread())
    return (course + [n for n in ranked if n not in course])[:how_many]


def churn_factors(text: str, target: str, positive, skip_rows=(), drop=(),
                  decimal_comma: bool = False, how_many: int = 3,
                  positive_name: str | None = None) -> list[FactorRates]:
    """The churn rate by the factors worth showing first, for CSV `text` (see
    `choose_factors`); `drop` (IDs) and the target are never factors. `positive`: the target
    cell text(s) of the class asked about (a reader's `target_mapping` keys)."""
    header, columns = read_columns(text, skip_rows)
    if target not in columns:
        raise ValueError(f"there is no column '{target}'")
    leave_out = set(drop) | {target}
    rates = {name: factor_rates(columns[name], columns[target], positive, name, decimal_comma,
                                target, positive_name)
             for name in header if name not in leave_out}
    return [rates[name] for name in choose_factors(rates, how_many)]
