//! Training's other half (LANGUAGE.md §9): the [`Parameters`] view of a network's
//! tensors, the [`Optimizer`] trait, and the book's four optimizers, [`Sgd`],
//! [`Momentum`], [`AdaGrad`] and [`Adam`] (chapter 6, ε = 1e-7).
//!
//! An optimizer sees one tensor at a time, by its §4 name (`W1`, `hidden1.weight`), so
//! its state per tensor (velocities, squared-gradient sums, moments) is a map from
//! names to arrays, and [`step`] pairs a network's tensors with its gradients' by name.

use std::collections::HashMap;

use ndarray::{ArrayD, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, Ix2};

use crate::Float;

/// A name-keyed view of a network's parameter tensors, for optimizers, checkpoints,
/// tests and tools.
pub trait Parameters {
    /// The element type, `f32` or `f64`.
    type Elem;
    /// Every parameter tensor once, in layer order, weight before bias, with its §4 name
    /// and §4/§8 shape (whatever the runtime's internal layout or padding).
    fn visit(&self, f: &mut dyn FnMut(&str, ArrayViewD<'_, Self::Elem>));
    /// The same, mutably.
    fn visit_mut(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, Self::Elem>));
}

/// How parameters move given their gradients.
///
/// [`step`] calls [`begin_step`](Optimizer::begin_step) once, then
/// [`update`](Optimizer::update) for every tensor, in [`Parameters`] order. An
/// optimizer with state keeps it per tensor name, created on first sight. To write
/// your own:
///
/// ```
/// use nn_runtime::Float;
/// use nn_runtime::ndarray::{ArrayViewD, ArrayViewMutD, Zip};
/// use nn_runtime::optim::Optimizer;
///
/// /// Gradient descent with a fixed step size per element: `p -= lr·sign(g)`.
/// struct SignSgd { lr: f64 }
///
/// impl<T: Float> Optimizer<T> for SignSgd {
///     fn update(&mut self, _name: &str, param: ArrayViewMutD<'_, T>, grad: ArrayViewD<'_, T>) {
///         let lr = T::from_f64(self.lr);
///         Zip::from(param).and(&grad).for_each(|p, &g| *p = *p - lr * g.signum());
///     }
/// }
/// ```
pub trait Optimizer<T: Float> {
    /// Called once per training step, before the step's updates (Adam counts its `t`
    /// here).
    fn begin_step(&mut self) {}

    /// Updates the tensor `name` in place from its gradient, of the same shape.
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, T>, grad: ArrayViewD<'_, T>);
}

/// One optimizer step: every tensor of `params` updated from the tensor of the same
/// name in `grads`. A tensor without a gradient is left as it is.
///
/// [`Parameters::visit`] lends each tensor only for the call, so the gradients are
/// copied first (one copy of them per step); code that owns both sides, as a generated
/// network's `train_step` will, can pair them without the copy.
///
/// ```
/// use nn_runtime::optim::{step, Parameters, Sgd};
/// use nn_runtime::ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
///
/// struct One(ArrayD<f64>);
/// impl Parameters for One {
///     type Elem = f64;
///     fn visit(&self, f: &mut dyn FnMut(&str, ArrayViewD<'_, f64>)) { f("W1", self.0.view()) }
///     fn visit_mut(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f64>)) { f("W1", self.0.view_mut()) }
/// }
///
/// let mut params = One(ArrayD::from_elem(IxDyn(&[2]), 1.0));
/// let grads = One(ArrayD::from_elem(IxDyn(&[2]), 0.5));
/// step(&mut params, &grads, &mut Sgd::new(0.1));
/// assert_eq!(params.0.as_slice(), Some(&[0.95, 0.95][..]));
/// ```
pub fn step<T, P, G, O>(params: &mut P, grads: &G, optimizer: &mut O)
where
    T: Float,
    P: Parameters<Elem = T> + ?Sized,
    G: Parameters<Elem = T> + ?Sized,
    O: Optimizer<T> + ?Sized,
{
    let mut by_name: HashMap<String, ArrayD<T>> = HashMap::new();
    grads.visit(&mut |name, grad| {
        by_name.insert(name.to_owned(), grad.to_owned());
    });
    optimizer.begin_step();
    params.visit_mut(&mut |name, param| {
        if let Some(grad) = by_name.get(name) {
            optimizer.update(name, param, grad.view());
        }
    });
}

/// A tensor as a matrix, so that the optimizers' loops run over a fixed number of
/// dimensions (a `Zip` over `IxDyn` computes every index dynamically, several times
/// slower): a scalar or vector is one row, a matrix is itself, a standard-layout tensor
/// of more dimensions is its first axis by the rest; `None` for any other layout.
fn matrix<'a, T>(tensor: ArrayViewMutD<'a, T>) -> Option<ArrayViewMut2<'a, T>> {
    match tensor.ndim() {
        0 => tensor.into_shape_with_order((1, 1)).ok(),
        1 => Some(
            tensor
                .into_dimensionality::<ndarray::Ix1>()
                .ok()?
                .insert_axis(ndarray::Axis(0)),
        ),
        2 => tensor.into_dimensionality::<Ix2>().ok(),
        _ => {
            let first = tensor.shape()[0];
            let rest = tensor.len() / first.max(1);
            tensor.into_shape_with_order((first, rest)).ok()
        }
    }
}

/// `f(p, states, g)` for every element of a parameter, its states (standard-layout
/// arrays of its shape, created by the optimizer) and its gradient, as matrices: a
/// parameter in a layout [`matrix`] cannot take is updated in a copy.
fn update_each<T: Float, const S: usize>(
    mut param: ArrayViewMutD<'_, T>,
    states: [&mut ArrayD<T>; S],
    grad: ArrayViewD<'_, T>,
    f: impl FnMut(&mut T, [&mut T; S], T),
) {
    let grad = grad.as_standard_layout();
    let (rows, cols) = match param.ndim() {
        0 | 1 => (1, param.len()),
        _ => (param.shape()[0], param.len() / param.shape()[0].max(1)),
    };
    let grad = grad
        .view()
        .into_shape_with_order((rows, cols))
        .expect("a standard-layout gradient of the parameter's size reshapes");
    let states = states.map(|s| {
        s.view_mut()
            .into_shape_with_order((rows, cols))
            .expect("a state has its parameter's shape and standard layout")
    });
    if param.ndim() <= 2 || param.is_standard_layout() {
        let matrix = matrix(param).expect("checked: the layout reshapes");
        update_rows(matrix, states, grad, f);
    } else {
        let mut copy = param.to_owned();
        let matrix = matrix(copy.view_mut()).expect("a new array is standard layout");
        update_rows(matrix, states, grad, f);
        param.assign(&copy);
    }
}

/// [`update_each`] on matrices of one shape, a row at a time: as slices where the rows
/// are contiguous (always, for the runtime's layers), so that the loop vectorises.
fn update_rows<T: Float, const S: usize>(
    mut param: ArrayViewMut2<'_, T>,
    mut states: [ArrayViewMut2<'_, T>; S],
    grad: ArrayView2<'_, T>,
    mut f: impl FnMut(&mut T, [&mut T; S], T),
) {
    for (r, (mut param, grad)) in param.rows_mut().into_iter().zip(grad.rows()).enumerate() {
        let mut rows = states.each_mut().map(|s| s.row_mut(r));
        let n = param.len();
        let slices = (
            param.as_slice_mut(),
            grad.as_slice(),
            rows.each_mut().map(|row| row.as_slice_mut()),
        );
        if let (Some(param), Some(grad), states) = slices
            && let Some(mut states) = try_all(states)
        {
            let (param, grad) = (&mut param[..n], &grad[..n]);
            let mut states = states.each_mut().map(|s| &mut s[..n]);
            for c in 0..n {
                f(&mut param[c], states.each_mut().map(|s| &mut s[c]), grad[c]);
            }
        } else {
            for (c, (p, &g)) in param.iter_mut().zip(grad.iter()).enumerate() {
                f(p, rows.each_mut().map(|row| &mut row[c]), g);
            }
        }
    }
}

/// `Some` of every element if none is `None`.
fn try_all<X, const S: usize>(items: [Option<X>; S]) -> Option<[X; S]> {
    if items.iter().any(Option::is_none) {
        return None;
    }
    Some(items.map(|item| item.expect("checked: none is None")))
}

/// The book's ε, added to square roots in the denominators.
const EPSILON: f64 = 1e-7;

/// The state of a tensor, made by `new` on first sight; later steps look it up
/// without allocating (no `String` key per call).
fn state<'a, S>(
    states: &'a mut HashMap<String, S>,
    name: &str,
    new: impl FnOnce() -> S,
) -> &'a mut S {
    if !states.contains_key(name) {
        states.insert(name.to_owned(), new());
    }
    states
        .get_mut(name)
        .expect("the state was just inserted if it was missing")
}

/// Stochastic gradient descent: `p −= lr·g`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr` (the book's chapter 5 uses 0.1).
    pub fn new(lr: f64) -> Self {
        Sgd { lr }
    }
}

impl<T: Float> Optimizer<T> for Sgd {
    fn update(&mut self, _name: &str, param: ArrayViewMutD<'_, T>, grad: ArrayViewD<'_, T>) {
        let lr = T::from_f64(self.lr);
        update_each(param, [], grad, |p, [], g| *p = *p - lr * g);
    }
}

/// Momentum: `v = m·v − lr·g; p += v`, `v` starting at 0.
#[derive(Clone, Debug)]
pub struct Momentum<T> {
    lr: f64,
    momentum: f64,
    velocity: HashMap<String, ArrayD<T>>,
}

impl<T> Momentum<T> {
    /// Momentum with learning rate `lr` and momentum `momentum` (the book: 0.01, 0.9).
    pub fn new(lr: f64, momentum: f64) -> Self {
        Momentum {
            lr,
            momentum,
            velocity: HashMap::new(),
        }
    }
}

impl<T: Float> Optimizer<T> for Momentum<T> {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, T>, grad: ArrayViewD<'_, T>) {
        let (lr, m) = (T::from_f64(self.lr), T::from_f64(self.momentum));
        let v = state(&mut self.velocity, name, || ArrayD::zeros(param.raw_dim()));
        update_each(param, [v], grad, |p, [v], g| {
            *v = m * *v - lr * g;
            *p = *p + *v;
        });
    }
}

/// AdaGrad: `h += g²; p −= lr·g / (√h + ε)`, `h` starting at 0.
#[derive(Clone, Debug)]
pub struct AdaGrad<T> {
    lr: f64,
    squares: HashMap<String, ArrayD<T>>,
}

impl<T> AdaGrad<T> {
    /// AdaGrad with learning rate `lr` (the book: 0.01).
    pub fn new(lr: f64) -> Self {
        AdaGrad {
            lr,
            squares: HashMap::new(),
        }
    }
}

impl<T: Float> Optimizer<T> for AdaGrad<T> {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, T>, grad: ArrayViewD<'_, T>) {
        let (lr, eps) = (T::from_f64(self.lr), T::from_f64(EPSILON));
        let h = state(&mut self.squares, name, || ArrayD::zeros(param.raw_dim()));
        update_each(param, [h], grad, |p, [h], g| {
            *h = *h + g * g;
            *p = *p - lr * g / (h.sqrt() + eps);
        });
    }
}

/// Adam (β1 = 0.9, β2 = 0.999), as the book writes it: with `t` counted from 1,
/// `lr_t = lr·√(1 − β2^t) / (1 − β1^t)`, `m += (1 − β1)(g − m)`,
/// `v += (1 − β2)(g² − v)`, `p −= lr_t·m / (√v + ε)`.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    t: i32,
    moments: HashMap<String, (ArrayD<T>, ArrayD<T>)>,
}

impl<T> Adam<T> {
    /// Adam with learning rate `lr` (the book: 0.001).
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            t: 0,
            moments: HashMap::new(),
        }
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn begin_step(&mut self) {
        self.t = self.t.saturating_add(1);
    }

    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, T>, grad: ArrayViewD<'_, T>) {
        let t = self.t.max(1);
        let lr_t = self.lr * (1.0 - self.beta2.powi(t)).sqrt() / (1.0 - self.beta1.powi(t));
        let (lr_t, eps) = (T::from_f64(lr_t), T::from_f64(EPSILON));
        let (one_minus_b1, one_minus_b2) =
            (T::from_f64(1.0 - self.beta1), T::from_f64(1.0 - self.beta2));
        let (m, v) = state(&mut self.moments, name, || {
            (
                ArrayD::zeros(param.raw_dim()),
                ArrayD::zeros(param.raw_dim()),
            )
        });
        update_each(param, [m, v], grad, |p, [m, v], g| {
            *m = *m + one_minus_b1 * (g - *m);
            *v = *v + one_minus_b2 * (g * g - *v);
            *p = *p - lr_t * *m / (v.sqrt() + eps);
        });
    }
}
