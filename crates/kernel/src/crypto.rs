//! Encryption at rest for special personal information (特定個人情報:
//! マイナンバー) and other secrets kept in the database (TOTP secrets,
//! verified identity claims).
//!
//! AES-256-GCM (CRYPTREC e-Government recommended) with a random 96-bit
//! nonce per value. Keys come from the configuration, never from the
//! database; each has an id, and the first is the one new values are
//! sealed with. Older keys stay listed until `madoguchi rekey` has moved
//! every value to the active key, which is how keys are rotated.
//!
//! A sealed value reads `mdg1:<key id>:<base64url(nonce ‖ ciphertext)>`.
//! The tenant and the purpose are bound in as associated data, so a value
//! copied to another tenant or another column does not open.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const PREFIX: &str = "mdg1";
const BYTES_MAGIC: &[u8] = b"MDG1";

/// What a sealed value is for; part of the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// マイナンバー in application answers and drafts.
    MyNumber,
    /// A staff member's TOTP secret.
    TotpSecret,
    /// 基本4情報 and subject from a verified sign-in.
    IdentityClaims,
    /// Uploaded documents (card copies, certificates).
    Attachment,
    /// A resident's e-mail address kept for mail (subscribers).
    MailAddress,
    /// A LINE official account's channel secret and access token.
    LineChannel,
    /// A payer's name and address on a public charge (公金).
    Payer,
    /// A bank account registered for 口座振替.
    BankAccount,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::MyNumber => "my_number",
            Purpose::TotpSecret => "totp_secret",
            Purpose::IdentityClaims => "identity_claims",
            Purpose::Attachment => "attachment",
            Purpose::MailAddress => "mail_address",
            Purpose::LineChannel => "line_channel",
            Purpose::Payer => "payer",
            Purpose::BankAccount => "bank_account",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("暗号鍵の形式が正しくありません（{0}）。「鍵ID:base64の32バイト」で指定してください")]
    BadKey(String),
    #[error("暗号化された値を復号できません（鍵 {0} が設定にないか、値が改ざんされています）")]
    CannotOpen(String),
    #[error("暗号化された値の形式が正しくありません")]
    Malformed,
}

struct Key {
    id: String,
    cipher: Aes256Gcm,
    raw: [u8; 32],
}

/// The configured keys. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    keys: Arc<Vec<Key>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "Vault(keys: {ids:?})")
    }
}

impl Vault {
    /// Keys as `id:base64(32 bytes)`, the active one first.
    pub fn from_specs<S: AsRef<str>>(specs: &[S]) -> Result<Self, CryptoError> {
        if specs.is_empty() {
            return Err(CryptoError::BadKey("鍵がありません".into()));
        }
        let mut keys = Vec::new();
        for spec in specs {
            let spec = spec.as_ref().trim();
            let (id, b64) = spec
                .split_once(':')
                .ok_or_else(|| CryptoError::BadKey("「:」がありません".into()))?;
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(CryptoError::BadKey(format!(
                    "鍵ID「{id}」は英数字・-・_ の 1〜32 文字にしてください"
                )));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .or_else(|_| URL_SAFE_NO_PAD.decode(b64))
                .map_err(|_| CryptoError::BadKey(format!("鍵 {id} が base64 ではありません")))?;
            if bytes.len() != 32 {
                return Err(CryptoError::BadKey(format!(
                    "鍵 {id} は 32 バイトではなく {} バイトです",
                    bytes.len()
                )));
            }
            if keys.iter().any(|k: &Key| k.id == id) {
                return Err(CryptoError::BadKey(format!("鍵ID {id} が重複しています")));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| CryptoError::BadKey(id.to_string()))?;
            let mut raw = [0u8; 32];
            raw.copy_from_slice(&bytes);
            keys.push(Key {
                id: id.to_string(),
                cipher,
                raw,
            });
        }
        Ok(Self {
            keys: Arc::new(keys),
        })
    }

    /// A new random key spec (`id:base64`), for `madoguchi keygen`.
    pub fn generate_spec(id: &str) -> String {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("operating system random source");
        format!(
            "{id}:{}",
            base64::engine::general_purpose::STANDARD.encode(k)
        )
    }

    /// A 32-byte key for another purpose, derived from the active key
    /// (HMAC-SHA256 with the label): secrets that must not live in the
    /// database either, such as the key of request hashes that cover a
    /// マイナンバー. Changes when the active key changes.
    pub fn derive(&self, label: &str) -> Vec<u8> {
        hmac_sha256(
            &self.keys[0].raw,
            format!("madoguchi|derive|{label}").as_bytes(),
        )
        .to_vec()
    }

    /// [`Vault::derive`] with every configured key, the active one
    /// first: to find values keyed before a rotation.
    pub fn derive_each(&self, label: &str) -> Vec<Vec<u8>> {
        self.keys
            .iter()
            .map(|k| hmac_sha256(&k.raw, format!("madoguchi|derive|{label}").as_bytes()).to_vec())
            .collect()
    }

    pub fn active_key_id(&self) -> &str {
        &self.keys[0].id
    }

    fn aad(tenant: &str, purpose: Purpose) -> Vec<u8> {
        format!("madoguchi|{tenant}|{}", purpose.as_str()).into_bytes()
    }

    /// Encrypts with the active key.
    pub fn seal(&self, tenant: &str, purpose: Purpose, plaintext: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("operating system random source");
        let aad = Self::aad(tenant, purpose);
        let ct = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory value");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}:{}:{}", key.id, URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a value sealed by any configured key.
    pub fn open(
        &self,
        tenant: &str,
        purpose: Purpose,
        sealed: &str,
    ) -> Result<String, CryptoError> {
        let (kid, data) = parse(sealed).ok_or(CryptoError::Malformed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or_else(|| CryptoError::CannotOpen(kid.to_string()))?;
        let raw = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let aad = Self::aad(tenant, purpose);
        let pt = key
            .cipher
            .decrypt(
                Nonce::from_slice(&raw[..12]),
                Payload {
                    msg: &raw[12..],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::CannotOpen(kid.to_string()))?;
        String::from_utf8(pt).map_err(|_| CryptoError::Malformed)
    }

    /// Binary form for files: `MDG1`, key id length, key id, nonce, ciphertext.
    pub fn seal_bytes(&self, tenant: &str, purpose: Purpose, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("operating system random source");
        let aad = Self::aad(tenant, purpose);
        let ct = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory value");
        let mut out = Vec::with_capacity(4 + 1 + key.id.len() + 12 + ct.len());
        out.extend_from_slice(BYTES_MAGIC);
        out.push(key.id.len() as u8);
        out.extend_from_slice(key.id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens [`Vault::seal_bytes`] output; data stored before encryption
    /// (without the magic) is returned as it is.
    pub fn open_bytes(
        &self,
        tenant: &str,
        purpose: Purpose,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let Some(rest) = data.strip_prefix(BYTES_MAGIC) else {
            return Ok(data.to_vec());
        };
        let (&n, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
        let n = n as usize;
        if rest.len() < n + 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let kid = std::str::from_utf8(&rest[..n]).map_err(|_| CryptoError::Malformed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or_else(|| CryptoError::CannotOpen(kid.to_string()))?;
        let aad = Self::aad(tenant, purpose);
        key.cipher
            .decrypt(
                Nonce::from_slice(&rest[n..n + 12]),
                Payload {
                    msg: &rest[n + 12..],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::CannotOpen(kid.to_string()))
    }

    /// Whether stored file bytes need sealing with the active key.
    pub fn bytes_need_rekey(&self, data: &[u8]) -> bool {
        match data.strip_prefix(BYTES_MAGIC).and_then(|r| r.split_first()) {
            Some((&n, rest)) => rest
                .get(..n as usize)
                .is_none_or(|kid| kid != self.active_key_id().as_bytes()),
            None => true,
        }
    }

    /// True when the value was sealed by a key other than the active one.
    pub fn needs_rekey(&self, sealed: &str) -> bool {
        parse(sealed).is_some_and(|(kid, _)| kid != self.active_key_id())
    }
}

/// The key of a sealed value inside a JSON document. Answers a resident
/// types are strings, so an object with this key cannot be forged by input.
pub const SEALED_KEY: &str = "$sealed";

fn sealed_in(v: &serde_json::Value) -> Option<&str> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    o.get(SEALED_KEY)?.as_str()
}

/// Seals, in place, every string in a JSON document that is a マイナンバー
/// (12 digits with a valid check digit, however typed), replacing it by
/// `{"$sealed": "mdg1:…"}`. Form-independent on purpose: a number typed
/// into the wrong field is protected too.
pub fn seal_my_numbers(vault: &Vault, tenant: &str, v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) if s.chars().count() <= 24 && jp::MyNumber::parse(s).is_ok() => {
            *v = serde_json::json!({ SEALED_KEY: vault.seal(tenant, Purpose::MyNumber, s) });
        }
        Value::Array(a) => a.iter_mut().for_each(|x| seal_my_numbers(vault, tenant, x)),
        Value::Object(o) if sealed_in_map(o).is_none() => o
            .values_mut()
            .for_each(|x| seal_my_numbers(vault, tenant, x)),
        _ => {}
    }
}

fn sealed_in_map(o: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    if o.len() != 1 {
        return None;
    }
    o.get(SEALED_KEY)?.as_str()
}

/// A string sealed unconditionally (a value of a マイナンバー field, valid
/// or not: what someone typed there is theirs to keep secret).
pub fn sealed_value(vault: &Vault, tenant: &str, plain: &str) -> serde_json::Value {
    serde_json::json!({ SEALED_KEY: vault.seal(tenant, Purpose::MyNumber, plain) })
}

/// Opens, in place, every sealed value in a JSON document.
pub fn open_sealed(
    vault: &Vault,
    tenant: &str,
    v: &mut serde_json::Value,
) -> Result<(), CryptoError> {
    use serde_json::Value;
    if let Some(sealed) = sealed_in(v) {
        *v = Value::String(vault.open(tenant, Purpose::MyNumber, sealed)?);
        return Ok(());
    }
    match v {
        Value::Array(a) => {
            for x in a {
                open_sealed(vault, tenant, x)?;
            }
        }
        Value::Object(o) => {
            for x in o.values_mut() {
                open_sealed(vault, tenant, x)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Re-seals, in place, values sealed by an older key, and seals any
/// マイナンバー still in plain text (data written before encryption);
/// true if anything changed.
pub fn reseal(vault: &Vault, tenant: &str, v: &mut serde_json::Value) -> Result<bool, CryptoError> {
    use serde_json::Value;
    if let Some(sealed) = sealed_in(v) {
        if !vault.needs_rekey(sealed) {
            return Ok(false);
        }
        let plain = vault.open(tenant, Purpose::MyNumber, sealed)?;
        *v = serde_json::json!({ SEALED_KEY: vault.seal(tenant, Purpose::MyNumber, &plain) });
        return Ok(true);
    }
    Ok(match v {
        Value::String(s) if s.chars().count() <= 24 && jp::MyNumber::parse(s).is_ok() => {
            *v = serde_json::json!({ SEALED_KEY: vault.seal(tenant, Purpose::MyNumber, s) });
            true
        }
        Value::Array(a) => {
            let mut any = false;
            for x in a {
                any |= reseal(vault, tenant, x)?;
            }
            any
        }
        Value::Object(o) => {
            let mut any = false;
            for x in o.values_mut() {
                any |= reseal(vault, tenant, x)?;
            }
            any
        }
        _ => false,
    })
}

/// Whether a stored string is a sealed value (as opposed to legacy plain text).
pub fn is_sealed(s: &str) -> bool {
    parse(s).is_some()
}

fn parse(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix(PREFIX)?.strip_prefix(':')?;
    rest.split_once(':')
}

/// HMAC-SHA256 (RFC 2104), through the `hmac` crate.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn vault(specs: &[&str]) -> Vault {
        Vault::from_specs(specs).unwrap()
    }

    #[test]
    fn seal_open_and_rotate() {
        let k1 = Vault::generate_spec("k1");
        let k2 = Vault::generate_spec("k2");
        let old = vault(&[&k1]);
        let sealed = old.seal("122289", Purpose::MyNumber, "123456789018");
        assert!(!sealed.contains("123456789018"));
        assert_eq!(
            old.open("122289", Purpose::MyNumber, &sealed).unwrap(),
            "123456789018"
        );
        // Two seals of the same value differ (random nonce).
        assert_ne!(
            sealed,
            old.seal("122289", Purpose::MyNumber, "123456789018")
        );
        // Bound to tenant and purpose.
        assert!(old.open("242021", Purpose::MyNumber, &sealed).is_err());
        assert!(old.open("122289", Purpose::TotpSecret, &sealed).is_err());
        // Rotation: new key active, old still opens.
        let rotated = vault(&[&k2, &k1]);
        assert!(rotated.needs_rekey(&sealed));
        assert_eq!(
            rotated.open("122289", Purpose::MyNumber, &sealed).unwrap(),
            "123456789018"
        );
        let resealed = rotated.seal("122289", Purpose::MyNumber, "123456789018");
        assert!(!rotated.needs_rekey(&resealed));
        // Without the old key the old value cannot be read.
        let only_new = vault(&[&k2]);
        assert_eq!(
            only_new.open("122289", Purpose::MyNumber, &sealed),
            Err(CryptoError::CannotOpen("k1".into()))
        );
        // Tampering is detected.
        let mut t = resealed.clone();
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        assert!(rotated.open("122289", Purpose::MyNumber, &t).is_err());
    }

    #[test]
    fn my_numbers_in_documents() {
        let v1 = vault(&[&Vault::generate_spec("k1")]);
        let mut doc = serde_json::json!({
            "applicant_my_number": "123456789018",
            "typed": "1234 5678 9018",
            "phone": "0434211111",
            "nested": {"note": ["123456789018"]},
            "count": 123456789018u64
        });
        let original = doc.clone();
        seal_my_numbers(&v1, "122289", &mut doc);
        // A resident typing something that looks sealed gets it back as typed.
        let mut forged = serde_json::json!({"note": "mdg1:k1:AAAA"});
        open_sealed(&v1, "122289", &mut forged).unwrap();
        assert_eq!(forged["note"], "mdg1:k1:AAAA");
        let text = doc.to_string();
        assert!(!text.contains("123456789018") || text.contains("\"count\":123456789018"));
        assert!(!text.contains("9018\""), "{text}");
        assert_eq!(doc["phone"], "0434211111");
        open_sealed(&v1, "122289", &mut doc).unwrap();
        assert_eq!(doc, original);
        // Rotation re-seals only what an old key sealed.
        seal_my_numbers(&v1, "122289", &mut doc);
        let v2 = vault(&[&Vault::generate_spec("k2"), &Vault::generate_spec("k1")]);
        let _ = v2; // a different k1: cannot open
        let k1 = Vault::generate_spec("k1");
        let a = vault(&[&k1]);
        let mut d = serde_json::json!({"n": "123456789018"});
        seal_my_numbers(&a, "t", &mut d);
        let b = vault(&[&Vault::generate_spec("k2"), &k1]);
        assert!(reseal(&b, "t", &mut d).unwrap());
        assert!(!reseal(&b, "t", &mut d).unwrap());
        open_sealed(&b, "t", &mut d).unwrap();
        assert_eq!(d["n"], "123456789018");
    }

    #[test]
    fn files() {
        let k1 = Vault::generate_spec("k1");
        let a = vault(&[&k1]);
        let pdf = b"%PDF-1.7 card copy".to_vec();
        let sealed = a.seal_bytes("122289", Purpose::Attachment, &pdf);
        assert!(!sealed.windows(4).any(|w| w == b"%PDF"));
        assert_eq!(
            a.open_bytes("122289", Purpose::Attachment, &sealed)
                .unwrap(),
            pdf
        );
        assert!(a
            .open_bytes("242021", Purpose::Attachment, &sealed)
            .is_err());
        assert_eq!(
            a.open_bytes("122289", Purpose::Attachment, &pdf).unwrap(),
            pdf,
            "legacy plain"
        );
        assert!(!a.bytes_need_rekey(&sealed) && a.bytes_need_rekey(&pdf));
        let b = vault(&[&Vault::generate_spec("k2"), &k1]);
        assert!(b.bytes_need_rekey(&sealed));
        assert_eq!(
            b.open_bytes("122289", Purpose::Attachment, &sealed)
                .unwrap(),
            pdf
        );
    }

    #[test]
    fn bad_keys_are_refused_clearly() {
        assert!(Vault::from_specs::<&str>(&[]).is_err());
        assert!(Vault::from_specs(&["nocolon"]).is_err());
        assert!(Vault::from_specs(&["k1:c2hvcnQ="])
            .unwrap_err()
            .to_string()
            .contains("32 バイト"));
        let k = Vault::generate_spec("k1");
        assert!(Vault::from_specs(&[k.as_str(), k.as_str()]).is_err());
        assert!(Vault::from_specs(&["bad id:AAAA"]).is_err());
    }
}
