//! Secret values out of stored logs: each value, its JSON-escaped form (a program that prints JSON) and its
//! base64 form become `***`, longest match first (`aho-corasick`), before a long line is cut — so a value
//! is never half-kept at the cut.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::{engine::general_purpose::STANDARD, Engine};

/// Secret values shorter than this are not masked: masking "1" would garble every log.
pub const MIN_MASKED_LEN: usize = 4;
/// The longest line kept whole, after masking; longer output is cut there.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The most a reader takes of one line before masking (bounds memory against endless lines).
pub const MAX_READ_BYTES: usize = 1024 * 1024;

/// Masks one execution's secret values.
pub struct Masker {
    matcher: Option<AhoCorasick>,
}

impl Masker {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        for value in secrets.into_iter().filter(|v| v.len() >= MIN_MASKED_LEN) {
            let json = serde_json::to_string(value).unwrap_or_default();
            let escaped = json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_owned();
            for form in [value.to_owned(), escaped, STANDARD.encode(value)] {
                if form.len() >= MIN_MASKED_LEN && !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("literal patterns always build")
        });
        Self { matcher }
    }

    /// `text` with every secret form replaced by `***`, then cut to [`MAX_LINE_BYTES`].
    pub fn mask(&self, text: &str) -> String {
        let mut masked = match &self.matcher {
            Some(matcher) => matcher.replace_all(text, &vec!["***"; matcher.patterns_len()]),
            None => text.to_owned(),
        };
        if masked.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !masked.is_char_boundary(cut) {
                cut -= 1;
            }
            masked.truncate(cut);
        }
        masked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_their_json_and_base64_forms_are_masked_before_the_cut() {
        let secrets = ["pa\"ss\\word".to_owned(), "abc".to_owned(), "t0ken-t0ken".to_owned()];
        let masker = Masker::new(secrets.iter().map(String::as_str));
        assert_eq!(masker.mask(r#"pw=pa"ss\word json={"pw":"pa\"ss\\word"}"#), r#"pw=*** json={"pw":"***"}"#);
        assert_eq!(masker.mask(&format!("b64={}", STANDARD.encode("t0ken-t0ken"))), "b64=***");
        assert_eq!(masker.mask("abc is too short to mask"), "abc is too short to mask");
        // A value straddling the cut is masked first, so no part of it survives.
        let long = format!("{}t0ken-t0ken", "x".repeat(MAX_LINE_BYTES - 2));
        let masked = masker.mask(&long);
        assert_eq!(masked.len(), MAX_LINE_BYTES);
        assert!(masked.ends_with("xx**"), "{}", &masked[masked.len() - 10..]);
        assert_eq!(Masker::new(std::iter::empty()).mask("plain"), "plain");
    }
}
