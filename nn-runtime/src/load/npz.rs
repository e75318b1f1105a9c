//! Reading `.npz`: a zip archive (stored or deflated) with one `.npy` file per tensor.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::{Malformed, RawTensor, npy};

/// Every tensor of an `.npz` file, checked: the zip's checksums, each `.npy` header, and
/// each array's data length.
pub(super) fn parse(bytes: &[u8]) -> Result<BTreeMap<String, RawTensor>, Malformed> {
    if bytes.is_empty() {
        return Err(Malformed::Truncated("the file is empty".to_owned()));
    }
    // A zip is read from its end, so a file cut short loses that end first; the zip
    // crate would report it as some other problem.
    if !has_end_record(bytes) {
        let zip_start = bytes.starts_with(b"PK") || b"PK".starts_with(bytes);
        return Err(if zip_start {
            Malformed::Truncated(
                "the zip archive has no end-of-central-directory record (the file was cut short)"
                    .to_owned(),
            )
        } else {
            Malformed::Corrupt(
                "it is not a zip archive (an .npz file is a zip of .npy arrays)".to_owned(),
            )
        });
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(describe)?;
    let mut tensors = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(describe)?;
        if entry.is_dir() {
            continue;
        }
        let entry_name = entry.name().to_owned();
        // The inflater does not stop at the size the archive declares: read one byte
        // past it at most, so an entry that expands further is refused, not buffered.
        let declared = entry.size();
        let mut npy_bytes = Vec::new();
        (&mut entry)
            .take(declared.saturating_add(1))
            .read_to_end(&mut npy_bytes)
            .map_err(|e| Malformed::Corrupt(format!("entry `{entry_name}` cannot be read: {e}")))?;
        if npy_bytes.len() as u64 > declared {
            return Err(Malformed::Corrupt(format!(
                "entry `{entry_name}` expands past the {declared} bytes the archive declares"
            )));
        }
        let tensor = npy::parse(&npy_bytes).map_err(|m| m.within(&entry_name))?;
        let name = entry_name.strip_suffix(".npy").unwrap_or(&entry_name);
        if tensors.insert(name.to_owned(), tensor).is_some() {
            return Err(Malformed::Corrupt(format!(
                "the archive has two arrays named `{name}`"
            )));
        }
    }
    Ok(tensors)
}

/// Whether the file ends with a zip end-of-central-directory record: its signature, 18
/// more bytes and the comment whose length the record's last two bytes give.
fn has_end_record(bytes: &[u8]) -> bool {
    const SIGNATURE: &[u8] = b"PK\x05\x06";
    const RECORD_LEN: usize = 22;
    let Some(last) = bytes.len().checked_sub(RECORD_LEN) else {
        return false;
    };
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().any(|start| {
        let record = &bytes[start..];
        record.starts_with(SIGNATURE)
            && record.get(20..22).is_some_and(|n| {
                record.len() == RECORD_LEN + usize::from(u16::from_le_bytes([n[0], n[1]]))
            })
    })
}

fn describe(error: ZipError) -> Malformed {
    match error {
        ZipError::UnsupportedArchive(what) => Malformed::Corrupt(format!(
            "the zip archive uses a feature this loader does not support: {what}"
        )),
        other => Malformed::Corrupt(format!("the zip archive is damaged: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::has_end_record;

    #[test]
    fn end_record() {
        let empty_zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        assert!(has_end_record(empty_zip));
        assert!(!has_end_record(&empty_zip[..21]));
        let mut with_comment = empty_zip.to_vec();
        with_comment[20] = 3;
        assert!(!has_end_record(&with_comment));
        with_comment.extend_from_slice(b"abc");
        assert!(has_end_record(&with_comment));
        assert!(!has_end_record(b""));
    }
}
