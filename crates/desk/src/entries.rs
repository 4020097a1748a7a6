//! Assisted entries as the clerk's pages and the API both reach them:
//! opening one (procedure, register record, ticket checked), loading one
//! for a member of staff who may see it, and the second screen's link.

use std::sync::Arc;

use catalogue::StoredProcedure;
use kernel::auth::Clerk;
use kernel::i18n::{self, Lang};
use kernel::{AppError, AppResult, Db, FieldError};

use crate::assisted::{self, Entry};
use crate::state::DeskState;

/// A ticket of the smart counter as it is called out (`C2-015`), or
/// `None` when the tenant has no such ticket.
pub async fn ticket_display(db: &Db, tenant: &str, id: &str) -> AppResult<Option<String>> {
    if id.trim().is_empty() {
        return Ok(None);
    }
    match counter::queue::get(db, tenant, id.trim()).await {
        Ok(t) => Ok(Some(t.display)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks the choice and opens the entry (shared by the page and the API).
pub async fn start_entry(
    st: &DeskState,
    clerk: &Clerk,
    procedure: &str,
    registry_id: &str,
    ticket: &str,
    lang: Lang,
) -> AppResult<Entry> {
    let field = |field: &str, key: &str| {
        AppError::Validation(vec![FieldError {
            field: field.into(),
            message: i18n::t(lang, key).into(),
        }])
    };
    if procedure.trim().is_empty() {
        return Err(field("procedure", "assist.error.procedure"));
    }
    let p = match st.cache.get(&st.db, &clerk.tenant, procedure).await {
        Ok(p) => p,
        Err(AppError::NotFound(_)) => {
            return Err(field("procedure", "assist.error.procedure_unknown"))
        }
        Err(e) => return Err(e),
    };
    if assisted::counter_form(&p.procedure.form).fields.is_empty() {
        return Err(field("procedure", "assist.error.no_form"));
    }
    let record = if registry_id.trim().is_empty() {
        None
    } else {
        let r = st
            .registry
            .0
            .get(&clerk.tenant, registry_id.trim())
            .await?
            .ok_or_else(|| field("registry_id", "assist.error.record_unknown"))?;
        crate::register::audit_read(
            &st.db,
            st.registry.0.as_ref(),
            clerk,
            &r,
            serde_json::json!({"purpose": "assisted_entry", "procedure": procedure}),
        )
        .await?;
        Some(r)
    };
    let ticket = ticket.trim();
    if !ticket.is_empty()
        && ticket_display(&st.db, &clerk.tenant, ticket)
            .await?
            .is_none()
    {
        return Err(field("ticket", "assist.error.ticket_unknown"));
    }
    let entry = assisted::start(
        &st.db,
        clerk,
        assisted::Start {
            procedure: &p,
            record: record.as_ref(),
            ticket_id: (!ticket.is_empty()).then(|| ticket.to_string()),
            visit_id: None,
        },
    )
    .await?;
    Ok(entry)
}

/// An entry and its procedure, for a member of staff who may open it (the
/// desk that opened it, or whoever sees the procedure's department).
pub async fn load_for_staff(
    st: &DeskState,
    clerk: &Clerk,
    id: &str,
) -> AppResult<(Entry, Arc<StoredProcedure>)> {
    let e = assisted::get(&st.db, &clerk.tenant, id).await?;
    let p = st.cache.get(&st.db, &clerk.tenant, &e.procedure_id).await?;
    if !assisted::may_view(clerk, &e, &p.procedure.department) {
        return Err(AppError::Forbidden);
    }
    Ok((e, p))
}

pub fn confirm_path(tenant: &str, id: &str, token: &str) -> String {
    format!("/t/{tenant}/assist/{id}/{token}")
}

/// The token of the second-screen link: an HMAC of the entry id with the
/// deployment's access key, so the clerk's page can show the same link
/// again while the resident has it open, and nothing is stored.
pub fn entry_token(st: &DeskState, tenant: &str, id: &str) -> String {
    st.links.access_token(tenant, &format!("assist:{id}"))
}
