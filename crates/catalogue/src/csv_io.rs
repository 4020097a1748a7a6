//! The catalogue as a spreadsheet: CSV with one procedure per row (what
//! cities keep their ~2,400 procedures in), and JSON (an array of
//! procedures, lossless). Localised columns end in `_ja` / `_en`; lists are
//! separated by newlines inside the cell; the form is JSON in its cell.
//! The other languages of those columns are not in the sheet: importing
//! one keeps them from the stored catalogue ([`keep_translations`]).

use kernel::i18n::{Lang, Text};
use kernel::FieldError;

use crate::form::FormDef;
use crate::model::{Channels, IdentityLevel, Procedure};

pub const COLUMNS: [&str; 18] = [
    "id",
    "department",
    "name_ja",
    "name_en",
    "description_ja",
    "description_en",
    "life_events",
    "channels",
    "identity_level",
    "fee_yen",
    "documents_ja",
    "documents_en",
    "processing_time_ja",
    "processing_time_en",
    "legal_basis",
    "form_json",
    "same_person_may_approve",
    "notes",
];

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
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for p in items {
        let docs = |lang: &str| {
            p.documents
                .iter()
                .map(|d| d.get_exact(lang).unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let record = [
            p.id.as_str(),
            &p.department,
            p.name.ja(),
            p.name.get_exact("en").unwrap_or_default(),
            p.description.ja(),
            p.description.get_exact("en").unwrap_or_default(),
            &p.life_events.join("\n"),
            p.channels.as_str(),
            p.identity_level.as_str(),
            &p.fee_yen.to_string(),
            &docs("ja"),
            &docs("en"),
            p.processing_time.ja(),
            p.processing_time.get_exact("en").unwrap_or_default(),
            &p.legal_basis,
            &serde_json::to_string(&p.form)?,
            if p.same_person_may_approve {
                "true"
            } else {
                "false"
            },
            "",
        ];
        w.write_record(record.iter().map(|c| guard(c).into_owned()))?;
    }
    // A BOM so that Excel opens the UTF-8 file with the right encoding.
    let mut out = String::from("\u{FEFF}");
    out.push_str(&String::from_utf8(w.into_inner()?)?);
    Ok(out)
}

fn text(ja: &str, en: &str) -> Option<Text> {
    if ja.trim().is_empty() {
        None
    } else {
        Some(Text::new(jp::nfc(ja.trim()), jp::nfc(en.trim())))
    }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// The languages the sheet's localised columns carry.
const SHEET_LANGS: [Lang; 2] = [Lang::Ja, Lang::En];

/// A sheet carries only the Japanese and English of a procedure's name,
/// description, documents and processing time; the other translations of
/// the same procedure in `stored` are kept wherever the sheet leaves the
/// Japanese as it was (a changed Japanese leaves them behind: they
/// translated the old text). Call it on what [`from_csv`] read before
/// importing it, or an export edited in Excel and imported again loses
/// every translation but English.
pub fn keep_translations(items: &mut [Procedure], stored: &[Procedure]) {
    for p in items {
        let Some(old) = stored.iter().find(|s| s.id == p.id) else {
            continue;
        };
        keep(&mut p.name, &old.name);
        keep(&mut p.description, &old.description);
        keep(&mut p.processing_time, &old.processing_time);
        for d in &mut p.documents {
            if let Some(o) = old.documents.iter().find(|o| o.ja() == d.ja()) {
                keep(d, o);
            }
        }
    }
}

fn keep(new: &mut Text, old: &Text) {
    if new.ja() != old.ja() {
        return;
    }
    for lang in Lang::ALL.into_iter().filter(|l| !SHEET_LANGS.contains(l)) {
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
        let name = text(self.get("name_ja"), self.get("name_en")).ok_or((
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
            description: text(self.get("description_ja"), self.get("description_en"))
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
            processing_time: text(
                self.get("processing_time_ja"),
                self.get("processing_time_en"),
            )
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

    /// English lines pair with Japanese lines by position, empty ones
    /// included (a document without a translation exports an empty line).
    fn documents(&self) -> Vec<Text> {
        let docs_en: Vec<&str> = self
            .raw("documents_en")
            .split('\n')
            .map(str::trim)
            .collect();
        self.raw("documents_ja")
            .split('\n')
            .map(str::trim)
            .enumerate()
            .filter(|(_, ja)| !ja.is_empty())
            .map(|(i, ja)| Text::new(ja, docs_en.get(i).copied().unwrap_or_default()))
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
        let csv = to_csv(&items).unwrap();
        let mut back = from_csv(&csv).unwrap();
        // The sheet has Japanese and English; easy Japanese comes back
        // from the stored catalogue.
        assert!(items[0].name.has(Lang::JaEasy));
        assert!(!back[0].name.has(Lang::JaEasy));
        keep_translations(&mut back, &items);
        assert_eq!(back, items);
    }

    #[test]
    fn an_edited_sheet_keeps_the_translations_of_unchanged_japanese() {
        let stored: Vec<Procedure> =
            serde_json::from_str(include_str!("../../../data/demo/122289/procedures.json"))
                .unwrap();
        let mut items = from_csv(&to_csv(&stored).unwrap()).unwrap();
        // Japanese of the name changed, English of the description changed,
        // the documents reordered.
        items[0].name = Text::new("住民票の写しの請求", "Copy of the residence record");
        items[0].description.set("en", "Changed in Excel.");
        items[0].documents.reverse();
        keep_translations(&mut items, &stored);
        assert!(
            !items[0].name.has(Lang::JaEasy),
            "old easy Japanese dropped"
        );
        assert_eq!(items[0].description.get(Lang::En), "Changed in Excel.");
        assert_eq!(
            items[0].description.get_exact("ja-x-easy"),
            stored[0].description.get_exact("ja-x-easy")
        );
        assert!(items[0].description.has(Lang::JaEasy));
        let last = items[0].documents.len() - 1;
        assert_eq!(items[0].documents[last], stored[0].documents[0]);
        assert_eq!(items[1..], stored[1..]);
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
        let mut back = from_csv(&csv).unwrap();
        keep_translations(&mut back, &items);
        assert_eq!(back, items);
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
        let mut back = from_csv(&csv).unwrap();
        keep_translations(&mut back, &items);
        assert_eq!(back, items);
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
