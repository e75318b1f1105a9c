#!/usr/bin/env python3
"""The training benchmark's JAX side (issue 11): the book's two runs in JAX on the CPU.

Two ways, the two sides of the table:

- `jax` (default): one `jax.jit` of the whole step, batch draw + loss + gradient + update,
  called once per iteration from Python; the parameters (and Adam's state) are donated to
  it, so XLA updates them in place.
- `jax-loop` (`--whole-loop`): each stretch of iterations between two evaluations (an
  epoch, 600) is one call of one `jax.jit` whose body is a `jax.lax.fori_loop` over the
  same step.

The step draws its batch inside the jit: `jax.random.split` of a key it carries, then
`jax.random.randint(0, 60000, (100,))` (with replacement, as the book's
`np.random.choice`), and gathers the rows of the training set, which is on the device
once before the loop. Both functions are compiled ahead of time (`.lower(...).compile()`,
reported as `compile_seconds`), so the clock sees no compilation; every timed stretch ends
with `block_until_ready()`.

- `--net mlp` (default; `two_layer` is the same): x @ W1 + b1, `jax.nn.relu`, @ W2 + b2,
  softmax cross-entropy as `-mean(log_softmax(logits)[t])` (its gradient is the book's
  (softmax - onehot) / batch), SGD lr 0.1; W1 normal with std sqrt(2/784) (He), W2 std
  sqrt(1/50), biases zero; 10,000 iterations.
- `--net convnet`: the book's SimpleConvNet: `lax.conv_general_dilated` (NCHW, OIHW, 5x5,
  stride 1, VALID) + bias, relu, `lax.reduce_window` max 2x2 stride 2, reshape to 4320
  (channel, row, column), affine 4320 -> 100, relu, affine 100 -> 10, the same loss; the
  book's Adam written out (lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7, the book's
  `lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)`, eps added to sqrt(v)); initialised as
  `--init` says; 600 iterations.

`jax.nn.relu`'s gradient at 0 is 0, as the book's mask. float32 throughout (nn-dsl
trains in f32). Threads: see `train_common.configure_threads` (XLA_FLAGS, and pinning
when `--threads` is below the usable CPUs). Only the steps are timed; the accuracy on the
whole training and test sets after every epoch and after the last is computed off the
clock by a jitted predict. Prints one JSON line (bench/train_common.py).

    python bench/train_jax.py [--whole-loop] [--iterations 10000] [--seed 1] [--threads 2] [--data DIR]
    python bench/train_jax.py --net convnet [--whole-loop] [--iterations 600]
"""

from __future__ import annotations

import time

import train_common as common


def main() -> None:
    parser = common.arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--whole-loop",
        action="store_true",
        help="each epoch's iterations in one jit (jax.lax.fori_loop): the side `jax-loop`",
    )
    args = common.finish_arguments(parser, parser.parse_args())
    threads = common.configure_threads(args.threads, jax=True)

    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax

    side = "jax-loop" if args.whole_loop else "jax"
    std = common.init_std(args.task, args.init)
    key = jax.random.PRNGKey(args.seed)
    init_key, key = jax.random.split(key)

    if args.task == "mlp":
        x_train, t_train, x_test, t_test = common.load_mnist(args.data, flatten=True)
        shapes = {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}

        def predict(params, x):
            h = jax.nn.relu(x @ params["W1"] + params["b1"])
            return h @ params["W2"] + params["b2"]

        eval_batch = 10_000
    else:
        x_train, t_train, x_test, t_test = common.load_mnist(args.data, flatten=False)
        shapes = {
            "W1": (30, 1, 5, 5),
            "b1": (30,),
            "W2": (4320, 100),
            "b2": (100,),
            "W3": (100, 10),
            "b3": (10,),
        }

        def predict(params, x):
            y = lax.conv_general_dilated(
                x, params["W1"], (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")
            )
            y = jax.nn.relu(y + params["b1"][None, :, None, None])
            y = lax.reduce_window(y, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            y = y.reshape(y.shape[0], -1)
            y = jax.nn.relu(y @ params["W2"] + params["b2"])
            return y @ params["W3"] + params["b3"]

        eval_batch = 1_000

    params = {}
    for i, (name, shape) in enumerate(shapes.items()):
        if name.startswith("W"):
            params[name] = std[name] * jax.random.normal(jax.random.fold_in(init_key, i), shape, jnp.float32)
        else:
            params[name] = jnp.zeros(shape, jnp.float32)

    def loss_fn(params, x, t):
        logp = jax.nn.log_softmax(predict(params, x))
        return -jnp.mean(jnp.take_along_axis(logp, t[:, None], axis=1))

    train_size = x_train.shape[0]
    batch_size = args.batch_size
    lr = args.lr
    beta1, beta2, eps = common.ADAM["beta1"], common.ADAM["beta2"], common.ADAM["eps"]

    if args.optimizer == "sgd":
        opt_state = ()

        def update(params, grads, opt_state):
            return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), opt_state

    else:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        opt_state = (jnp.zeros((), jnp.int32), zeros, jax.tree_util.tree_map(jnp.zeros_like, params))

        def update(params, grads, opt_state):
            # the book's Adam (common/optimizer.py)
            it, m, v = opt_state
            it = it + 1
            itf = it.astype(jnp.float32)
            lr_t = lr * jnp.sqrt(1.0 - beta2**itf) / (1.0 - beta1**itf)
            m = jax.tree_util.tree_map(lambda m, g: m + (1 - beta1) * (g - m), m, grads)
            v = jax.tree_util.tree_map(lambda v, g: v + (1 - beta2) * (g * g - v), v, grads)
            params = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + eps), params, m, v)
            return params, (it, m, v)

    def step(params, opt_state, key, x_all, t_all):
        key, sub = jax.random.split(key)
        idx = jax.random.randint(sub, (batch_size,), 0, train_size)
        x, t = x_all[idx], t_all[idx]
        loss, grads = jax.value_and_grad(loss_fn)(params, x, t)
        params, opt_state = update(params, grads, opt_state)
        return params, opt_state, key, loss

    x_all = jax.device_put(jnp.asarray(x_train))
    t_all = jax.device_put(jnp.asarray(t_train, dtype=jnp.int32))
    x_test_d = jax.device_put(jnp.asarray(x_test))
    t_test_d = jax.device_put(jnp.asarray(t_test, dtype=jnp.int32))
    compile_start = time.perf_counter()
    if args.whole_loop:

        def epoch(params, opt_state, key, x_all, t_all, count):
            def body(_, carry):
                params, opt_state, key, loss_sum = carry
                params, opt_state, key, loss = step(params, opt_state, key, x_all, t_all)
                return params, opt_state, key, loss_sum + loss

            return lax.fori_loop(0, count, body, (params, opt_state, key, jnp.zeros((), jnp.float32)))

        compiled = (
            jax.jit(epoch, donate_argnums=(0, 1, 2))
            .lower(params, opt_state, key, x_all, t_all, jnp.int32(1))
            .compile()
        )
    else:
        compiled = jax.jit(step, donate_argnums=(0, 1, 2)).lower(params, opt_state, key, x_all, t_all).compile()

    @jax.jit
    def correct(params, x, t):
        return jnp.sum(jnp.argmax(predict(params, x), axis=1) == t)

    def accuracy(params, x, t):
        n = x.shape[0]
        total = sum(int(correct(params, x[i : i + eval_batch], t[i : i + eval_batch])) for i in range(0, n, eval_batch))
        return total / n

    accuracy(params, x_test_d, t_test_d)  # compiles the evaluation too (not timed either way)
    compile_seconds = time.perf_counter() - compile_start
    state = {"params": params, "opt_state": opt_state, "key": key}

    def run(count):
        params, opt_state, key = state["params"], state["opt_state"], state["key"]
        if args.whole_loop:
            params, opt_state, key, loss_sum = compiled(params, opt_state, key, x_all, t_all, jnp.int32(count))
            losses = [loss_sum]
        else:
            losses = []
            for _ in range(count):
                params, opt_state, key, loss = compiled(params, opt_state, key, x_all, t_all)
                losses.append(loss)
        jax.block_until_ready((params, opt_state, key, losses))
        state.update(params=params, opt_state=opt_state, key=key)
        return lambda: float(np.sum([np.asarray(loss) for loss in losses]))

    def evaluate():
        params = state["params"]
        return accuracy(params, x_all, t_all), accuracy(params, x_test_d, t_test_d)

    result = common.train(args, run, evaluate, train_size)
    import jaxlib

    extra = {
        "versions": {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "devices": [str(d) for d in jax.devices()]},
        "program": "jax.jit of the whole step"
        if not args.whole_loop
        else "each epoch one jax.jit of a lax.fori_loop over the step",
        "compile_seconds": compile_seconds,
    }
    common.report(args, side, result, threads, extra)


if __name__ == "__main__":
    main()
