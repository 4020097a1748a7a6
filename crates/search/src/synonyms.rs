//! Synonyms per tenant (マイナ ⇔ マイナンバーカード, 住民票 ⇔ 住民票の写し):
//! groups of terms that mean the same. A query containing one term is also
//! run with each other term of its group; a document's score is the best
//! of those runs, slightly lower for the rewritten ones.

use kernel::audit::{self, AuditEntry};
use kernel::{AppError, AppResult, Db, FieldError};
use serde::Serialize;
use sqlx::Row;

use crate::text;

/// Terms per group and groups per tenant, at most.
const MAX_TERMS: usize = 12;
const MAX_TERM_CHARS: usize = 40;
pub const MAX_GROUPS: usize = 500;
/// Rewritten queries per query, at most.
const MAX_VARIANTS: usize = 6;
/// A rewritten query's weight against the query as typed.
const VARIANT_WEIGHT: f32 = 0.9;

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: String,
    pub terms: Vec<String>,
    pub updated_at: i64,
    pub updated_by: String,
}

pub async fn list(db: &Db, tenant: &str) -> AppResult<Vec<Group>> {
    let rows = sqlx::query(
        "SELECT id, terms, updated_at, updated_by FROM search_synonyms WHERE tenant = $1 ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Group {
                id: r.get(0),
                terms: serde_json::from_str(&r.get::<String, _>(1)).map_err(anyhow::Error::from)?,
                updated_at: r.get(2),
                updated_by: r.get(3),
            })
        })
        .collect()
}

/// Parses what staff typed: one term per line (or separated by commas,
/// 、 or ⇔). Messages name the field `terms`.
pub fn parse_terms(raw: &str) -> Result<Vec<String>, FieldError> {
    let err = |m: &str| FieldError {
        field: "terms".into(),
        message: m.into(),
    };
    let mut terms: Vec<String> = Vec::new();
    for t in raw.split(['\n', ',', '、', '，', '⇔', '=']) {
        let t = jp::nfc(t.trim());
        if t.is_empty() {
            continue;
        }
        if t.chars().any(char::is_control) {
            return Err(err("同義語に使えない文字（制御文字）が含まれています。"));
        }
        if t.chars().count() > MAX_TERM_CHARS {
            return Err(err(&format!(
                "同義語「{}…」が長すぎます（{MAX_TERM_CHARS}文字まで）。",
                t.chars().take(10).collect::<String>()
            )));
        }
        if text::fold(&t).is_empty() {
            return Err(err(&format!("「{t}」は記号だけのため検索に使えません。")));
        }
        if !terms.iter().any(|x| text::fold(x) == text::fold(&t)) {
            terms.push(t);
        }
    }
    if terms.len() < 2 {
        return Err(err(
            "同じ意味の言葉を2つ以上、1行に1つずつ入力してください。",
        ));
    }
    if terms.len() > MAX_TERMS {
        return Err(err(&format!("1つのグループは{MAX_TERMS}語までです。")));
    }
    Ok(terms)
}

async fn history(
    tx: &mut kernel::db::Tx,
    tenant: &str,
    id: &str,
    before: Option<&str>,
    actor: &str,
    now: i64,
) -> AppResult<()> {
    let seq: i64 = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM search_synonym_history WHERE tenant = $1",
    )
    .bind(tenant)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    sqlx::query(
        "INSERT INTO search_synonym_history (tenant, seq, id, terms, changed_at, changed_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant)
    .bind(seq)
    .bind(id)
    .bind(before)
    .bind(now)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn current(tx: &mut kernel::db::Tx, tenant: &str, id: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query("SELECT terms FROM search_synonyms WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.get(0)),
    )
}

async fn insert_group(
    tx: &mut kernel::db::Tx,
    tenant: &str,
    id: &str,
    terms_json: &str,
    now: i64,
    actor: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO search_synonyms (tenant, id, terms, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(id)
    .bind(terms_json)
    .bind(now)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates (`id` `None`) or replaces a group; the previous terms go to the
/// history. Returns the group's id.
pub async fn save(
    db: &Db,
    tenant: &str,
    id: Option<&str>,
    terms: &[String],
    actor: &str,
) -> AppResult<String> {
    let now = kernel::clock::now_ms();
    let json = serde_json::to_string(terms).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let id = match id {
        Some(id) => {
            let before = current(&mut tx, tenant, id)
                .await?
                .ok_or(AppError::NotFound("synonym"))?;
            history(&mut tx, tenant, id, Some(&before), actor, now).await?;
            sqlx::query(
                "UPDATE search_synonyms SET terms = $3, updated_at = $4, updated_by = $5
                 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(id)
            .bind(&json)
            .bind(now)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            id.to_string()
        }
        None => {
            let count: i64 = sqlx::query("SELECT COUNT(*) FROM search_synonyms WHERE tenant = $1")
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
            if count as usize >= MAX_GROUPS {
                return Err(AppError::Validation(vec![FieldError {
                    field: "terms".into(),
                    message: format!("同義語のグループは{MAX_GROUPS}件までです。"),
                }]));
            }
            let id = kernel::ids::short_id();
            history(&mut tx, tenant, &id, None, actor, now).await?;
            insert_group(&mut tx, tenant, &id, &json, now, actor).await?;
            id
        }
    };
    audit::append(
        &mut tx,
        tenant,
        now,
        &[
            AuditEntry::new(actor, "search.synonyms.save", format!("synonym:{id}"))
                .detail(serde_json::json!({ "terms": terms })),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete(db: &Db, tenant: &str, id: &str, actor: &str) -> AppResult<()> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let before = current(&mut tx, tenant, id)
        .await?
        .ok_or(AppError::NotFound("synonym"))?;
    history(&mut tx, tenant, id, Some(&before), actor, now).await?;
    sqlx::query("DELETE FROM search_synonyms WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            actor,
            "search.synonyms.delete",
            format!("synonym:{id}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes the tenant's latest synonym change (a create, edit or delete).
/// Returns the group's id, or `None` when there is nothing to undo.
pub async fn undo(db: &Db, tenant: &str, actor: &str) -> AppResult<Option<String>> {
    let now = kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let Some(row) = sqlx::query(
        "SELECT seq, id, terms FROM search_synonym_history WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let (seq, id, before): (i64, String, Option<String>) = (row.get(0), row.get(1), row.get(2));
    sqlx::query("DELETE FROM search_synonyms WHERE tenant = $1 AND id = $2")
        .bind(tenant)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    if let Some(terms) = &before {
        insert_group(&mut tx, tenant, &id, terms, now, actor).await?;
    }
    sqlx::query("DELETE FROM search_synonym_history WHERE tenant = $1 AND seq = $2")
        .bind(tenant)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        tenant,
        now,
        &[AuditEntry::new(
            actor,
            "search.synonyms.undo",
            format!("synonym:{id}"),
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// Seeds a tenant's groups if it has none (demo and new tenants).
pub async fn seed(db: &Db, tenant: &str, groups: &[Vec<String>], actor: &str) -> AppResult<()> {
    if !list(db, tenant).await?.is_empty() {
        return Ok(());
    }
    for g in groups {
        save(db, tenant, None, g, actor).await?;
    }
    Ok(())
}

/// The words of each group's terms ([`crate::query::words`], joined by
/// spaces), for [`expand`]: 亡くなった and 亡くなりました are the same
/// term, 住民票の写し is 住民票 写.
pub fn folded(groups: &[Group]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            let mut out: Vec<String> = Vec::new();
            for t in &g.terms {
                let w = crate::query::words(t).join(" ");
                if !w.is_empty() && !out.contains(&w) {
                    out.push(w);
                }
            }
            out
        })
        .collect()
}

/// The query's words as typed (weight 1) and rewritten with synonyms
/// (weight 0.9), each variant its words joined by spaces. Longer terms win
/// over terms inside them (マイナンバーカード is not also rewritten as
/// マイナ…), and each occurrence is replaced by every other term of its
/// group.
pub fn expand(groups: &[Vec<String>], query: &str) -> Vec<(String, f32)> {
    let q = crate::query::words(query).join(" ");
    let mut out = vec![(q.clone(), 1.0)];
    // (start, end, group) of each match, longest terms first.
    let mut found: Vec<(usize, usize, usize)> = Vec::new();
    let mut candidates: Vec<(&str, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(gi, g)| g.iter().map(move |t| (t.as_str(), gi)))
        .filter(|(t, _)| !t.is_empty())
        .collect();
    candidates.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
    for (t, gi) in candidates {
        for (start, _) in q.match_indices(t) {
            let end = start + t.len();
            if found.iter().all(|(s, e, _)| end <= *s || start >= *e) {
                found.push((start, end, gi));
            }
        }
    }
    for (start, end, gi) in found {
        let matched = &q[start..end];
        for other in &groups[gi] {
            if other == matched || out.len() > MAX_VARIANTS {
                continue;
            }
            let v = format!("{}{}{}", &q[..start], other, &q[end..]);
            if !out.iter().any(|(x, _)| *x == v) {
                out.push((v, VARIANT_WEIGHT));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<Vec<String>> {
        folded(&[
            Group {
                id: "1".into(),
                terms: vec!["マイナ".into(), "マイナンバーカード".into()],
                updated_at: 0,
                updated_by: String::new(),
            },
            Group {
                id: "2".into(),
                terms: vec!["住民票".into(), "住民票の写し".into()],
                updated_at: 0,
                updated_by: String::new(),
            },
        ])
    }

    #[test]
    fn short_term_expands_to_long() {
        let v = expand(&groups(), "マイナ 更新");
        assert_eq!(v[0].0, "まいな 更新");
        assert!(v
            .iter()
            .any(|(q, w)| q == "まいなんばーかーど 更新" && *w < 1.0));
    }

    #[test]
    fn long_term_is_not_rewritten_by_its_prefix() {
        let v = expand(&groups(), "マイナンバーカード");
        assert!(v
            .iter()
            .all(|(q, _)| !q.contains("まいなんばーかーどんばー")));
        assert!(v.iter().any(|(q, _)| q == "まいな"));
    }

    #[test]
    fn groups_match_any_conjugation_of_a_verb() {
        let g = folded(&[Group {
            id: "1".into(),
            terms: vec!["亡くなった".into(), "死亡".into(), "おくやみ".into()],
            updated_at: 0,
            updated_by: String::new(),
        }]);
        let v = expand(&g, "母が亡くなりました。何をすればいいですか");
        assert_eq!(v[0], ("母 亡".to_string(), 1.0));
        assert!(
            v.iter().any(|(q, w)| q == "母 おくやみ" && *w < 1.0),
            "{v:?}"
        );
        // 死亡 is not rewritten through the 亡 inside it.
        let v = expand(&g, "死亡届");
        assert!(v.iter().all(|(q, _)| !q.contains("死おくやみ")), "{v:?}");
    }

    #[test]
    fn staff_input_is_checked() {
        assert_eq!(
            parse_terms("マイナ\nマイナンバーカード\nマイナ")
                .unwrap()
                .len(),
            2
        );
        assert!(parse_terms("マイナ").is_err());
        assert!(parse_terms("ア\n・・").is_err());
        assert!(parse_terms(&format!("a\n{}", "b".repeat(41))).is_err());
    }
}
