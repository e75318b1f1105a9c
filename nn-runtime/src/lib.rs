//! The runtime that generated networks call: kernels, typed layers, loaders (issue 3).
