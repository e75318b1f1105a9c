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
# What differs from the book, and only that: the backward passes, the loss layer and the
# training code are left out (the benchmark only runs `predict`); `SimpleConvNet` takes
# its trained parameters in its constructor instead of initialising random ones and then
# `load_params` (the book's `load_params` assigns `.w` where the layers read `.W`); the
# softmax, which the book applies inside `SoftmaxWithLoss`, is applied to `predict`'s
# output by `predict_proba`, as the network of the benchmark ends in a softmax. The
# comments are translated or added.
#
# Note on precision, as in the book: `im2col` allocates its columns with `np.zeros`,
# whose default dtype is float64, so with float32 images and weights the convolution's
# product, and everything after it, is computed in float64.
"""The book's SimpleConvNet forward pass (conv - relu - pool - affine - relu - affine -
softmax) in numpy, for bench/numpy_reference.py."""

import numpy as np

# --- common/functions.py ---------------------------------------------------------------


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guards against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


# --- common/util.py -----------------------------------------------------------------------


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """

    Parameters
    ----------
    input_data : input of shape (number of samples, channels, height, width)
    filter_h : filter height
    filter_w : filter width
    stride : stride
    pad : padding

    Returns
    -------
    col : a 2-D array
    """
    N, C, H, W = input_data.shape
    out_h = (H + 2*pad - filter_h)//stride + 1
    out_w = (W + 2*pad - filter_w)//stride + 1

    img = np.pad(input_data, [(0,0), (0,0), (pad, pad), (pad, pad)], 'constant')
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))

    for y in range(filter_h):
        y_max = y + stride*out_h
        for x in range(filter_w):
            x_max = x + stride*out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]

    col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N*out_h*out_w, -1)
    return col


# --- common/layers.py (forward passes) ----------------------------------------------------


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0

        return out


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


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad

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

        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T

        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

        self.x = x
        self.col = col
        self.col_W = col_W

        return out


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad

        self.x = None
        self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)

        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h*self.pool_w)

        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

        self.x = x
        self.arg_max = arg_max

        return out


# --- ch07/simple_convnet.py (the forward pass) -------------------------------------------


class SimpleConvNet:
    """conv - relu - pool - affine - relu - affine - softmax

    `params`: the trained W1 b1 W2 b2 W3 b3; conv_param as in the book (30 filters of
    5x5, pad 0, stride 1)."""

    def __init__(self, params, conv_param={'filter_num':30, 'filter_size':5, 'pad':0, 'stride':1}):
        self.params = params

        # the layers
        self.layers = []
        self.layers.append(Convolution(self.params['W1'], self.params['b1'], conv_param['stride'], conv_param['pad']))
        self.layers.append(Relu())
        self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Affine(self.params['W2'], self.params['b2']))
        self.layers.append(Relu())
        self.layers.append(Affine(self.params['W3'], self.params['b3']))

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)

        return x

    def predict_proba(self, x):
        """`predict` followed by the softmax (the book's SoftmaxWithLoss applies it)."""
        return softmax(self.predict(x))
