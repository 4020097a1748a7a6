//! A case's status (受付 → 審査中 → 補正依頼 → 承認 / 却下 → 完了), the
//! actions that move it and who may take them, and its history of events.

use kernel::auth::{Role, Staff};
use kernel::db::Tx;
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 受付
    Received,
    /// 審査中
    UnderReview,
    /// 補正依頼
    CorrectionRequested,
    /// 承認
    Approved,
    /// 却下
    Rejected,
    /// 完了
    Completed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Received,
        Status::UnderReview,
        Status::CorrectionRequested,
        Status::Approved,
        Status::Rejected,
        Status::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::UnderReview => "under_review",
            Status::CorrectionRequested => "correction_requested",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_key(self) -> String {
        format!("status.{}", self.as_str())
    }
}

/// What staff can do to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    StartReview,
    RequestCorrection,
    Approve,
    Reject,
    Complete,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::StartReview,
        Action::RequestCorrection,
        Action::Approve,
        Action::Reject,
        Action::Complete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::StartReview => "start_review",
            Action::RequestCorrection => "request_correction",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn role(self) -> Role {
        match self {
            Action::StartReview | Action::RequestCorrection => Role::Reviewer,
            Action::Approve | Action::Reject => Role::Approver,
            Action::Complete => Role::Clerk,
        }
    }

    /// The status this action moves a case to, if allowed from `from`.
    pub fn transition(self, from: Status) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Action::StartReview, Received) => Some(UnderReview),
            (Action::RequestCorrection, UnderReview) => Some(CorrectionRequested),
            (Action::Approve, UnderReview) => Some(Approved),
            (Action::Reject, UnderReview) => Some(Rejected),
            (Action::Complete, Approved | Rejected) => Some(Completed),
            _ => None,
        }
    }

    /// A message to the resident is required for corrections and rejections.
    pub fn needs_message(self) -> bool {
        matches!(self, Action::RequestCorrection | Action::Reject)
    }

    pub fn label_key(self) -> String {
        format!("action.{}", self.as_str())
    }

    /// Actions available from `status` for `staff`.
    pub fn available(status: Status, staff: &Staff) -> Vec<Action> {
        Self::ALL
            .into_iter()
            .filter(|a| a.transition(status).is_some() && staff.has(a.role()))
            .collect()
    }
}

pub(crate) async fn next_event_seq(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM application_events WHERE tenant = $1 AND application_id = $2")
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(r.get::<i64, _>(0) + 1)
}

/// One line of a case's history.
pub struct NewEvent<'a> {
    /// `status`, `comment`, `assign`, `resubmitted` …
    pub kind: &'a str,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub actor: &'a str,
    pub body: &'a str,
    pub at: i64,
}

/// Appends an event to case `id`'s history (inside the change's transaction).
pub async fn add_event(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    e: NewEvent<'_>,
) -> Result<(), sqlx::Error> {
    let NewEvent {
        kind,
        from,
        to,
        actor,
        body,
        at,
    } = e;
    let seq = next_event_seq(tx, tenant, id).await?;
    sqlx::query(
        "INSERT INTO application_events (tenant, application_id, seq, kind, from_status, to_status, actor, body, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(id)
    .bind(seq)
    .bind(kind)
    .bind(from.map(|s| s.as_str()))
    .bind(to.map(|s| s.as_str()))
    .bind(actor)
    .bind(body)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use Status::*;
        assert_eq!(Action::StartReview.transition(Received), Some(UnderReview));
        assert_eq!(Action::Approve.transition(Received), None);
        assert_eq!(Action::Complete.transition(Rejected), Some(Completed));
        assert_eq!(Action::Complete.transition(Completed), None);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    /// Keys built at run time from the workflow's enums must exist in
    /// every language.
    #[test]
    fn computed_i18n_keys_exist() {
        use kernel::i18n::{keys, Lang};
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(Status::ALL.iter().map(|s| s.label_key()));
        wanted.extend(Action::ALL.iter().map(|a| a.label_key()));
        wanted.extend(
            ["submitted", "comment", "assign", "resubmitted"]
                .iter()
                .map(|k| format!("staff.case.event.{k}")),
        );
        wanted.extend(
            Action::ALL
                .iter()
                .map(|a| format!("staff.case.event.{}", a.as_str())),
        );
        for lang in Lang::ALL {
            let have = keys(lang);
            for k in &wanted {
                assert!(have.contains(k), "{} lacks {k}", lang.code());
            }
        }
    }
}
