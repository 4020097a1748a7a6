//! Multi-host PostgreSQL URLs, as libpq writes them:
//! `postgres://user:pw@h1:5432,h2:5433/db?target_session_attrs=read-write`.
//!
//! sqlx connects to one host, so [`parse`] splits such a URL into one URL
//! per host (same user, database and parameters) for
//! [`super::primary`] to probe. A URL with one host and no
//! `target_session_attrs` is handed to sqlx unchanged.

/// What the URL asks of the server it connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One host, as sqlx takes it.
    Single(String),
    /// The host (of these, in order) that accepts writes: one URL per host,
    /// with `target_session_attrs` removed (sqlx does not know it).
    ReadWrite(Vec<Host>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// `host:port`, for logs and the health check (no password).
    pub label: String,
    /// The URL of this host alone.
    pub url: String,
}

/// Parses a `postgres://` URL. Errors are said in Japanese, naming the part
/// of the URL that is wrong. SQLite URLs are not for this function.
pub fn parse(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "postgres" || *s == "postgresql")
        .ok_or_else(|| "postgres:// で始まる URL を指定してください".to_string())?;
    // The authority ends at the first '/' or '?' after the user info.
    let at = rest.find('@');
    let search_from = at.map_or(0, |i| i + 1);
    let end = rest[search_from..]
        .find(['/', '?'])
        .map_or(rest.len(), |i| i + search_from);
    let userinfo = at.filter(|&i| i < end).map(|i| &rest[..=i]).unwrap_or("");
    let hostlist = &rest[userinfo.len()..end];
    let tail = &rest[end..];
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };

    let mut attrs = None;
    let mut params = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("target_session_attrs", v)) => attrs = Some(v),
            _ => params.push(pair),
        }
    }
    let read_write = match attrs {
        None => false,
        Some("read-write" | "primary") => true,
        Some("any") => false,
        Some(other) => {
            return Err(format!(
                "target_session_attrs「{other}」は使えません。read-write（書き込みのできるサーバー）を指定してください"
            ))
        }
    };

    let hosts = hostlist.split(',').collect::<Vec<_>>();
    if hosts.len() == 1 && !read_write {
        if attrs.is_none() {
            return Ok(Target::Single(url.to_string()));
        }
        return Ok(Target::Single(join(
            scheme, userinfo, hostlist, path, &params,
        )));
    }
    if !read_write {
        return Err(
            "複数のホストを指定するときは target_session_attrs=read-write を付けてください（書き込みのできるサーバーに接続するため）"
                .into(),
        );
    }
    let mut out = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        let (host, port) =
            host_port(h).map_err(|m| format!("接続先の {} 番目のホスト{m}", i + 1))?;
        let hp = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        out.push(Host {
            url: join(scheme, userinfo, &hp, path, &params),
            label: hp,
        });
    }
    Ok(Target::ReadWrite(out))
}

fn join(scheme: &str, userinfo: &str, host: &str, path: &str, params: &[&str]) -> String {
    let mut s = format!("{scheme}://{userinfo}{host}{path}");
    if !params.is_empty() {
        s.push('?');
        s.push_str(&params.join("&"));
    }
    s
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to 5432.
fn host_port(s: &str) -> Result<(&str, u16), String> {
    if s.is_empty() {
        return Err("が空です（「,,」や末尾の「,」を確かめてください）".into());
    }
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("「{s}」の IPv6 アドレスに閉じる「]」がありません"))?;
        match after {
            "" => (h, None),
            p => (
                h,
                Some(p.strip_prefix(':').ok_or_else(|| {
                    format!("「{s}」の「]」の後はポート（:5432 など）にしてください")
                })?),
            ),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err(format!("「{s}」にホスト名がありません"));
    }
    let port = match port {
        None => 5432,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "「{s}」のポート「{p}」は 1〜65535 の数ではありません"
                ))
            }
        },
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(url: &str) -> Vec<Host> {
        match parse(url).unwrap() {
            Target::ReadWrite(h) => h,
            other => panic!("expected hosts, got {other:?}"),
        }
    }

    #[test]
    fn one_host_without_attrs_is_passed_through() {
        let u = "postgres://app:secret@db.example:5432/city?sslmode=require";
        assert_eq!(parse(u).unwrap(), Target::Single(u.into()));
    }

    #[test]
    fn one_host_with_any_drops_the_attribute() {
        assert_eq!(
            parse("postgres://db/city?target_session_attrs=any&sslmode=disable").unwrap(),
            Target::Single("postgres://db/city?sslmode=disable".into())
        );
    }

    #[test]
    fn several_hosts_become_one_url_each_with_the_same_user_database_and_parameters() {
        let h = hosts(
            "postgres://app:p%40ss@10.0.0.1:5432,db2:6543,db3/city?sslmode=require&target_session_attrs=read-write&application_name=m",
        );
        assert_eq!(
            h,
            vec![
                Host {
                    label: "10.0.0.1:5432".into(),
                    url: "postgres://app:p%40ss@10.0.0.1:5432/city?sslmode=require&application_name=m".into()
                },
                Host {
                    label: "db2:6543".into(),
                    url: "postgres://app:p%40ss@db2:6543/city?sslmode=require&application_name=m".into()
                },
                Host {
                    label: "db3:5432".into(),
                    url: "postgres://app:p%40ss@db3:5432/city?sslmode=require&application_name=m".into()
                },
            ]
        );
    }

    #[test]
    fn primary_means_read_write_and_one_host_may_ask_for_it() {
        let h = hosts("postgresql://[::1]:5433/x?target_session_attrs=primary");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].label, "[::1]:5433");
        assert_eq!(h[0].url, "postgresql://[::1]:5433/x");
        let h = hosts("postgres://u@a,b?target_session_attrs=read-write");
        assert_eq!(h[1].url, "postgres://u@b:5432");
    }

    #[test]
    fn bad_urls_are_refused_in_japanese_naming_the_part() {
        let cases = [
            (
                "postgres://a:5432,,b:5432/db?target_session_attrs=read-write",
                "接続先の 2 番目のホストが空です（「,,」や末尾の「,」を確かめてください）",
            ),
            (
                "postgres://a:5432,b:port/db?target_session_attrs=read-write",
                "接続先の 2 番目のホスト「b:port」のポート「port」は 1〜65535 の数ではありません",
            ),
            (
                "postgres://a:70000/db?target_session_attrs=read-write",
                "接続先の 1 番目のホスト「a:70000」のポート「70000」は 1〜65535 の数ではありません",
            ),
            (
                "postgres://a,:5432/db?target_session_attrs=read-write",
                "接続先の 2 番目のホスト「:5432」にホスト名がありません",
            ),
            (
                "postgres://[::1/db?target_session_attrs=read-write",
                "接続先の 1 番目のホスト「[::1」の IPv6 アドレスに閉じる「]」がありません",
            ),
            (
                "postgres://a:1,b:2/db",
                "複数のホストを指定するときは target_session_attrs=read-write を付けてください（書き込みのできるサーバーに接続するため）",
            ),
            (
                "postgres://a:1,b:2/db?target_session_attrs=any",
                "複数のホストを指定するときは target_session_attrs=read-write を付けてください（書き込みのできるサーバーに接続するため）",
            ),
            (
                "postgres://a:1,b:2/db?target_session_attrs=prefer-standby",
                "target_session_attrs「prefer-standby」は使えません。read-write（書き込みのできるサーバー）を指定してください",
            ),
            ("mysql://a/db", "postgres:// で始まる URL を指定してください"),
        ];
        for (url, message) in cases {
            assert_eq!(parse(url), Err(message.to_string()), "{url}");
        }
    }
}
