//! The payment slip (納付書) as an A4 page of three parts, cut along the
//! dashed lines (madoguchi's simple layout, not a bank's 3連 form):
//!
//! 1. 納付書 (top, handed over with the money): the payer, subject, period,
//!    due date in 和暦, amount, 納付番号, the eL番号, the eL-QR code and the
//!    convenience-store GS1-128 barcode with its digits;
//! 2. 領収証書 (middle, the payer keeps it, stamped by whoever takes the
//!    money);
//! 3. 納付済通知書 (bottom, returns to the municipality's 会計).
//!
//! The barcode is drawn from the modules `barcoders` encodes (Code 128,
//! start C, FNC1 — i.e. GS1-128) at a module width of 0.19 mm: the symbol
//! of 44 digits is 288 modules (start, FNC1, 22 digit pairs, check
//! character, stop), and the 標準料金代理収納 guideline requires the whole
//! symbol, quiet zones of 10 modules on each side included, to fit in
//! 60 mm (the width of a till's scanner) with bars at least 10 mm tall:
//! 308 × 0.19 mm = 58.5 mm. Bars are 12 mm tall. Above ¥300,000 there is no
//! barcode and the slip says why.
//!
//! The eL-QR is drawn from `qrcode` (error correction M, 0.5 mm modules,
//! 4-module quiet zone) with the payload of [`crate::elqr`], and the notice
//! that its layout is pending the official specification.

use barcoders::sym::code128::Code128;
use jp::{JpDate, Yen};
use paper::{Mark, Sheet};
use qrcode::{Color, EcLevel, QrCode};
use time::Date;

use crate::charges::{Charge, Payer};
use crate::el_number::{ElNumber, ElNumberError};
use crate::elqr;
use crate::gs1::{ConveniBarcode, ConveniSlip, Gs1Error};
use crate::number::PaymentNumber;
use crate::slips::settings::SlipSettings;

/// The module (narrowest bar) width of the GS1-128 symbol, mm.
pub const BAR_MODULE_MM: f32 = 0.19;
/// Bar height, mm (the guideline's minimum is 10 mm).
pub const BAR_HEIGHT_MM: f32 = 12.0;
/// Quiet zone on each side, in modules.
pub const QUIET_MODULES: usize = 10;
/// One QR module, mm.
pub const QR_MODULE_MM: f32 = 0.5;
/// Printed instead of the barcode above the convenience stores' ceiling.
pub const NO_BARCODE_ABOVE_LIMIT: &str =
    "金額が30万円を超えるため、コンビニエンスストアでは納付できません（バーコードは印刷していません）。";

#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    #[error("この調定には納める金額が残っていません")]
    NothingOwed,
    #[error("納付番号が正しくありません")]
    PaymentNumber,
    #[error(transparent)]
    ElNumber(#[from] ElNumberError),
    #[error(transparent)]
    Gs1(Gs1Error),
    #[error("barcode: {0}")]
    Symbol(String),
}

/// What one slip prints.
#[derive(Clone, Debug)]
pub struct SlipContent {
    pub el: ElNumber,
    /// None above ¥300,000.
    pub barcode: Option<ConveniBarcode>,
    pub qr_payload: String,
    pub amount: i64,
    pub due: Option<Date>,
    /// 再発行区分: 0 for the first slip of a charge.
    pub reissue: u8,
}

impl SlipContent {
    /// The numbers of `charge`'s slip for what is still owed.
    pub fn new(charge: &Charge, settings: &SlipSettings, reissue: u8) -> Result<Self, SlipError> {
        let amount = charge.outstanding();
        if amount <= 0 {
            return Err(SlipError::NothingOwed);
        }
        let number =
            PaymentNumber::parse(&charge.payment_number).ok_or(SlipError::PaymentNumber)?;
        let class = settings.class_of(&charge.subject);
        let due = charge.due();
        let el = ElNumber::new(settings.collector.clone(), class, number.clone(), amount)?;
        let barcode = match ConveniBarcode::new(&ConveniSlip {
            biller: &settings.biller,
            number: &number,
            class,
            reissue,
            due,
            stamp: false,
            amount,
        }) {
            Ok(b) => Some(b),
            Err(Gs1Error::AmountAboveLimit(_)) => None,
            Err(e) => return Err(SlipError::Gs1(e)),
        };
        let qr_payload = elqr::payload(&el, amount, due);
        Ok(Self {
            el,
            barcode,
            qr_payload,
            amount,
            due,
            reissue,
        })
    }
}

/// The printed page of one slip.
pub fn sheet(
    municipality: &str,
    charge: &Charge,
    payer: &Payer,
    content: &SlipContent,
) -> Result<Sheet, SlipError> {
    let mut s = Sheet::default();
    let due = content
        .due
        .map(|d| JpDate::from_date(d).wareki())
        .unwrap_or_else(|| "指定なし".into());
    let amount = Yen::new(content.amount.unsigned_abs())
        .map(|y| y.to_string())
        .unwrap_or_else(|_| format!("{}円", content.amount));
    let number = PaymentNumber::parse(&charge.payment_number)
        .map(|n| n.grouped())
        .unwrap_or_else(|| charge.payment_number.clone());
    let parts = ["納付書", "領収証書", "納付済通知書"];
    for (i, title) in parts.iter().enumerate() {
        let top = i as f32 * 99.0;
        let text = |s: &mut Sheet, x: f32, y: f32, size: f32, t: &str| {
            s.push(Mark::Text {
                x,
                y: top + y,
                size,
                text: t.to_string(),
            })
        };
        text(&mut s, 12.0, 12.0, 14.0, title);
        if content.reissue > 0 {
            text(
                &mut s,
                12.0,
                17.0,
                7.0,
                &format!("再発行（再発行区分 {}）", content.reissue),
            );
        }
        text(
            &mut s,
            60.0,
            12.0,
            10.0,
            &format!("{municipality}　{}", charge.subject_label),
        );
        text(&mut s, 12.0, 21.0, 9.0, &format!("納付者　{}", payer.name));
        if !payer.address.is_empty() {
            let addr = if payer.postal_code.is_empty() {
                payer.address.clone()
            } else {
                format!("〒{}　{}", payer.postal_code, payer.address)
            };
            text(&mut s, 12.0, 27.0, 8.0, &addr);
        }
        text(
            &mut s,
            12.0,
            34.0,
            9.0,
            &format!("期別　{}", charge.period_label),
        );
        text(&mut s, 12.0, 40.0, 9.0, &format!("納期限　{due}"));
        text(&mut s, 12.0, 49.0, 13.0, &format!("納付額　{amount}"));
        text(&mut s, 12.0, 56.0, 9.0, &format!("納付番号　{number}"));
        text(&mut s, 12.0, 62.0, 9.0, &format!("eL番号　{}", content.el));
        s.push(Mark::Frame {
            x: 8.0,
            y: top + 4.0,
            w: 194.0,
            h: 91.0,
            line: 0.3,
        });
        match i {
            0 => draw_symbols(&mut s, top, content)?,
            1 => {
                text(&mut s, 150.0, 20.0, 8.0, "領収日付印");
                s.push(Mark::Frame {
                    x: 150.0,
                    y: top + 22.0,
                    w: 40.0,
                    h: 40.0,
                    line: 0.3,
                });
                text(
                    &mut s,
                    12.0,
                    88.0,
                    8.0,
                    "この領収証書は大切に保管してください。",
                );
            }
            _ => {
                text(&mut s, 150.0, 20.0, 8.0, "取扱日付印");
                s.push(Mark::Frame {
                    x: 150.0,
                    y: top + 22.0,
                    w: 40.0,
                    h: 40.0,
                    line: 0.3,
                });
                text(
                    &mut s,
                    12.0,
                    88.0,
                    8.0,
                    &format!("{municipality} 会計管理者 宛"),
                );
            }
        }
        if i < 2 {
            s.push(Mark::Dashed {
                x1: 0.0,
                y1: top + 99.0,
                x2: 210.0,
                y2: top + 99.0,
            });
        }
    }
    Ok(s)
}

/// The eL-QR (right) and the barcode (bottom) of the first part.
fn draw_symbols(s: &mut Sheet, top: f32, content: &SlipContent) -> Result<(), SlipError> {
    let qr = QrCode::with_error_correction_level(content.qr_payload.as_bytes(), EcLevel::M)
        .map_err(|e| SlipError::Symbol(e.to_string()))?;
    let width = qr.width();
    let dark: Vec<bool> = qr
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    let side = width as f32 * QR_MODULE_MM;
    let (qx, qy) = (198.0 - side - 4.0 * QR_MODULE_MM, top + 10.0);
    s.matrix(qx, qy, QR_MODULE_MM, width, &dark);
    s.push(Mark::Text {
        x: 100.0,
        y: top + 12.0 + side - 14.0,
        size: 7.0,
        text: "eL-QR".into(),
    });
    for (n, line) in [elqr::PENDING_NOTICE_JA, elqr::PENDING_NOTICE]
        .iter()
        .enumerate()
    {
        s.push(Mark::Text {
            x: 100.0,
            y: top + 12.0 + side - 10.0 + n as f32 * 3.5,
            size: 6.0,
            text: (*line).into(),
        });
    }
    let y = top + 67.0;
    match &content.barcode {
        Some(b) => {
            let code =
                Code128::new(b.code128_data()).map_err(|e| SlipError::Symbol(e.to_string()))?;
            let modules: Vec<bool> = code.encode().into_iter().map(|m| m == 1).collect();
            let x = 20.0 + QUIET_MODULES as f32 * BAR_MODULE_MM;
            s.bars(x, y, BAR_MODULE_MM, BAR_HEIGHT_MM, &modules);
            let centre = x + modules.len() as f32 * BAR_MODULE_MM / 2.0;
            for (n, line) in b.human_readable().into_iter().enumerate() {
                s.push(Mark::TextCentred {
                    x: centre,
                    y: y + BAR_HEIGHT_MM + 3.5 + n as f32 * 3.2,
                    size: 7.0,
                    text: line,
                });
            }
            s.push(Mark::Text {
                x: 20.0,
                y: y - 1.5,
                size: 7.0,
                text: "コンビニエンスストア用".into(),
            });
        }
        None => s.push(Mark::Text {
            x: 12.0,
            y: y + 6.0,
            size: 8.0,
            text: NO_BARCODE_ABOVE_LIMIT.into(),
        }),
    }
    Ok(())
}

/// The modules of a barcode's data, for tests and measurements.
pub fn barcode_modules(b: &ConveniBarcode) -> Result<usize, SlipError> {
    Code128::new(b.code128_data())
        .map(|c| c.encode().len())
        .map_err(|e| SlipError::Symbol(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charges::ChargeStatus;
    use crate::el_number::CollectorNumber;
    use crate::gs1::BillerCode;
    use std::collections::BTreeMap;

    fn charge(amount: i64) -> Charge {
        Charge {
            tenant: "122289".into(),
            id: "c1".into(),
            payment_number: PaymentNumber::new(2026, 1).unwrap().as_str().into(),
            subject: "kokuho".into(),
            subject_label: "国民健康保険税".into(),
            period_label: "令和8年度 第1期".into(),
            fiscal_year: 2026,
            payer_ref: "0001".into(),
            payer_sealed: String::new(),
            amount,
            paid_amount: 0,
            refunded_amount: 0,
            due_date: "2026-06-30".into(),
            status: ChargeStatus::Unpaid,
            application_id: None,
            cancelled_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn settings() -> SlipSettings {
        SlipSettings {
            biller: BillerCode::parse("912345").unwrap(),
            collector: CollectorNumber::parse("01234").unwrap(),
            classes: BTreeMap::from([("kokuho".to_string(), "001".to_string())]),
        }
    }

    #[test]
    fn the_barcode_fits_the_60_mm_the_guideline_allows() {
        let c = SlipContent::new(&charge(12_300), &settings(), 0).unwrap();
        let b = c.barcode.as_ref().unwrap();
        assert_eq!(&b.digits()[19..22], "001");
        assert_eq!(&b.digits()[30..36], "260630");
        let modules = barcode_modules(b).unwrap();
        assert_eq!(modules, 288);
        let total = (modules + 2 * QUIET_MODULES) as f32 * BAR_MODULE_MM;
        assert!(total <= 60.0, "{total} mm");
        const { assert!(BAR_HEIGHT_MM >= 10.0) };
        assert!(c.qr_payload.starts_with(elqr::MARKER));
    }

    #[test]
    fn no_barcode_above_300000_yen_and_the_slip_says_why() {
        let c = SlipContent::new(&charge(300_001), &settings(), 0).unwrap();
        assert!(c.barcode.is_none());
        let payer = Payer {
            name: "四街道 花子".into(),
            postal_code: "284-0001".into(),
            address: "千葉県四街道市".into(),
        };
        let s = sheet("四街道市", &charge(300_001), &payer, &c).unwrap();
        assert!(s
            .marks
            .iter()
            .any(|m| matches!(m, Mark::Text { text, .. } if text == NO_BARCODE_ABOVE_LIMIT)));
        let c = SlipContent::new(&charge(300_000), &settings(), 0).unwrap();
        assert!(c.barcode.is_some());
    }

    #[test]
    fn nothing_owed_no_slip() {
        let mut ch = charge(1000);
        ch.paid_amount = 1000;
        assert!(matches!(
            SlipContent::new(&ch, &settings(), 0),
            Err(SlipError::NothingOwed)
        ));
    }
}
