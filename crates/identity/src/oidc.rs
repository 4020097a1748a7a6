//! OpenID Connect relying party for the Digital Agency's デジタル認証アプリ
//! (and any other provider: the issuer is configuration).
//!
//! Authorization code flow with PKCE (S256), `state` (one use, ten
//! minutes, stored only as a hash) and `nonce`; the client authenticates
//! at the token endpoint with `private_key_jwt` (ES256). The ID token is
//! checked for signature (JWKS, RS256/PS256/ES256 only), issuer, audience,
//! authorized party, expiry, issue time and nonce before anything of it
//! is used.
//!
//! Fails closed: when the userinfo endpoint cannot be read, or a claim the
//! requested scopes ask for (name, address, birth date) is missing, nobody
//! is signed in. Claims are read in every shape the spec allows: `address`
//! as an object with or without `formatted`, `family_name` + `given_name`
//! without `name`, partial birth dates, any `gender` value, userinfo as
//! JSON or as a signed JWT.

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
    /// The token endpoint refused the code: expired, already used, or not
    /// issued for this sign-in (`invalid_grant`).
    #[error("the authorization code was refused: {0}")]
    Grant(String),
    /// The verified attributes could not be read (userinfo failed).
    #[error("userinfo could not be read: {0}")]
    Userinfo(String),
    /// Claims the requested scopes ask for are missing.
    #[error("the provider did not assert {0:?}")]
    MissingClaims(Vec<&'static str>),
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
    /// When the key set was last fetched because a token needed it (an
    /// unknown `kid`, or a signature that failed with a known one).
    forced_refetch: std::sync::Mutex<Option<Instant>>,
}

const CACHE: Duration = Duration::from_secs(3600);
/// A token that needs a fresh key set refetches it at most this often, so
/// forged tokens cannot make us hammer the provider.
const FORCED_REFETCH_EVERY: Duration = Duration::from_secs(10);
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
            forced_refetch: std::sync::Mutex::new(None),
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

    /// Whether a token may make us refetch the key set now (at most once
    /// per [`FORCED_REFETCH_EVERY`]); claims the slot when it may.
    fn may_refetch(&self) -> bool {
        let mut last = self
            .forced_refetch
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < FORCED_REFETCH_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
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
        let tokens = self.redeem(&d, code, redirect_uri, code_verifier).await?;
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
        // 基本4情報 may come in the ID token, in userinfo (the spec's
        // default for scope-requested claims), or both.
        if let Some(url) = d.userinfo_endpoint.as_deref() {
            let access = tokens["access_token"].as_str().ok_or_else(|| {
                OidcError::Userinfo("no access_token for the userinfo endpoint".into())
            })?;
            let info = self.userinfo(url, access).await?;
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
        let claims = claims_of(&merged);
        let missing = missing_claims(&self.config.scopes, &claims);
        if !missing.is_empty() {
            return Err(OidcError::MissingClaims(missing));
        }
        Ok(Verified { subject, claims })
    }

    /// The token request (`private_key_jwt`, PKCE verifier).
    async fn redeem(
        &self,
        d: &Discovery,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Value, OidcError> {
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
        let text = r
            .text()
            .await
            .map_err(|e| OidcError::Unreachable(format!("token endpoint: {e}")))?;
        let tokens: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return tokens.ok_or_else(|| {
                OidcError::Protocol(format!("token endpoint: not JSON (HTTP {status})"))
            });
        }
        let error = tokens
            .as_ref()
            .and_then(|t| t["error"].as_str())
            .unwrap_or("?");
        let description = tokens
            .as_ref()
            .and_then(|t| t["error_description"].as_str())
            .unwrap_or("");
        let detail = format!("token endpoint HTTP {status}: {error} {description}");
        Err(if error == "invalid_grant" {
            OidcError::Grant(detail)
        } else {
            OidcError::Protocol(detail)
        })
    }

    /// The userinfo response, as JSON or as a signed JWT (`application/jwt`).
    /// Any failure is an error: the caller signs nobody in.
    async fn userinfo(&self, url: &str, access: &str) -> Result<Value, OidcError> {
        let r = self
            .http
            .get(url)
            .bearer_auth(access)
            .header("accept", "application/json, application/jwt")
            .send()
            .await
            .map_err(|e| OidcError::Userinfo(format!("{url}: {e}")))?;
        let status = r.status();
        if !status.is_success() {
            return Err(OidcError::Userinfo(format!("{url}: HTTP {status}")));
        }
        let jwt = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/jwt"));
        let text = r
            .text()
            .await
            .map_err(|e| OidcError::Userinfo(format!("{url}: {e}")))?;
        if jwt {
            return self
                .verify_signed(text.trim(), |v| {
                    // A signed userinfo carries iss and aud, and need not expire.
                    v.set_required_spec_claims(&["iss", "aud", "sub"]);
                    v.validate_exp = false;
                })
                .await
                .map_err(|e| OidcError::Userinfo(format!("signed userinfo: {e}")));
        }
        let info: Value = serde_json::from_str(&text)
            .map_err(|e| OidcError::Userinfo(format!("{url}: not JSON: {e}")))?;
        if !info.is_object() {
            return Err(OidcError::Userinfo(format!("{url}: not a JSON object")));
        }
        Ok(info)
    }

    /// Signature, issuer, audience, expiry and nonce of an ID token.
    pub async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Value, OidcError> {
        let c = self
            .verify_signed(token, |v| {
                v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
                v.validate_nbf = true;
            })
            .await?;
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
            Some(n) if kernel::crypto::constant_time_eq(n, nonce) => Ok(c),
            _ => Err(OidcError::NonceMismatch),
        }
    }

    /// A JWT signed by the provider, issued for us: signature by a key of
    /// the provider's set (refetched once, rate-limited, when the `kid` is
    /// unknown or its signature fails: the provider may have re-keyed),
    /// issuer and audience, plus what `configure` asks.
    async fn verify_signed(
        &self,
        token: &str,
        configure: impl Fn(&mut Validation),
    ) -> Result<Value, OidcError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::InvalidToken(format!("header: {e}")))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(OidcError::InvalidToken(format!(
                "algorithm {:?} not allowed",
                header.alg
            )));
        }
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[self.config.issuer.as_str()]);
        v.set_audience(&[self.config.client_id.as_str()]);
        v.leeway = 60;
        configure(&mut v);
        let decode = |set: &JwkSet| -> Result<Value, OidcError> {
            let jwk = key_for(set, &header)
                .ok_or_else(|| OidcError::InvalidToken("no key for the token's kid".into()))?;
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|e| OidcError::InvalidToken(format!("key: {e}")))?;
            jsonwebtoken::decode::<Value>(token, &key, &v)
                .map(|d| d.claims)
                .map_err(|e| match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                        OidcError::InvalidToken("signature does not verify".into())
                    }
                    _ => OidcError::InvalidToken(e.to_string()),
                })
        };
        let set = self.jwk_set(false).await?;
        let needs_fresh_keys = match key_for(&set, &header) {
            None => true,
            Some(jwk) => {
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| OidcError::InvalidToken(format!("key: {e}")))?;
                // Only the signature decides whether fresh keys could help;
                // a wrong audience or an expired token would fail again.
                !signature_verifies(token, &key, header.alg)
            }
        };
        if needs_fresh_keys && self.may_refetch() {
            tracing::info!(kid = ?header.kid, "refetching the provider's keys");
            let fresh = self.jwk_set(true).await?;
            return decode(&fresh);
        }
        decode(&set)
    }
}

/// The key of a set for a token's header: by `kid`; without one, a key of
/// the token's own kind.
fn key_for<'a>(set: &'a JwkSet, header: &Header) -> Option<&'a jsonwebtoken::jwk::Jwk> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    use jsonwebtoken::AlgorithmFamily as F;
    let family = header.alg.family();
    set.keys
        .iter()
        .filter(|k| {
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
}

/// Whether the token's signature verifies with `key`, whatever its claims.
fn signature_verifies(token: &str, key: &DecodingKey, alg: Algorithm) -> bool {
    let Some((message, signature)) = token.rsplit_once('.') else {
        return false;
    };
    jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, alg).unwrap_or(false)
}

/// The scope-requested claims a verified sign-in must carry: without them
/// the forms would let anyone type any name at card level. Gender is not
/// required (a provider may leave it out).
fn missing_claims(scopes: &str, c: &Claims) -> Vec<&'static str> {
    let requested = |s: &str| scopes.split_whitespace().any(|x| x == s);
    let mut missing = Vec::new();
    for (scope, present) in [
        ("name", c.name.is_some()),
        ("address", c.address.is_some()),
        ("birthdate", c.birthdate.is_some()),
    ] {
        if requested(scope) && !present {
            missing.push(scope);
        }
    }
    missing
}

/// 基本4情報 from the merged ID token and userinfo claims, in every shape
/// OpenID Connect Core §5.1 allows.
fn claims_of(v: &Value) -> Claims {
    Claims {
        name: name_of(v),
        address: address_of(&v["address"]),
        birthdate: text(v, "birthdate").filter(|b| {
            let ok = kernel::resident::BirthDate::parse(b).is_some();
            if !ok {
                tracing::warn!("birthdate claim is not YYYY-MM-DD, 0000-MM-DD or YYYY: ignored");
            }
            ok
        }),
        gender: text(v, "gender"),
    }
}

/// A non-empty string claim, plain or language-tagged (`name#ja-Hani-JP`):
/// the plain one first, then Japanese in kanji, then any Japanese.
fn text(v: &Value, key: &str) -> Option<String> {
    let get = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    get(key)
        .or_else(|| get(&format!("{key}#ja-Hani-JP")))
        .or_else(|| get(&format!("{key}#ja-JP")))
        .or_else(|| get(&format!("{key}#ja")))
}

/// `name`, or `family_name` and `given_name` (family first, as Japanese
/// names are written) with any `middle_name` after the given name.
fn name_of(v: &Value) -> Option<String> {
    text(v, "name").or_else(|| {
        let parts: Vec<String> = ["family_name", "given_name", "middle_name"]
            .iter()
            .filter_map(|k| text(v, k))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}

/// The spec's structured address: `formatted`, or built from its parts
/// (〒postal code, then 都道府県・市区町村・番地 without spaces, as Japanese
/// addresses are written; a country other than Japan last). Some providers
/// send a string, or a JSON object inside a string.
fn address_of(a: &Value) -> Option<String> {
    if let Some(s) = a.as_str().map(str::trim).filter(|s| !s.is_empty()) {
        return match serde_json::from_str::<Value>(s) {
            Ok(inner) if inner.is_object() => address_of(&inner),
            _ => Some(s.to_string()),
        };
    }
    let part = |k: &str| {
        a.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if let Some(f) = part("formatted") {
        return Some(f.to_string());
    }
    let street: String = ["region", "locality", "street_address"]
        .iter()
        .filter_map(|k| part(k))
        .collect::<Vec<_>>()
        .join("");
    let postal = part("postal_code").map(|p| match jp::PostalCode::parse(p) {
        Ok(code) => format!("〒{}", code.as_str()),
        Err(_) => p.to_string(),
    });
    let country = part("country").filter(|c| {
        !matches!(
            c.to_ascii_lowercase().as_str(),
            "jp" | "jpn" | "japan" | "日本" | "日本国"
        )
    });
    let out: Vec<String> = postal
        .into_iter()
        .chain((!street.is_empty()).then_some(street))
        .chain(country.map(String::from))
        .collect();
    (!out.is_empty()).then(|| out.join(" "))
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

    #[test]
    fn every_claim_shape_the_spec_allows() {
        // address without `formatted`: built from its parts.
        let c = claims_of(&json!({"address": {
            "postal_code": "2840003", "region": "千葉県", "locality": "四街道市",
            "street_address": "鹿渡無番地", "country": "JP"}}));
        assert_eq!(
            c.address.as_deref(),
            Some("〒284-0003 千葉県四街道市鹿渡無番地")
        );
        let c =
            claims_of(&json!({"address": {"locality": "四日市市", "street_address": "諏訪町1-5"}}));
        assert_eq!(c.address.as_deref(), Some("四日市市諏訪町1-5"));
        let c = claims_of(&json!({"address": {"country": "JP"}}));
        assert_eq!(c.address, None, "nothing of an address");
        let c = claims_of(&json!({"address": "{\"formatted\": \"四日市市諏訪町1-5\"}"}));
        assert_eq!(c.address.as_deref(), Some("四日市市諏訪町1-5"));
        // family_name + given_name without name; language-tagged names.
        let c = claims_of(&json!({"family_name": "四街道", "given_name": "花子"}));
        assert_eq!(c.name.as_deref(), Some("四街道 花子"));
        let c = claims_of(
            &json!({"name#ja-Hani-JP": "四日市 太郎", "name#ja-Kana-JP": "ヨッカイチ タロウ"}),
        );
        assert_eq!(c.name.as_deref(), Some("四日市 太郎"));
        let c = claims_of(&json!({"name": "  ", "family_name": "四街道"}));
        assert_eq!(c.name.as_deref(), Some("四街道"));
        // Partial birth dates are kept as partial; nonsense is dropped.
        assert_eq!(
            claims_of(&json!({"birthdate": "1985"}))
                .birthdate
                .as_deref(),
            Some("1985")
        );
        assert_eq!(
            claims_of(&json!({"birthdate": "0000-04-01"}))
                .birthdate
                .as_deref(),
            Some("0000-04-01")
        );
        assert_eq!(claims_of(&json!({"birthdate": "April 1"})).birthdate, None);
        // Any gender value is kept (shown with a neutral label).
        assert_eq!(
            claims_of(&json!({"gender": "diverse"})).gender.as_deref(),
            Some("diverse")
        );
    }

    #[test]
    fn requested_claims_must_be_present() {
        let full = Claims {
            name: Some("四街道 花子".into()),
            address: Some("千葉県四街道市鹿渡無番地".into()),
            birthdate: Some("1985".into()),
            gender: None,
        };
        let scopes = "openid name address birthdate gender";
        assert!(
            missing_claims(scopes, &full).is_empty(),
            "gender is optional"
        );
        assert_eq!(
            missing_claims(scopes, &Claims::default()),
            vec!["name", "address", "birthdate"]
        );
        assert!(missing_claims("openid", &Claims::default()).is_empty());
    }
}
