"""The two networks the stepper walks through, and the batches they train on.

Both read the course's insurance table (age, affordability → bought insurance) with age
divided by 100, as the course does before training, so the numbers match its
whiteboard: w1 = w2 = 1, b = 0 and learning rate 0.5 are the course's start.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data import load_insurance_course_table
from core.layers import Dense
from core.model import Sequential
from core.optimizers import SGD

#: the course's starting point for the insurance neuron
COURSE_START = {"w1": 1.0, "w2": 1.0, "b": 0.0}
#: the course's learning rate in its gradient-descent notebook
COURSE_LEARNING_RATE = 0.5
#: the course divides age by this before training
AGE_SCALE = 100.0


@dataclass
class Batch:
    """One training batch with the words a learner needs to read it."""

    x: np.ndarray                        # (N, I) float32, what the network receives
    y: np.ndarray                        # (N,) int64 targets
    labels: list[str]                    # "person 3", one per sample
    input_notes: list[list[str]] = field(default_factory=list)  # per sample, per input
    target_note: str = "y"               # what y means, e.g. "bought insurance"

    def __len__(self) -> int:
        return len(self.x)


def insurance_table() -> tuple[np.ndarray, np.ndarray]:
    """The course's 28 people: raw (age, affordability) (28, 2) float32 and bought (28,)."""
    data = load_insurance_course_table()
    return data.x.copy(), data.y.copy()


def insurance_batch(people) -> Batch:
    """The chosen people (0-based row numbers of the course table) as a training batch."""
    raw, bought = insurance_table()
    idx = [int(i) for i in np.atleast_1d(np.asarray(people))]
    if not idx:
        raise ValueError("choose at least one person")
    for i in idx:
        if not 0 <= i < len(raw):
            raise ValueError(f"the table has people 1 to {len(raw)}; person {i + 1} does not exist")
    rows = raw[idx]                                              # (N, 2)
    x = np.stack([rows[:, 0] / np.float32(AGE_SCALE), rows[:, 1]], axis=1).astype(np.float32)
    notes = [[f"age/100 = {int(r[0])}/100", "can afford it" if r[1] else "cannot afford it"]
             for r in rows]
    return Batch(x=x, y=bought[idx].astype(np.int64), labels=[f"person {i + 1}" for i in idx],
                 input_notes=notes, target_note="bought insurance")


def insurance_neuron(w1: float = 1.0, w2: float = 1.0, b: float = 0.0,
                     learning_rate: float = COURSE_LEARNING_RATE) -> Sequential:
    """age, affordability → one sigmoid neuron, trained with log loss and plain SGD."""
    model = Sequential([Dense(1, activation="sigmoid")], input_shape=(2,), name="insurance")
    model.set_weights([np.array([[w1], [w2]], np.float32), np.array([b], np.float32)])
    model.compile(optimizer=SGD(learning_rate), loss="binary_crossentropy")
    return model


def hidden_layer_network(hidden: int = 2, activation: str = "sigmoid", seed: int = 0,
                         learning_rate: float = COURSE_LEARNING_RATE,
                         random_biases: bool = True) -> Sequential:
    """2 inputs → `hidden` units → 1 sigmoid output, log loss, seeded random weights.

    Biases start random too (Keras starts them at 0) so that every gradient in the
    walk-through has something to show.
    """
    if not 1 <= int(hidden) <= 9:
        raise ValueError(f"the stepper draws 1 to 9 hidden units, got {hidden}")
    model = Sequential([Dense(int(hidden), activation=activation),
                        Dense(1, activation="sigmoid")],
                       input_shape=(2,), name="one_hidden_layer", seed=int(seed))
    if random_biases:
        rng = np.random.default_rng([int(seed), 1])
        weights = model.get_weights()
        weights[1] = rng.uniform(-0.5, 0.5, weights[1].shape).astype(np.float32)
        weights[3] = rng.uniform(-0.5, 0.5, weights[3].shape).astype(np.float32)
        model.set_weights(weights)
    model.compile(optimizer=SGD(learning_rate), loss="binary_crossentropy")
    return model
