//! `forward` of a generated network allocates nothing: a counting global allocator sees
//! no allocation while the book's MNIST-shaped network and an f64 network with every
//! activation run one sample each.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use nn_runtime::ndarray::Array2;
use nn_runtime::network;

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
    let image = [0.25_f32; 784];
    let sample = [0.5_f64; 9];
    // A first call outside the count: the CPU feature detection runs once per process.
    let _ = (mnist.forward(&image), zoo.forward(&sample));

    let mut sum = 0.0;
    let counted = allocations_during(|| {
        for _ in 0..100 {
            sum += mnist.forward(std::hint::black_box(&image))[0];
            sum += zoo.forward(std::hint::black_box(&sample))[0] as f32;
        }
    });
    assert_eq!(counted, 0, "forward allocated {counted} times");
    assert!(sum.is_finite());

    // The counter does count: a batch allocates its output.
    let batch = Array2::<f32>::zeros((2, 784));
    assert!(allocations_during(|| drop(mnist.forward_batch(batch.view()))) > 0);
}
