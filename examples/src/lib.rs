//! The book's networks, end to end (issue 5). The `.nn` files live in `nets/`.
