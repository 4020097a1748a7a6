//! The new-charge form read into a [`NewCharge`], with a Japanese message
//! naming each wrong field: nothing is created while one is wrong.

use jp::Yen;
use kernel::i18n::{self, Lang};
use kernel::web::FormErrors;
use time::Date;

use super::fields::{field, Fields};
use crate::charges::{NewCharge, Payer};
use crate::subjects;

/// The most one charge may be (¥10,000,000): more is a typing mistake
/// in this form (a larger sum is split into 期別).
pub const MAX_AMOUNT: u64 = 10_000_000;

/// The form as sent, to show again.
#[derive(Clone, Debug, Default)]
pub struct ChargeForm {
    pub payer_name: String,
    pub postal_code: String,
    pub address: String,
    pub payer_ref: String,
    pub subject: String,
    pub period: String,
    pub fiscal_year: String,
    pub amount: String,
    pub due_date: String,
}

impl ChargeForm {
    pub fn from_fields(f: &Fields) -> Self {
        let v = |n: &str| field(f, n).trim().to_string();
        Self {
            payer_name: v("payer_name"),
            postal_code: v("postal_code"),
            address: v("address"),
            payer_ref: v("payer_ref"),
            subject: v("subject"),
            period: v("period"),
            fiscal_year: v("fiscal_year"),
            amount: v("amount"),
            due_date: v("due_date"),
        }
    }

    /// A blank form for the fiscal year of `today`.
    pub fn blank(today: Date) -> Self {
        Self {
            fiscal_year: jp::FiscalYear::of(today).start_year().to_string(),
            ..Default::default()
        }
    }

    /// The charge the form asks for, or every mistake in it. `today` is
    /// the date in Japan (a due date before it is refused).
    pub fn read(&self, lang: Lang, today: Date) -> Result<NewCharge, FormErrors> {
        let mut errors = FormErrors::default();
        let mut err = |name: &str, key: &str, args: &[(&str, &str)]| {
            errors.push(name, i18n::tf(lang, key, args));
        };
        let name_len = self.payer_name.chars().count();
        if name_len == 0 || name_len > 60 {
            err("payer_name", "payments.charges.error.payer_name", &[]);
        }
        let postal: String = jp::fold_width(&self.postal_code)
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        let postal_ok = self.postal_code.is_empty()
            || (postal.len() == 7
                && jp::fold_width(&self.postal_code)
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-'));
        if !postal_ok {
            err("postal_code", "payments.charges.error.postal_code", &[]);
        }
        if self.address.chars().count() > 200 {
            err("address", "payments.charges.error.address", &[]);
        }
        let payer_ref = jp::fold_width(&self.payer_ref);
        if payer_ref.is_empty()
            || payer_ref.len() > 15
            || !payer_ref.bytes().all(|b| b.is_ascii_digit())
        {
            err("payer_ref", "payments.charges.error.payer_ref", &[]);
        }
        let subject = subjects::find(&self.subject);
        if subject.is_none() {
            err("subject", "payments.charges.error.subject", &[]);
        }
        let period_len = self.period.chars().count();
        if period_len == 0 || period_len > 40 {
            err("period", "payments.charges.error.period", &[]);
        }
        let this_year = jp::FiscalYear::of(today).start_year();
        let (from, to) = (this_year - 5, this_year + 1);
        let fiscal_year = jp::fold_width(&self.fiscal_year)
            .parse::<i32>()
            .ok()
            .filter(|y| (from..=to).contains(y));
        if fiscal_year.is_none() {
            err(
                "fiscal_year",
                "payments.charges.error.fiscal_year",
                &[("from", &from.to_string()), ("to", &to.to_string())],
            );
        }
        let amount = Yen::parse(&self.amount)
            .ok()
            .filter(|y| (1..=MAX_AMOUNT).contains(&y.amount()));
        if amount.is_none() {
            err(
                "amount",
                "payments.charges.error.amount",
                &[(
                    "max",
                    &Yen::new(MAX_AMOUNT)
                        .map(|y| y.to_string())
                        .unwrap_or_default(),
                )],
            );
        }
        let due = jp::JpDate::parse(&self.due_date)
            .ok()
            .map(|d| d.date())
            .filter(|d| *d >= today);
        if due.is_none() {
            err("due_date", "payments.charges.error.due_date", &[]);
        }
        match (subject, fiscal_year, amount, due) {
            (Some(subject), Some(fiscal_year), Some(amount), Some(due_date))
                if errors.is_empty() =>
            {
                Ok(NewCharge {
                    subject: subject.code.to_string(),
                    subject_label: subject.label.to_string(),
                    period_label: self.period.clone(),
                    fiscal_year,
                    payer_ref,
                    payer: Payer {
                        name: self.payer_name.clone(),
                        postal_code: if postal.is_empty() {
                            String::new()
                        } else {
                            format!("{}-{}", &postal[..3], &postal[3..])
                        },
                        address: self.address.clone(),
                    },
                    amount,
                    due_date,
                    application_id: None,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Today in Japan.
pub fn today() -> Date {
    kernel::clock::to_jst(kernel::clock::now_ms()).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn good() -> ChargeForm {
        ChargeForm {
            payer_name: "四街道 花子".into(),
            postal_code: "２８４-８５５５".into(),
            address: "千葉県四街道市鹿渡無番地".into(),
            payer_ref: "000123".into(),
            subject: "kokuho".into(),
            period: "令和8年度 第1期".into(),
            fiscal_year: "2026".into(),
            amount: "12,300".into(),
            due_date: "2026-07-31".into(),
        }
    }

    const TODAY: Date = date!(2026 - 05 - 01);

    #[test]
    fn a_good_form_is_a_charge() {
        let c = good().read(Lang::Ja, TODAY).unwrap();
        assert_eq!(c.amount.amount(), 12_300);
        assert_eq!(c.payer.postal_code, "284-8555");
        assert_eq!(c.subject_label, "国民健康保険税");
        assert_eq!(c.due_date, date!(2026 - 07 - 31));
        // Due today is still fine.
        let mut f = good();
        f.due_date = "2026-05-01".into();
        assert!(f.read(Lang::Ja, TODAY).is_ok());
    }

    fn errors_of(f: ChargeForm) -> Vec<String> {
        f.read(Lang::Ja, TODAY)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn each_mistake_names_its_field() {
        type Spoil = fn(&mut ChargeForm);
        let cases: [(&str, Spoil); 10] = [
            ("payer_name", |f| f.payer_name.clear()),
            ("postal_code", |f| f.postal_code = "28485".into()),
            ("payer_ref", |f| f.payer_ref = "A12".into()),
            ("subject", |f| f.subject = "beer".into()),
            ("period", |f| f.period.clear()),
            ("fiscal_year", |f| f.fiscal_year = "2019".into()),
            ("amount", |f| f.amount = "0".into()),
            ("amount", |f| f.amount = "10,000,001".into()),
            ("amount", |f| f.amount = "-5".into()),
            ("due_date", |f| f.due_date = "2026-04-30".into()),
        ];
        for (name, spoil) in cases {
            let mut f = good();
            spoil(&mut f);
            assert_eq!(errors_of(f), [name], "{name}");
        }
        let msg = good_with_amount("0");
        assert!(msg.contains("金額"), "{msg}");
    }

    fn good_with_amount(a: &str) -> String {
        let mut f = good();
        f.amount = a.into();
        f.read(Lang::Ja, TODAY)
            .unwrap_err()
            .get("amount")
            .to_string()
    }
}
