//! `forward` of a generated network allocates nothing: a counting global allocator sees
//! no allocation while the book's MNIST-shaped network and an f64 network with every
//! activation run one sample each, nor while the convolution, pooling and flatten
//! layers of the book's SimpleConvNet do.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use nn_runtime::ndarray::{self as ndarray, Array2};
use nn_runtime::optim::{AdaGrad, Adam, Momentum, Sgd};
use nn_runtime::{
    Activation, Conv2d, Conv2dConfig, Flatten, InitRng, MaxPool2d, Pool2dConfig, network,
};

/// The system allocator, counting the allocations made through it.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the caller's guarantees for `layout` are passed on as they are.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

network! {
    network Mnist {
        layer affine 784 -> 50 act sigmoid
        layer affine 50 -> 100 act sigmoid
        layer affine 100 -> 10 act softmax
    }
    network Zoo<f64> {
        layer affine 9 -> 33 act relu
        layer affine 33 -> 17 act leaky_relu(0.01)
        layer affine 17 -> 5 act tanh
        layer affine 5 -> 8 act step
        layer affine 8 -> 3 act identity
    }
    // The book's chapter 7 network, generated whole.
    network SimpleConvNet {
        input 1x28x28
        layer conv 1x28x28 -> 30x24x24 kernel 5 act relu
        layer maxpool 30x24x24 -> 30x12x12 size 2
        layer flatten 30x12x12 -> 4320
        layer affine 4320 -> 100 act relu
        layer affine 100 -> 10 act softmax
    }
}

/// Allocations made while `f` runs.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn forward_allocates_nothing() {
    let mnist = Mnist::random(3);
    let zoo = Zoo::random(4);
    let convnet = SimpleConvNet::random(5);
    let image = [0.25_f32; 784];
    let sample = [0.5_f64; 9];
    // A first call outside the count: the CPU feature detection runs once per process.
    let _ = (
        mnist.forward(&image),
        zoo.forward(&sample),
        convnet.forward(&image),
    );

    let mut sum = 0.0;
    let counted = allocations_during(|| {
        for _ in 0..100 {
            sum += mnist.forward(std::hint::black_box(&image))[0];
            sum += zoo.forward(std::hint::black_box(&sample))[0] as f32;
            sum += convnet.forward(std::hint::black_box(&image))[0];
        }
    });
    assert_eq!(counted, 0, "forward allocated {counted} times");
    assert!(sum.is_finite());

    conv_pool_and_flatten_forward_allocate_nothing();
    train_step_allocates_nothing_after_the_first();

    // The counter does count: a batch allocates its output.
    let batch = Array2::<f32>::zeros((2, 784));
    assert!(allocations_during(|| drop(mnist.forward_batch(batch.view()))) > 0);
}

/// Called from the test above: after a first step at a batch size, `train_step`
/// allocates nothing with any of the four optimizers (their state is made on the first
/// step), on one thread or two (a batch of 100 MNIST images is split between them).
fn train_step_allocates_nothing_after_the_first() {
    let x = Array2::from_shape_fn((100, 784), |(i, j)| ((i * 7 + j * 3) % 10) as f32 / 10.0);
    let labels: Vec<usize> = (0..100).map(|i| i % 10).collect();
    let optimizers: [Box<dyn nn_runtime::Optimizer<f32>>; 4] = [
        Box::new(Sgd::new(0.1)),
        Box::new(Momentum::new(0.01, 0.9)),
        Box::new(AdaGrad::new(0.01)),
        Box::new(Adam::new(0.001)),
    ];
    for mut optimizer in optimizers {
        let mut mnist = Mnist::random(6);
        mnist
            .train_step(x.view(), &labels, optimizer.as_mut())
            .expect("shapes fit");
        let counted = allocations_during(|| {
            for _ in 0..3 {
                mnist
                    .train_step(x.view(), &labels, optimizer.as_mut())
                    .expect("shapes fit");
            }
        });
        assert_eq!(counted, 0, "train_step allocated {counted} times");
    }
    let mut convnet = SimpleConvNet::random(7);
    let (x, labels) = (x.slice(ndarray::s![..4, ..]), &labels[..4]);
    let mut adam = Adam::new(0.001);
    convnet
        .train_step(x, labels, &mut adam)
        .expect("shapes fit");
    let counted = allocations_during(|| {
        convnet
            .train_step(x, labels, &mut adam)
            .expect("shapes fit");
    });
    assert_eq!(
        counted, 0,
        "the convnet's train_step allocated {counted} times"
    );
}

/// Called from the test above: tests run on parallel threads, and the counter is global.
fn conv_pool_and_flatten_forward_allocate_nothing() {
    let config = Conv2dConfig {
        input: [1, 28, 28],
        filters: 30,
        kernel: [5, 5],
        stride: [1, 1],
        pad: [0, 0],
        activation: Activation::Relu,
    };
    let conv = Conv2d::<f32, 784, 17_280>::random(config, &mut InitRng::new(1));
    let pool = MaxPool2d::<f32, 17_280, 4_320>::new(Pool2dConfig {
        input: [30, 24, 24],
        size: [2, 2],
        stride: [2, 2],
    });
    let flatten = Flatten::<f32, 4_320>::new();
    // Strided and padded, in f64: the kernel's other paths.
    let odd = Conv2dConfig {
        input: [3, 9, 11],
        filters: 5,
        kernel: [3, 4],
        stride: [2, 2],
        pad: [1, 1],
        activation: Activation::Softmax,
    };
    let conv64 = Conv2d::<f64, 297, 125>::random(odd, &mut InitRng::new(2));
    let image: [f32; 784] = std::array::from_fn(|i| (i % 7) as f32 / 7.0);
    let sample = [0.5_f64; 297];
    // A first call outside the count: the CPU feature detection runs once per process.
    let _ = (conv.forward(&image), conv64.forward(&sample));

    let mut sum = 0.0;
    let counted = allocations_during(|| {
        for _ in 0..10 {
            let features = conv.forward(std::hint::black_box(&image));
            let pooled = pool.forward(&features);
            sum += flatten.forward(&pooled)[7];
            sum += conv64.forward(std::hint::black_box(&sample))[3] as f32;
        }
    });
    assert_eq!(counted, 0, "forward allocated {counted} times");
    assert!(sum.is_finite());
}
