//! Reading `.safetensors`: an 8-byte little-endian header length, a JSON header giving
//! each tensor's dtype, shape and byte range, then the data.

use std::collections::BTreeMap;

use safetensors::{SafeTensorError, SafeTensors};

use super::{Malformed, RawTensor};

/// The largest header the safetensors crate accepts (100 MB).
pub(super) const MAX_HEADER: usize = 100_000_000;

/// Every tensor of a safetensors file, checked.
///
/// The safetensors crate does the validation, but first we look at the lengths ourselves:
/// to tell a file that was cut short ([`Malformed::Truncated`]) from one that is wrong,
/// and because the crate adds up the header's offsets without checking for overflow, so
/// offsets past the end of the file must never reach it.
pub(super) fn parse(bytes: &[u8]) -> Result<BTreeMap<String, RawTensor>, Malformed> {
    let Some((length, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(Malformed::Truncated(format!(
            "it has {} bytes, fewer than the 8 of the header length",
            bytes.len()
        )));
    };
    let header_len = u64::from_le_bytes(*length);
    let header_len = match usize::try_from(header_len) {
        Ok(n) if n <= MAX_HEADER => n,
        _ => {
            return Err(Malformed::Corrupt(format!(
                "its first 8 bytes give a header length of {header_len} bytes, more than \
                 the 100 MB a safetensors header may have"
            )));
        }
    };
    let Some((header, data)) = rest.split_at_checked(header_len) else {
        return Err(Malformed::Truncated(format!(
            "the header should be {header_len} bytes long but only {} bytes follow its length",
            rest.len()
        )));
    };
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header)
        .map_err(|e| Malformed::Corrupt(format!("the header is not a JSON object: {e}")))?;
    let needed = json
        .iter()
        .filter(|(name, _)| *name != "__metadata__")
        .filter_map(|(_, info)| info.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    if needed > data.len() as u64 {
        return Err(Malformed::Truncated(format!(
            "the header describes {needed} bytes of tensor data but only {} bytes follow it",
            data.len()
        )));
    }

    let file = SafeTensors::deserialize(bytes).map_err(|e| Malformed::Corrupt(describe(&e)))?;
    Ok(file
        .iter()
        .map(|(name, view)| {
            let tensor = RawTensor {
                dtype: view.dtype().to_string().to_ascii_lowercase(),
                shape: view.shape().to_vec(),
                big_endian: false,
                fortran_order: false,
                data: view.data().to_vec(),
            };
            (name.to_owned(), tensor)
        })
        .collect())
}

/// The crate's error in words for someone who did not write the file.
fn describe(error: &SafeTensorError) -> String {
    match error {
        SafeTensorError::MetadataIncompleteBuffer => {
            "the tensors' byte ranges do not cover the data exactly (bytes left over at \
             the end of the file)"
                .to_owned()
        }
        SafeTensorError::TensorInvalidInfo => {
            "a tensor's byte range does not match its shape and dtype".to_owned()
        }
        SafeTensorError::InvalidHeaderDeserialization(e) => {
            format!("the header does not describe tensors: {e}")
        }
        other => format!("{other}"),
    }
}
