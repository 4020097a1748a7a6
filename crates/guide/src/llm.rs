//! The chatbot's optional generative mode. A city may let a language model
//! phrase the answer (any OpenAI-compatible endpoint, configured per
//! tenant in `tenant.json`'s `chat`); the model sees only the sources the
//! search found and must cite them as [1], [2]. `verify` checks the reply
//! before anyone sees it: it is not empty and not `NO_ANSWER`, at most
//! `MAX_REPLY_CHARS` long, every sentence carries a citation, every cited
//! number is a source it was given, every number written in it (a fee, a
//! time, a phone number) appears in the sources, and every name in 「」
//! appears in a source's title or text. When a check fails, the model is
//! slow or the call fails, the retrieval answer is given instead. What it
//! cannot check: that a sentence's meaning matches the source it cites
//! (a paraphrase can still mislead), so a generated answer is marked as
//! such and shows its sources.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kernel::i18n::Lang;
use kernel::tenant::ChatSettings;
use serde_json::{json, Value};

/// One source as the model sees it.
pub struct Grounding<'a> {
    pub title: &'a str,
    pub text: &'a str,
}

pub type CompletionFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<String>> + Send + 'a>>;

/// A chat-completion provider: system and user message in, text out.
pub trait ChatModel: Send + Sync {
    fn complete<'a>(&'a self, system: &'a str, user: &'a str) -> CompletionFuture<'a>;
}

/// `POST {base_url}/chat/completions` with a bearer key (OpenAI, Azure
/// OpenAI behind a compatible gateway, vLLM, Ollama, …).
pub struct OpenAiCompatible {
    pub client: reqwest::Client,
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
}

impl OpenAiCompatible {
    /// The tenant's model, or `None` when the mode is off or its key is
    /// missing from the environment (logged: a configured but keyless
    /// model is a mistake an administrator should see).
    pub fn from_settings(client: &reqwest::Client, s: &ChatSettings) -> Option<Self> {
        let api_key = match &s.api_key_env {
            Some(name) => match std::env::var(name) {
                Ok(k) if !k.is_empty() => Some(k),
                _ => {
                    tracing::warn!(
                        env = %name,
                        "chat: the API key variable is not set; answering by retrieval only"
                    );
                    return None;
                }
            },
            None => None,
        };
        Some(Self {
            client: client.clone(),
            base_url: s.base_url.trim_end_matches('/').to_string(),
            model: s.model.clone(),
            api_key,
            timeout: Duration::from_secs(s.timeout_seconds.unwrap_or(10).clamp(1, 60)),
        })
    }
}

impl ChatModel for OpenAiCompatible {
    fn complete<'a>(&'a self, system: &'a str, user: &'a str) -> CompletionFuture<'a> {
        Box::pin(async move {
            let mut req = self
                .client
                .post(format!("{}/chat/completions", self.base_url))
                .timeout(self.timeout)
                .json(&json!({
                    "model": self.model,
                    "temperature": 0,
                    "max_tokens": 600,
                    "messages": [
                        {"role": "system", "content": system},
                        {"role": "user", "content": user},
                    ],
                }));
            if let Some(k) = &self.api_key {
                req = req.bearer_auth(k);
            }
            let resp = req.send().await?.error_for_status()?;
            let v: Value = resp.json().await?;
            v["choices"][0]["message"]["content"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("no choices[0].message.content in the reply"))
        })
    }
}

/// What the model is told. It answers in the resident's language from the
/// numbered sources only, citing them.
pub fn prompt(city: &str, lang: Lang, question: &str, sources: &[Grounding]) -> (String, String) {
    let system = format!(
        "You are the information assistant of {city} (a Japanese municipality). \
         Answer the resident's question in the language with code \"{code}\" ({name}), \
         using ONLY the numbered sources given. After every sentence, cite the source(s) \
         it comes from as [1], [2], …. Never mention a procedure, fee, deadline, document, \
         place or service that is not in the sources, and put names of procedures in 「」 \
         exactly as the sources write them. If the sources do not answer the question, \
         reply with exactly NO_ANSWER. Plain text only, at most five sentences.",
        code = lang.code(),
        name = lang.native_name(),
    );
    let mut user = String::from("Sources:\n");
    for (i, s) in sources.iter().enumerate() {
        user.push_str(&format!("[{}] {}\n{}\n\n", i + 1, s.title, s.text));
    }
    user.push_str("Question: ");
    user.push_str(question);
    (system, user)
}

/// Why a reply was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    NoAnswer,
    TooLong,
    Uncited(String),
    UnknownSource(usize),
    UnknownName(String),
    UnknownNumber(String),
}

pub const MAX_REPLY_CHARS: usize = 2000;

/// The citation numbers in a piece of text (`[1]`, `[2][3]`, `[1, 2]`).
fn citations(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inner = &after[..close];
        if !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
        {
            out.extend(
                inner
                    .split(',')
                    .filter_map(|n| n.trim().parse::<usize>().ok()),
            );
        }
        rest = &after[close + 1..];
    }
    out
}

/// The text without its citation markers (`[1]`, `[1, 2]`).
fn without_citations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let close = after.find(']');
        let is_citation = close.is_some_and(|c| {
            let inner = &after[..c];
            !inner.is_empty()
                && inner
                    .chars()
                    .all(|ch| ch.is_ascii_digit() || ch == ',' || ch == ' ')
        });
        out.push_str(&rest[..open]);
        match close {
            Some(c) if is_citation => rest = &after[c + 1..],
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The numbers written in a text, full-width digits as ASCII and without
/// thousands separators ("１，０００" and "1,000" are both "1000").
fn numbers(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let digit = match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        };
        match digit {
            Some(d) => cur.push(d),
            // A separator between digits ("1,000") is not the number's end.
            None if matches!(c, ',' | '，')
                && !cur.is_empty()
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_digit() || ('０'..='９').contains(n)) => {}
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Sentences: split after 。！？ and after . ! ? followed by a space, and at
/// line breaks. A piece holding only citations belongs to the sentence
/// before it ("…です。[1]").
fn sentences(s: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' {
            pieces.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
        let ends = matches!(c, '。' | '！' | '？')
            || (matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace()));
        if ends {
            pieces.push(std::mem::take(&mut cur));
        }
    }
    pieces.push(cur);
    let mut out: Vec<String> = Vec::new();
    for p in pieces {
        let p = p.trim();
        // Citations opening a piece close the sentence before it.
        let (lead, rest) = leading_citations(p);
        let rest = match out.last_mut() {
            Some(prev) if !lead.is_empty() => {
                prev.push(' ');
                prev.push_str(lead);
                rest.trim()
            }
            _ => p,
        };
        if !rest.is_empty() {
            out.push(rest.to_string());
        }
    }
    out
}

/// `"[1][2] 次の文"` → (`"[1][2]"`, `" 次の文"`).
fn leading_citations(s: &str) -> (&str, &str) {
    let mut end = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => i += 1,
            b'[' => {
                let Some(close) = s[i..].find(']') else { break };
                let inner = &s[i + 1..i + close];
                if inner.is_empty()
                    || !inner
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b',' || b == b' ')
                {
                    break;
                }
                i += close + 1;
                end = i;
            }
            _ => break,
        }
    }
    (&s[..end], &s[end..])
}

/// Checks a model's reply against the sources it was given.
pub fn verify(reply: &str, sources: &[Grounding]) -> Result<String, Rejected> {
    let reply = reply.trim();
    if reply.is_empty() || reply.contains("NO_ANSWER") {
        return Err(Rejected::NoAnswer);
    }
    if reply.chars().count() > MAX_REPLY_CHARS {
        return Err(Rejected::TooLong);
    }
    for n in citations(reply) {
        if n == 0 || n > sources.len() {
            return Err(Rejected::UnknownSource(n));
        }
    }
    for s in sentences(reply) {
        if citations(&s).is_empty() {
            return Err(Rejected::Uncited(s));
        }
    }
    // Names in 「」 must come from the sources (a procedure the model made
    // up is caught here even when it is cited).
    let mut rest = reply;
    while let Some(open) = rest.find('「') {
        let after = &rest[open + '「'.len_utf8()..];
        let Some(close) = after.find('」') else {
            break;
        };
        let name = &after[..close];
        if !sources
            .iter()
            .any(|s| s.title.contains(name) || s.text.contains(name))
        {
            return Err(Rejected::UnknownName(name.to_string()));
        }
        rest = &after[close + '」'.len_utf8()..];
    }
    // Every number (a fee, a time, a date, a phone number) must be one the
    // sources hold: a cited sentence can still misstate a figure.
    let known: Vec<String> = sources
        .iter()
        .flat_map(|s| numbers(s.title).into_iter().chain(numbers(s.text)))
        .collect();
    if let Some(n) = numbers(&without_citations(reply))
        .into_iter()
        .find(|n| !known.contains(n))
    {
        return Err(Rejected::UnknownNumber(n));
    }
    Ok(reply.to_string())
}

/// Asks the model and checks the reply; `None` means "answer by retrieval".
pub async fn phrase(
    model: &dyn ChatModel,
    city: &str,
    lang: Lang,
    question: &str,
    sources: &[Grounding<'_>],
) -> Option<String> {
    let (system, user) = prompt(city, lang, question, sources);
    match model.complete(&system, &user).await {
        Ok(reply) => match verify(&reply, sources) {
            Ok(text) => Some(text),
            Err(why) => {
                tracing::warn!(reason = ?why, "chat: model reply rejected; answering by retrieval");
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "chat: model call failed; answering by retrieval");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Vec<Grounding<'static>> {
        vec![
            Grounding {
                title: "住民票の写しの交付請求",
                text: "住民票の写しを請求できます。手数料は300円です。",
            },
            Grounding {
                title: "住民票の写しはどこで取れますか",
                text: "窓口サービス課の窓口で請求できます。",
            },
        ]
    }

    #[test]
    fn a_cited_reply_passes() {
        let r = "「住民票の写しの交付請求」で請求できます。[1] 窓口でも請求できます[2]。\n手数料は300円です [1]。";
        assert_eq!(verify(r, &sources()), Ok(r.to_string()));
        assert_eq!(
            verify(
                "You can request it at the counter [2]. The fee is 300 yen [1, 2].",
                &sources()
            ),
            Ok("You can request it at the counter [2]. The fee is 300 yen [1, 2].".into())
        );
    }

    #[test]
    fn inventions_are_rejected() {
        let s = sources();
        assert!(matches!(
            verify(
                "住民票は窓口で取れます[1]。「住民票オンライン即日発行」もご利用ください。",
                &s
            ),
            Err(Rejected::Uncited(_))
        ));
        assert_eq!(
            verify("「住民票スマート即日便」をご利用ください[1]。", &s),
            Err(Rejected::UnknownName("住民票スマート即日便".into()))
        );
        assert_eq!(
            verify("窓口で請求できます[3]。", &s),
            Err(Rejected::UnknownSource(3))
        );
        assert_eq!(
            verify("手数料は500円です[1]。", &s),
            Err(Rejected::UnknownNumber("500".into()))
        );
        assert_eq!(
            verify("The fee is 1,300 yen [1].", &s),
            Err(Rejected::UnknownNumber("1300".into()))
        );
        assert_eq!(verify("NO_ANSWER", &s), Err(Rejected::NoAnswer));
        assert_eq!(verify("  ", &s), Err(Rejected::NoAnswer));
        assert_eq!(verify(&"あ[1]。".repeat(600), &s), Err(Rejected::TooLong));
    }

    #[test]
    fn numbers_are_read_in_either_width() {
        assert_eq!(
            numbers("１，０００円と300円、[x] 8:30"),
            vec!["1000", "300", "8", "30"]
        );
        assert_eq!(
            without_citations("300円です[1][2, 3]。[注]"),
            "300円です。[注]"
        );
        let s = sources();
        let r = "手数料は３００円です[1]。";
        assert_eq!(verify(r, &s), Ok(r.to_string()));
    }

    #[test]
    fn sentences_keep_trailing_citations() {
        assert_eq!(
            sentences("一つ目です。[1]\n二つ目です。 [2]"),
            vec!["一つ目です。 [1]".to_string(), "二つ目です。 [2]".into()]
        );
        assert_eq!(citations("a [1][2] b [3, 4] [x] [12"), vec![1, 2, 3, 4]);
    }
}
