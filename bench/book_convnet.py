# The forward pass of the SimpleConvNet of chapter 7 of "Deep Learning from Scratch"
# (Koki Saitoh, O'Reilly Japan, 2016), reproduced from the book's repository,
# oreilly-japan/deep-learning-from-scratch: `im2col` from `common/util.py`; `Relu`,
# `Affine`, `Convolution` and `Pooling` (their `forward` methods) from `common/layers.py`;
# `softmax` from `common/functions.py`; the layer order and `predict` from
# `ch07/simple_convnet.py`.
#
# That code is under the MIT licence:
#
#     MIT License
#
#     Copyright (c) 2016 Koki Saitoh
#
#     Permission is hereby granted, free of charge, to any person obtaining a copy
#     of this software and associated documentation files (the "Software"), to deal
#     in the Software without restriction, including without limitation the rights
#     to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
#     copies of the Software, and to permit persons to whom the Software is
#     furnished to do so, subject to the following conditions:
#
#     The above copyright notice and this permission notice shall be included in all
#     copies or substantial portions of the Software.
#
#     THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
#     IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
#     FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
#     AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
#     LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
#     OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
#     SOFTWARE.
#
# The training benchmark (bench/train_numpy.py) added the backward passes, also the
# book's: `col2im` from `common/util.py`; the `backward` methods of `Relu`, `Affine`,
# `Convolution` and `Pooling`, and `SoftmaxWithLoss`, from `common/layers.py`;
# `cross_entropy_error` from `common/functions.py`; `Adam` from `common/optimizer.py`;
# `loss`, `accuracy` and `gradient` from `ch07/simple_convnet.py`.
#
# What differs from the book, and only that: `SimpleConvNet` takes its parameters in its
# constructor instead of initialising random ones and then `load_params` (the book's
# `load_params` assigns `.w` where the layers read `.W`); `SimpleConvNet.initialised`
# draws them as the book's constructor does, with a standard deviation per layer; the
# softmax, which the book applies inside `SoftmaxWithLoss`, is applied to `predict`'s
# output by `predict_proba` for the forward benchmark, as its network ends in a softmax;
# `im2col`, `col2im`, `Convolution`, `Pooling` and `SimpleConvNet` take a `dtype` for the
# scratch arrays they allocate with `np.zeros` (default `float`, i.e. float64: the book's
# code exactly; the training benchmark passes float32); `Adam` multiplies by its step
# size as a Python float (the book's is a numpy float64, which numpy 2 no longer lets
# float32 arrays absorb: every update would be computed in float64). The comments are
# translated or added.
#
# Note on precision, as in the book: `im2col` allocates its columns with `np.zeros`,
# whose default dtype is float64, so with float32 images and weights the convolution's
# product, and everything after it, is computed in float64 unless a float32 `dtype` is
# passed (the forward benchmark, bench/numpy_reference.py, passes none).
"""The book's SimpleConvNet (conv - relu - pool - affine - relu - affine - softmax) in
numpy: its forward pass for bench/numpy_reference.py, its backward pass and Adam for
bench/train_numpy.py."""

from collections import OrderedDict

import numpy as np

# --- common/functions.py ---------------------------------------------------------------


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guards against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # if the labels are one-hot vectors, turn them into the indices of the right class
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# --- common/util.py -----------------------------------------------------------------------


def im2col(input_data, filter_h, filter_w, stride=1, pad=0, dtype=float):
    """

    Parameters
    ----------
    input_data : input of shape (number of samples, channels, height, width)
    filter_h : filter height
    filter_w : filter width
    stride : stride
    pad : padding
    dtype : the columns' element type (added; the book's `np.zeros` default, float64)

    Returns
    -------
    col : a 2-D array
    """
    N, C, H, W = input_data.shape
    out_h = (H + 2*pad - filter_h)//stride + 1
    out_w = (W + 2*pad - filter_w)//stride + 1

    img = np.pad(input_data, [(0,0), (0,0), (pad, pad), (pad, pad)], 'constant')
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=dtype)

    for y in range(filter_h):
        y_max = y + stride*out_h
        for x in range(filter_w):
            x_max = x + stride*out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]

    col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N*out_h*out_w, -1)
    return col


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0, dtype=float):
    """

    Parameters
    ----------
    col :
    input_shape : the shape of the input data (e.g. (10, 1, 28, 28))
    filter_h :
    filter_w
    stride
    pad
    dtype : the image's element type (added; the book's `np.zeros` default, float64)

    Returns
    -------

    """
    N, C, H, W = input_shape
    out_h = (H + 2*pad - filter_h)//stride + 1
    out_w = (W + 2*pad - filter_w)//stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)

    img = np.zeros((N, C, H + 2*pad + stride - 1, W + 2*pad + stride - 1), dtype=dtype)
    for y in range(filter_h):
        y_max = y + stride*out_h
        for x in range(filter_w):
            x_max = x + stride*out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]

    return img[:, :, pad:H + pad, pad:W + pad]


# --- common/layers.py ---------------------------------------------------------------------


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0

        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout

        return dx


class Affine:
    def __init__(self, W, b):
        self.W =W
        self.b = b

        self.x = None
        self.original_x_shape = None
        # the gradients of the weights and the bias
        self.dW = None
        self.db = None

    def forward(self, x):
        # for tensors
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x

        out = np.dot(self.x, self.W) + self.b

        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)

        dx = dx.reshape(*self.original_x_shape)  # back to the input's shape (for tensors)
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None  # the output of softmax
        self.t = None  # the labels

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)

        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # the labels are one-hot vectors
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size

        return dx


class Convolution:
    def __init__(self, W, b, stride=1, pad=0, dtype=float):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.dtype = dtype  # added: the element type of im2col's and col2im's scratch

        # intermediate data (for backward)
        self.x = None
        self.col = None
        self.col_W = None

        # the gradients of the weights and the bias
        self.dW = None
        self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2*self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2*self.pad - FW) / self.stride)

        col = im2col(x, FH, FW, self.stride, self.pad, self.dtype)
        col_W = self.W.reshape(FN, -1).T

        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

        self.x = x
        self.col = col
        self.col_W = col_W

        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0,2,3,1).reshape(-1, FN)

        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout)
        self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)

        dcol = np.dot(dout, self.col_W.T)
        dx = col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad, self.dtype)

        return dx


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0, dtype=float):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.dtype = dtype  # added: the element type of im2col's and col2im's scratch

        self.x = None
        self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)

        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad, self.dtype)
        col = col.reshape(-1, self.pool_h*self.pool_w)

        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

        self.x = x
        self.arg_max = arg_max

        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)

        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=self.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))

        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad, self.dtype)

        return dx


# --- common/optimizer.py -------------------------------------------------------------------


class Adam:
    """Adam (http://arxiv.org/abs/1412.6980v8)"""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)

        self.iter += 1
        # float(): the book's lr_t is a numpy float64, which under numpy 2 would compute
        # every update of float32 parameters in float64 (see the header)
        lr_t = float(self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter))

        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])

            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# --- ch07/simple_convnet.py ------------------------------------------------------------------


class SimpleConvNet:
    """conv - relu - pool - affine - relu - affine - softmax

    `params`: W1 b1 W2 b2 W3 b3 (trained ones, or `SimpleConvNet.initialised`);
    conv_param as in the book (30 filters of 5x5, pad 0, stride 1); `dtype`: the element
    type of the im2col scratch (default float64, the book's)."""

    def __init__(self, params, conv_param={'filter_num':30, 'filter_size':5, 'pad':0, 'stride':1}, dtype=float):
        self.params = params

        # the layers
        self.layers = OrderedDict()
        self.layers['Conv1'] = Convolution(self.params['W1'], self.params['b1'],
                                           conv_param['stride'], conv_param['pad'], dtype)
        self.layers['Relu1'] = Relu()
        self.layers['Pool1'] = Pooling(pool_h=2, pool_w=2, stride=2, dtype=dtype)
        self.layers['Affine1'] = Affine(self.params['W2'], self.params['b2'])
        self.layers['Relu2'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W3'], self.params['b3'])

        self.last_layer = SoftmaxWithLoss()

    @staticmethod
    def initialised(input_dim=(1, 28, 28),
                    conv_param={'filter_num':30, 'filter_size':5, 'pad':0, 'stride':1},
                    hidden_size=100, output_size=10, weight_init_std=0.01, dtype=float):
        """The book's constructor: weights normal with standard deviation
        `weight_init_std` (one number for every layer, as the book, or a dict of W1 W2
        W3 -> number), biases zero, every parameter of `dtype`."""
        filter_num = conv_param['filter_num']
        filter_size = conv_param['filter_size']
        filter_pad = conv_param['pad']
        filter_stride = conv_param['stride']
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2*filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size/2) * (conv_output_size/2))

        std = weight_init_std if isinstance(weight_init_std, dict) else \
            {'W1': weight_init_std, 'W2': weight_init_std, 'W3': weight_init_std}
        params = {}
        params['W1'] = std['W1'] * np.random.randn(filter_num, input_dim[0], filter_size, filter_size)
        params['b1'] = np.zeros(filter_num)
        params['W2'] = std['W2'] * np.random.randn(pool_output_size, hidden_size)
        params['b2'] = np.zeros(hidden_size)
        params['W3'] = std['W3'] * np.random.randn(hidden_size, output_size)
        params['b3'] = np.zeros(output_size)
        params = {key: value.astype(dtype) for key, value in params.items()}
        return SimpleConvNet(params, conv_param, dtype)

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)

        return x

    def predict_proba(self, x):
        """`predict` followed by the softmax (the book's SoftmaxWithLoss applies it)."""
        return softmax(self.predict(x))

    def loss(self, x, t):
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1 : t = np.argmax(t, axis=1)

        acc = 0.0

        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i*batch_size:(i+1)*batch_size]
            tt = t[i*batch_size:(i+1)*batch_size]
            y = self.predict(tx)
            y = np.argmax(y, axis=1)
            acc += np.sum(y == tt)

        return acc / x.shape[0]

    def gradient(self, x, t):
        """The gradients by backpropagation: a dict of W1 b1 W2 b2 W3 b3 -> gradient.
        The forward pass's loss stays in `self.last_layer.loss`, as the book keeps it."""
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.last_layer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        # the gradients
        grads = {}
        grads['W1'], grads['b1'] = self.layers['Conv1'].dW, self.layers['Conv1'].db
        grads['W2'], grads['b2'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W3'], grads['b3'] = self.layers['Affine2'].dW, self.layers['Affine2'].db

        return grads
