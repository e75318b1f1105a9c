//! Criterion benchmarks of the kernels, of the affine layer at the MNIST sizes, and of
//! the book's MNIST network (784 → 50 → 100 → 10, the book's trained weights) as
//! `network!` generates it: one sample, and batches of 100 and 10,000. The network runs
//! on dense inputs and on sparse ones shaped like MNIST digits (about 80 % zeros), since
//! on AVX-512 the kernels skip inputs that are 0. Then the convolution and pooling
//! layers of the book's SimpleConvNet (chapter 7), and the whole network. `cargo bench -p
//! nn-runtime` runs them all in about a minute; `cargo bench -p nn-runtime --
//! simple_convnet` only the latter.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nn_runtime::ndarray::{Array2, s};
use nn_runtime::{
    Activation, Affine, Conv2d, Conv2dConfig, InitRng, MaxPool2d, Pool2dConfig, kernels, network,
};

// The definition of examples/nets/mnist.nn, so that the network benchmarks time the code
// users get (`forward_batch` through `batch::forward_in_blocks`), not a hand-written chain.
network! {
    network Mnist {
        input 784
        layer affine 784 -> 50 act sigmoid
        layer affine 50 -> 100 act sigmoid
        layer affine 100 -> 10 act softmax
    }
}

// The book's SimpleConvNet (examples/nets/simple_convnet.nn), with random He weights:
// the whole stack as generated code runs it, for `simple_convnet_network`.
network! {
    network SimpleConvNet {
        input 1x28x28
        layer conv 1x28x28 -> 30x24x24 kernel 5 act relu
        layer maxpool 30x24x24 -> 30x12x12 size 2
        layer flatten 30x12x12 -> 4320
        layer affine 4320 -> 100 act relu
        layer affine 100 -> 10 act softmax
    }
}

/// The book's network, loaded from the test data.
fn mnist() -> Mnist {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sample_weight.safetensors"
    );
    Mnist::load(path).expect("the sample weights")
}

/// Made-up dense inputs in [0, 1), like pixels / 255 with no zeros to skip.
fn inputs(rows: usize, width: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, width), |(r, c)| {
        ((r * 131 + c * 37) % 256) as f32 / 255.0
    })
}

/// Made-up 28×28 "digits": an ellipse whose size and position change from row to row,
/// 0 elsewhere. As in the MNIST test set, about 19 % of a row's pixels are not 0, and
/// about 37 % of the positions are not 0 in at least one of 4 consecutive rows (the batch
/// kernels skip an input only when it is 0 in all the samples they take together).
fn digits(rows: usize) -> Array2<f32> {
    const THICKNESS: f32 = 0.24;
    Array2::from_shape_fn((rows, 784), |(r, p)| {
        let (i, j) = ((p / 28) as f32, (p % 28) as f32);
        let half_width = 5.0 + (r % 3) as f32;
        let half_height = 8.0 + (r % 2) as f32;
        let centre = 11.5 + (r % 5) as f32;
        let dx = (j - centre) / half_width;
        let dy = (i - 13.5) / half_height;
        let off = (dx.hypot(dy) - 1.0).abs();
        if off < THICKNESS {
            1.0 - 0.7 * off / THICKNESS
        } else {
            0.0
        }
    })
}

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    for n in [100, 1_000_000] {
        let data: Vec<f32> = (0..n).map(|i| (i % 200) as f32 / 20.0 - 5.0).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("sigmoid_in_place", n), &data, |b, data| {
            let mut buf = data.clone();
            b.iter(|| {
                buf.copy_from_slice(data);
                kernels::sigmoid_in_place(black_box(&mut buf));
            });
        });
        group.bench_with_input(BenchmarkId::new("relu_in_place", n), &data, |b, data| {
            let mut buf = data.clone();
            b.iter(|| {
                buf.copy_from_slice(data);
                kernels::relu_in_place(black_box(&mut buf));
            });
        });
    }
    let row: Vec<f32> = (0..10).map(|i| i as f32 * 0.7 - 3.0).collect();
    group.throughput(Throughput::Elements(10));
    group.bench_function("softmax_in_place/10", |b| {
        let mut buf = row.clone();
        b.iter(|| {
            buf.copy_from_slice(&row);
            kernels::softmax_in_place(black_box(&mut buf));
        });
    });
    let rows = inputs(10_000, 10);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("softmax_rows_in_place/10000x10", |b| {
        let mut buf = rows.clone();
        b.iter(|| {
            buf.assign(&rows);
            kernels::softmax_rows_in_place(black_box(buf.view_mut()));
        });
    });
    group.finish();
}

/// One layer: single sample, then batches of 100 and 10,000.
fn layer<const IN: usize, const OUT: usize>(c: &mut Criterion, layer: &Affine<f32, IN, OUT>) {
    let mut group = c.benchmark_group(format!("affine_{IN}x{OUT}"));
    let x: [f32; IN] = std::array::from_fn(|i| (i % 256) as f32 / 255.0);
    group.throughput(Throughput::Elements(1));
    group.bench_function("forward", |b| b.iter(|| layer.forward(black_box(&x))));
    for rows in [100, 10_000] {
        let batch = inputs(rows, IN);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(
            BenchmarkId::new("forward_batch", rows),
            &batch,
            |b, batch| b.iter(|| layer.forward_batch(black_box(batch.view()))),
        );
    }
    group.finish();
}

fn affine(c: &mut Criterion) {
    let net = mnist();
    layer(c, &net.layer1);
    layer(c, &net.layer2);
    layer(c, &net.layer3);
}

/// The whole network, on dense inputs (`forward`, `forward_batch`) and on digit-like
/// sparse ones (`forward_sparse`, `forward_batch_sparse`).
fn network(c: &mut Criterion) {
    let net = mnist();
    let mut group = c.benchmark_group("mnist_784_50_100_10");
    let dense: [f32; 784] = std::array::from_fn(|i| (i % 256) as f32 / 255.0);
    let digits = digits(10_000);
    let digit: [f32; 784] = std::array::from_fn(|i| digits[[0, i]]);
    let cases = [("", dense, inputs(10_000, 784)), ("_sparse", digit, digits)];
    for (suffix, x, images) in &cases {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("forward{suffix}"), |b| {
            b.iter(|| net.forward(black_box(x)))
        });
        for rows in [100, 10_000] {
            let batch = images.slice(s![..rows, ..]);
            group.throughput(Throughput::Elements(rows as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("forward_batch{suffix}"), rows),
                &batch,
                |b, batch| b.iter(|| net.forward_batch(black_box(batch.view()))),
            );
        }
    }
    group.finish();
}

/// The first two layers of the book's SimpleConvNet (chapter 7): conv 1x28x28 -> 30x24x24
/// kernel 5 relu (432,000 multiply-adds a sample) and maxpool size 2, on one digit-like
/// image and on batches of 100, with random He weights.
fn conv(c: &mut Criterion) {
    let config = Conv2dConfig {
        input: [1, 28, 28],
        filters: 30,
        kernel: [5, 5],
        stride: [1, 1],
        pad: [0, 0],
        activation: Activation::Relu,
    };
    let conv = Conv2d::<f32, 784, 17_280>::random(config, &mut InitRng::new(7));
    let pool = MaxPool2d::<f32, 17_280, 4_320>::new(Pool2dConfig {
        input: [30, 24, 24],
        size: [2, 2],
        stride: [2, 2],
    });
    let mut group = c.benchmark_group("simple_convnet_layers");
    let images = digits(100);
    let dense = inputs(100, 784);
    let digit: [f32; 784] = std::array::from_fn(|i| images[[0, i]]);
    let dense_one: [f32; 784] = std::array::from_fn(|i| dense[[0, i]]);
    group.throughput(Throughput::Elements(1));
    group.bench_function("conv_forward_sparse", |b| {
        b.iter(|| conv.forward(black_box(&digit)))
    });
    group.bench_function("conv_forward_dense", |b| {
        b.iter(|| conv.forward(black_box(&dense_one)))
    });
    let features = conv.forward(&digit);
    group.bench_function("maxpool_forward", |b| {
        b.iter(|| pool.forward(black_box(&features)))
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("conv_forward_batch_sparse/100", |b| {
        b.iter(|| conv.forward_batch(black_box(images.view())))
    });
    group.bench_function("conv_forward_batch_dense/100", |b| {
        b.iter(|| conv.forward_batch(black_box(dense.view())))
    });
    let feature_rows = conv.forward_batch(images.view()).expect("width 784");
    group.bench_function("maxpool_forward_batch/100", |b| {
        b.iter(|| pool.forward_batch(black_box(feature_rows.view())))
    });
    group.finish();
}

/// The whole SimpleConvNet on digit-like images: one `forward`, and `forward_batch` in
/// batches of 100 (both cores).
fn convnet(c: &mut Criterion) {
    let net = SimpleConvNet::random(7);
    let images = digits(100);
    let digit: [f32; 784] = std::array::from_fn(|i| images[[0, i]]);
    let mut group = c.benchmark_group("simple_convnet_network");
    group.throughput(Throughput::Elements(1));
    group.bench_function("forward", |b| b.iter(|| net.forward(black_box(&digit))));
    group.throughput(Throughput::Elements(100));
    group.bench_function("forward_batch/100", |b| {
        b.iter(|| net.forward_batch(black_box(images.view())))
    });
    group.finish();
}

fn short() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = short();
    targets = kernels, affine, network, conv, convnet
}
criterion_main!(benches);
