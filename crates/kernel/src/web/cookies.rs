//! `Set-Cookie` headers, every one built the same way (the `cookie`
//! crate): `Path=/` unless narrowed, `HttpOnly`, `SameSite=Lax` (`Strict`
//! for the staff session), and `Secure` whenever the deployment is served
//! over HTTPS. No script of ours reads a cookie, so none is readable by
//! scripts.

use axum::http::HeaderValue;

/// A cookie to set (or to remove) in a response.
#[derive(Clone, Debug)]
pub struct Cookie(cookie::Cookie<'static>);

impl Cookie {
    /// `name=value; Path=/; HttpOnly; SameSite=Lax`, a session cookie
    /// (no `Max-Age`) until [`Cookie::max_age_secs`] says otherwise.
    pub fn new(name: &str, value: &str) -> Self {
        let mut c = cookie::Cookie::new(name.to_string(), value.to_string());
        c.set_path("/");
        c.set_http_only(true);
        c.set_same_site(cookie::SameSite::Lax);
        Self(c)
    }

    /// A cookie that removes `name` at `path` (`Max-Age=0`).
    pub fn removal(name: &str, path: &str) -> Self {
        Self::new(name, "").path(path).max_age_secs(0)
    }

    /// Sent only under `path` (e.g. `/t/122289/auth`).
    pub fn path(mut self, path: &str) -> Self {
        self.0.set_path(path.to_string());
        self
    }

    pub fn max_age_secs(mut self, secs: i64) -> Self {
        self.0.set_max_age(cookie::time::Duration::seconds(secs));
        self
    }

    /// Never sent with a request another site started (the staff session).
    pub fn strict(mut self) -> Self {
        self.0.set_same_site(cookie::SameSite::Strict);
        self
    }

    /// `Secure` when the deployment is served over HTTPS.
    pub fn secure(mut self, secure: bool) -> Self {
        self.0.set_secure(secure.then_some(true));
        self
    }

    /// The `Set-Cookie` header value.
    pub fn header(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0.to_string())
            .expect("cookie names and values are printable ASCII")
    }
}

impl std::fmt::Display for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(c: &Cookie) -> Vec<String> {
        let mut v: Vec<String> = c.to_string().split("; ").map(String::from).collect();
        v.sort();
        v
    }

    #[test]
    fn the_same_attributes_everywhere() {
        assert_eq!(
            attrs(&Cookie::new("mdg_x", "1")),
            ["HttpOnly", "Path=/", "SameSite=Lax", "mdg_x=1"]
        );
        assert_eq!(
            attrs(
                &Cookie::new("mdg_x", "1")
                    .path("/t/122289/auth")
                    .max_age_secs(600)
                    .secure(true)
            ),
            [
                "HttpOnly",
                "Max-Age=600",
                "Path=/t/122289/auth",
                "SameSite=Lax",
                "Secure",
                "mdg_x=1"
            ]
        );
        assert_eq!(
            attrs(&Cookie::new("mdg_staff", "v").strict().secure(false)),
            ["HttpOnly", "Path=/", "SameSite=Strict", "mdg_staff=v"]
        );
        assert_eq!(
            attrs(&Cookie::removal("mdg_x", "/t/1/")),
            [
                "HttpOnly",
                "Max-Age=0",
                "Path=/t/1/",
                "SameSite=Lax",
                "mdg_x="
            ]
        );
    }
}
