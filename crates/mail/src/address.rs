//! A resident's e-mail address at rest: sealed (`kernel::crypto::Vault`,
//! [`Purpose::MailAddress`]) where it is kept, and found again by a keyed
//! hash of its lower-cased form ([`hash`]), so a list of subscribers or
//! suppressed addresses reveals no address to someone with only the
//! database. The hash key is derived from the active encryption key:
//! `madoguchi rekey` seals and hashes again.

use jp::Email;
use kernel::crypto::{Purpose, Vault};

/// The form an address is compared in (RFC 5321 allows a case-sensitive
/// local part; no mail system a resident uses treats it so).
fn canonical(address: &Email) -> String {
    address.as_str().to_lowercase()
}

/// The keyed hash (hex) of `address` in `tenant`.
pub fn hash(vault: &Vault, tenant: &str, address: &Email) -> String {
    hash_with(&vault.derive(HASH_LABEL), tenant, address)
}

/// The label of the hash key derived from an encryption key
/// (`Vault::derive_each` finds the hashes made before a rotation).
pub const HASH_LABEL: &str = "mail-address";

/// The keyed hash with a given hash key.
pub fn hash_with(key: &[u8], tenant: &str, address: &Email) -> String {
    hex::encode(kernel::crypto::hmac_sha256(
        key,
        format!("{tenant}|{}", canonical(address)).as_bytes(),
    ))
}

/// `address` sealed for `tenant`.
pub fn seal(vault: &Vault, tenant: &str, address: &Email) -> String {
    vault.seal(tenant, Purpose::MailAddress, &canonical(address))
}

/// A sealed address opened again.
pub fn open(vault: &Vault, tenant: &str, sealed: &str) -> anyhow::Result<Email> {
    let plain = vault
        .open(tenant, Purpose::MailAddress, sealed)
        .map_err(|e| anyhow::anyhow!("mail address: {e}"))?;
    Email::parse(&plain).map_err(|e| anyhow::anyhow!("mail address does not parse: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_specs(&[Vault::generate_spec("t1")]).unwrap()
    }

    #[test]
    fn seals_and_opens_in_canonical_form() {
        let v = vault();
        let a = Email::parse("Taro@Example.JP").unwrap();
        let sealed = seal(&v, "122289", &a);
        assert!(!sealed.contains("aro"));
        assert_eq!(
            open(&v, "122289", &sealed).unwrap().as_str(),
            "taro@example.jp"
        );
        // Sealed for one tenant, not opened as another's.
        assert!(open(&v, "242021", &sealed).is_err());
    }

    #[test]
    fn hash_ignores_case_and_separates_tenants() {
        let v = vault();
        let a = Email::parse("Taro@Example.JP").unwrap();
        let b = Email::parse("taro@example.jp").unwrap();
        assert_eq!(hash(&v, "122289", &a), hash(&v, "122289", &b));
        assert_ne!(hash(&v, "122289", &a), hash(&v, "242021", &a));
        assert_eq!(hash(&v, "122289", &a).len(), 64);
        // Another key, another hash.
        assert_ne!(hash(&vault(), "122289", &a), hash(&v, "122289", &a));
    }
}
