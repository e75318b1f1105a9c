#!/usr/bin/env python3
"""The training benchmark's numpy side (issue 11): the book's own training code.

"Deep Learning from Scratch" (Koki Saitoh, O'Reilly Japan, 2016; the code MIT,
(c) 2016 Koki Saitoh, see bench/book_convnet.py for the licence text):

- `--net mlp` (default; `two_layer` is the same): chapter 5's `train_neuralnet.py` with
  `TwoLayerNet` (`ch05/two_layer_net.py`: Affine, Relu, Affine, SoftmaxWithLoss, the
  gradient by backpropagation, `gradient()`), 784-50-10, SGD lr 0.1, batch 100 drawn with
  `np.random.choice(60000, 100)` (with replacement), 10,000 iterations, one-hot labels.
- `--net convnet`: chapter 7's `SimpleConvNet` (`ch07/simple_convnet.py`, the book's im2col
  `Convolution` and `Pooling` of bench/book_convnet.py) trained as the book's `Trainer`
  does (`common/trainer.py`): the same draw of batches, `gradient()`, the book's `Adam`
  (lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7); 600 iterations (one epoch) by default.

What differs from the book, and why:

- **float32 throughout.** nn-dsl trains in f32, so the images, the labels (the book's
  one-hot rows are float64), the weights (the book draws them with `np.random.randn`,
  float64) and the convnet's im2col/col2im scratch (the book's `np.zeros` default,
  float64; `dtype=np.float32` here) are all float32, and so is every product.
- **Initialisation.** mlp: W1 normal with std sqrt(2/784) (He), W2 std sqrt(1/50) (the
  book's Xavier), biases zero (the book's `weight_init_std=0.01` for both); convnet: He /
  Xavier per layer as nn-dsl's `NAME::random` (`--init he`, default) or the book's 0.01
  for every layer (`--init book`).
- **What is timed**: only the loop's steps (batch sampling, `gradient`, update). The book
  also calls `network.loss(x_batch, t_batch)` after each update, only to plot it; here the
  loss of `gradient`'s own forward pass (before the update, as nn-dsl's `train_step`
  returns it) is kept instead, so no extra forward pass runs. The accuracy on the whole
  training and test sets after every epoch (600 iterations) and after the last is
  computed as the book does, with the clock stopped. Loading the data is not timed.

Prints one JSON line (see bench/train_common.py). Threads: OPENBLAS_NUM_THREADS (set from
`--threads` before numpy is imported).

    python bench/train_numpy.py [--iterations 10000] [--seed 1] [--threads 2] [--data DIR]
    python bench/train_numpy.py --net convnet [--iterations 600]
"""

from __future__ import annotations

import sys
from collections import OrderedDict

import train_common as common


def main() -> None:
    parser = common.arguments(__doc__.splitlines()[0])
    args = common.finish_arguments(parser, parser.parse_args())
    threads = common.configure_threads(args.threads)

    import numpy as np  # after configure_threads: OpenBLAS reads its variables at load

    import book_convnet as book

    # --- The book's TwoLayerNet (ch05/two_layer_net.py), with the layers of
    # common/layers.py (in book_convnet.py) -------------------------------------------------

    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size, weight_init_std):
            # the weights; `weight_init_std` one number per weight here (the book: one number)
            self.params = {}
            self.params['W1'] = weight_init_std['W1'] * np.random.randn(input_size, hidden_size)
            self.params['b1'] = np.zeros(hidden_size)
            self.params['W2'] = weight_init_std['W2'] * np.random.randn(hidden_size, output_size)
            self.params['b2'] = np.zeros(output_size)
            # float32 (see the docstring)
            self.params = {key: value.astype(np.float32) for key, value in self.params.items()}

            # the layers
            self.layers = OrderedDict()
            self.layers['Affine1'] = book.Affine(self.params['W1'], self.params['b1'])
            self.layers['Relu1'] = book.Relu()
            self.layers['Affine2'] = book.Affine(self.params['W2'], self.params['b2'])

            self.lastLayer = book.SoftmaxWithLoss()

        def predict(self, x):
            for layer in self.layers.values():
                x = layer.forward(x)

            return x

        # x: the input data, t: the labels
        def loss(self, x, t):
            y = self.predict(x)
            return self.lastLayer.forward(y, t)

        def accuracy(self, x, t):
            y = self.predict(x)
            y = np.argmax(y, axis=1)
            if t.ndim != 1 : t = np.argmax(t, axis=1)

            accuracy = np.sum(y == t) / float(x.shape[0])
            return accuracy

        def gradient(self, x, t):
            # forward
            self.loss(x, t)

            # backward
            dout = 1
            dout = self.lastLayer.backward(dout)

            layers = list(self.layers.values())
            layers.reverse()
            for layer in layers:
                dout = layer.backward(dout)

            # the gradients
            grads = {}
            grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
            grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db

            return grads

    # -------------------------------------------------------------------------------------

    np.random.seed(args.seed)
    std = common.init_std(args.task, args.init)
    if args.task == "mlp":
        # train_neuralnet.py: load_mnist(normalize=True, one_hot_label=True)
        x_train, t_train, x_test, t_test = common.load_mnist(args.data, flatten=True, one_hot=True)
        network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=std)
        last_layer = network.lastLayer
        learning_rate = args.lr

        def update(grads):
            for key in ('W1', 'b1', 'W2', 'b2'):
                network.params[key] -= learning_rate * grads[key]

        def evaluate():
            return network.accuracy(x_train, t_train), network.accuracy(x_test, t_test)

    else:
        # train_convnet.py: load_mnist(flatten=False), integer labels
        x_train, t_train, x_test, t_test = common.load_mnist(args.data, flatten=False, one_hot=False)
        network = book.SimpleConvNet.initialised(
            input_dim=(1, 28, 28),
            conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
            hidden_size=100,
            output_size=10,
            weight_init_std=std,
            dtype=np.float32,
        )
        last_layer = network.last_layer
        optimizer = book.Adam(lr=args.lr, beta1=common.ADAM["beta1"], beta2=common.ADAM["beta2"])

        def update(grads):
            optimizer.update(network.params, grads)

        def evaluate():
            # the book's Trainer at the end: network.accuracy(x, t), in batches of 100
            return network.accuracy(x_train, t_train), network.accuracy(x_test, t_test)

    train_size = x_train.shape[0]
    batch_size = args.batch_size

    def run(count):
        loss_sum = 0.0
        for _ in range(count):
            batch_mask = np.random.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]

            grads = network.gradient(x_batch, t_batch)
            update(grads)

            loss_sum += last_layer.loss  # gradient()'s forward pass, before the update
        return lambda: loss_sum

    for key, value in network.params.items():
        assert value.dtype == np.float32, (key, value.dtype)
    result = common.train(args, run, evaluate, train_size)
    for key, value in network.params.items():
        if value.dtype != np.float32:
            sys.exit(f"{key} became {value.dtype}: not float32 any more")
    extra = {"versions": blas_info(np), "program": "the book's code (bench/book_convnet.py, train_numpy.py)"}
    common.report(args, "numpy", result, threads, extra)


def blas_info(np) -> dict:
    """numpy's version and its BLAS, as threadpoolctl sees it."""
    info: dict = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
    except ImportError:
        info["blas"] = "threadpoolctl is not installed"
    return info


if __name__ == "__main__":
    main()
