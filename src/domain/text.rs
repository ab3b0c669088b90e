//! Vietnamese text as the service stores and searches it.
//!
//! Stored text is NFC so that the same words typed on different keyboards (precomposed or
//! combining marks) compare equal. Search folds both sides further: no case, no diacritics,
//! `đ` as `d`, and no invisible formatting characters, so `so noi vu` finds `Sở Nội vụ`.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Normalises to NFC and trims surrounding white space.
pub fn normalize(input: &str) -> String {
    input.trim().nfc().collect()
}

/// Characters that change how text looks or flows but carry no letters: zero-width joiners
/// and spaces, bidirectional marks and embeddings, the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Folds text for diacritic- and case-insensitive search.
///
/// White space runs become one space, so a query matches however the name was spaced.
pub fn fold_for_search(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfd() {
        if is_combining_mark(c) || is_invisible_format(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Why a text field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The field is required and was empty (or only white space).
    #[error("is required")]
    Empty,
    /// The field is longer than its documented maximum.
    #[error("must be at most {max} characters (got {got})")]
    TooLong {
        /// The documented maximum, in characters.
        max: usize,
        /// The length received, in characters after normalisation.
        got: usize,
    },
    /// The field holds a control character, which no document title or name has.
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// A one-line text: NFC, trimmed, no control characters, at most `max` characters.
pub fn single_line(input: &str, max: usize, required: bool) -> Result<String, TextError> {
    let text = normalize(input);
    if text.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    check_length(text, max, required)
}

/// A multi-line text: like [`single_line`] but keeps line breaks and tabs.
pub fn multi_line(input: &str, max: usize, required: bool) -> Result<String, TextError> {
    let text = normalize(input);
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(TextError::ControlCharacter);
    }
    check_length(text, max, required)
}

fn check_length(text: String, max: usize, required: bool) -> Result<String, TextError> {
    let got = text.chars().count();
    if required && got == 0 {
        return Err(TextError::Empty);
    }
    if got > max {
        return Err(TextError::TooLong { max, got });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_diacritics_and_d_stroke() {
        assert_eq!(fold_for_search("Sở Nội vụ"), "so noi vu");
        assert_eq!(fold_for_search("ĐẶC KHU Phú Quốc"), "dac khu phu quoc");
        assert_eq!(fold_for_search("Thành phố Vị Thanh"), "thanh pho vi thanh");
    }

    #[test]
    fn folding_treats_nfd_and_nfc_alike() {
        let nfd: String = "Hậu Giang".nfd().collect();
        assert_ne!(nfd, "Hậu Giang");
        assert_eq!(fold_for_search(&nfd), fold_for_search("Hậu Giang"));
    }

    #[test]
    fn folding_drops_invisible_characters_and_collapses_spaces() {
        assert_eq!(fold_for_search("  Sở\u{200B} Nội\u{200F}\t  vụ "), "so noi vu");
        assert_eq!(fold_for_search("\u{FEFF}\u{202E}abc"), "abc");
    }

    #[test]
    fn normalize_composes_to_nfc() {
        let nfd: String = "Ủy ban".nfd().collect();
        assert_eq!(normalize(&nfd), "Ủy ban");
    }

    #[test]
    fn single_line_rules() {
        assert_eq!(single_line("  a ", 5, true), Ok("a".into()));
        assert_eq!(single_line("   ", 5, true), Err(TextError::Empty));
        assert_eq!(single_line("", 5, false), Ok(String::new()));
        assert_eq!(single_line("abcdef", 5, true), Err(TextError::TooLong { max: 5, got: 6 }));
        assert_eq!(single_line("a\nb", 5, true), Err(TextError::ControlCharacter));
        // Length counts characters, not bytes: Vietnamese letters are multi-byte.
        assert_eq!(single_line("Ờ", 1, true), Ok("Ờ".into()));
    }

    #[test]
    fn multi_line_keeps_line_breaks() {
        assert_eq!(multi_line("a\nb", 5, true), Ok("a\nb".into()));
        assert_eq!(multi_line("a\u{7}b", 5, true), Err(TextError::ControlCharacter));
    }
}
