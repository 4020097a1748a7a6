//! Proofs of role. Each type can only be made by checking the role (the
//! constructor is sealed in this module), so a function that takes
//! `&Approver` can only be reached by code that checked for the approver
//! role. Handlers extract a proof directly (`async fn h(a: Approver)`) or
//! call [`Staff::prove`] when the role depends on the request.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::{forbidden, session::SessionPolicy, Role, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};

mod sealed {
    pub trait Sealed {
        fn wrap(staff: super::Staff) -> Self;
    }
}

/// A checked role. Implemented only by the types of this module.
pub trait Proof: sealed::Sealed + Sized {
    const ROLE: Role;

    /// Whether `staff` qualifies.
    fn holds(staff: &Staff) -> bool {
        staff.has(Self::ROLE)
    }

    fn check(staff: Staff) -> AppResult<Self> {
        if Self::holds(&staff) {
            Ok(Self::wrap(staff))
        } else {
            forbidden()
        }
    }

    fn staff(&self) -> &Staff;
}

macro_rules! proof {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(Staff);

        impl sealed::Sealed for $name {
            fn wrap(staff: Staff) -> Self {
                $name(staff)
            }
        }

        impl std::ops::Deref for $name {
            type Target = Staff;
            fn deref(&self) -> &Staff {
                &self.0
            }
        }

        impl<S> FromRequestParts<S> for $name
        where
            S: Send + Sync,
            Db: FromRef<S>,
            SessionPolicy: FromRef<S>,
        {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
                let staff = Staff::from_request_parts(parts, state).await?;
                <$name as Proof>::check(staff)
            }
        }
    };
}

proof!(
    /// Anyone who works on cases (窓口・審査・決裁・所属管理者): may open a
    /// case with its personal data, comment and assign. A security officer
    /// alone is not one.
    CaseWorker,
    Role::Clerk
);
proof!(
    /// 窓口: may enter applications for residents and complete cases.
    Clerk,
    Role::Clerk
);
proof!(
    /// 審査: may start a review, comment, and ask for corrections.
    Reviewer,
    Role::Reviewer
);
proof!(
    /// 決裁: may approve or reject.
    Approver,
    Role::Approver
);
proof!(
    /// 所属管理者: may edit the procedures of their department.
    DeptAdmin,
    Role::DeptAdmin
);
proof!(
    /// DX/システム管理者: the whole catalogue, staff accounts, the outbox.
    SystemAdmin,
    Role::SystemAdmin
);
proof!(
    /// セキュリティ責任者: reads the audit log (read only).
    SecurityOfficer,
    Role::SecurityOfficer
);

proof!(
    /// 収納・会計: public charges, payment slips, reconciliation, refunds.
    Treasurer,
    Role::Treasurer
);

impl Proof for Treasurer {
    const ROLE: Role = Role::Treasurer;
    fn staff(&self) -> &Staff {
        &self.0
    }
}

impl Proof for CaseWorker {
    const ROLE: Role = Role::Clerk;
    fn holds(staff: &Staff) -> bool {
        [Role::Clerk, Role::Reviewer, Role::Approver, Role::DeptAdmin]
            .into_iter()
            .any(|r| staff.has(r))
    }
    fn staff(&self) -> &Staff {
        &self.0
    }
}
impl Proof for Clerk {
    const ROLE: Role = Role::Clerk;
    fn staff(&self) -> &Staff {
        &self.0
    }
}
impl Proof for Reviewer {
    const ROLE: Role = Role::Reviewer;
    fn staff(&self) -> &Staff {
        &self.0
    }
}
impl Proof for Approver {
    const ROLE: Role = Role::Approver;
    fn staff(&self) -> &Staff {
        &self.0
    }
}
impl Proof for DeptAdmin {
    const ROLE: Role = Role::DeptAdmin;
    fn staff(&self) -> &Staff {
        &self.0
    }
}
impl Proof for SystemAdmin {
    const ROLE: Role = Role::SystemAdmin;
    fn staff(&self) -> &Staff {
        &self.0
    }
}
impl Proof for SecurityOfficer {
    const ROLE: Role = Role::SecurityOfficer;
    /// The audit log is read by the security officer, and by the system
    /// admin who answers for the system (both reads are themselves audited).
    fn holds(staff: &Staff) -> bool {
        staff.roles.contains(&Role::SecurityOfficer) || staff.roles.contains(&Role::SystemAdmin)
    }
    fn staff(&self) -> &Staff {
        &self.0
    }
}

impl DeptAdmin {
    /// A department admin edits their own department's things (procedures,
    /// FAQ entries, navigator items); a system admin edits any.
    pub fn may_edit(&self, department: &str) -> bool {
        self.0.roles.contains(&Role::SystemAdmin) || self.0.department == department
    }

    /// The guard every editing route takes: `403` outside [`Self::may_edit`].
    pub fn require_department(&self, department: &str) -> AppResult<()> {
        if self.may_edit(department) {
            Ok(())
        } else {
            forbidden()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(roles: &[Role]) -> Staff {
        Staff {
            tenant: "122289".into(),
            id: "x".into(),
            name: "x".into(),
            department: "shimin".into(),
            roles: roles.to_vec(),
            granted_departments: vec!["kodomo".into()],
        }
    }

    #[test]
    fn each_role_allowed_and_denied() {
        let clerk = staff(&[Role::Clerk]);
        assert!(clerk.prove::<Clerk>().is_ok());
        assert!(clerk.prove::<Reviewer>().is_err());
        assert!(clerk.prove::<Approver>().is_err());
        assert!(clerk.prove::<DeptAdmin>().is_err());
        assert!(clerk.prove::<SystemAdmin>().is_err());
        assert!(clerk.prove::<SecurityOfficer>().is_err());
        let officer = staff(&[Role::SecurityOfficer]);
        assert!(officer.prove::<SecurityOfficer>().is_ok());
        assert!(
            officer.prove::<CaseWorker>().is_err(),
            "no personal data for the auditor"
        );
        assert!(staff(&[Role::Approver]).prove::<CaseWorker>().is_ok());
        for denied in [
            officer.prove::<Clerk>().is_err(),
            officer.prove::<Reviewer>().is_err(),
            officer.prove::<Approver>().is_err(),
        ] {
            assert!(denied, "a security officer only reads");
        }
        let admin = staff(&[Role::SystemAdmin]);
        assert!(admin.prove::<Approver>().is_ok());
        assert!(admin.prove::<SecurityOfficer>().is_ok());
        assert!(!admin.has(Role::SecurityOfficer));
        let dept = staff(&[Role::DeptAdmin]).prove::<DeptAdmin>().unwrap();
        assert!(dept.may_edit("shimin") && !dept.may_edit("kodomo"));
        assert!(dept.require_department("shimin").is_ok());
        assert!(matches!(
            dept.require_department("kodomo"),
            Err(AppError::Forbidden)
        ));
        // Grants widen what is seen, not what may be done.
        assert!(clerk.can_see_department("kodomo"));
        assert!(!clerk.can_see_department("zeimu"));
    }
}
