//! List filters (AIP-160 subset): any input parses or is refused with a reason, never
//! panics or loops.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Err(error) = followup::domain::filter::parse(input) {
        assert!(!error.to_string().is_empty(), "a refusal says why");
    }
});
