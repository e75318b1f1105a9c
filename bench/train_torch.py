#!/usr/bin/env python3
"""The training benchmark's PyTorch side (issue 11): the book's two runs in eager PyTorch
on the CPU, written as a PyTorch user writes them.

- `--net mlp` (default; `two_layer` is the same): `nn.Linear(784, 50)`, `F.relu`,
  `nn.Linear(50, 10)`, `F.cross_entropy` (softmax and cross-entropy fused, mean over the
  batch), `torch.optim.SGD(lr=0.1)`; W1 normal with std sqrt(2/784) (He), W2 std
  sqrt(1/50) (the book's Xavier), biases zero; 10,000 iterations.
- `--net convnet`: the book's SimpleConvNet: `nn.Conv2d(1, 30, 5)`, relu,
  `nn.MaxPool2d(2, 2)`, flatten (channel, row, column: 4320), `nn.Linear(4320, 100)`,
  relu, `nn.Linear(100, 10)`, `F.cross_entropy`; `torch.optim.Adam(lr=0.001, betas=(0.9,
  0.999), eps=1e-7)`, the book's Adam but for where eps goes (PyTorch adds it to
  sqrt(v)/sqrt(1-beta2^t), the book to sqrt(v): the book's eps is PyTorch's times
  sqrt(1-beta2^t), a difference only where sqrt(v) is near 1e-7); initialised as
  `--init` says (default He / Xavier per layer as nn-dsl's `NAME::random`); 600
  iterations (one epoch).

Each step: `idx = torch.randint(60000, (100,))` (with replacement, as the book's
`np.random.choice`), `x_train[idx]`, `t_train[idx]` from tensors already in memory, the
forward pass, `zero_grad`, `backward`, `step`. float32 throughout (nn-dsl trains in f32).
Eager mode, `torch.set_num_threads(--threads)` (and OMP_NUM_THREADS / MKL_NUM_THREADS set
before torch is imported). Only the steps are timed; the accuracy on the whole training
and test sets after every epoch (600 iterations) and after the last is computed with the
clock stopped, under `torch.no_grad()`. Prints one JSON line (bench/train_common.py).

    python bench/train_torch.py [--iterations 10000] [--seed 1] [--threads 2] [--data DIR]
    python bench/train_torch.py --net convnet [--iterations 600]
"""

from __future__ import annotations

import train_common as common


def main() -> None:
    parser = common.arguments(__doc__.splitlines()[0])
    args = common.finish_arguments(parser, parser.parse_args())
    threads = common.configure_threads(args.threads)

    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(args.threads)
    threads += f"; torch.set_num_threads({args.threads}) -> torch.get_num_threads() = {torch.get_num_threads()}"
    torch.manual_seed(args.seed)
    std = common.init_std(args.task, args.init)

    if args.task == "mlp":
        x_train, t_train, x_test, t_test = common.load_mnist(args.data, flatten=True)

        class TwoLayerNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.affine1 = nn.Linear(784, 50)
                self.affine2 = nn.Linear(50, 10)

            def forward(self, x):
                return self.affine2(F.relu(self.affine1(x)))

        model = TwoLayerNet()
        layers = {"W1": model.affine1, "W2": model.affine2}
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
        eval_batch = 60_000
    else:
        x_train, t_train, x_test, t_test = common.load_mnist(args.data, flatten=False)

        class SimpleConvNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 30, kernel_size=5, stride=1, padding=0)
                self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
                self.affine1 = nn.Linear(30 * 12 * 12, 100)
                self.affine2 = nn.Linear(100, 10)

            def forward(self, x):
                x = self.pool1(F.relu(self.conv1(x)))
                x = torch.flatten(x, 1)
                x = F.relu(self.affine1(x))
                return self.affine2(x)

        model = SimpleConvNet()
        layers = {"W1": model.conv1, "W2": model.affine1, "W3": model.affine2}
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=args.lr,
            betas=(common.ADAM["beta1"], common.ADAM["beta2"]),
            eps=common.ADAM["eps"],
        )
        eval_batch = 1_000
    with torch.no_grad():
        for name, layer in layers.items():
            nn.init.normal_(layer.weight, mean=0.0, std=std[name])
            nn.init.zeros_(layer.bias)

    x_train, t_train = torch.from_numpy(x_train), torch.from_numpy(t_train)
    x_test, t_test = torch.from_numpy(x_test), torch.from_numpy(t_test)
    train_size = x_train.shape[0]
    batch_size = args.batch_size

    def run(count):
        losses = []
        for _ in range(count):
            idx = torch.randint(train_size, (batch_size,))
            x_batch = x_train[idx]
            t_batch = t_train[idx]

            loss = F.cross_entropy(model(x_batch), t_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            losses.append(loss.detach())  # the loss before the update, summed off the clock
        return lambda: float(torch.stack(losses).sum())

    def accuracy(x, t):
        correct = 0
        with torch.no_grad():
            for i in range(0, x.shape[0], eval_batch):
                y = model(x[i : i + eval_batch]).argmax(dim=1)
                correct += int((y == t[i : i + eval_batch]).sum())
        return correct / x.shape[0]

    def evaluate():
        return accuracy(x_train, t_train), accuracy(x_test, t_test)

    result = common.train(args, run, evaluate, train_size)
    versions = {"torch": torch.__version__, "parallel": torch.__config__.parallel_info().splitlines()[:3]}
    try:
        versions["mkldnn"] = torch.backends.mkldnn.is_available()
    except AttributeError:
        pass
    extra = {"versions": versions, "program": "eager PyTorch, CPU"}
    common.report(args, "pytorch", result, threads, extra)


if __name__ == "__main__":
    main()
