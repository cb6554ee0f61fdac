"""The name model's numbers: the offline name list, the training windows, sampling with a
temperature (against softmax(logits / T) frequencies), next-letter probabilities and the
share of new names."""
import builtins
import socket

import numpy as np
import pytest
from scipy import stats

from core.teaching import char_model as cm


def test_names_load_offline_from_the_installed_package(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the name list must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    names = cm.load_names()
    assert len(names) > 5000
    assert len(set(names)) == len(names)
    assert {"emma", "olivia", "james", "william"} <= set(names)
    assert all(n.isalpha() and n == n.lower() and n.isascii() for n in names)


def test_a_missing_package_is_named_in_a_sentence(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("faker"):
            raise ImportError("No module named 'faker'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(RuntimeError, match="pip install faker"):
        cm.load_names()


def test_windows_pad_with_the_start_marker_and_end_with_the_end_marker():
    x, y = cm.training_windows(["emma", "al"], context=3)
    s, e = cm.START_ID, cm.END_ID
    i = {c: cm.CHAR_TO_ID[c] for c in "emal"}
    assert x.tolist() == [[s, s, s], [s, s, i["e"]], [s, i["e"], i["m"]],
                          [i["e"], i["m"], i["m"]], [i["m"], i["m"], i["a"]],
                          [s, s, s], [s, s, i["a"]], [s, i["a"], i["l"]]]
    assert y.tolist() == [i["e"], i["m"], i["m"], i["a"], e, i["a"], i["l"], e]
    assert cm.VOCABULARY[s] == cm.START and cm.VOCABULARY[e] == cm.END


def test_a_prefix_with_other_characters_gets_a_sentence():
    with pytest.raises(ValueError, match="letters a to z only; '3' is not one"):
        cm.encode("jo3")
    assert cm.encode(" Jo ") == [cm.CHAR_TO_ID["j"], cm.CHAR_TO_ID["o"]]


@pytest.mark.parametrize("t", [0.2, 0.5, 1.0, 2.0])
def test_softmax_with_temperature_is_softmax_of_logits_over_t(t):
    z = np.array([[2.0, 1.0, 0.1, -3.0], [0.0, 0.0, 5.0, 1.0]])
    want = np.exp(z / t) / np.exp(z / t).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cm.softmax_with_temperature(z, t), want, rtol=1e-12)
    # the logits recovered from a softmax output give the same distribution
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        cm.softmax_with_temperature(cm.logits_from_probabilities(p), t), want, rtol=1e-9)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_a_temperature_must_be_positive(bad):
    with pytest.raises(ValueError, match="positive number"):
        cm.softmax_with_temperature([1.0, 2.0], bad)


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0])
def test_draws_follow_the_tempered_distribution(t):
    """Chi-square on 20,000 draws: frequencies match softmax(logits / T)."""
    logits = np.array([1.5, 0.2, -0.4, 0.9, -1.0, 0.0])
    want = cm.softmax_with_temperature(logits, t)
    n = 20_000
    rows = np.repeat(want[None], n, axis=0)
    drawn = cm.draw(rows, np.random.default_rng(7))
    counts = np.bincount(drawn, minlength=len(logits))
    _, p_value = stats.chisquare(counts, n * want)
    assert p_value > 0.001


class _FixedModel:
    """A stand-in whose next-letter probabilities never change: sampling its names tests
    the loop (markers, length, seeding) without training anything."""

    input_shape = (cm.CONTEXT,)

    def __init__(self, p):
        self.p = np.asarray(p, np.float32)

    def predict(self, x):
        return np.repeat(self.p[None], len(x), axis=0)


def test_sampling_uses_the_temperature_and_the_seed():
    p = np.zeros(len(cm.VOCABULARY))
    p[cm.CHAR_TO_ID["a"]], p[cm.CHAR_TO_ID["b"]], p[cm.END_ID] = 0.6, 0.3, 0.1
    model = _FixedModel(p)
    first = cm.sample_names(model, 200, 1.0, seed=3)
    assert first == cm.sample_names(model, 200, 1.0, seed=3)
    assert first != cm.sample_names(model, 200, 1.0, seed=4)
    letters = "".join(first)
    assert set(letters) <= {"a", "b"}
    # the letters drawn follow softmax(log p / T) restricted to the two letters
    for t in (0.5, 2.0):
        made = "".join(cm.sample_names(model, 400, t, seed=1))
        q = cm.softmax_with_temperature(np.log([0.6, 0.3, 0.1]), t)
        share_a = made.count("a") / len(made)
        assert share_a == pytest.approx(q[0] / (q[0] + q[1]), abs=0.03)
    # without the end marker a name stops at the length limit
    never = np.zeros(len(cm.VOCABULARY))
    never[cm.CHAR_TO_ID["z"]] = 1.0
    assert cm.sample_names(_FixedModel(never), 2, 1.0, max_length=5) == ["zzzzz"] * 2


def test_novel_share_counts_names_not_in_the_list():
    assert cm.novel_share(["emma", "zorbo", "Olivia", "blix"], ["emma", "olivia"]) == 0.5
    assert cm.novel_share([], ["emma"]) == 0.0


def test_next_letter_probabilities_add_up_to_one():
    model = cm.make_model(seed=0)
    for prefix in ("", "jo", "MARI"):
        choices = cm.next_letter_probabilities(model, prefix, 0.7)
        assert len(choices) == 27
        assert sum(c.probability for c in choices) == pytest.approx(1.0, abs=1e-9)
        assert [c.probability for c in choices] == sorted(
            (c.probability for c in choices), reverse=True)
        assert cm.START not in {c.char for c in choices}


@pytest.mark.slow
def test_a_short_training_makes_names_that_are_mostly_new():
    names = cm.load_names()
    x, y = cm.training_windows(names[::4])
    model = cm.make_model(seed=0)
    with cm.blas_one_thread():
        history = model.fit(x, y, epochs=3, batch_size=128, seed=0)
    loss = history.history["loss"]
    assert loss[-1] < loss[0] < np.log(28)
    made = cm.sample_names(model, 200, 1.0, seed=0)
    assert cm.novel_share(made, names) > 0.5
    # a low temperature favours the commonest patterns: more of its names exist
    cold = cm.sample_names(model, 200, 0.3, seed=0)
    assert cm.novel_share(cold, names) < cm.novel_share(made, names)


def test_the_shipped_model_is_the_lessons_architecture_and_invents_names():
    from core.io import load_model
    from resources.paths import model_path

    with model_path("char_names") as path:
        model = load_model(path)
    assert model.input_shape == (cm.CONTEXT,)
    assert model.output_shape == (len(cm.VOCABULARY),)
    names = cm.load_names()
    made = cm.sample_names(model, 300, 1.0, seed=0)
    assert 0.5 < cm.novel_share(made, names) < 0.95    # new names, not noise-only copies
    assert cm.novel_share(cm.sample_names(model, 300, 0.2, seed=0), names) < 0.2


@pytest.mark.slow
def test_the_script_that_makes_the_shipped_model_runs(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    from core.io import load_model

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_char_names.py"
    spec = importlib.util.spec_from_file_location("train_char_names", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "names.npz"
    assert module.main(["--epochs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 1: loss" in printed and "new names among 1,000" in printed
    assert load_model(out).count_params() == cm.make_model().count_params()
