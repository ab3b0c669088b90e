//! Page tokens: any string a caller sends decodes or is refused, never panics; a token
//! altered in any way is refused; a genuine one decodes to its position.
#![no_main]

use followup::domain::page_token::{MAX_TOKEN_LEN, PageTokenError, PageTokens, TokenScope};
use libfuzzer_sys::fuzz_target;

const SCOPE: TokenScope<'static> = TokenScope { tenant: "demo", method: "ListTasks", filter: "" };

fuzz_target!(|input: &[u8]| {
    let tokens = PageTokens::new(b"fuzzing secret".to_vec());
    // As a token sent by a caller.
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = tokens.decode(SCOPE, text);
    }
    // As a position: its genuine token round-trips, and any one-byte change is refused.
    if let Ok(position) = std::str::from_utf8(input) {
        let token = tokens.encode(SCOPE, position);
        if token.len() > MAX_TOKEN_LEN {
            // Longer than any position the service makes (found by this target: a token
            // over the limit is refused, not decoded at any length).
            assert_eq!(tokens.decode(SCOPE, &token), Err(PageTokenError::Malformed));
            return;
        }
        assert_eq!(tokens.decode(SCOPE, &token).as_deref(), Ok(position));
        let mut altered = token.into_bytes();
        let at = input.len() % altered.len();
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        if let Ok(altered) = String::from_utf8(altered) {
            assert!(tokens.decode(SCOPE, &altered).is_err(), "an altered token was accepted: {altered}");
        }
    }
});
