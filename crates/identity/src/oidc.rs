//! OpenID Connect relying party for the Digital Agency's デジタル認証アプリ
//! (and any other provider: the issuer is configuration).
//!
//! Authorization code flow with PKCE (S256), `state` (one use, ten
//! minutes, stored only as a hash) and `nonce`; the client authenticates
//! at the token endpoint with `private_key_jwt` (ES256). The ID token is
//! checked for signature (JWKS, RS256/PS256/ES256 only), issuer, audience,
//! authorized party, expiry, issue time and nonce before anything of it
//! is used.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kernel::config::OidcConfig;
use kernel::resident::{Claims, Level};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

/// Why a sign-in was refused. Shown to the resident as a code and a
/// sentence; the detail goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider answered wrongly: {0}")]
    Protocol(String),
    #[error("the ID token is not valid: {0}")]
    InvalidToken(String),
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
    #[error("client key: {0}")]
    Key(String),
}

#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

pub struct OidcClient {
    pub config: OidcConfig,
    pub level: Level,
    key: EncodingKey,
    kid: String,
    public_jwk: Value,
    http: reqwest::Client,
    discovery: RwLock<Option<(Arc<Discovery>, Instant)>>,
    jwks: RwLock<Option<(Arc<JwkSet>, Instant)>>,
}

const CACHE: Duration = Duration::from_secs(3600);
const ALLOWED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// What the flow needs to keep between the redirect and the callback.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

/// A verified sign-in.
#[derive(Debug)]
pub struct Verified {
    pub subject: String,
    pub claims: Claims,
}

pub fn random_b64(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom_fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn getrandom_fill(b: &mut [u8]) {
    getrandom::fill(b).expect("operating system random source");
}

/// PKCE S256 code challenge of a verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Public JWK (with RFC 7638 thumbprint as `kid`) of an EC P-256 private key in PEM.
pub fn public_jwk(pem: &str) -> Result<(Value, String), OidcError> {
    use p256::pkcs8::DecodePrivateKey;
    let secret = p256::SecretKey::from_pkcs8_pem(pem)
        .map_err(|e| OidcError::Key(format!("not a PKCS#8 EC P-256 private key: {e}")))?;
    let jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())
        .map_err(|e| OidcError::Key(e.to_string()))?;
    let (x, y) = (
        jwk["x"].as_str().unwrap_or_default(),
        jwk["y"].as_str().unwrap_or_default(),
    );
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    Ok((
        json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256"}),
        kid,
    ))
}

/// A new EC P-256 private key as PKCS#8 PEM (`madoguchi oidc-keygen`).
pub fn generate_key_pem() -> Result<String, OidcError> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let mut bytes = [0u8; 32];
    loop {
        getrandom_fill(&mut bytes);
        if let Ok(k) = p256::SecretKey::from_slice(&bytes) {
            return k
                .to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .map_err(|e| OidcError::Key(e.to_string()));
        }
    }
}

impl OidcClient {
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        let pem = std::fs::read_to_string(&config.client_key_file)
            .map_err(|e| OidcError::Key(format!("{} を読めません: {e}", config.client_key_file)))?;
        let (public_jwk, kid) = public_jwk(&pem)?;
        let key =
            EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| OidcError::Key(e.to_string()))?;
        let level = Level::parse(&config.identity_level).unwrap_or(Level::SignedIn);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        Ok(Self {
            config,
            level,
            key,
            kid,
            public_jwk,
            http,
            discovery: RwLock::new(None),
            jwks: RwLock::new(None),
        })
    }

    /// The client's public keys, served at `/auth/oidc/jwks.json` for
    /// providers that fetch them.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk] })
    }

    pub async fn discovery(&self) -> Result<Arc<Discovery>, OidcError> {
        if let Some((d, at)) = self.discovery.read().await.as_ref() {
            if at.elapsed() < CACHE {
                return Ok(d.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let d: Discovery = self.get_json(&url).await?;
        if d.issuer != self.config.issuer {
            return Err(OidcError::Protocol(format!(
                "discovery issuer {} is not the configured {}",
                d.issuer, self.config.issuer
            )));
        }
        let d = Arc::new(d);
        *self.discovery.write().await = Some((d.clone(), Instant::now()));
        Ok(d)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(format!("{url}: {e}")))?;
        if !r.status().is_success() {
            return Err(OidcError::Protocol(format!("{url}: HTTP {}", r.status())));
        }
        r.json()
            .await
            .map_err(|e| OidcError::Protocol(format!("{url}: {e}")))
    }

    async fn jwk_set(&self, refresh: bool) -> Result<Arc<JwkSet>, OidcError> {
        if !refresh {
            if let Some((k, at)) = self.jwks.read().await.as_ref() {
                if at.elapsed() < CACHE {
                    return Ok(k.clone());
                }
            }
        }
        let d = self.discovery().await?;
        let set: JwkSet = self.get_json(&d.jwks_uri).await?;
        let set = Arc::new(set);
        *self.jwks.write().await = Some((set.clone(), Instant::now()));
        Ok(set)
    }

    /// Step 1: where to send the browser.
    pub async fn start(&self, redirect_uri: &str) -> Result<Started, OidcError> {
        let d = self.discovery().await?;
        let state = random_b64(32);
        let nonce = random_b64(32);
        let code_verifier = random_b64(48);
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", self.config.scopes.as_str()),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", code_challenge(&code_verifier).as_str()),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|e| OidcError::Protocol(e.to_string()))?;
        let sep = if d.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(Started {
            url: format!("{}{sep}{query}", d.authorization_endpoint),
            state,
            nonce,
            code_verifier,
        })
    }

    /// The `private_key_jwt` client assertion for the token endpoint.
    fn client_assertion(&self, audience: &str) -> Result<String, OidcError> {
        let now = jsonwebtoken::get_current_timestamp();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let claims = json!({
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": audience,
            "jti": random_b64(24),
            "iat": now,
            "exp": now + 60,
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| OidcError::Key(e.to_string()))
    }

    /// Step 2: exchange the code, verify the ID token, read userinfo.
    pub async fn finish(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<Verified, OidcError> {
        let d = self.discovery().await?;
        let assertion = self.client_assertion(&d.token_endpoint)?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
            ("client_id", self.config.client_id.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let body =
            serde_urlencoded::to_string(form).map_err(|e| OidcError::Protocol(e.to_string()))?;
        let r = self
            .http
            .post(&d.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(format!("token endpoint: {e}")))?;
        let status = r.status();
        let tokens: Value = r
            .json()
            .await
            .map_err(|e| OidcError::Protocol(format!("token endpoint: {e}")))?;
        if !status.is_success() {
            return Err(OidcError::Protocol(format!(
                "token endpoint HTTP {status}: {}",
                tokens["error"].as_str().unwrap_or("?")
            )));
        }
        let id_token = tokens["id_token"]
            .as_str()
            .ok_or_else(|| OidcError::Protocol("no id_token in the token response".into()))?;
        let claims = self.verify_id_token(id_token, nonce).await?;
        let subject = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OidcError::InvalidToken("no sub".into()))?
            .to_string();
        let mut merged = claims.clone();
        // 基本4情報 may come in the ID token, in userinfo, or both.
        if let (Some(url), Some(access)) = (
            d.userinfo_endpoint.as_deref(),
            tokens["access_token"].as_str(),
        ) {
            let r = self
                .http
                .get(url)
                .bearer_auth(access)
                .send()
                .await
                .map_err(|e| OidcError::Unreachable(format!("userinfo: {e}")))?;
            if r.status().is_success() {
                let info: Value = r
                    .json()
                    .await
                    .map_err(|e| OidcError::Protocol(format!("userinfo: {e}")))?;
                if info["sub"].as_str() != Some(subject.as_str()) {
                    return Err(OidcError::InvalidToken(
                        "userinfo sub differs from the ID token".into(),
                    ));
                }
                if let (Some(m), Some(i)) = (merged.as_object_mut(), info.as_object()) {
                    for (k, v) in i {
                        m.entry(k.clone()).or_insert(v.clone());
                    }
                }
            }
        }
        Ok(Verified {
            subject,
            claims: claims_of(&merged),
        })
    }

    /// Signature, issuer, audience, expiry and nonce of an ID token.
    pub async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Value, OidcError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::InvalidToken(format!("header: {e}")))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(OidcError::InvalidToken(format!(
                "algorithm {:?} not allowed",
                header.alg
            )));
        }
        let mut set = self.jwk_set(false).await?;
        // By kid; without one, only a key of the token's own kind.
        let family = header.alg.family();
        let find = |set: &JwkSet| {
            set.keys
                .iter()
                .filter(|k| {
                    use jsonwebtoken::jwk::AlgorithmParameters as P;
                    use jsonwebtoken::AlgorithmFamily as F;
                    matches!(
                        (&k.algorithm, family),
                        (P::RSA(_), F::Rsa) | (P::EllipticCurve(_), F::Ec)
                    )
                })
                .find(|k| match (&header.kid, &k.common.key_id) {
                    (Some(want), Some(have)) => want == have,
                    (None, _) => true,
                    _ => false,
                })
                .cloned()
        };
        let jwk = match find(&set) {
            Some(k) => k,
            None => {
                // The provider may have rotated its keys.
                set = self.jwk_set(true).await?;
                find(&set)
                    .ok_or_else(|| OidcError::InvalidToken("no key for the token's kid".into()))?
            }
        };
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| OidcError::InvalidToken(format!("key: {e}")))?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[self.config.issuer.as_str()]);
        v.set_audience(&[self.config.client_id.as_str()]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        v.leeway = 60;
        v.validate_nbf = true;
        let data = jsonwebtoken::decode::<Value>(token, &key, &v)
            .map_err(|e| OidcError::InvalidToken(e.to_string()))?;
        let c = data.claims;
        // Several audiences: we must be the authorized party.
        if c["aud"].as_array().is_some_and(|a| a.len() > 1)
            && c["azp"].as_str() != Some(self.config.client_id.as_str())
        {
            return Err(OidcError::InvalidToken("azp is not this client".into()));
        }
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if c["iat"]
            .as_i64()
            .is_none_or(|iat| iat > now + 60 || iat < now - 3600)
        {
            return Err(OidcError::InvalidToken("iat out of range".into()));
        }
        match c["nonce"].as_str() {
            Some(n) if kernel::secrets::constant_time_eq(n, nonce) => Ok(c),
            _ => Err(OidcError::NonceMismatch),
        }
    }
}

fn claims_of(v: &Value) -> Claims {
    let s = |k: &str| {
        v[k].as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    Claims {
        name: s("name"),
        // Standard claims carry an object with `formatted`; some providers a string.
        address: v["address"]["formatted"]
            .as_str()
            .map(String::from)
            .or_else(|| s("address")),
        birthdate: s("birthdate"),
        gender: s("gender"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_rfc7636_vector() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn keys_and_claims() {
        let pem = generate_key_pem().unwrap();
        let (jwk, kid) = public_jwk(&pem).unwrap();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["kid"], kid.as_str());
        assert!(jwk.get("d").is_none(), "never the private part");
        let c = claims_of(
            &json!({"name": "四街道 花子", "address": {"formatted": "千葉県四街道市鹿渡無番地"}, "birthdate": "1990-04-01", "gender": "female"}),
        );
        assert_eq!(c.address.as_deref(), Some("千葉県四街道市鹿渡無番地"));
        let c = claims_of(&json!({"address": "四日市市諏訪町1-5"}));
        assert_eq!(c.address.as_deref(), Some("四日市市諏訪町1-5"));
    }
}
