"""The recurrent rows of benchmarks/speed.py (issue 16 item 4): LSTM(128) and SimpleRNN(128)
with a Dense(10) head, a training step on 64 sequences of 28 steps x 28 features (the digits
read row by row) with Adam(1e-3), and one sequence predicted; ours beside PyTorch's own
nn.LSTM / nn.RNN (MKL / oneDNN) holding our initial weights.
"""
from __future__ import annotations

import numpy as np

from benchmarks.speed_support import (LSTM_PREDICT, LSTM_STEP, RNN_PREDICT, RNN_STEP,
                                      cycling)

UNITS = 128


def _rows(work):
    """The work's 64-digit batches as (64, 28, 28) sequences of rows, and one sequence."""
    xs = [np.ascontiguousarray(x[..., 0]) for x in work.cnn_x]
    return xs, work.cnn_y, np.ascontiguousarray(work.x1[..., 0])


def our_models(seed=0):
    from core.layers import LSTM, Dense, SimpleRNN
    from core.model import Sequential
    from core.optimizers import Adam

    out = {}
    for cls in (LSTM, SimpleRNN):
        m = Sequential([cls(UNITS), Dense(10, activation="softmax")], input_shape=(28, 28),
                       seed=seed)
        m.compile(optimizer=Adam(1e-3), loss="sparse_categorical_crossentropy")
        out[cls.__name__] = m
    return out


def ours(models, work):
    xs, ys, x1 = _rows(work)
    lstm, rnn = models["LSTM"], models["SimpleRNN"]
    return {LSTM_STEP: cycling(lstm.train_on_batch, xs, ys),
            RNN_STEP: cycling(rnn.train_on_batch, xs, ys),
            LSTM_PREDICT: lambda: lstm.predict(x1),
            RNN_PREDICT: lambda: rnn.predict(x1)}


def torch_contenders(models, work, label="PyTorch"):
    """PyTorch's nn.LSTM / nn.RNN + nn.Linear from our models' initial weights: the loop
    every tutorial writes (zero_grad, forward, cross-entropy, backward, step)."""
    import torch
    from torch import nn

    xs, ys, x1 = _rows(work)
    tx = [torch.from_numpy(x) for x in xs]
    ty = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in ys]
    t1 = torch.from_numpy(x1)
    out = {}
    for name, kind, step_row, predict_row in (("LSTM", nn.LSTM, LSTM_STEP, LSTM_PREDICT),
                                              ("SimpleRNN", nn.RNN, RNN_STEP, RNN_PREDICT)):
        w = models[name].get_weights()   # kernel (F, gu), recurrent (u, gu), bias, dense
        net, head = kind(28, UNITS, batch_first=True), nn.Linear(UNITS, 10)
        with torch.no_grad():   # Keras's gate order i, f, c, o is PyTorch's i, f, g, o
            net.weight_ih_l0.copy_(torch.from_numpy(w[0].T.copy()))
            net.weight_hh_l0.copy_(torch.from_numpy(w[1].T.copy()))
            net.bias_ih_l0.copy_(torch.from_numpy(w[2]))
            net.bias_hh_l0.zero_()
            head.weight.copy_(torch.from_numpy(w[3].T.copy()))
            head.bias.copy_(torch.from_numpy(w[4]))
        opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), 1e-3, eps=1e-7)

        def step(x, y, net=net, head=head, opt=opt):
            opt.zero_grad()
            seq, _ = net(x)
            loss = nn.functional.cross_entropy(head(seq[:, -1]), y)
            loss.backward()
            opt.step()
            return loss

        def predict(net=net, head=head):
            with torch.no_grad():
                return torch.softmax(head(net(t1)[0][:, -1]), dim=1)

        out[step_row] = {label: cycling(step, tx, ty)}
        out[predict_row] = {label: predict}
    return out
