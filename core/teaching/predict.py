"""Predict, then reveal: the questions animated lessons ask before they show the next number.

Predicting first is what makes watching an algorithm teach (Crouch & Mazur's peer
instruction; Hundhausen's meta-study of algorithm visualisation). Each question is built from
the very number the lesson is about to reveal, so the answer is the engine's, never a guess:
the backprop stepper's walk-through, the chain-rule graph, the gradient-descent run and the RNN
walk through time all hand their next value to one of the builders below.

Qt-free: the GUI's PredictionPanel shows a `Question`, `Score` counts the answers.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.wording import number as fmt

SIGN_CHOICES = ("positive", "negative", "exactly zero")
DIRECTION_CHOICES = ("goes up", "goes down", "stays the same")
LOSS_CHOICES = ("the loss falls", "the loss rises")


@dataclass(frozen=True)
class Question:
    """One prediction: `choices[answer]` is right; `truth` is the revealed value in words and
    `why` one line of reason. `key` names the reveal, so it is asked once however often the
    learner steps past it."""

    prompt: str
    choices: tuple[str, ...]
    answer: int
    truth: str
    why: str
    key: object = None

    def __post_init__(self):
        if not 2 <= len(self.choices) <= 10:
            raise ValueError(f"a question has 2 to 10 choices, got {len(self.choices)}")
        if not 0 <= self.answer < len(self.choices):
            raise ValueError(f"the right answer {self.answer} is not one of the choices")

    def is_right(self, choice: int) -> bool:
        return int(choice) == self.answer

    def verdict(self, choice: int) -> str:
        """"Right! …" or "Not quite — …": what the learner reads after answering."""
        if self.is_right(choice):
            return f"Right! {self.truth}. {self.why}"
        return f"Not quite — the answer is “{self.choices[self.answer]}”: {self.truth}. {self.why}"


class Score:
    """Answers in one lesson: how many were right of how many asked."""

    def __init__(self):
        self.right = 0
        self.asked = 0

    def record(self, right: bool) -> None:
        self.asked += 1
        self.right += bool(right)

    def reset(self) -> None:
        self.right = self.asked = 0

    def text(self) -> str:
        if not self.asked:
            return "No predictions yet"
        return f"Score: {self.right} of {self.asked} right"


def _sign(value: float) -> int:
    return 0 if value > 0 else 1 if value < 0 else 2


def sign_question(symbol: str, value: float, computed_as: str, key=None) -> Question:
    """Will `symbol` come out positive, negative or zero? (a zero is real: x2 = 0 makes
    ∂L/∂w2 vanish for everyone who cannot afford insurance)"""
    return Question(f"Will {symbol} be positive or negative?", SIGN_CHOICES, _sign(value),
                    f"{symbol} = {fmt(value)}", computed_as, key)


def direction_question(weight: str, gradient: float, old: float, new: float,
                       learning_rate: float | None, key=None) -> Question:
    """Which way does gradient descent move `weight`? It steps against its gradient."""
    if new > old:
        answer = 0
    elif new < old:
        answer = 1
    else:
        answer = 2
    rate = "" if learning_rate is None else f" (η = {fmt(learning_rate)})"
    if gradient > 0:
        why = f"∂L/∂{weight} = {fmt(gradient)} is positive, so {weight} − η·∂L/∂{weight}{rate} is smaller."
    elif gradient < 0:
        why = f"∂L/∂{weight} = {fmt(gradient)} is negative, so {weight} − η·∂L/∂{weight}{rate} is larger."
    else:
        why = f"∂L/∂{weight} is 0: the loss does not change with {weight} here."
    return Question(f"After the update, which way does {weight} move?", DIRECTION_CHOICES,
                    answer, f"{weight}: {fmt(old)} → {fmt(new)}", why, key)


def probability_question(symbol: str, probability: float, z: float, key=None) -> Question:
    """Will the sigmoid output be above or below 50 %? σ(z) > 0.5 exactly when z > 0."""
    answer = 0 if probability >= 0.5 else 1
    side = "positive" if z >= 0 else "negative"
    return Question(f"Will {symbol} = σ(z) be above or below 50 %?", ("above 50 %", "below 50 %"),
                    answer, f"{symbol} = {fmt(100.0 * probability)} %",
                    f"z = {fmt(z)} is {side}, and σ(z) is above 50 % exactly when z is positive.",
                    key)


def loss_change_question(loss_now: float, loss_next: float, learning_rate: float,
                         key=None) -> Question:
    """Will one more gradient step at this learning rate lower the loss or raise it?"""
    falls = loss_next <= loss_now
    if falls:
        why = (f"A step of η = {fmt(learning_rate)} along −gradient lands lower in the valley.")
    else:
        why = (f"η = {fmt(learning_rate)} is too large here: the step overshoots the valley "
               "and lands higher on the other side.")
    return Question(f"One more step with learning rate {fmt(learning_rate)}: does the loss "
                    "fall or rise?", LOSS_CHOICES, 0 if falls else 1,
                    f"loss {fmt(loss_now)} → {fmt(loss_next)}", why, key)


def above_target_question(symbol: str, prediction: float, target: float, key=None) -> Question:
    """Will the network's answer come out above or below the true value?"""
    answer = 0 if prediction >= target else 1
    return Question(f"Will {symbol} come out above or below the true total y = {fmt(target)}?",
                    ("above y", "below y"), answer, f"{symbol} = {fmt(prediction)}",
                    "The loss (ŷ − y)² then pushes the weights to move ŷ towards y.", key)


# --- the lessons' next reveals -------------------------------------------------------------
def stepper_question(walk, index: int, key=None) -> Question | None:
    """The question for step `index` of a backprop walk-through (core.teaching.stepper), or
    None when that step is not one worth predicting (inputs, losses, the gradient check)."""
    if walk is None or not 0 <= index < len(walk.steps):
        return None
    s = walk.steps[index]
    if s.value is None:
        return None
    if s.kind == "forward" and s.symbol.startswith("z"):
        return sign_question(s.symbol, s.value, s.rule or "z is the weighted sum plus the bias.",
                             key)
    if s.kind == "forward" and s.symbol == "ŷ" and 0.0 <= s.value <= 1.0 and index > 0:
        before = walk.steps[index - 1]
        if before.symbol.startswith("z") and before.value is not None:
            return probability_question("ŷ", s.value, before.value, key)
        return None
    if s.kind == "update":
        try:
            grad = walk.find(f"∂L/∂{s.symbol}", None, "backward").value
        except KeyError:
            return None
        old = _weight_before(walk, s)
        if old is None:
            return None
        return direction_question(s.symbol, grad, old, s.value, walk.learning_rate, key)
    return None


def _weight_before(walk, step) -> float | None:
    t = step.target
    if t is None:
        return None
    try:
        params = walk.weights_before[2 * t.layer: 2 * t.layer + 2]
        if t.kind == "edge":
            return float(params[0][t.i, t.j])
        if t.kind == "bias":
            return float(params[1][t.i])
    except (IndexError, TypeError):
        return None
    return None


def chain_question(graph, step: int, key=None) -> Question | None:
    """Before backward step `step` (1-based, as the chain-rule lesson counts) of a
    core.teaching.stepper ChainGraph: the sign of the gradient it finds."""
    if graph is None or not 1 <= step <= len(graph.backward):
        return None
    s = graph.backward[step - 1]
    if len(s.path) == 1:
        return None         # ∂L/∂L = 1: nothing to predict
    factors = " · ".join(f"{name} = {fmt(v)}" for name, v in s.factors)
    why = (f"It is the local derivative {factors}" if len(s.factors) == 1 else
           f"It is the product {factors}")
    if s.node in ("w1", "w2", "b"):
        why += (f"; so gradient descent moves {s.node} "
                f"{'down' if s.value > 0 else 'up' if s.value < 0 else 'nowhere'}.")
    else:
        why += "."
    return sign_question(s.symbol, s.value, why, key)


def rnn_question(walk, index: int, key=None) -> Question | None:
    """The question for step `index` of an RNN walk through time (core.teaching.rnn_steps):
    the sign of the next hidden state's first unit, or whether ŷ lands above the target."""
    if walk is None or not 0 <= index < len(walk.steps):
        return None
    s = walk.steps[index]
    if s.phase != "forward":
        return None
    if s.t is not None:
        t = s.t - 1
        value = float(walk.hidden[t][0])
        unit = f"{s.quantity} (unit 1)" if walk.units > 1 else s.quantity
        return sign_question(unit, value, "tanh keeps the sign of what goes in: "
                             "x·W + h·U + b decides it.", key)
    if s.quantity == "ŷ":
        return above_target_question("ŷ", float(walk.prediction), float(walk.target), key)
    return None


def asks_at_epoch(epoch: int) -> bool:
    """Gradient descent asks before epochs 0, 1, 2, then 4, 8, 16, …: often at first, when
    each step matters, then at milestones, so playing a long run is not a quiz every frame."""
    epoch = int(epoch)
    return epoch < 3 or (epoch & (epoch - 1)) == 0


def descent_question(run) -> Question | None:
    """Before the next epoch of a core.teaching.surfaces.NeuronDescent run: will the loss fall
    or rise at its learning rate? The answer is the loss at the weights that step lands on."""
    if run is None or run.stop_reason is not None or not asks_at_epoch(run.epoch):
        return None
    w1, w2, b = run.weights
    g1, g2, gb = run.next_gradient()
    lr = run.learning_rate
    return loss_change_question(float(run.losses[-1]),
                                float(run.loss_at(w1 - lr * g1, w2 - lr * g2, b - lr * gb)), lr)


DIGIT_CHOICES = tuple("0123456789")


def digit_question(probabilities, what: str, true_digit: int | None = None,
                   network: str = "the network", key=None) -> Question:
    """Which digit will `network` answer for the image `what`? Its answer is the largest of
    its ten softmax outputs; `true_digit` (when known) says whether that answer is right."""
    probs = [float(p) for p in probabilities]
    if len(probs) != 10:
        raise ValueError(f"a digit network has 10 outputs, got {len(probs)}")
    answer = max(range(10), key=probs.__getitem__)
    why = "Its answer is the largest of its ten softmax outputs"
    if true_digit is not None:
        why += (f"; the digit is a {int(true_digit)}, so it is right." if int(true_digit) == answer
                else f"; the digit is a {int(true_digit)}, so it is wrong here.")
    else:
        why += "."
    return Question(f"Which digit will {network} answer for {what}?", DIGIT_CHOICES, answer,
                    f"{network[0].upper() + network[1:]} answers {answer} with "
                    f"{fmt(100.0 * probs[answer])} %", why, key)
