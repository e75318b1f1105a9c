//! Numbers and arrays of numbers as Rust tokens, written the shortest way that reads
//! back to the same value (`0.1`, `1e38`, `-0.5`).

use proc_macro2::{Literal, TokenStream};
use quote::{ToTokens, quote};

use crate::ir::{Scalar, Values};

/// A float literal: `Debug` prints the shortest text that parses back to the same value,
/// and always as a float (`1.0`, `1e38`). A negative number is a `-` and a literal,
/// as rustc itself tokenises it.
fn float(debug_text: String) -> TokenStream {
    let (negative, digits) = match debug_text.strip_prefix('-') {
        Some(digits) => (true, digits.to_owned()),
        None => (false, debug_text),
    };
    let literal: Literal = digits
        .parse()
        .expect("the Debug text of a finite float is a float literal (the checker rejects others)");
    if negative {
        quote!(-#literal)
    } else {
        literal.into_token_stream()
    }
}

/// One number.
pub(crate) fn scalar(value: Scalar) -> TokenStream {
    match value {
        Scalar::F32(x) => float(format!("{x:?}")),
        Scalar::F64(x) => float(format!("{x:?}")),
    }
}

/// `[a, b, c]`
pub(crate) fn vector(values: &Values) -> TokenStream {
    let items = elements(values);
    quote!([#(#items),*])
}

/// `[[a, b], [c, d]]` with `columns` numbers per row.
pub(crate) fn matrix(values: &Values, columns: usize) -> TokenStream {
    let items = elements(values);
    let rows = items.chunks(columns.max(1)).map(|row| quote!([#(#row),*]));
    quote!([#(#rows),*])
}

fn elements(values: &Values) -> Vec<TokenStream> {
    match values {
        Values::F32(v) => v.iter().map(|&x| float(format!("{x:?}"))).collect(),
        Values::F64(v) => v.iter().map(|&x| float(format!("{x:?}"))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_exactly() {
        assert_eq!(scalar(Scalar::F32(0.1)).to_string(), "0.1");
        assert_eq!(scalar(Scalar::F32(-0.5)).to_string(), "- 0.5");
        assert_eq!(scalar(Scalar::F32(3.0)).to_string(), "3.0");
        assert_eq!(scalar(Scalar::F32(f32::MAX)).to_string(), "3.4028235e38");
        assert_eq!(scalar(Scalar::F64(1e-300)).to_string(), "1e-300");
        let m = matrix(&Values::F64(vec![0.1, 0.3, 0.2, 0.4]), 2).to_string();
        assert_eq!(m, "[[0.1 , 0.3] , [0.2 , 0.4]]");
    }
}
