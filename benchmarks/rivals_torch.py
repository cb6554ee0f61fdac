"""PyTorch CPU as a rival in benchmarks/speed.py (benchmark only: `pip install torch==2.13.0`,
never a dependency of the app or its tests).

The networks are the equivalent NCHW models holding our initial weights; a training step is
the loop every tutorial writes (zero_grad, forward, cross-entropy, backward, optimizer.step).
"""
from __future__ import annotations


class TorchSide:
    """The same networks in PyTorch, NCHW, holding our initial weights."""

    label = "PyTorch"

    def __init__(self, w, wm):
        """w, wm: the initial weights of our course CNN and dense network (get_weights())."""
        import torch
        from torch import nn

        self.torch = torch
        self.name = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
        self.cnn = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        with torch.no_grad():
            for layer, k, b in ((self.cnn[0], w[0], w[1]), (self.cnn[3], w[2], w[3])):
                layer.weight.copy_(torch.from_numpy(k.transpose(3, 2, 0, 1).copy()))
                layer.bias.copy_(torch.from_numpy(b))
            # our Flatten reads (h, w, c), PyTorch's (c, h, w): permute the first dense rows
            k3 = w[4].reshape(5, 5, 64, 128).transpose(2, 0, 1, 3).reshape(1600, 128)
            for layer, k, b in ((self.cnn[7], k3, w[5]), (self.cnn[9], w[6], w[7])):
                layer.weight.copy_(torch.from_numpy(k.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
            for layer, k, b in ((self.mlp[1], wm[0], wm[1]), (self.mlp[3], wm[2], wm[3])):
                layer.weight.copy_(torch.from_numpy(k.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        self.loss = nn.CrossEntropyLoss()
        self.opt_cnn = torch.optim.SGD(self.cnn.parameters(), lr=0.01)
        self.opt_mlp = torch.optim.SGD(self.mlp.parameters(), lr=0.01)
        self.predictor = None

    def batch(self, x, y):
        t = self.torch
        return t.from_numpy(x.transpose(0, 3, 1, 2).copy()), t.from_numpy(y)

    def train_cnn(self, xb, yb):
        return self._step(self.cnn, self.opt_cnn, xb, yb)

    def train_mlp(self, xb, yb):
        return self._step(self.mlp, self.opt_mlp, xb, yb)

    def _step(self, net, opt, xb, yb):
        opt.zero_grad()
        loss = self.loss(net(xb), yb)
        loss.backward()
        opt.step()
        return loss

    def predict(self, x1):
        if self.predictor is None:
            import copy

            self.predictor = copy.deepcopy(self.cnn).eval()
        with self.torch.no_grad():
            return self.torch.softmax(self.predictor(x1), dim=1)

    def epoch(self, which, x, y, batch, seed):
        t = self.torch
        g = t.Generator().manual_seed(seed)
        order = t.randperm(len(x), generator=g)
        step = self.train_cnn if which == "cnn" else self.train_mlp
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            step(x[idx], y[idx])

    # kernels alone
    def kernels(self, shapes):
        t = self.torch
        F = t.nn.functional
        g = t.Generator().manual_seed(0)
        out = {}
        (n, h, w_, c), (kh, kw, _, f) = shapes["conv_x"], shapes["conv_w"]
        x = t.rand(n, c, h, w_, generator=g)
        k = t.rand(f, c, kh, kw, generator=g) - 0.5
        b = t.zeros(f)
        dy = t.rand(n, f, h - kh + 1, w_ - kw + 1, generator=g)
        out["conv forward"] = lambda: F.conv2d(x, k, b)
        out["conv input gradient"] = lambda: t.nn.grad.conv2d_input(x.shape, k, dy)
        out["conv weight gradient"] = lambda: t.nn.grad.conv2d_weight(x, k.shape, dy)
        n, h, w_, c = shapes["pool_x"]
        xp = t.rand(n, c, h, w_, generator=g)
        yp, idx = F.max_pool2d(xp, 2, return_indices=True)
        dyp = t.rand(yp.shape, generator=g)
        out["max pool forward"] = lambda: F.max_pool2d(xp, 2, return_indices=True)
        out["max pool backward"] = lambda: t.ops.aten.max_pool2d_with_indices_backward(
            dyp, xp, [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
        n, i = shapes["dense_x"]
        o = shapes["dense_w"][1]
        xd, wd, bd = t.rand(n, i, generator=g), t.rand(o, i, generator=g), t.zeros(o)
        dyd = t.rand(n, o, generator=g)
        out["dense forward"] = lambda: F.linear(xd, wd, bd)
        out["dense backward"] = lambda: (dyd @ wd, dyd.T @ xd, dyd.sum(0))
        return out
