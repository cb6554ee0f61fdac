"""A character-level name model (the text lesson after the course's tutorials 33–36).

The names are the English first names that Faker ships (6,824 in Faker 40) as plain Python data
(`faker.providers.person.en`, the US baby-name list): nothing is downloaded, and importing
that one module reads no file and starts no Faker instance.

The model reads the last `CONTEXT` characters and says which character comes next
(windowed many-to-one): Embedding → LSTM → Dense(softmax). A name "emma" becomes the
windows

    ^^^^^^^^ → e     ^^^^^^^e → m     ^^^^^^em → m     ^^^^^emm → a     ^^^^emma → $

with `^` the start marker (padding before the first letter: the model knows where a name
begins) and `$` the end marker (the model decides where a name ends). Sampling repeats
the prediction, drawing each next character from softmax(logits / T): T < 1 sharpens the
distribution towards the likeliest letters, T > 1 flattens it towards any letter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

START = "^"
END = "$"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: ids: 0 the start marker, 1 the end marker, then a…z
VOCABULARY = START + END + LETTERS
START_ID, END_ID = 0, 1
CHAR_TO_ID = {c: i for i, c in enumerate(VOCABULARY)}
#: characters the model reads before predicting the next one
CONTEXT = 8
#: a sampled name stops here if the model never chose the end marker
MAX_NAME_LENGTH = 16
#: the temperature slider's range
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.2, 2.0

_NAME_RE = re.compile(r"[a-z]+")


def load_names() -> list[str]:
    """Faker's English first names, lower case, each once, sorted (offline)."""
    try:
        from faker.providers.person.en import Provider
    except ImportError as exc:   # the dependency is in pyproject.toml; say what is missing
        raise RuntimeError("the name list comes with the Python package 'faker', which is "
                           "not installed: pip install faker") from exc
    names = {n.lower() for n in Provider.first_names}
    return sorted(n for n in names if _NAME_RE.fullmatch(n))


def encode(text: str) -> list[int]:
    """Letter ids of `text` (lower-cased); ValueError with a sentence for anything else."""
    text = text.strip().lower()
    bad = sorted({c for c in text if c not in LETTERS})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise ValueError(f"names here are made of the letters a to z only; {shown} "
                         f"{'is' if len(bad) == 1 else 'are'} not one")
    return [CHAR_TO_ID[c] for c in text]


def context_of(prefix_ids: list[int], context: int = CONTEXT) -> np.ndarray:
    """The model's input for "what comes after this prefix": the last `context` ids of
    start markers followed by the prefix."""
    padded = [START_ID] * context + list(prefix_ids)
    return np.asarray(padded[len(padded) - context:], np.float32)


def training_windows(names: list[str], context: int = CONTEXT):
    """(x (W, context) float32 ids, y (W,) int64 next-character ids): one window per
    letter of every name and one more for its end."""
    xs, ys = [], []
    for name in names:
        ids = encode(name)
        padded = [START_ID] * context + ids
        for k, target in enumerate(ids + [END_ID]):
            xs.append(padded[k:k + context])
            ys.append(target)
    return np.asarray(xs, np.float32), np.asarray(ys, np.int64)


def make_model(units: int = 64, embedding: int = 16, seed: int = 0, learning_rate=0.01):
    """Embedding(V, embedding) → LSTM(units) → Dense(V, softmax), compiled with Adam."""
    from core.layers import LSTM, Dense, Embedding
    from core.model import Sequential
    from core.optimizers import Adam

    v = len(VOCABULARY)
    model = Sequential([Embedding(v, embedding), LSTM(units), Dense(v, activation="softmax")],
                       input_shape=(CONTEXT,), seed=seed)
    model.compile(optimizer=Adam(learning_rate, clipnorm=5.0),
                  loss="sparse_categorical_crossentropy")
    return model


def blas_one_thread():
    """A context in which NumPy's BLAS runs on one thread: the LSTM's products are small
    (128 × 64 by 64 × 256), and on a busy 2-core machine BLAS's own threads made each
    training step ten times slower than one thread (0.26 s against 0.026 s, measured)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


# --- temperature and sampling -----------------------------------------------------------------
def check_temperature(temperature) -> float:
    t = float(temperature)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"the temperature must be a positive number, got {temperature!r}")
    return t


def softmax_with_temperature(logits, temperature: float) -> np.ndarray:
    """softmax(logits / T) along the last axis, in float64 (rows sum to 1)."""
    t = check_temperature(temperature)
    z = np.asarray(logits, np.float64) / t
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def logits_from_probabilities(p) -> np.ndarray:
    """log p: a softmax output's logits up to a constant per row, which softmax ignores
    (an underflowed 0 becomes a very unlikely, not an impossible, choice)."""
    return np.log(np.maximum(np.asarray(p, np.float64), 1e-300))


def draw(probabilities, rng: np.random.Generator) -> np.ndarray:
    """One category per row of `probabilities` (K, V), by inverse CDF."""
    p = np.asarray(probabilities, np.float64)
    cdf = np.cumsum(p, axis=1)
    u = rng.random((len(p), 1)) * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), p.shape[1] - 1)


def sample_names(model, count: int = 10, temperature: float = 1.0, seed: int | None = 0,
                 max_length: int = MAX_NAME_LENGTH) -> list[str]:
    """`count` names drawn from `model`, all at once: each step predicts the next
    character of every unfinished name and draws it from softmax(logits / T)."""
    t = check_temperature(temperature)
    rng = np.random.default_rng(seed)
    context = int(model.input_shape[0])
    windows = np.full((count, context), START_ID, np.float32)
    letters: list[list[str]] = [[] for _ in range(count)]
    open_ = np.ones(count, bool)
    for _ in range(max_length):
        rows = np.flatnonzero(open_)
        if not len(rows):
            break
        p = model.predict(windows[rows])
        chosen = draw(softmax_with_temperature(logits_from_probabilities(p), t), rng)
        for r, c in zip(rows, chosen):
            if c == END_ID or c == START_ID:   # the start marker never follows a letter
                open_[r] = False
            else:
                letters[r].append(VOCABULARY[c])
        windows[rows, :-1] = windows[rows, 1:]
        windows[rows, -1] = chosen
    return ["".join(s) for s in letters]


@dataclass(frozen=True)
class NextLetter:
    char: str           # "a" … "z", or END for "the name ends here"
    probability: float

    @property
    def label(self) -> str:
        return "(end)" if self.char == END else self.char


def next_letter_probabilities(model, prefix: str, temperature: float = 1.0) -> list[NextLetter]:
    """Every possible next character after `prefix` (letters only) with its probability,
    likeliest first; the start marker, which never follows, is left out."""
    ids = encode(prefix)
    p = model.predict(context_of(ids, int(model.input_shape[0]))[None])[0]
    q = softmax_with_temperature(logits_from_probabilities(p), temperature)
    q[START_ID] = 0.0
    q = q / q.sum()
    order = np.argsort(-q, kind="stable")
    return [NextLetter(VOCABULARY[i], float(q[i])) for i in order if i != START_ID]


def novel_share(generated: list[str], known) -> float:
    """The share of `generated` names that are not in `known` (0 when nothing was made)."""
    known = {k.lower() for k in known}
    made = [g for g in generated if g]
    return sum(g.lower() not in known for g in made) / len(made) if made else 0.0


def display_name(name: str) -> str:
    return name.capitalize() if name else "(empty)"


__all__ = ["START", "END", "VOCABULARY", "CONTEXT", "load_names", "encode", "context_of",
           "training_windows", "make_model", "softmax_with_temperature",
           "logits_from_probabilities", "draw", "sample_names", "NextLetter",
           "next_letter_probabilities", "novel_share", "display_name", "check_temperature",
           "MIN_TEMPERATURE", "MAX_TEMPERATURE", "blas_one_thread"]
