//! Criterion benchmarks of the kernels and of the affine layer at the MNIST sizes
//! (784 → 50 → 100 → 10, the book's trained weights): one sample, and batches of 100 and
//! 10,000. `cargo bench -p nn-runtime` runs them all in about a minute.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nn_runtime::ndarray::{Array2, ArrayView2};
use nn_runtime::{Activation, Affine, Tensors, kernels};

/// The book's network, loaded from the test data.
struct Mnist {
    l1: Affine<f32, 784, 50>,
    l2: Affine<f32, 50, 100>,
    l3: Affine<f32, 100, 10>,
}

impl Mnist {
    fn load() -> Mnist {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sample_weight.safetensors"
        );
        let mut tensors = Tensors::open(path).expect("the sample weights");
        let net = Mnist {
            l1: Affine::load(&mut tensors, "W1", "b1", Activation::Sigmoid).expect("W1"),
            l2: Affine::load(&mut tensors, "W2", "b2", Activation::Sigmoid).expect("W2"),
            l3: Affine::load(&mut tensors, "W3", "b3", Activation::Softmax).expect("W3"),
        };
        tensors.finish().expect("nothing else");
        net
    }

    fn forward(&self, x: &[f32; 784]) -> [f32; 10] {
        self.l3.forward(&self.l2.forward(&self.l1.forward(x)))
    }

    fn forward_batch(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let h = self.l1.forward_batch(x).expect("width 784");
        let h = self.l2.forward_batch(h.view()).expect("width 50");
        self.l3.forward_batch(h.view()).expect("width 100")
    }
}

/// Made-up inputs in [0, 1), like pixels / 255.
fn inputs(rows: usize, width: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, width), |(r, c)| {
        ((r * 131 + c * 37) % 256) as f32 / 255.0
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
    let net = Mnist::load();
    layer(c, &net.l1);
    layer(c, &net.l2);
    layer(c, &net.l3);
}

fn network(c: &mut Criterion) {
    let net = Mnist::load();
    let mut group = c.benchmark_group("mnist_784_50_100_10");
    let x: [f32; 784] = std::array::from_fn(|i| (i % 256) as f32 / 255.0);
    group.throughput(Throughput::Elements(1));
    group.bench_function("forward", |b| b.iter(|| net.forward(black_box(&x))));
    for rows in [100, 10_000] {
        let batch = inputs(rows, 784);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(
            BenchmarkId::new("forward_batch", rows),
            &batch,
            |b, batch| b.iter(|| net.forward_batch(black_box(batch.view()))),
        );
    }
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
    targets = kernels, affine, network
}
criterion_main!(benches);
