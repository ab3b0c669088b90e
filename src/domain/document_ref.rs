//! Official document references ("số, ký hiệu văn bản") as Decree 30/2020/NĐ-CP writes them:
//! `146/KLTT-BTĐKT`, `05/KH-UBND`, `30/2020/NĐ-CP`.
//!
//! A reference is `number "/" [year "/"] symbol`. The symbol keeps its case exactly as written,
//! because case carries meaning in issued symbols: `TTr` (a submission) and `TTg` (the Prime
//! Minister) are different words, not spellings of `TTR` and `TTG`.

use crate::domain::text::normalize;

/// The longest reference accepted, in characters; real ones stay well under 30.
pub const MAX_DOCUMENT_REF_CHARS: usize = 60;

/// The Democratic Republic of Vietnam was founded in 1945; no reference in this numbering is older.
const MIN_YEAR: i32 = 1945;
/// Far enough ahead for any real document, near enough to catch typing slips such as `2920`.
const MAX_YEAR: i32 = 2100;

/// An official document reference, valid by construction.
///
/// Two references are equal when their NFC text is equal, so the same reference typed with
/// precomposed or combining marks compares equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentRef {
    text: String,
    number: u32,
    year: Option<i32>,
    /// Byte offset of the symbol in `text`; the symbol always runs to the end.
    symbol_start: usize,
}

impl DocumentRef {
    /// Parses a reference such as `146/KLTT-BTĐKT` or `30/2020/NĐ-CP`.
    ///
    /// The input is normalised to NFC and trimmed first; error positions count characters of
    /// that normalised text from 0.
    pub fn parse(input: &str) -> Result<Self, DocumentRefError> {
        let text = normalize(input);
        check_overall(&text)?;
        let (number_part, rest) = text.split_once('/').ok_or(DocumentRefError::MissingSlash)?;
        let number = parse_number(number_part)?;
        let (year, symbol) = match rest.split_once('/') {
            Some((year_part, symbol)) => (Some(parse_year(year_part)?), symbol),
            None => (None, rest),
        };
        // Everything before the symbol is ASCII here, but counting keeps positions right regardless.
        let symbol_offset = text.chars().count() - symbol.chars().count();
        check_symbol(symbol, symbol_offset)?;
        let symbol_start = text.len() - symbol.len();
        Ok(Self { text, number, year, symbol_start })
    }

    /// The reference as stored: NFC, trimmed, otherwise exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The number (`146` in `146/KLTT-BTĐKT`, `5` in `05/KH-UBND`).
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The year, for the kinds of documents whose reference carries one (`2020` in `30/2020/NĐ-CP`).
    pub fn year(&self) -> Option<i32> {
        self.year
    }

    /// The symbol after the last `/` (`KLTT-BTĐKT` in `146/KLTT-BTĐKT`).
    pub fn symbol(&self) -> &str {
        self.text.get(self.symbol_start..).unwrap_or_default()
    }

    /// The first group of the symbol, which names the kind of document (`KLTT`, `KH`, `NĐ`).
    pub fn kind(&self) -> &str {
        let symbol = self.symbol();
        symbol.split_once('-').map_or(symbol, |(kind, _)| kind)
    }
}

impl std::fmt::Display for DocumentRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a document reference was refused. Positions count characters from 0 in the trimmed,
/// NFC-normalised input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentRefError {
    /// Empty, or only white space.
    #[error("document reference is empty; expected number/symbol, e.g. 146/KLTT-BTĐKT")]
    Empty,
    /// Longer than [`MAX_DOCUMENT_REF_CHARS`].
    #[error("document reference is {got} characters long; at most {MAX_DOCUMENT_REF_CHARS} are allowed")]
    TooLong {
        /// The length received, in characters after normalisation.
        got: usize,
    },
    /// White space between the first and last character.
    #[error("document reference has a space at position {position}; write it without spaces, e.g. 146/KLTT-BTĐKT")]
    SpaceInside {
        /// Where the first white space character is.
        position: usize,
    },
    /// No `/` separating number and symbol.
    #[error("document reference has no '/'; expected number/symbol, e.g. 146/KLTT-BTĐKT or 30/2020/NĐ-CP")]
    MissingSlash,
    /// Nothing before the first `/`.
    #[error("document reference has no number before the '/', e.g. 146/KLTT-BTĐKT")]
    EmptyNumber,
    /// The number holds something other than ASCII digits.
    #[error("the number may contain only digits 0-9, e.g. 146/KLTT-BTĐKT; found {character:?} at position {position}")]
    NumberNotDigits {
        /// The first character that is not a digit.
        character: char,
        /// Where it is.
        position: usize,
    },
    /// The number is zero.
    #[error("the number must be at least 01, e.g. 01/KH-UBND")]
    ZeroNumber,
    /// A number below 10 written as one digit.
    #[error("numbers below 10 are written with a leading zero, e.g. 05/KH-UBND")]
    MissingLeadingZero,
    /// A leading zero on a number of 10 or more, or more than one on a number below 10.
    #[error(
        "the number has an extra leading zero; only numbers below 10 take one, as two digits, e.g. 146/KH-UBND or 05/KH-UBND"
    )]
    ExtraLeadingZero,
    /// The number does not fit in 32 bits.
    #[error("the number is too long; it can be at most {max}", max = u32::MAX)]
    NumberTooLong,
    /// The part between two `/` is not a 4-digit year.
    #[error("the year between the two '/' must be 4 digits, e.g. 30/2020/NĐ-CP; found {found:?}")]
    BadYear {
        /// The part between the two `/`.
        found: String,
    },
    /// A 4-digit year outside the supported range.
    #[error("year {year} is not between {MIN_YEAR} and {MAX_YEAR}, e.g. 30/2020/NĐ-CP")]
    YearOutOfRange {
        /// The year received.
        year: i32,
    },
    /// Nothing after the last `/`.
    #[error("document reference has no symbol after the '/', e.g. 146/KLTT-BTĐKT")]
    EmptySymbol,
    /// The symbol holds a character other than letters, ASCII digits, `&` and `-`.
    #[error("the symbol may contain only letters, digits 0-9, '&' and '-'; found {character:?} at position {position}")]
    BadCharacter {
        /// The first character refused.
        character: char,
        /// Where it is.
        position: usize,
    },
    /// A `-` at either end of the symbol or next to another `-`.
    #[error(
        "the '-' at position {position} does not join two parts of the symbol; parts are joined by a single '-', e.g. KLTT-BTĐKT"
    )]
    EmptyGroup {
        /// Where the stray `-` is.
        position: usize,
    },
    /// The symbol starts with a digit or `&`.
    #[error("the symbol must start with a letter, e.g. KH-UBND; found {character:?} at position {position}")]
    SymbolStartsWithNonLetter {
        /// The first character of the symbol.
        character: char,
        /// Where it is.
        position: usize,
    },
    /// The symbol has no uppercase letter at all.
    #[error("the symbol has no capital letter; write it as issued, e.g. KH-UBND, not kh-ubnd")]
    NoCapitalLetter,
}

/// Checks that apply to the whole text before it is split.
fn check_overall(text: &str) -> Result<(), DocumentRefError> {
    if text.is_empty() {
        return Err(DocumentRefError::Empty);
    }
    let got = text.chars().count();
    if got > MAX_DOCUMENT_REF_CHARS {
        return Err(DocumentRefError::TooLong { got });
    }
    // Spaces around `/` or `-` are a common typing habit; storing them would make the same
    // reference compare unequal to itself, so they are refused rather than silently removed.
    match text.chars().position(char::is_whitespace) {
        Some(position) => Err(DocumentRefError::SpaceInside { position }),
        None => Ok(()),
    }
}

/// Parses the number, which starts the text, so positions in it are positions in the text.
fn parse_number(part: &str) -> Result<u32, DocumentRefError> {
    if part.is_empty() {
        return Err(DocumentRefError::EmptyNumber);
    }
    if let Some((position, character)) = part.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(DocumentRefError::NumberNotDigits { character, position });
    }
    check_number_form(part)?;
    // Only overflow can fail here: the part is known to be non-empty ASCII digits.
    part.parse().map_err(|_| DocumentRefError::NumberTooLong)
}

/// The decree writes numbers below 10 as `01`..`09` and others without leading zeros, so each
/// number has exactly one spelling; checking it keeps `5/KH` and `05/KH` from being stored as
/// two different references.
fn check_number_form(digits: &str) -> Result<(), DocumentRefError> {
    if digits.bytes().all(|b| b == b'0') {
        return Err(DocumentRefError::ZeroNumber);
    }
    match (digits.starts_with('0'), digits.len()) {
        (false, 1) => Err(DocumentRefError::MissingLeadingZero),
        (true, 2) | (false, _) => Ok(()),
        (true, _) => Err(DocumentRefError::ExtraLeadingZero),
    }
}

fn parse_year(part: &str) -> Result<i32, DocumentRefError> {
    let bad_year = || DocumentRefError::BadYear { found: part.to_owned() };
    if part.len() != 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_year());
    }
    let year: i32 = part.parse().map_err(|_| bad_year())?;
    if (MIN_YEAR..=MAX_YEAR).contains(&year) { Ok(year) } else { Err(DocumentRefError::YearOutOfRange { year }) }
}

/// Checks the symbol; `offset` is its position in the whole text, so errors point into the text
/// the operator sent rather than into the symbol alone.
fn check_symbol(symbol: &str, offset: usize) -> Result<(), DocumentRefError> {
    let Some(first) = symbol.chars().next() else {
        return Err(DocumentRefError::EmptySymbol);
    };
    check_symbol_characters(symbol, offset)?;
    check_groups(symbol, offset)?;
    if !first.is_alphabetic() {
        return Err(DocumentRefError::SymbolStartsWithNonLetter { character: first, position: offset });
    }
    // Symbols are issued in capitals (with a few mixed-case words such as `TTr`); an all-lowercase
    // one is a retyped reference that would not match the issued document.
    if !symbol.chars().any(char::is_uppercase) {
        return Err(DocumentRefError::NoCapitalLetter);
    }
    Ok(())
}

/// Symbol digits are ASCII only: other scripts' digits would look like a different reference.
fn is_symbol_char(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit() || c == '&' || c == '-'
}

fn check_symbol_characters(symbol: &str, offset: usize) -> Result<(), DocumentRefError> {
    match symbol.chars().enumerate().find(|(_, c)| !is_symbol_char(*c)) {
        Some((index, character)) => Err(DocumentRefError::BadCharacter { character, position: offset + index }),
        None => Ok(()),
    }
}

/// Every `-` must sit between two non-empty groups.
fn check_groups(symbol: &str, offset: usize) -> Result<(), DocumentRefError> {
    let last = symbol.chars().count().saturating_sub(1);
    let mut previous = None;
    for (index, c) in symbol.chars().enumerate() {
        if c == '-' && (index == 0 || index == last || previous == Some('-')) {
            return Err(DocumentRefError::EmptyGroup { position: offset + index });
        }
        previous = Some(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    fn parsed(input: &str) -> DocumentRef {
        match DocumentRef::parse(input) {
            Ok(r) => r,
            Err(e) => panic!("{input:?} should parse: {e}"),
        }
    }

    #[test]
    fn accepts_real_references() {
        // (text, number, year, symbol, kind)
        let cases: [(&str, u32, Option<i32>, &str, &str); 11] = [
            ("146/KLTT-BTĐKT", 146, None, "KLTT-BTĐKT", "KLTT"),
            ("963/KH-UBND", 963, None, "KH-UBND", "KH"),
            ("30/2020/NĐ-CP", 30, Some(2020), "NĐ-CP", "NĐ"),
            ("2231/SNV-CCHC&PC", 2231, None, "SNV-CCHC&PC", "SNV"),
            ("410/TTr-NV1", 410, None, "TTr-NV1", "TTr"),
            ("1270/BC-TCTTTg", 1270, None, "BC-TCTTTg", "BC"),
            ("05/KH-UBND", 5, None, "KH-UBND", "KH"),
            ("120/SNV-TĐKT", 120, None, "SNV-TĐKT", "SNV"),
            ("45/BC-SNV", 45, None, "BC-SNV", "BC"),
            ("09/2019/NĐ-CP", 9, Some(2019), "NĐ-CP", "NĐ"),
            ("202/2025/QH15", 202, Some(2025), "QH15", "QH15"),
        ];
        for (text, number, year, symbol, kind) in cases {
            let r = parsed(text);
            assert_eq!(r.as_str(), text);
            assert_eq!(r.to_string(), text);
            assert_eq!(r.number(), number, "{text}");
            assert_eq!(r.year(), year, "{text}");
            assert_eq!(r.symbol(), symbol, "{text}");
            assert_eq!(r.kind(), kind, "{text}");
        }
    }

    #[test]
    fn keeps_mixed_case_as_written() {
        assert_eq!(parsed("12/QyĐ-UBND").kind(), "QyĐ");
        assert_eq!(parsed("07/TTg-KTTH").kind(), "TTg");
        assert_ne!(parsed("410/TTr-NV1"), parsed("410/TTR-NV1"));
    }

    #[test]
    fn trims_surrounding_white_space() {
        assert_eq!(parsed("  146/KLTT-BTĐKT\t\n").as_str(), "146/KLTT-BTĐKT");
    }

    #[test]
    fn decomposed_input_is_stored_as_nfc() {
        // `Đ` has no canonical decomposition, so `Ư` (U + combining horn) and `Ở` provide one.
        let nfc = "12/QĐ-BCĐTƯ-SỞ";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfd, nfc);
        let r = parsed(&nfd);
        assert_eq!(r.as_str(), nfc);
        assert_eq!(r.symbol(), "QĐ-BCĐTƯ-SỞ");
        assert_eq!(r.kind(), "QĐ");
        assert_eq!(r, parsed(nfc));
        // NFD of this one is itself, and still parses to the same text.
        let plain: String = "146/KLTT-BTĐKT".nfd().collect();
        assert_eq!(parsed(&plain).as_str(), "146/KLTT-BTĐKT");
    }

    #[test]
    fn refuses_each_problem_with_its_own_error() {
        use DocumentRefError as E;
        let too_long = format!("146/{}", "K".repeat(MAX_DOCUMENT_REF_CHARS));
        let cases: Vec<(&str, DocumentRefError)> = vec![
            ("", E::Empty),
            ("   ", E::Empty),
            (&too_long, E::TooLong { got: MAX_DOCUMENT_REF_CHARS + 4 }),
            ("146", E::MissingSlash),
            ("KH-UBND", E::MissingSlash),
            ("/KH-UBND", E::EmptyNumber),
            ("14a/KH", E::NumberNotDigits { character: 'a', position: 2 }),
            ("5/KH-UBND", E::MissingLeadingZero),
            ("0146/KH", E::ExtraLeadingZero),
            ("005/KH", E::ExtraLeadingZero),
            ("00/KH", E::ZeroNumber),
            ("0/KH", E::ZeroNumber),
            ("4294967296/KH", E::NumberTooLong),
            ("146/ KH", E::SpaceInside { position: 4 }),
            ("146 /KH", E::SpaceInside { position: 3 }),
            ("146/kh-ubnd", E::NoCapitalLetter),
            ("146/KH--UBND", E::EmptyGroup { position: 7 }),
            ("146/KH-", E::EmptyGroup { position: 6 }),
            ("146/-KH", E::EmptyGroup { position: 4 }),
            ("146/KH-UB*ND", E::BadCharacter { character: '*', position: 9 }),
            ("146/2020/KH/X", E::BadCharacter { character: '/', position: 11 }),
            ("146/20/KH", E::BadYear { found: "20".to_owned() }),
            ("146//KH", E::BadYear { found: String::new() }),
            ("146/1800/KH", E::YearOutOfRange { year: 1800 }),
            ("146/", E::EmptySymbol),
            ("146/2020/", E::EmptySymbol),
            ("146/1KH", E::SymbolStartsWithNonLetter { character: '1', position: 4 }),
            ("146/&KH", E::SymbolStartsWithNonLetter { character: '&', position: 4 }),
        ];
        for (input, expected) in cases {
            assert_eq!(DocumentRef::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn accepts_the_longest_and_limits_of_number_and_year() {
        let longest = format!("146/{}", "K".repeat(MAX_DOCUMENT_REF_CHARS - 4));
        assert_eq!(parsed(&longest).as_str(), longest);
        assert_eq!(parsed("4294967295/KH").number(), u32::MAX);
        assert_eq!(parsed("01/1945/KH").year(), Some(1945));
        assert_eq!(parsed("10/2100/KH").year(), Some(2100));
        assert_eq!(DocumentRef::parse("10/2101/KH"), Err(DocumentRefError::YearOutOfRange { year: 2101 }));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        // `Đ` is two bytes in UTF-8; the `*` after it is character 7, byte 8.
        assert_eq!(DocumentRef::parse("146/NĐ-*"), Err(DocumentRefError::BadCharacter { character: '*', position: 7 }));
        // A combining mark with no precomposed form stays separate after NFC and is refused.
        assert_eq!(
            DocumentRef::parse("146/KH\u{0303}"),
            Err(DocumentRefError::BadCharacter { character: '\u{0303}', position: 6 })
        );
    }

    #[test]
    fn refuses_other_scripts_digits_and_inner_non_breaking_space() {
        assert_eq!(
            DocumentRef::parse("146/KH\u{0663}"),
            Err(DocumentRefError::BadCharacter { character: '\u{0663}', position: 6 })
        );
        assert_eq!(DocumentRef::parse("146/KH\u{00A0}X"), Err(DocumentRefError::SpaceInside { position: 6 }));
    }

    #[test]
    fn messages_read_on_their_own() {
        let message = DocumentRefError::MissingLeadingZero.to_string();
        assert_eq!(message, "numbers below 10 are written with a leading zero, e.g. 05/KH-UBND");
        assert_eq!(
            DocumentRefError::BadCharacter { character: '*', position: 9 }.to_string(),
            "the symbol may contain only letters, digits 0-9, '&' and '-'; found '*' at position 9"
        );
        assert_eq!(DocumentRefError::NumberTooLong.to_string(), "the number is too long; it can be at most 4294967295");
    }

    fn number_text(n: u32) -> String {
        if n < 10 { format!("{n:02}") } else { n.to_string() }
    }

    fn valid_reference() -> impl Strategy<Value = (u32, Option<i32>, String)> {
        let first = "[A-ZĐ][A-Za-zĐđ0-9&]{0,6}";
        // Later groups may start with a digit or `&`; only the first must start with a letter.
        let rest = prop::collection::vec("[A-Za-zĐđ0-9&]{1,7}", 0..=3);
        (1..99_999u32, prop::option::of(1945..=2100i32), first, rest).prop_map(|(n, year, first, rest)| {
            let symbol = std::iter::once(first).chain(rest).collect::<Vec<_>>().join("-");
            (n, year, symbol)
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepted_text_reparses(input in "\\PC{0,80}") {
            if let Ok(r) = DocumentRef::parse(&input) {
                prop_assert_eq!(DocumentRef::parse(r.as_str()), Ok(r.clone()));
                prop_assert!(!r.symbol().is_empty());
                prop_assert!(r.as_str().ends_with(r.symbol()));
            }
        }

        #[test]
        fn valid_references_parse_to_their_parts((number, year, symbol) in valid_reference()) {
            let text = match year {
                Some(y) => format!("{}/{y}/{symbol}", number_text(number)),
                None => format!("{}/{symbol}", number_text(number)),
            };
            let r = DocumentRef::parse(&text);
            prop_assert!(r.is_ok(), "{:?} refused: {:?}", text, r);
            let r = r.unwrap();
            prop_assert_eq!(r.as_str(), text.as_str());
            prop_assert_eq!(r.number(), number);
            prop_assert_eq!(r.year(), year);
            prop_assert_eq!(r.symbol(), symbol.as_str());
            prop_assert_eq!(Some(r.kind()), symbol.split('-').next());
        }
    }
}
