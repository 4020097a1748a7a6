//! The catalogue as a spreadsheet: CSV with one procedure per row (what
//! cities keep their ~2,400 procedures in), and JSON (an array of
//! procedures). Both keep every language: a localised column is named for
//! its text and language (`name_ja`, `name_en`, `name_pt-BR` …, one per
//! language of [`Lang::ALL`]); lists are separated by newlines inside the
//! cell, each language's lines paired with the Japanese by position; the
//! form is JSON in its cell.
//! A sheet without some language's columns (one exported before they
//! existed) keeps that language from the stored catalogue
//! ([`keep_translations`]).

use kernel::i18n::{Lang, Text};
use kernel::FieldError;

use crate::form::FormDef;
use crate::model::{Channels, IdentityLevel, Procedure};

/// The texts with a column per language.
const LOCALISED: [&str; 4] = ["name", "description", "documents", "processing_time"];

/// The header row: every column, in order.
pub fn columns() -> Vec<String> {
    let each = |base: &str| {
        Lang::ALL
            .iter()
            .map(move |l| format!("{base}_{}", l.code()))
            .collect::<Vec<_>>()
    };
    let mut c: Vec<String> = vec!["id".into(), "department".into()];
    c.extend(each(LOCALISED[0]));
    c.extend(each(LOCALISED[1]));
    c.extend(
        ["life_events", "channels", "identity_level", "fee_yen"]
            .iter()
            .map(|s| s.to_string()),
    );
    c.extend(each(LOCALISED[2]));
    c.extend(each(LOCALISED[3]));
    c.extend(
        [
            "legal_basis",
            "form_json",
            "same_person_may_approve",
            "notes",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    c
}

/// Spreadsheets run a cell starting with `=`, `+`, `-`, `@` as a formula:
/// such cells are written with a leading `'` (which Excel hides) and read
/// back without it.
fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

pub fn to_csv(items: &[Procedure]) -> anyhow::Result<String> {
    let columns = columns();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&columns)?;
    for p in items {
        let record: Vec<String> = columns.iter().map(|c| cell(p, c)).collect();
        w.write_record(record.iter().map(|c| guard(c).into_owned()))?;
    }
    // A BOM so that Excel opens the UTF-8 file with the right encoding.
    let mut out = String::from("\u{FEFF}");
    out.push_str(&String::from_utf8(w.into_inner()?)?);
    Ok(out)
}

/// The cell of `column` for `p`.
fn cell(p: &Procedure, column: &str) -> String {
    let exact = |t: &Text, lang: &str| t.get_exact(lang).unwrap_or_default().to_string();
    if let Some((base, lang)) = localised(column) {
        return match base {
            "name" => exact(&p.name, lang),
            "description" => exact(&p.description, lang),
            "processing_time" => exact(&p.processing_time, lang),
            _ => p
                .documents
                .iter()
                .map(|d| exact(d, lang))
                .collect::<Vec<_>>()
                .join("\n"),
        };
    }
    match column {
        "id" => p.id.clone(),
        "department" => p.department.clone(),
        "life_events" => p.life_events.join("\n"),
        "channels" => p.channels.as_str().to_string(),
        "identity_level" => p.identity_level.as_str().to_string(),
        "fee_yen" => p.fee_yen.to_string(),
        "legal_basis" => p.legal_basis.clone(),
        "form_json" => serde_json::to_string(&p.form).unwrap_or_default(),
        "same_person_may_approve" => p.same_person_may_approve.to_string(),
        _ => String::new(),
    }
}

/// `name_pt-BR` → (`name`, `pt-BR`), for the localised columns only.
fn localised(column: &str) -> Option<(&'static str, &str)> {
    LOCALISED.iter().find_map(|base| {
        let lang = column.strip_prefix(base)?.strip_prefix('_')?;
        Lang::ALL
            .iter()
            .any(|l| l.code() == lang)
            .then_some((*base, lang))
    })
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// The languages the sheet's localised columns carry.
/// The languages a sheet has columns for (`name_<code>`), Japanese
/// included.
pub fn sheet_languages(input: &str) -> Vec<Lang> {
    let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
    let header = input.lines().next().unwrap_or_default();
    Lang::ALL
        .into_iter()
        .filter(|l| {
            header
                .split(',')
                .any(|h| h.trim().trim_matches('"') == format!("name_{}", l.code()))
        })
        .collect()
}

/// The translations of a procedure's name, description, documents and
/// processing time in the languages the sheet has no columns for
/// (`carried` are those it has) are kept from the same procedure in
/// `stored` wherever the sheet leaves the Japanese as it was (a changed
/// Japanese leaves them behind: they translated the old text). Call it on
/// what [`from_csv`] read before importing it, or a sheet made before a
/// language had columns loses that language's translations.
pub fn keep_translations(items: &mut [Procedure], stored: &[Procedure], carried: &[Lang]) {
    for p in items {
        let Some(old) = stored.iter().find(|s| s.id == p.id) else {
            continue;
        };
        keep(&mut p.name, &old.name, carried);
        keep(&mut p.description, &old.description, carried);
        keep(&mut p.processing_time, &old.processing_time, carried);
        for d in &mut p.documents {
            if let Some(o) = old.documents.iter().find(|o| o.ja() == d.ja()) {
                keep(d, o, carried);
            }
        }
    }
}

fn keep(new: &mut Text, old: &Text, carried: &[Lang]) {
    if new.ja() != old.ja() {
        return;
    }
    for lang in Lang::ALL.into_iter().filter(|l| !carried.contains(l)) {
        if let (None, Some(v)) = (new.get_exact(lang.code()), old.get_exact(lang.code())) {
            new.set(lang.code(), v);
        }
    }
}

/// Parses a CSV export (or a spreadsheet saved as CSV). Every problem is
/// reported with its row number (as the spreadsheet shows it) and column.
pub fn from_csv(input: &str) -> Result<Vec<Procedure>, Vec<FieldError>> {
    let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(input.as_bytes());
    let headers = checked_headers(&mut r)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let row = i + 2; // the header is row 1
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldError {
                    field: format!("row{row}"),
                    message: format!(
                        "{row}行目を読めません（列の数や引用符を確認してください）: {e}"
                    ),
                });
                continue;
            }
        };
        let cells = Row {
            headers: &headers,
            rec: &rec,
        };
        match cells.procedure() {
            Ok(p) => out.push(p),
            Err((column, message)) => errors.push(FieldError {
                field: format!("row{row}.{column}"),
                message: format!("{row}行目「{column}」: {message}"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The header row, with every required column present.
fn checked_headers(r: &mut csv::Reader<&[u8]>) -> Result<csv::StringRecord, Vec<FieldError>> {
    let headers = r.headers().cloned().map_err(|e| {
        vec![FieldError {
            field: "csv".into(),
            message: format!("CSVの見出し行を読めません: {e}"),
        }]
    })?;
    let errors: Vec<FieldError> = [
        "id",
        "department",
        "name_ja",
        "channels",
        "identity_level",
        "fee_yen",
        "processing_time_ja",
    ]
    .iter()
    .filter(|required| !headers.iter().any(|h| h.trim() == **required))
    .map(|required| FieldError {
        field: required.to_string(),
        message: format!("CSVに必須の列「{required}」がありません。"),
    })
    .collect();
    if errors.is_empty() {
        Ok(headers)
    } else {
        Err(errors)
    }
}

/// One data row of the CSV, its cells found by column name.
struct Row<'a> {
    headers: &'a csv::StringRecord,
    rec: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The cell as written (Excel's formula guard removed).
    fn raw(&self, name: &str) -> &str {
        let col = self.headers.iter().position(|h| h.trim() == name);
        unguard(col.and_then(|c| self.rec.get(c)).unwrap_or(""))
    }

    fn get(&self, name: &str) -> &str {
        self.raw(name).trim()
    }

    /// The row as a procedure, or the first column that is wrong and why.
    fn procedure(&self) -> Result<Procedure, (&'static str, String)> {
        let name = self.text("name").ok_or((
            "name_ja",
            "手続名（日本語）を入力してください。".to_string(),
        ))?;
        let channels = Channels::parse(self.get("channels")).ok_or((
            "channels",
            "online / counter / both のいずれかを入力してください。".to_string(),
        ))?;
        let identity_level = IdentityLevel::parse(self.get("identity_level")).ok_or((
            "identity_level",
            "none / signed_in / my_number_card のいずれかを入力してください。".to_string(),
        ))?;
        let fee = if self.get("fee_yen").is_empty() {
            "0"
        } else {
            self.get("fee_yen")
        };
        let fee_yen = jp::Yen::parse(fee).map(|y| y.amount()).map_err(|_| {
            (
                "fee_yen",
                "手数料は0以上の整数（円）で入力してください。".to_string(),
            )
        })?;
        let form: FormDef = crate::form_json::parse(self.get("form_json"))
            .map_err(|es| ("form_json", format!("フォーム定義のJSON: {}", es.join(" "))))?;
        Ok(Procedure {
            id: self.get("id").to_string(),
            name,
            description: self
                .text("description")
                .unwrap_or_else(|| Text::ja_only("")),
            department: self.get("department").to_string(),
            life_events: lines(self.get("life_events"))
                .iter()
                .map(|s| s.to_string())
                .collect(),
            channels,
            identity_level,
            fee_yen,
            documents: self.documents(),
            processing_time: self
                .text("processing_time")
                .unwrap_or_else(|| Text::ja_only("")),
            legal_basis: self.get("legal_basis").to_string(),
            form,
            same_person_may_approve: self.flag("same_person_may_approve")?,
        })
    }

    /// A yes/no column: `true` or `false` (`1`/`0` too); empty is `false`.
    fn flag(&self, name: &'static str) -> Result<bool, (&'static str, String)> {
        match self.get(name).to_ascii_lowercase().as_str() {
            "" | "false" | "0" => Ok(false),
            "true" | "1" => Ok(true),
            _ => Err((name, "true か false を入力してください。".to_string())),
        }
    }

    /// The text of `base` in every language the row has a column for;
    /// none without its Japanese.
    fn text(&self, base: &str) -> Option<Text> {
        let ja = self.get(&format!("{base}_ja"));
        if ja.is_empty() {
            return None;
        }
        let mut t = Text::ja_only(jp::nfc(ja));
        for l in Lang::ALL.iter().filter(|l| **l != Lang::Ja) {
            t.set(l.code(), jp::nfc(self.get(&format!("{base}_{}", l.code()))));
        }
        Some(t)
    }

    /// Each language's lines pair with the Japanese lines by position,
    /// empty ones included (a document without a translation exports an
    /// empty line).
    fn documents(&self) -> Vec<Text> {
        let lines_of = |lang: &str| -> Vec<&str> {
            self.raw(&format!("documents_{lang}"))
                .split('\n')
                .map(str::trim)
                .collect()
        };
        let others: Vec<(&str, Vec<&str>)> = Lang::ALL
            .iter()
            .filter(|l| **l != Lang::Ja)
            .map(|l| (l.code(), lines_of(l.code())))
            .collect();
        lines_of("ja")
            .into_iter()
            .enumerate()
            .filter(|(_, ja)| !ja.is_empty())
            .map(|(i, ja)| {
                let mut t = Text::ja_only(jp::nfc(ja));
                for (code, lines) in &others {
                    t.set(code, jp::nfc(lines.get(i).copied().unwrap_or_default()));
                }
                t
            })
            .collect()
    }
}

/// Reads procedures exported as JSON. Mistakes come back in Japanese:
/// a syntax mistake by line and column, a form's by its place
/// (`[2].form: fields[3].type: …`), any other by the procedure.
pub fn from_json(input: &str) -> Result<Vec<Procedure>, Vec<FieldError>> {
    let error = |message: String| FieldError {
        field: "json".into(),
        message,
    };
    let value: serde_json::Value = serde_json::from_str(input)
        .map_err(|e| vec![error(format!("JSONの{}", crate::form_json::syntax(&e)))])?;
    let serde_json::Value::Array(items) = value else {
        return Err(vec![error(
            "JSONの全体は手続の配列（[ … ]）にしてください。".into(),
        )]);
    };
    let mut errors = Vec::new();
    let mut procedures = Vec::new();
    for (i, mut item) in items.into_iter().enumerate() {
        let form = item.as_object_mut().and_then(|m| m.remove("form"));
        let form = match form.map(crate::form_json::read).transpose() {
            Ok(f) => f.unwrap_or_default(),
            Err(es) => {
                errors.extend(es.into_iter().map(|e| error(format!("[{i}].form: {e}"))));
                continue;
            }
        };
        let id = item
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        match serde_json::from_value::<Procedure>(item) {
            Ok(p) => procedures.push(Procedure { form, ..p }),
            Err(_) => errors.push(error(format!(
                "[{i}]（{id}）: 手続の項目の形が正しくありません。書き出したJSONと見比べて、id, name, department, channels, identity_level などを確かめてください。"
            ))),
        }
    }
    if errors.is_empty() {
        Ok(procedures)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_roundtrip_is_lossless() {
        let items: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/122289/procedures.json"))
                .unwrap();
        assert!(items[0].name.has(Lang::JaEasy) && items[0].name.has(Lang::Ko));
        let csv = to_csv(&items).unwrap();
        assert_eq!(sheet_languages(&csv), Lang::ALL.to_vec());
        assert_eq!(from_csv(&csv).unwrap(), items);
    }

    /// The sheet with only the columns `keep` names (a sheet made before
    /// the other languages had columns).
    fn only_columns(csv: &str, keep: impl Fn(&str) -> bool) -> String {
        let mut r = csv::Reader::from_reader(csv.trim_start_matches('\u{FEFF}').as_bytes());
        let headers = r.headers().unwrap().clone();
        let cols: Vec<usize> = (0..headers.len()).filter(|i| keep(&headers[*i])).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(cols.iter().map(|i| &headers[*i])).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            w.write_record(cols.iter().map(|i| &rec[*i])).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn an_older_sheet_keeps_the_translations_it_has_no_columns_for() {
        let stored: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/122289/procedures.json"))
                .unwrap();
        let old = only_columns(&to_csv(&stored).unwrap(), |h| {
            !["name_", "description_", "documents_", "processing_time_"]
                .iter()
                .any(|b| h.starts_with(b))
                || h.ends_with("_ja")
                || h.ends_with("_en")
        });
        let carried = sheet_languages(&old);
        assert_eq!(carried, vec![Lang::Ja, Lang::En]);
        let mut items = from_csv(&old).unwrap();
        // Japanese of the name changed, English of the description changed,
        // the documents reordered.
        items[0].name = Text::new("住民票の写しの請求", "Copy of the residence record");
        items[0].description.set("en", "Changed in Excel.");
        items[0].documents.reverse();
        keep_translations(&mut items, &stored, &carried);
        assert!(
            !items[0].name.has(Lang::JaEasy) && !items[0].name.has(Lang::Vi),
            "the translations of the old Japanese are dropped"
        );
        assert_eq!(items[0].description.get(Lang::En), "Changed in Excel.");
        assert_eq!(
            items[0].description.get_exact("vi"),
            stored[0].description.get_exact("vi")
        );
        assert!(items[0].description.has(Lang::JaEasy));
        let last = items[0].documents.len() - 1;
        assert_eq!(items[0].documents[last], stored[0].documents[0]);
        assert_eq!(items[1..], stored[1..]);
        // A sheet with every language's columns is taken as it says: an
        // emptied Korean cell removes the Korean.
        let mut items = from_csv(&to_csv(&stored).unwrap()).unwrap();
        items[0].name.set("ko", "");
        keep_translations(&mut items, &stored, &Lang::ALL);
        assert!(!items[0].name.has(Lang::Ko));
    }

    #[test]
    fn formulas_are_neutralised_and_translations_stay_aligned() {
        let mut items: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/242021/procedures.json"))
                .unwrap();
        items[0].legal_basis = "=HYPERLINK(\"http://x\")".into();
        items[0].documents = vec![Text::new("本人確認書類", ""), Text::new("印鑑", "Seal")];
        let csv = to_csv(&items).unwrap();
        assert!(csv.contains("'=HYPERLINK"));
        assert_eq!(from_csv(&csv).unwrap(), items);
    }

    #[test]
    fn csv_errors_name_row_and_column() {
        let csv = "id,department,name_ja,channels,identity_level,fee_yen,processing_time_ja\n\
                   a,shimin,住民票,postal,none,300,即日\n\
                   b,shimin,,online,none,-1,即日\n";
        let errs = from_csv(csv).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0].message.starts_with("2行目「channels」"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[1].message.starts_with("3行目「name_ja」"),
            "{}",
            errs[1].message
        );
    }

    #[test]
    fn same_person_may_approve_is_a_yes_no_column() {
        let mut items: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/122289/procedures.json"))
                .unwrap();
        assert!(!items[0].same_person_may_approve, "off by default");
        items[0].same_person_may_approve = true;
        let csv = to_csv(&items).unwrap();
        assert_eq!(from_csv(&csv).unwrap(), items);
        let csv = "id,department,name_ja,channels,identity_level,fee_yen,processing_time_ja,same_person_may_approve\n\
                   a,shimin,住民票,online,none,300,即日,はい\n";
        let errs = from_csv(csv).unwrap_err();
        assert_eq!(
            errs[0].message,
            "2行目「same_person_may_approve」: true か false を入力してください。"
        );
    }

    #[test]
    fn json_import_reads_the_export_and_names_mistakes_in_japanese() {
        let items: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/122289/procedures.json"))
                .unwrap();
        let json = serde_json::to_string(&items).unwrap();
        assert_eq!(from_json(&json).unwrap(), items);

        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v[0]["form"]["fields"][1]["type"] = "banana".into();
        v[2]["channels"] = "pigeon".into();
        let messages: Vec<String> = from_json(&v.to_string())
            .unwrap_err()
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(messages.len(), 2);
        assert!(
            messages[0].starts_with(
                "[0].form: fields[1].type: \"banana\" は使えません。使える種類: text, "
            ),
            "{}",
            messages[0]
        );
        assert_eq!(
            messages[1],
            format!("[2]（{}）: 手続の項目の形が正しくありません。書き出したJSONと見比べて、id, name, department, channels, identity_level などを確かめてください。", items[2].id)
        );
        assert_eq!(
            from_json("[{").unwrap_err()[0].message,
            "JSONの1行目2列目: 途中で終わっています。閉じる } や ] 、\" が足りないか確かめてください。"
        );
        assert_eq!(
            from_json("{}").unwrap_err()[0].message,
            "JSONの全体は手続の配列（[ … ]）にしてください。"
        );
    }
}
