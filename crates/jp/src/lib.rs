//! Japanese administrative value types.
//!
//! Every type here is parsed once, at the edge, from what a resident or clerk
//! typed (full-width digits, 〒, hyphens, hiragana, 和暦 …) and can never hold
//! a bad value afterwards. Parse errors carry a stable i18n key and arguments;
//! the message text lives in the locale catalogues (`kernel::i18n`), so this
//! crate stays pure.

mod analyser;
pub mod calendar;
mod check_digit;
mod counters;
mod email;
mod error;
mod kana;
mod name;
mod normalize;
mod numbers;
mod phone;
mod postal;
pub mod postal_data;
pub mod reading;
mod wareki;
mod yen;

pub use calendar::OfficeCalendar;
pub use email::Email;
pub use error::ParseError;
pub use kana::{hiragana_to_katakana, is_katakana_reading};
pub use name::{Kana, Kanji, PersonName};
pub use normalize::{fold_width, nfc};
pub use numbers::{CorporateNumber, LocalGovCode, MyNumber};
pub use phone::PhoneNumber;
pub use postal::PostalCode;
pub use postal_data::PostalAddress;
pub use wareki::{Era, FiscalYear, JpDate};
pub use yen::Yen;
