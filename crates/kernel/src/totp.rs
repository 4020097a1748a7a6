//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps,
//! six digits), the parameters every authenticator app understands.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// A new 160-bit secret (RFC 4226 recommends 160 bits).
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    getrandom::fill(&mut s).expect("operating system random source");
    s
}

/// RFC 4648 base32 without padding, the form authenticator apps accept.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The time step containing `unix_seconds`.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code for a time step (RFC 4226 dynamic truncation).
pub fn code(secret: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    format!(
        "{:0width$}",
        bin % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// Checks a code typed by the user against the current step and one step
/// either side (clock drift). Returns the matching step, which the caller
/// stores: a code at or before the last used step is refused (no replay).
pub fn verify(secret: &[u8], input: &str, unix_seconds: i64, last_used_step: i64) -> Option<i64> {
    let typed = normalize_code(input)?;
    let now = step_at(unix_seconds);
    (now - 1..=now + 1)
        .filter(|s| *s > last_used_step)
        .find(|s| crate::crypto::constant_time_eq(&code(secret, *s), &typed))
}

/// Accepts full-width digits and spaces (「１２３ ４５６」), as typed on
/// Japanese keyboards; `None` unless six digits remain.
pub fn normalize_code(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// The `otpauth://` URI shown as a QR code for enrolment.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 secret, last six digits.
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(code(secret, step_at(t)), expected, "t={t}");
        }
    }

    #[test]
    fn verify_window_and_replay() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let c = code(&secret, step_at(now));
        let step = verify(&secret, &c, now, 0).unwrap();
        assert_eq!(step, step_at(now));
        // The same code again is a replay.
        assert_eq!(verify(&secret, &c, now, step), None);
        // Previous step still accepted (drift), two steps back is not.
        let prev = code(&secret, step_at(now) - 1);
        assert!(verify(&secret, &prev, now, 0).is_some());
        let old = code(&secret, step_at(now) - 2);
        assert!(verify(&secret, &old, now, 0).is_none() || old == c);
        // Full-width digits are accepted; junk is not.
        let wide: String = c
            .chars()
            .map(|d| char::from_u32(d as u32 - '0' as u32 + '０' as u32).unwrap())
            .collect();
        assert!(verify(&secret, &wide, now, 0).is_some());
        assert!(verify(&secret, "12345", now, 0).is_none());
        assert!(verify(&secret, "abcdef", now, 0).is_none());
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        let s = new_secret();
        assert_eq!(base32_decode(&base32(&s)).unwrap(), s);
        assert!(otpauth_uri("madoguchi 四街道市", "clerk", &s)
            .starts_with("otpauth://totp/madoguchi%20%E5"));
    }
}
