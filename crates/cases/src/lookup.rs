//! 申請状況の確認: a case found by its receipt number (受付番号) and one
//! thing the applicant gave in it — the e-mail address, the phone number
//! or the birth date — for residents who applied without signing in.
//!
//! Receipt numbers are sequential, so they are no secret: the second
//! factor is. Failed lookups count per receipt number like failed staff
//! sign-ins (`kernel::auth::lockout`): each attempt is reserved before
//! anything is read, whether the number exists or not, so neither the
//! answer nor the refusal tells which numbers exist; a success ends the
//! run of failures. Every lookup is
//! audited with the kind of factor used, never its value.

use kernel::audit::{self, AuditEntry};
use kernel::auth::lockout::{Failures, LockoutPolicy};
use kernel::i18n::{self, Lang};
use kernel::ids::ReceiptNumber;
use kernel::{clock, AppError, AppResult, Db, FieldError};
use serde::Deserialize;
use serde_json::Value;

use crate::applications::{self, Application};
use catalogue::form::{Claim, Field, FieldType, FormDef};

/// Field names of the lookup form and of the API body.
pub const RECEIPT: &str = "receipt_number";
pub const EMAIL: &str = "email";
pub const PHONE: &str = "phone";
pub const BIRTH_DATE: &str = "birth_date";

/// What was typed; empty when not given.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Typed {
    pub receipt_number: String,
    pub email: String,
    pub phone: String,
    pub birth_date: String,
}

/// The second factor, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Factor {
    /// Width-folded, trimmed and lower-cased.
    Email(String),
    /// Digits only.
    Phone(String),
    BirthDate(time::Date),
}

impl Factor {
    /// The kind, as audited (the value never is).
    pub fn kind(&self) -> &'static str {
        match self {
            Factor::Email(_) => EMAIL,
            Factor::Phone(_) => PHONE,
            Factor::BirthDate(_) => BIRTH_DATE,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LookupQuery {
    pub receipt: ReceiptNumber,
    pub factor: Factor,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// The one answer for an unknown receipt number and a wrong factor alike.
pub fn no_match(lang: Lang) -> FieldError {
    field_error(RECEIPT, i18n::t(lang, "lookup.not_found"))
}

/// The refusal while a receipt number is locked.
pub fn refused(lang: Lang, retry_secs: u64) -> FieldError {
    let minutes = retry_secs.div_ceil(60).max(1).to_string();
    field_error(
        RECEIPT,
        i18n::tf(lang, "lookup.locked", &[("minutes", minutes.as_str())]),
    )
}

/// Checks what was typed: each problem named with its field.
pub fn parse(t: &Typed, lang: Lang) -> Result<LookupQuery, Vec<FieldError>> {
    let mut errors = Vec::new();
    let receipt = parse_receipt(&t.receipt_number)
        .map_err(|key| errors.push(field_error(RECEIPT, i18n::t(lang, key))))
        .ok();
    let given: Vec<(&str, &str)> = [
        (EMAIL, t.email.as_str()),
        (PHONE, t.phone.as_str()),
        (BIRTH_DATE, t.birth_date.as_str()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .collect();
    let factor = match given.as_slice() {
        [] => {
            errors.push(field_error(EMAIL, i18n::t(lang, "lookup.factor_required")));
            None
        }
        [(name, value)] => parse_factor(name, value, lang)
            .map_err(|m| errors.push(field_error(name, m)))
            .ok(),
        [_, (second, _), ..] => {
            errors.push(field_error(second, i18n::t(lang, "lookup.factor_one")));
            None
        }
    };
    match (receipt, factor) {
        (Some(receipt), Some(factor)) => Ok(LookupQuery { receipt, factor }),
        _ => Err(errors),
    }
}

/// A receipt number as shown (`2026-0000-0018`) or typed: hyphens or
/// spaces anywhere, full-width digits. Returns the message key on error.
fn parse_receipt(s: &str) -> Result<ReceiptNumber, &'static str> {
    let folded = jp::fold_width(s);
    let folded = folded.trim();
    if folded.is_empty() {
        return Err("lookup.receipt_required");
    }
    let digits = folded.chars().filter(char::is_ascii_digit).count();
    let other = folded
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, '-' | ' ' | 'ー' | '－' | '‐' | '−')));
    if other || digits != 12 {
        return Err("lookup.receipt_format");
    }
    let plain: String = folded.chars().filter(char::is_ascii_digit).collect();
    ReceiptNumber::parse(&plain).ok_or("lookup.receipt_check")
}

fn parse_factor(name: &str, value: &str, lang: Lang) -> Result<Factor, String> {
    let label = match name {
        EMAIL => i18n::t(lang, "lookup.email"),
        PHONE => i18n::t(lang, "lookup.phone"),
        _ => i18n::t(lang, "lookup.birth_date"),
    };
    let message = |e: jp::ParseError| i18n::parse_error(lang, label, &e);
    match name {
        EMAIL => jp::Email::parse(value)
            .map(|m| Factor::Email(m.as_str().to_lowercase()))
            .map_err(message),
        PHONE => jp::PhoneNumber::parse(value)
            .map(|p| Factor::Phone(p.digits()))
            .map_err(message),
        _ => jp::JpDate::parse(value)
            .map(|d| Factor::BirthDate(d.date()))
            .map_err(message),
    }
}

/// A date field that holds the applicant's own birth date: filled from
/// the verified birth date, or named `birth_date` (the demo catalogues'
/// convention; a child's birth date is `child_birth_date`).
fn is_birth_date(f: &Field) -> bool {
    f.kind == FieldType::Date && (f.prefill == Some(Claim::Birthdate) || f.name == BIRTH_DATE)
}

/// The string answers of the fields `keep` selects.
fn answers_of(form: &FormDef, app: &Application, keep: impl Fn(&Field) -> bool) -> Vec<String> {
    form.fields
        .iter()
        .filter(|f| keep(f))
        .filter_map(|f| app.answers.get(&f.name).and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Whether the case's stored answers hold this factor.
pub fn matches(form: &FormDef, app: &Application, factor: &Factor) -> bool {
    match factor {
        Factor::Email(e) => answers_of(form, app, |f| f.kind == FieldType::Email)
            .iter()
            .chain(app.email.iter())
            .any(|s| jp::Email::parse(s).is_ok_and(|m| m.as_str().to_lowercase() == *e)),
        Factor::Phone(d) => answers_of(form, app, |f| f.kind == FieldType::Phone)
            .iter()
            .any(|s| jp::PhoneNumber::parse(s).is_ok_and(|p| p.digits() == *d)),
        Factor::BirthDate(d) => answers_of(form, app, is_birth_date)
            .iter()
            .any(|s| jp::JpDate::parse(s).is_ok_and(|x| x.date() == *d)),
    }
}

/// Who looks, as audited: the signed-in resident (by a short prefix of
/// their pseudonymous subject, as at sign-in) or `anonymous`.
pub fn actor(who: &kernel::resident::MaybeResident) -> String {
    who.0
        .as_ref()
        .map(|r| format!("resident:{}", &r.subject[..16.min(r.subject.len())]))
        .unwrap_or_else(|| "anonymous".into())
}

/// Failed lookups per receipt number, counted in the database like the
/// staff ids that do not exist (so on every server alike), and the policy
/// of the staff lockout.
#[derive(Clone, Debug)]
pub struct Lookups {
    policy: LockoutPolicy,
}

/// The scope of receipt numbers' counts in `lockout_counts`.
const FAILURES: Failures = Failures::new("lookup");

impl Lookups {
    pub fn new(policy: LockoutPolicy) -> Self {
        Self { policy }
    }
}

pub enum Outcome {
    Found(Box<Application>),
    /// No case with this number in this tenant, or the factor is not in it.
    NoMatch,
    /// Too many failures for this number: try again after this many seconds.
    Refused(u64),
}

/// Looks a case up, counting a failure against its receipt number, and
/// audits the lookup (`application.status_lookup`) with the factor's kind
/// and the result only. `actor` is `anonymous` or the signed-in resident.
pub async fn look_up(
    db: &Db,
    lookups: &Lookups,
    tenant: &str,
    q: &LookupQuery,
    actor: String,
) -> AppResult<Outcome> {
    let key = q.receipt.as_str();
    let now = clock::now_ms();
    let Some(attempt) = FAILURES
        .reserve(db, tenant, key, lookups.policy, now)
        .await?
    else {
        let until = FAILURES.locked_until(db, tenant, key, now).await?;
        audit_lookup(db, tenant, actor, q, "refused", false).await?;
        let secs = u64::try_from((until - now).max(1_000)).unwrap_or(1) / 1_000;
        return Ok(Outcome::Refused(secs.max(1)));
    };
    // On an error the attempt stays counted: it fails closed.
    let found = find(db, tenant, q).await?;
    let locks = found.is_none() && attempt.locks_until.is_some();
    let result = if found.is_some() {
        "matched"
    } else {
        "no_match"
    };
    audit_lookup(db, tenant, actor, q, result, locks).await?;
    Ok(match found {
        Some(app) => {
            // A success ends the run of failures, and lifts the lock it set.
            FAILURES.succeed(db, tenant, key, attempt, now).await?;
            Outcome::Found(Box::new(app))
        }
        None => Outcome::NoMatch,
    })
}

/// The case, if it exists in this tenant and holds the factor.
async fn find(db: &Db, tenant: &str, q: &LookupQuery) -> AppResult<Option<Application>> {
    let app = match applications::get(db, tenant, q.receipt.as_str()).await {
        Ok(app) => app,
        Err(AppError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let p =
        catalogue::store::get_version(db, tenant, &app.procedure_id, app.procedure_version).await?;
    Ok(matches(&p.form, &app, &q.factor).then_some(app))
}

async fn audit_lookup(
    db: &Db,
    tenant: &str,
    actor: String,
    q: &LookupQuery,
    result: &str,
    locked: bool,
) -> AppResult<()> {
    let entry = AuditEntry::new(
        actor,
        "application.status_lookup",
        format!("application:{}", q.receipt.as_str()),
    )
    .detail(serde_json::json!({
        "factor": q.factor.kind(),
        "result": result,
        "locked": locked,
    }));
    audit::record(db, tenant, entry).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(receipt: &str, email: &str, phone: &str, birth: &str) -> Typed {
        Typed {
            receipt_number: receipt.into(),
            email: email.into(),
            phone: phone.into(),
            birth_date: birth.into(),
        }
    }

    #[test]
    fn receipt_numbers_as_typed() {
        let r = ReceiptNumber::new(2026, 18).unwrap();
        let shown = r.display();
        let wide: String = shown
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
                _ => 'ー',
            })
            .collect();
        for s in [
            shown.clone(),
            r.as_str().to_string(),
            wide,
            format!(" {shown} "),
        ] {
            assert_eq!(parse_receipt(&s), Ok(r.clone()), "{s}");
        }
        assert_eq!(parse_receipt(""), Err("lookup.receipt_required"));
        assert_eq!(parse_receipt("2026-0000-001"), Err("lookup.receipt_format"));
        assert_eq!(
            parse_receipt("2026-0000-001x"),
            Err("lookup.receipt_format")
        );
        let mut wrong = r.as_str().as_bytes().to_vec();
        wrong[11] = if wrong[11] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            parse_receipt(std::str::from_utf8(&wrong).unwrap()),
            Err("lookup.receipt_check")
        );
    }

    #[test]
    fn exactly_one_factor() {
        let r = ReceiptNumber::new(2026, 18).unwrap().display();
        let lang = Lang::Ja;
        let q = parse(&typed(&r, " Taro@Example.JP ", "", ""), lang).unwrap();
        assert_eq!(q.factor, Factor::Email("taro@example.jp".into()));
        let q = parse(&typed(&r, "", "０９０-１２３４-５６７８", ""), lang).unwrap();
        assert_eq!(q.factor, Factor::Phone("09012345678".into()));
        let q = parse(&typed(&r, "", "", "平成2年4月1日"), lang).unwrap();
        assert_eq!(
            q.factor,
            Factor::BirthDate(time::Date::from_calendar_date(1990, time::Month::April, 1).unwrap())
        );
        let e = parse(&typed(&r, "", "", ""), lang).unwrap_err();
        assert_eq!(e[0].field, EMAIL);
        let e = parse(&typed(&r, "a@b.jp", "", "1990-04-01"), lang).unwrap_err();
        assert_eq!(e[0].field, BIRTH_DATE);
        let e = parse(&typed("", "", "", "1990-13-01"), lang).unwrap_err();
        assert_eq!(
            e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            [RECEIPT, BIRTH_DATE]
        );
    }
}
