//! `nndsl explain CODE`: the entry of a diagnostic code in the language reference,
//! `docs/language.md`, which is compiled in so that the two never disagree.

use crate::diag::Code;

/// The language reference, `docs/language.md`.
pub const LANGUAGE_REFERENCE: &str = include_str!("../../docs/language.md");

/// The reference's entry for `code`: from its `### CODE` heading to the next heading.
///
/// ```
/// let text = nn_dsl::explain::explain(nn_dsl::Code::E003);
/// assert!(text.starts_with("### E003"));
/// ```
pub fn explain(code: Code) -> &'static str {
    let heading = format!("### {}", code.as_str());
    let Some(start) = LANGUAGE_REFERENCE.find(&heading) else {
        // The test `every_code_has_an_entry` keeps this from happening.
        return "no entry for this code in docs/language.md";
    };
    let body = &LANGUAGE_REFERENCE[start..];
    let end = body[heading.len()..]
        .find("\n#")
        .map_or(body.len(), |i| heading.len() + i);
    body[..end].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_entry() {
        for code in Code::ALL {
            let text = explain(code);
            assert!(text.starts_with(&format!("### {code}")), "{code}: {text}");
            assert!(text.contains("```"), "{code} has no example");
        }
    }
}
