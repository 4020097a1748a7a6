//! Staff identity: roles, the signed-in [`Staff`], the proofs that a
//! member of staff holds a role ([`proof`]), sessions ([`session`]) and
//! the account itself: password, second factor ([`account`]), the
//! lockout after failures ([`lockout`]) and the bounded Argon2 checks
//! ([`password_check`]).
//!
//! A handler states what it needs in its signature: `Staff` for any
//! signed-in member of staff, or a proof such as [`proof::Approver`],
//! which exists only after the role was checked, once. Functions that
//! change things take the proof, so a handler without it cannot compile
//! the call.

pub mod account;
pub mod directory;
pub mod lockout;
pub mod password_check;
pub mod proof;
pub mod session;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

pub use account::{sign_in_password, upsert_staff, PasswordOutcome};
pub use proof::{
    Approver, CaseWorker, Clerk, DeptAdmin, Proof, Reviewer, SecurityOfficer, SystemAdmin,
    Treasurer,
};
pub use session::{
    clear_session_cookie, session_cookie, sign_out, sign_out_everywhere, PendingStaff,
    SessionPolicy, Stage, STAFF_COOKIE,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 窓口: enters applications for residents, sees the department's cases.
    Clerk,
    /// 審査: reviews, comments, requests corrections.
    Reviewer,
    /// 決裁: approves or rejects.
    Approver,
    /// 所属管理者: manages the department's procedures.
    DeptAdmin,
    /// DX/システム管理者: every department, catalogue, KPIs, staff accounts.
    SystemAdmin,
    /// セキュリティ責任者: reads the audit log, nothing else.
    SecurityOfficer,
    /// 収納・会計: public charges, payment slips, reconciliation (公金).
    Treasurer,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Clerk,
        Role::Reviewer,
        Role::Approver,
        Role::DeptAdmin,
        Role::SystemAdmin,
        Role::SecurityOfficer,
        Role::Treasurer,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::DeptAdmin => "dept_admin",
            Role::SystemAdmin => "system_admin",
            Role::SecurityOfficer => "security_officer",
            Role::Treasurer => "treasurer",
        }
    }

    /// The i18n key of the role's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::Clerk => "role.clerk",
            Role::Reviewer => "role.reviewer",
            Role::Approver => "role.approver",
            Role::DeptAdmin => "role.dept_admin",
            Role::SystemAdmin => "role.system_admin",
            Role::SecurityOfficer => "role.security_officer",
            Role::Treasurer => "role.treasurer",
        }
    }
}

/// A signed-in member of staff of the tenant in the request path (second
/// factor done).
#[derive(Clone, Debug, Serialize)]
pub struct Staff {
    pub tenant: String,
    pub id: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
    /// Departments whose cases this person may see besides their own.
    pub granted_departments: Vec<String>,
}

impl Staff {
    /// Whether the account holds `role`. A system admin holds every role
    /// but the security officer's (separation of duties: whoever runs the
    /// system does not also audit it alone).
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
            || self.roles.contains(&Role::SystemAdmin) && role != Role::SecurityOfficer
    }

    /// Checks a role once and returns its proof.
    pub fn prove<P: Proof>(&self) -> AppResult<P> {
        P::check(self.clone())
    }

    /// Staff see their own department's cases and those of departments
    /// they were granted; system admins see all.
    pub fn can_see_department(&self, department: &str) -> bool {
        self.department == department
            || self.granted_departments.iter().any(|d| d == department)
            || self.roles.contains(&Role::SystemAdmin)
    }

    /// Departments this person sees (`None`: all).
    pub fn visible_departments(&self) -> Option<Vec<&str>> {
        if self.roles.contains(&Role::SystemAdmin) {
            return None;
        }
        let mut v = vec![self.department.as_str()];
        v.extend(self.granted_departments.iter().map(String::as_str));
        Some(v)
    }

    /// The actor string written to the audit log.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.id)
    }
}

fn forbidden<T>() -> AppResult<T> {
    Err(AppError::Forbidden)
}

/// Reads a cookie by name from the request headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
