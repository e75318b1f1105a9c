//! Reading one `.npy` array: the magic string, the format version, a Python dict literal
//! (`{'descr': '<f4', 'fortran_order': False, 'shape': (784, 50), }`) and the data.
//!
//! The header is parsed here rather than with `ndarray-npy`, which can only read an
//! array whose element type the caller names in advance: the loader must list every
//! array's dtype and shape when it opens the file, and report `found f64` when a network
//! wants `f32`. The data length is checked against the shape before anything is
//! allocated from it.

use std::cmp::Ordering;

use super::{Malformed, RawTensor};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses and checks one `.npy` file.
pub(super) fn parse(bytes: &[u8]) -> Result<RawTensor, Malformed> {
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        return Err(if MAGIC.starts_with(bytes) {
            Malformed::Truncated("the .npy data ends inside its magic string".to_owned())
        } else {
            Malformed::Corrupt("it is not an .npy array (no `\\x93NUMPY` magic string)".to_owned())
        });
    };
    let cut_short = || Malformed::Truncated("the .npy header is cut short".to_owned());
    let (&major, rest) = rest.split_first().ok_or_else(cut_short)?;
    let rest = rest.get(1..).ok_or_else(cut_short)?; // the minor version
    let (header_len, rest) = match major {
        1 => {
            let (n, rest) = rest.split_first_chunk::<2>().ok_or_else(cut_short)?;
            (usize::from(u16::from_le_bytes(*n)), rest)
        }
        2 | 3 => {
            let (n, rest) = rest.split_first_chunk::<4>().ok_or_else(cut_short)?;
            let n = usize::try_from(u32::from_le_bytes(*n)).unwrap_or(usize::MAX);
            (n, rest)
        }
        _ => {
            return Err(Malformed::Corrupt(format!(
                "unknown .npy format version {major}"
            )));
        }
    };
    let (header, data) = rest.split_at_checked(header_len).ok_or_else(cut_short)?;
    let header = std::str::from_utf8(header)
        .map_err(|_| Malformed::Corrupt("the .npy header is not text".to_owned()))?;
    let Header {
        descr,
        fortran_order,
        shape,
    } = Header::parse(header).map_err(|e| Malformed::Corrupt(format!("the .npy header {e}")))?;

    let (dtype, item_size, big_endian) = match &descr {
        Descr::Simple(descr) => dtype_of(descr),
        Descr::Structured => ("structured".to_owned(), None, false),
    };
    // Arrays of a dtype we cannot decode are kept with their name only: `take` refuses
    // them with `WrongDType`, so their data is never read.
    if let Some(item_size) = item_size {
        let needed = shape
            .iter()
            .try_fold(item_size, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                Malformed::Corrupt(format!("the .npy shape {shape:?} is impossibly large"))
            })?;
        let detail = || {
            format!(
                "the .npy array of shape {shape:?} and dtype {dtype} needs {needed} bytes of \
                 data but has {}",
                data.len()
            )
        };
        match data.len().cmp(&needed) {
            Ordering::Less => return Err(Malformed::Truncated(detail())),
            Ordering::Greater => return Err(Malformed::Corrupt(detail())),
            Ordering::Equal => {}
        }
    }
    Ok(RawTensor {
        dtype,
        shape,
        big_endian,
        fortran_order,
        data: data.to_vec(),
    })
}

/// numpy's type descriptor (`'<f4'`) as the name the loader uses (`"f32"`), the size of
/// one element if known, and whether it is big-endian.
fn dtype_of(descr: &str) -> (String, Option<usize>, bool) {
    let (big_endian, code) = match descr.as_bytes().first() {
        Some(b'<' | b'|') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        Some(b'=') => (cfg!(target_endian = "big"), &descr[1..]),
        _ => (false, descr),
    };
    let mut chars = code.chars();
    let kind = chars.next().map(String::from).unwrap_or_default();
    // A descriptor we do not name keeps numpy's spelling, quoted, so that it can never
    // pass for one of ours: `'f32'` is no numpy type, and must not be taken for `f32`.
    let numpy = || format!("'{descr}'");
    let Ok(size) = chars.as_str().parse::<usize>() else {
        return (numpy(), None, big_endian);
    };
    let name = match (kind.as_str(), size) {
        ("b", 1) => "bool".to_owned(),
        ("f" | "i" | "u" | "c", 1..=16) => format!("{kind}{}", size * 8),
        // Strings and raw bytes have a size but no numeric name.
        ("S" | "V", _) => return (numpy(), Some(size), big_endian),
        ("U", _) => return (numpy(), size.checked_mul(4), big_endian),
        _ => return (numpy(), None, big_endian),
    };
    (name, Some(size), big_endian)
}

/// The three keys of an `.npy` header.
#[derive(Debug, PartialEq)]
struct Header {
    descr: Descr,
    fortran_order: bool,
    shape: Vec<usize>,
}

#[derive(Debug, PartialEq)]
enum Descr {
    /// A plain type such as `'<f4'`.
    Simple(String),
    /// A record type, written as a list of fields.
    Structured,
}

impl Header {
    /// Parses the dict literal; the error completes "the .npy header ...".
    fn parse(text: &str) -> Result<Header, String> {
        let mut parser = Literal {
            text: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        let Value::Dict(entries) = parser.value()? else {
            return Err("is not a Python dict".to_owned());
        };
        parser.skip_space();
        if parser.pos != text.len() {
            return Err(format!("has text after its dict, at byte {}", parser.pos));
        }
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        for (key, value) in entries {
            match (key.as_str(), value) {
                ("descr", Value::Str(s)) => descr = Some(Descr::Simple(s)),
                ("descr", Value::Seq(_)) => descr = Some(Descr::Structured),
                ("fortran_order", Value::Bool(b)) => fortran_order = Some(b),
                ("shape", Value::Seq(dims)) => {
                    let dims: Option<Vec<usize>> = dims
                        .into_iter()
                        .map(|d| match d {
                            Value::Int(n) => n,
                            _ => None,
                        })
                        .collect();
                    shape = Some(dims.ok_or("has a shape that is not a tuple of sizes")?);
                }
                ("descr" | "fortran_order" | "shape", _) => {
                    return Err(format!("has a `{key}` of the wrong kind"));
                }
                _ => {} // numpy writes no other keys; ignore what a future one might add
            }
        }
        Ok(Header {
            descr: descr.ok_or("has no `descr`")?,
            fortran_order: fortran_order.ok_or("has no `fortran_order`")?,
            shape: shape.ok_or("has no `shape`")?,
        })
    }
}

/// A Python literal, as much as `.npy` headers use.
#[derive(Debug)]
enum Value {
    Str(String),
    /// `None` when the integer does not fit a `usize`.
    Int(Option<usize>),
    Bool(bool),
    None,
    /// A tuple or a list.
    Seq(Vec<Value>),
    /// Keys are strings in `.npy` headers; others are refused.
    Dict(Vec<(String, Value)>),
}

/// A recursive-descent parser over the header's bytes.
struct Literal<'a> {
    text: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Literal<'_> {
    /// Deep enough for any header numpy writes (a structured dtype nests a few levels).
    const MAX_DEPTH: usize = 32;

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skips spaces, then consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn unexpected(&self) -> String {
        match self.peek() {
            Some(b) => format!("has an unexpected {:?} at byte {}", char::from(b), self.pos),
            None => "ends in the middle of its dict".to_owned(),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_space();
        if self.depth >= Self::MAX_DEPTH {
            return Err("is nested too deeply".to_owned());
        }
        match self.peek() {
            Some(quote @ (b'\'' | b'"')) => self.string(quote).map(Value::Str),
            Some(b'(') => self.nested(|p| p.sequence(b')')),
            Some(b'[') => self.nested(|p| p.sequence(b']')),
            Some(b'{') => self.nested(Literal::dict),
            Some(b'0'..=b'9') => Ok(self.integer()),
            Some(b'A'..=b'Z' | b'a'..=b'z') => {
                let start = self.pos;
                while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                    self.pos += 1;
                }
                match &self.text[start..self.pos] {
                    b"True" => Ok(Value::Bool(true)),
                    b"False" => Ok(Value::Bool(false)),
                    b"None" => Ok(Value::None),
                    word => Err(format!(
                        "has an unknown word `{}`",
                        String::from_utf8_lossy(word)
                    )),
                }
            }
            _ => Err(self.unexpected()),
        }
    }

    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<Value, String>,
    ) -> Result<Value, String> {
        self.pos += 1; // the opening bracket
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    /// A string in `quote`s; a backslash keeps the next character as it is.
    fn string(&mut self, quote: u8) -> Result<String, String> {
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => return Err("has a string without its closing quote".to_owned()),
                Some(b) if b == quote => break,
                Some(b'\\') => {
                    self.pos += 1;
                    bytes.extend(self.peek());
                }
                Some(b) => bytes.push(b),
            }
            self.pos += 1;
        }
        self.pos += 1;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Digits, and the `L` suffix that Python 2 wrote after a long.
    fn integer(&mut self) -> Value {
        let mut n = Some(0usize);
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            n = n
                .and_then(|n| n.checked_mul(10))
                .and_then(|n| n.checked_add(usize::from(digit - b'0')));
            self.pos += 1;
        }
        if self.peek() == Some(b'L') {
            self.pos += 1;
        }
        Value::Int(n)
    }

    /// The items up to `close`, separated by commas, with an optional trailing comma.
    fn sequence(&mut self, close: u8) -> Result<Value, String> {
        let mut items = Vec::new();
        while !self.eat(close) {
            items.push(self.value()?);
            if !self.eat(b',') {
                if self.eat(close) {
                    break;
                }
                return Err(self.unexpected());
            }
        }
        Ok(Value::Seq(items))
    }

    fn dict(&mut self) -> Result<Value, String> {
        let mut entries = Vec::new();
        while !self.eat(b'}') {
            let Value::Str(key) = self.value()? else {
                return Err("has a dict key that is not a string".to_owned());
            };
            if !self.eat(b':') {
                return Err(self.unexpected());
            }
            entries.push((key, self.value()?));
            if !self.eat(b',') {
                if self.eat(b'}') {
                    break;
                }
                return Err(self.unexpected());
            }
        }
        Ok(Value::Dict(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header, String> {
        Header::parse(text)
    }

    #[test]
    fn headers_numpy_writes() {
        let h = header("{'descr': '<f4', 'fortran_order': False, 'shape': (784, 50), }   \n")
            .expect("numpy's header");
        assert_eq!(
            h,
            Header {
                descr: Descr::Simple("<f4".to_owned()),
                fortran_order: false,
                shape: vec![784, 50]
            }
        );
        let h = header("{'descr': '>f8', 'fortran_order': True, 'shape': (10,), }").expect("1-d");
        assert_eq!((h.shape, h.fortran_order), (vec![10], true));
        let h = header("{\"shape\": (), \"descr\": \"|u1\", \"fortran_order\": False}")
            .expect("scalar, double quotes, other order");
        assert_eq!(h.shape, Vec::<usize>::new());
        let h = header(
            "{'descr': [('x', '<f4'), ('y', '<i8', (2,))], 'fortran_order': False, 'shape': (3L,)}",
        )
        .expect("structured, Python 2 long");
        assert_eq!((h.descr, h.shape), (Descr::Structured, vec![3]));
    }

    #[test]
    fn bad_headers() {
        for (text, message) in [
            ("", "ends in the middle of its dict"),
            ("[1, 2]", "is not a Python dict"),
            ("{'descr': '<f4', 'fortran_order': False}", "has no `shape`"),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
                "has a `fortran_order` of the wrong kind",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
                "has an unexpected '-' at byte 51",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                "has a shape that is not a tuple of sizes",
            ),
            ("{'descr': '<f4' 'x'}", "has an unexpected '\\'' at byte 16"),
            ("{'descr: '<f4'}", "has an unexpected '<' at byte 10"),
            ("{} x", "has text after its dict, at byte 3"),
            ("{'a': nope}", "has an unknown word `nope`"),
            (&"[".repeat(100), "is nested too deeply"),
        ] {
            assert_eq!(header(text).expect_err(text), message, "{text}");
        }
    }

    #[test]
    fn dtype_names() {
        assert_eq!(dtype_of("<f4"), ("f32".to_owned(), Some(4), false));
        assert_eq!(dtype_of(">f8"), ("f64".to_owned(), Some(8), true));
        assert_eq!(dtype_of("<i8"), ("i64".to_owned(), Some(8), false));
        assert_eq!(dtype_of("|u1"), ("u8".to_owned(), Some(1), false));
        assert_eq!(dtype_of("|b1"), ("bool".to_owned(), Some(1), false));
        assert_eq!(dtype_of("<f2"), ("f16".to_owned(), Some(2), false));
        assert_eq!(dtype_of("<U10"), ("'<U10'".to_owned(), Some(40), false));
        assert_eq!(dtype_of("|O"), ("'|O'".to_owned(), None, false));
        assert_eq!(dtype_of(""), ("''".to_owned(), None, false));
        // Not numpy's spelling, but ours: it must not pass for our `f32`.
        assert_eq!(dtype_of("f32"), ("'f32'".to_owned(), None, false));
        assert_eq!(dtype_of("<f64"), ("'<f64'".to_owned(), None, false));
    }

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&u16::try_from(header.len()).expect("short").to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn data_length_is_checked_before_allocation() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
        assert!(parse(&npy(header, &[0; 24])).is_ok());
        assert!(matches!(
            parse(&npy(header, &[0; 23])),
            Err(Malformed::Truncated(_))
        ));
        assert!(matches!(
            parse(&npy(header, &[0; 25])),
            Err(Malformed::Corrupt(_))
        ));
        let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }";
        assert!(matches!(parse(&npy(huge, &[])), Err(Malformed::Corrupt(_))));
        let big = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }";
        assert!(matches!(
            parse(&npy(big, &[0; 8])),
            Err(Malformed::Truncated(_))
        ));
        let object = "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }";
        let tensor = parse(&npy(object, b"pickle")).expect("kept, never decoded");
        assert_eq!(tensor.dtype, "'|O'");
    }

    #[test]
    fn every_prefix_is_an_error_not_a_panic() {
        let bytes = npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
            &[0; 8],
        );
        for end in 0..bytes.len() {
            assert!(parse(&bytes[..end]).is_err(), "{end}");
        }
        assert!(parse(b"not npy").is_err());
    }
}
