//! メール (mail): every message madoguchi writes to a resident goes
//! through the outbox of this crate ([`outbox`]): a receipt, a status
//! change, a 補正依頼, a subscription's confirmation, a newsletter. A row
//! of `outbox` is written in the transaction of what it tells, so a mail
//! is queued exactly when its cause commits.

pub mod address;
pub mod channels;
pub mod delivery;
pub mod links;
pub mod newsletters;
pub mod outbox;
pub mod subscriptions;
