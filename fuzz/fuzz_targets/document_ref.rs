//! Document references (e.g. `963/KH-UBND`): any input parses or is refused, never
//! panics, and what parses is stable: its canonical form parses to itself.
#![no_main]

use followup::domain::document_ref::DocumentRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(parsed) = DocumentRef::parse(input) {
        let again = DocumentRef::parse(parsed.as_str()).expect("a canonical reference parses");
        assert_eq!(again.as_str(), parsed.as_str());
        assert_eq!((again.number(), again.year(), again.symbol()), (parsed.number(), parsed.year(), parsed.symbol()));
    }
});
