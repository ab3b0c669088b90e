//! Opaque, tamper-evident page tokens (AIP-158).
//!
//! A token carries the keyset position after which the next page starts, and an HMAC over
//! that position and everything that shaped the query (tenant, method, filter). So a token
//! grants nothing: it cannot be forged, altered, or replayed with another filter or by
//! another province; any of these is refused as INVALID_ARGUMENT.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in the token: 128 bits is ample against forgery and keeps
/// tokens short.
const MAC_LEN: usize = 16;

/// The longest token accepted; ours are far shorter.
pub const MAX_TOKEN_LEN: usize = 1024;

/// What a token is bound to besides its position: a token is valid only for the same
/// tenant, method and filter that produced it.
#[derive(Debug, Clone, Copy)]
pub struct TokenScope<'a> {
    /// The caller's tenant.
    pub tenant: &'a str,
    /// The list method, e.g. `ListUnits`.
    pub method: &'a str,
    /// The filter string as the caller sent it.
    pub filter: &'a str,
}

/// Why a page token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenError {
    /// Not a token this service produced.
    #[error("is not a valid page token")]
    Malformed,
    /// A real token, but for another query, or altered.
    #[error("does not match this request: it was issued for different parameters or has been altered")]
    Mismatch,
}

/// Signs and checks page tokens with the service's secret.
#[derive(Clone)]
pub struct PageTokens {
    secret: Vec<u8>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(..)")
    }
}

impl PageTokens {
    /// Uses `secret`, which every replica of the service shares.
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret }
    }

    fn mac(&self, scope: TokenScope<'_>, position: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        for part in ["v1", scope.tenant, scope.method, scope.filter, position] {
            // Length prefixes keep ("ab","c") and ("a","bc") apart.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// A token that resumes after `position`.
    pub fn encode(&self, scope: TokenScope<'_>, position: &str) -> String {
        let tag = self.mac(scope, position).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(position), URL_SAFE_NO_PAD.encode(&tag[..MAC_LEN]))
    }

    /// The position a token resumes after, if it is genuine and issued for `scope`.
    pub fn decode(&self, scope: TokenScope<'_>, token: &str) -> Result<String, PageTokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(PageTokenError::Malformed);
        }
        let (position, tag) = token.split_once('.').ok_or(PageTokenError::Malformed)?;
        let position = URL_SAFE_NO_PAD.decode(position).map_err(|_| PageTokenError::Malformed)?;
        let position = String::from_utf8(position).map_err(|_| PageTokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| PageTokenError::Malformed)?;
        if tag.len() != MAC_LEN {
            return Err(PageTokenError::Malformed);
        }
        self.mac(scope, &position).verify_truncated_left(&tag).map_err(|_| PageTokenError::Mismatch)?;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SCOPE: TokenScope<'static> = TokenScope { tenant: "demo", method: "ListUnits", filter: "" };

    fn tokens() -> PageTokens {
        PageTokens::new(b"test secret".to_vec())
    }

    #[test]
    fn round_trips() {
        let t = tokens().encode(SCOPE, "so-noi-vu");
        assert_eq!(tokens().decode(SCOPE, &t), Ok("so-noi-vu".into()));
    }

    #[test]
    fn is_bound_to_tenant_method_and_filter() {
        let t = tokens().encode(SCOPE, "x");
        for other in [
            TokenScope { tenant: "can-tho", ..SCOPE },
            TokenScope { method: "ListPlans", ..SCOPE },
            TokenScope { filter: "kind = X", ..SCOPE },
        ] {
            assert_eq!(tokens().decode(other, &t), Err(PageTokenError::Mismatch));
        }
    }

    #[test]
    fn refuses_altered_position_and_other_secrets() {
        let t = tokens().encode(SCOPE, "a");
        let (_, tag) = t.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("b"));
        assert_eq!(tokens().decode(SCOPE, &forged), Err(PageTokenError::Mismatch));
        assert_eq!(PageTokens::new(b"other".to_vec()).decode(SCOPE, &t), Err(PageTokenError::Mismatch));
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", ".", "abc", "a.b", "!!.!!", &"a".repeat(2000)] {
            assert_eq!(tokens().decode(SCOPE, bad), Err(PageTokenError::Malformed), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_input_never_panics(input in "\\PC{0,300}") {
            let _ = tokens().decode(SCOPE, &input);
        }

        #[test]
        fn any_position_round_trips(position in "\\PC{0,100}") {
            let t = tokens().encode(SCOPE, &position);
            prop_assert_eq!(tokens().decode(SCOPE, &t), Ok(position));
        }
    }
}
