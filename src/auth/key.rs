//! API keys: `fu1.{tenant}.{key_id}.{secret}`.
//!
//! The tenant and key id are public lookup parts; the secret is 256 random bits shown once
//! and stored only as its SHA-256. A fast hash is enough because the secret is random and
//! long, not a password a person chose: nothing can be guessed from the hash.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::resource_name;

const PREFIX: &str = "fu1";
const SECRET_BYTES: usize = 32;

/// A parsed API key, as a caller presents it.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedKey {
    /// The tenant the key claims to belong to.
    pub tenant: String,
    /// The key's public id.
    pub key_id: String,
    secret: Vec<u8>,
}

// Keys never reach logs, not even through Debug.
impl std::fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PresentedKey {{ tenant: {:?}, key_id: {:?}, secret: <redacted> }}", self.tenant, self.key_id)
    }
}

impl PresentedKey {
    /// Parses the text of a key; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let (prefix, tenant, key_id, secret) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() {
            return None;
        }
        resource_name::validate_id(tenant).ok()?;
        resource_name::validate_id(key_id).ok()?;
        let secret = URL_SAFE_NO_PAD.decode(secret).ok()?;
        (secret.len() == SECRET_BYTES).then(|| Self { tenant: tenant.to_owned(), key_id: key_id.to_owned(), secret })
    }

    /// Whether this key's secret hashes to `stored_hash`, compared in constant time so the
    /// response time tells nothing about how much of a guess was right.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        hash_secret(&self.secret).ct_eq(stored_hash).into()
    }
}

/// A newly made key: the text to hand over once, and what to store.
pub struct NewKey {
    /// The full key text, shown once to the operator and never stored.
    pub text: String,
    /// The key's public id.
    pub key_id: String,
    /// SHA-256 of the secret, the only trace of it that is stored.
    pub secret_hash: Vec<u8>,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewKey {{ key_id: {:?}, .. }}", self.key_id)
    }
}

/// Makes a fresh key for `tenant`.
pub fn generate(tenant: &str) -> NewKey {
    let mut secret = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    let key_id = resource_name::generate_id();
    NewKey {
        text: format!("{PREFIX}.{tenant}.{key_id}.{}", URL_SAFE_NO_PAD.encode(secret)),
        secret_hash: hash_secret(&secret),
        key_id,
    }
}

fn hash_secret(secret: &[u8]) -> Vec<u8> {
    Sha256::digest(secret).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_match_their_hash() {
        let key = generate("demo");
        let parsed = PresentedKey::parse(&key.text).unwrap();
        assert_eq!(parsed.tenant, "demo");
        assert_eq!(parsed.key_id, key.key_id);
        assert!(parsed.matches(&key.secret_hash));
        assert!(!parsed.matches(&generate("demo").secret_hash));
    }

    #[test]
    fn rejects_malformed_keys() {
        let key = generate("demo").text;
        let wrong_prefix = key.replacen("fu1", "fu2", 1);
        let extra = format!("{key}.x");
        let short = key[..key.len() - 2].to_owned();
        for bad in ["", "fu1", "fu1.demo.abc", &wrong_prefix, &extra, &short, "fu1.DEMO.abc.xyz"] {
            assert!(PresentedKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = generate("demo");
        let parsed = PresentedKey::parse(&key.text).unwrap();
        let secret_part = key.text.rsplit('.').next().unwrap();
        assert!(!format!("{parsed:?}").contains(secret_part));
        assert!(!format!("{key:?}").contains(secret_part));
    }
}
