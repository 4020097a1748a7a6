//! What the editor's pages and API share: the tenant and its catalogue
//! that drafts are checked against, the department rule, and what follows
//! a publish.

use std::collections::BTreeSet;

use kernel::auth::DeptAdmin;
use kernel::tenant::{LifeEventBundle, TenantProfile};
use kernel::{AppResult, Db};

use crate::editor::{self, CatalogueEntry, Context};
use crate::state::NaviState;

/// The tenant and its catalogue, which drafts are checked against.
pub struct Workspace {
    pub profile: TenantProfile,
    pub catalogue: Vec<CatalogueEntry>,
}

impl Workspace {
    pub async fn load(db: &Db, tenant: &str) -> AppResult<Self> {
        let profile = kernel::tenant::load(db, tenant).await?;
        let catalogue = catalogue::store::list(db, tenant)
            .await?
            .into_iter()
            .map(|s| CatalogueEntry {
                name: s.procedure.name.ja().to_string(),
                id: s.procedure.id,
                department: s.procedure.department,
            })
            .collect();
        Ok(Self { profile, catalogue })
    }

    pub fn context(&self, is_new: bool) -> Context<'_> {
        Context {
            profile: &self.profile,
            catalogue: &self.catalogue,
            is_new,
        }
    }

    pub fn live(&self, code: &str) -> Option<&LifeEventBundle> {
        self.profile.life_event(code)
    }

    /// Refuses (naming the departments) a change touching procedures of a
    /// department the member of staff may not edit.
    pub fn permit(
        &self,
        staff: &DeptAdmin,
        old: Option<&LifeEventBundle>,
        new: &LifeEventBundle,
    ) -> Result<(), String> {
        let touched = editor::touched_departments(old, new, |p| {
            self.catalogue
                .iter()
                .find(|c| c.id == p)
                .map(|c| c.department.clone())
        });
        let refused: BTreeSet<String> = touched
            .into_iter()
            .filter(|d| !staff.may_edit(d))
            .map(|d| {
                self.profile
                    .department(&d)
                    .map(|x| x.name.ja().to_string())
                    .unwrap_or(d)
            })
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "この変更には、ほかの課（{}）の手続が含まれるため保存できません。その課の管理者かシステム管理者に依頼してください。",
                refused.into_iter().collect::<Vec<_>>().join("、")
            ))
        }
    }
}

/// After a publish or restore: the search index follows (the navigator
/// and the one-stop desk read the profile on every request; nothing else
/// caches it).
pub async fn after_publish(st: &NaviState, tenant: &str) {
    st.search.refresh_quietly(tenant).await;
}
