//! The navigators of the other life events of both demo municipalities
//! (転入, 転出, 出生, 婚姻) over HTTP, on SQLite and PostgreSQL: one set of
//! answers gives exactly these procedures, counters and deadlines, another
//! removes the right ones; every listed procedure is a catalogue entry
//! whose page the result links to and that search finds by its name.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;

type Row = (String, String, String);

fn bundle(tenant: &str, code: &str) -> Value {
    let path = format!(
        "{}/../../data/demo/{tenant}/tenant.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let t: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    t["life_events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == code)
        .unwrap()
        .clone()
}

/// Every question of the bundle answered: `yes` to those named, `no` to
/// the rest.
fn answers(tenant: &str, code: &str, yes: &[&str]) -> String {
    let b = bundle(tenant, code);
    let codes: Vec<&str> = b["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["code"].as_str().unwrap())
        .collect();
    for y in yes {
        assert!(codes.contains(y), "{tenant} {code}: no question {y}");
    }
    codes
        .iter()
        .map(|q| format!("{q}={}", if yes.contains(q) { "yes" } else { "no" }))
        .collect::<Vec<_>>()
        .join("&")
}

async fn walk(app: &TestApp, tenant: &str, code: &str, yes: &[&str]) -> Vec<Row> {
    let qs = answers(tenant, code, yes);
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{tenant}/navi/{code}?{qs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{tenant} {code}");
    let body: Value = r.json().await.unwrap();
    body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["place"].as_str().unwrap().to_string(),
                p["deadline"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, &str, &str)]) -> Vec<Row> {
    list.iter()
        .map(|(i, p, d)| (i.to_string(), p.to_string(), d.to_string()))
        .collect()
}

const MOVING_IN_ALL: [&str; 14] = [
    "has_my_number_card",
    "joins_nhi",
    "has_children",
    "school_children",
    "registers_seal",
    "becomes_nenkin_1go",
    "koki_from_other_pref",
    "care_certified",
    "child_medical",
    "single_parent",
    "needs_daycare",
    "has_dog",
    "has_techo",
    "has_moped",
];
/// A public servant's family moving in with a child and a dog, no card.
const MOVING_IN_FEW: [&str; 4] = ["has_children", "public_servant", "child_medical", "has_dog"];
const MOVING_OUT_ALL: [&str; 11] = [
    "has_nhi",
    "over_65",
    "school_children",
    "has_moped",
    "bulky_waste",
    "koki_to_other_pref",
    "care_certified",
    "receives_jido_teate",
    "child_medical",
    "in_daycare",
    "moving_abroad",
];
const MOVING_OUT_FEW: [&str; 2] = ["has_nhi", "bulky_waste"];
const BIRTH_ALL: [&str; 5] = [
    "parent_nhi",
    "low_birth_weight",
    "single_parent",
    "needs_daycare",
    "baby_card",
];
/// A parent who is a public servant: 児童手当 at the workplace.
const BIRTH_FEW: [&str; 1] = ["public_servant"];
const MARRIAGE_ALL: [&str; 11] = [
    "name_change_card",
    "moves_within",
    "nhi_change",
    "registers_seal",
    "partner_moves_in",
    "merge_household",
    "becomes_nenkin_1go",
    "jido_teate_change",
    "receives_fuyo",
    "has_techo",
    "has_dog",
];
/// A partner moving in from elsewhere with a card, leaving 国保.
const MARRIAGE_FEW: [&str; 3] = ["partner_moves_in", "name_change_card", "nhi_change"];

const ALL_MOVING_IN_122289: [(&str, &str, &str); 16] = [
    (
        "tennyu",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "mynumber-card-henko",
        "窓口サービス課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "転入届と同時に（遅れるとカードが失効することがあります）",
    ),
    (
        "inkan-toroku",
        "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）",
        "",
    ),
    (
        "kokuho-shikaku",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "kokumin-nenkin",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "14日以内",
    ),
    (
        "koki-jusho-henko",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "14日以内",
    ),
    (
        "kaigo-jukyu-shikaku",
        "高齢者支援課 8番窓口（高齢者・介護保険）（本庁舎1階）",
        "転入した日から14日以内（過ぎると認定を受け直します）",
    ),
    (
        "jido-teate",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "転入日・出生日の翌日から15日以内（遅れるとその月の分が受け取れません）",
    ),
    (
        "kodomo-iryo",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    (
        "jido-fuyo",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    ("hoikusho-moshikomi", "保育課（本庁舎1階）", ""),
    ("yobo-sesshu-yoshinhyo", "健康増進課（保健センター）", ""),
    ("tenko", "学務課（教育委員会）", ""),
    ("inu-jusho-henko", "環境政策課（本庁舎3階）", "30日以内"),
    ("shogaisha-techo-henko", "障害者支援課（本庁舎1階）", ""),
    (
        "gentsuki-toroku",
        "課税課 6番窓口（税の証明）（本庁舎1階）",
        "転入した日から15日以内",
    ),
];

const FEW_MOVING_IN_122289: [(&str, &str, &str); 5] = [
    (
        "tennyu",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "mynumber-card",
        "窓口サービス課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "",
    ),
    (
        "kodomo-iryo",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    ("yobo-sesshu-yoshinhyo", "健康増進課（保健センター）", ""),
    ("inu-jusho-henko", "環境政策課（本庁舎3階）", "30日以内"),
];

const ALL_MOVING_OUT_122289: [(&str, &str, &str); 12] = [
    (
        "tenshutsu",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "引越しの前まで（引越し後でも14日以内）",
    ),
    (
        "kokuho-shikaku",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "kaigo-soshitsu",
        "高齢者支援課 8番窓口（高齢者・介護保険）（本庁舎1階）",
        "14日以内",
    ),
    (
        "koki-jusho-henko",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "",
    ),
    (
        "kaigo-jukyu-shikaku",
        "高齢者支援課 8番窓口（高齢者・介護保険）（本庁舎1階）",
        "",
    ),
    (
        "jido-teate-shometsu",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "転出する日まで",
    ),
    (
        "kodomo-iryo-soshitsu",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    (
        "hoiku-taisho",
        "保育課（本庁舎1階）",
        "退所する月の前月末まで",
    ),
    ("tenko", "学務課（教育委員会）", ""),
    (
        "keijidosha-haisha",
        "課税課 6番窓口（税の証明）（本庁舎1階）",
        "",
    ),
    ("sodai-gomi", "廃棄物対策課（本庁舎3階）", ""),
    (
        "nozei-kanrinin",
        "課税課 6番窓口（税の証明）（本庁舎1階）",
        "出国する日まで",
    ),
];

const FEW_MOVING_OUT_122289: [(&str, &str, &str); 3] = [
    (
        "tenshutsu",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "引越しの前まで（引越し後でも14日以内）",
    ),
    (
        "kokuho-shikaku",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    ("sodai-gomi", "廃棄物対策課（本庁舎3階）", ""),
];

const ALL_BIRTH_122289: [(&str, &str, &str); 11] = [
    (
        "shussei",
        "窓口サービス課 3番窓口（戸籍の届出）（本庁舎1階）",
        "生まれた日を含めて14日以内",
    ),
    (
        "kokuho-shikaku",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "jido-teate",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "転入日・出生日の翌日から15日以内（遅れるとその月の分が受け取れません）",
    ),
    (
        "kodomo-iryo",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    (
        "shussan-ikuji",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "出産の翌日から2年以内",
    ),
    ("ninpu-shien-kyufu", "健康増進課（保健センター）", ""),
    (
        "akachan-homon",
        "健康増進課（保健センター）",
        "生後4か月までに訪問します（出生連絡票はお早めに）",
    ),
    (
        "mijukuji-iryo",
        "健康増進課（保健センター）",
        "入院中に申請してください",
    ),
    (
        "jido-fuyo",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    ("hoikusho-moshikomi", "保育課（本庁舎1階）", ""),
    (
        "mynumber-card",
        "窓口サービス課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "",
    ),
];

const FEW_BIRTH_122289: [(&str, &str, &str); 4] = [
    (
        "shussei",
        "窓口サービス課 3番窓口（戸籍の届出）（本庁舎1階）",
        "生まれた日を含めて14日以内",
    ),
    (
        "kodomo-iryo",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    ("ninpu-shien-kyufu", "健康増進課（保健センター）", ""),
    (
        "akachan-homon",
        "健康増進課（保健センター）",
        "生後4か月までに訪問します（出生連絡票はお早めに）",
    ),
];

const ALL_MARRIAGE_122289: [(&str, &str, &str); 13] = [
    (
        "konin",
        "窓口サービス課 3番窓口（戸籍の届出）（本庁舎1階）",
        "",
    ),
    (
        "tennyu",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "tenkyo",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "引越した日から14日以内",
    ),
    (
        "setai-henko",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "変更した日から14日以内",
    ),
    (
        "mynumber-card-henko",
        "窓口サービス課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "氏名・住所が変わった日から14日以内（遅れるとカードが失効することがあります）",
    ),
    (
        "inkan-toroku",
        "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）",
        "",
    ),
    (
        "kokuho-shikaku",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "kokumin-nenkin",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "14日以内",
    ),
    (
        "jido-teate-shometsu",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "",
    ),
    (
        "jido-teate",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "受給者が変わった日の翌日から15日以内",
    ),
    (
        "jido-fuyo-soshitsu",
        "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）",
        "結婚した日からすぐに",
    ),
    ("shogaisha-techo-henko", "障害者支援課（本庁舎1階）", ""),
    ("inu-jusho-henko", "環境政策課（本庁舎3階）", "30日以内"),
];

const FEW_MARRIAGE_122289: [(&str, &str, &str); 4] = [
    (
        "konin",
        "窓口サービス課 3番窓口（戸籍の届出）（本庁舎1階）",
        "",
    ),
    (
        "tennyu",
        "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "mynumber-card-henko",
        "窓口サービス課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "氏名・住所が変わった日から14日以内（遅れるとカードが失効することがあります）",
    ),
    (
        "kokuho-shikaku",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
];

const ALL_MOVING_IN_242021: [(&str, &str, &str); 16] = [
    (
        "tennyu",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "mynumber-card-henko",
        "市民課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "転入届と同時に（遅れるとカードが失効することがあります）",
    ),
    (
        "inkan-toroku",
        "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）",
        "",
    ),
    (
        "kokuho-shikaku",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "kokumin-nenkin",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "14日以内",
    ),
    (
        "koki-jusho-henko",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "14日以内",
    ),
    (
        "kaigo-jukyu-shikaku",
        "介護保険課 8番窓口（介護保険）（本庁舎3階）",
        "転入した日から14日以内（過ぎると認定を受け直します）",
    ),
    (
        "jido-teate",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "転入日・出生日の翌日から15日以内（遅れるとその月の分が受け取れません）",
    ),
    (
        "kodomo-iryo",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "",
    ),
    (
        "jido-fuyo",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "",
    ),
    ("hoikusho-moshikomi", "保育幼稚園課（本庁舎2階）", ""),
    (
        "yobo-sesshu-yoshinhyo",
        "こども保健福祉課（総合会館2階）",
        "",
    ),
    ("tenko", "学校教育課（教育委員会）", ""),
    ("inu-jusho-henko", "衛生指導課（総合会館4階）", "30日以内"),
    ("shogaisha-techo-henko", "障害福祉課（本庁舎3階）", ""),
    (
        "gentsuki-toroku",
        "市民税課 6番窓口（税の証明）（本庁舎2階）",
        "転入した日から15日以内",
    ),
];

const FEW_MOVING_IN_242021: [(&str, &str, &str); 5] = [
    (
        "tennyu",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "mynumber-card",
        "市民課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "",
    ),
    (
        "kodomo-iryo",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "",
    ),
    (
        "yobo-sesshu-yoshinhyo",
        "こども保健福祉課（総合会館2階）",
        "",
    ),
    ("inu-jusho-henko", "衛生指導課（総合会館4階）", "30日以内"),
];

const ALL_MOVING_OUT_242021: [(&str, &str, &str); 12] = [
    (
        "tenshutsu",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "引越しの前まで（引越し後でも14日以内）",
    ),
    (
        "kokuho-shikaku",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "kaigo-soshitsu",
        "介護保険課 8番窓口（介護保険）（本庁舎3階）",
        "14日以内",
    ),
    (
        "koki-jusho-henko",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "",
    ),
    (
        "kaigo-jukyu-shikaku",
        "介護保険課 8番窓口（介護保険）（本庁舎3階）",
        "",
    ),
    (
        "jido-teate-shometsu",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "転出する日まで",
    ),
    (
        "kodomo-iryo-soshitsu",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "",
    ),
    (
        "hoiku-taisho",
        "保育幼稚園課（本庁舎2階）",
        "退所する月の前月末まで",
    ),
    ("tenko", "学校教育課（教育委員会）", ""),
    (
        "keijidosha-haisha",
        "市民税課 6番窓口（税の証明）（本庁舎2階）",
        "",
    ),
    ("sodai-gomi", "生活環境課（本庁舎5階）", ""),
    (
        "nozei-kanrinin",
        "市民税課 6番窓口（税の証明）（本庁舎2階）",
        "出国する日まで",
    ),
];

const FEW_MOVING_OUT_242021: [(&str, &str, &str); 3] = [
    (
        "tenshutsu",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "引越しの前まで（引越し後でも14日以内）",
    ),
    (
        "kokuho-shikaku",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    ("sodai-gomi", "生活環境課（本庁舎5階）", ""),
];

const ALL_BIRTH_242021: [(&str, &str, &str); 11] = [
    (
        "shussei",
        "市民課 3番窓口（戸籍の届出）（本庁舎1階）",
        "生まれた日を含めて14日以内",
    ),
    (
        "kokuho-shikaku",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "jido-teate",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "転入日・出生日の翌日から15日以内（遅れるとその月の分が受け取れません）",
    ),
    (
        "kodomo-iryo",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "",
    ),
    (
        "shussan-ikuji",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "出産の翌日から2年以内",
    ),
    ("ninpu-shien-kyufu", "こども保健福祉課（総合会館2階）", ""),
    (
        "akachan-homon",
        "こども保健福祉課（総合会館2階）",
        "生後4か月までに訪問します（出生連絡票はお早めに）",
    ),
    (
        "mijukuji-iryo",
        "こども保健福祉課（総合会館2階）",
        "入院中に申請してください",
    ),
    (
        "jido-fuyo",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "",
    ),
    ("hoikusho-moshikomi", "保育幼稚園課（本庁舎2階）", ""),
    (
        "mynumber-card",
        "市民課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "",
    ),
];

const FEW_BIRTH_242021: [(&str, &str, &str); 4] = [
    (
        "shussei",
        "市民課 3番窓口（戸籍の届出）（本庁舎1階）",
        "生まれた日を含めて14日以内",
    ),
    (
        "kodomo-iryo",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "",
    ),
    ("ninpu-shien-kyufu", "こども保健福祉課（総合会館2階）", ""),
    (
        "akachan-homon",
        "こども保健福祉課（総合会館2階）",
        "生後4か月までに訪問します（出生連絡票はお早めに）",
    ),
];

const ALL_MARRIAGE_242021: [(&str, &str, &str); 13] = [
    ("konin", "市民課 3番窓口（戸籍の届出）（本庁舎1階）", ""),
    (
        "tennyu",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "tenkyo",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "引越した日から14日以内",
    ),
    (
        "setai-henko",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "変更した日から14日以内",
    ),
    (
        "mynumber-card-henko",
        "市民課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "氏名・住所が変わった日から14日以内（遅れるとカードが失効することがあります）",
    ),
    (
        "inkan-toroku",
        "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）",
        "",
    ),
    (
        "kokuho-shikaku",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
    (
        "kokumin-nenkin",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "14日以内",
    ),
    (
        "jido-teate-shometsu",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "",
    ),
    (
        "jido-teate",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "受給者が変わった日の翌日から15日以内",
    ),
    (
        "jido-fuyo-soshitsu",
        "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）",
        "結婚した日からすぐに",
    ),
    ("shogaisha-techo-henko", "障害福祉課（本庁舎3階）", ""),
    ("inu-jusho-henko", "衛生指導課（総合会館4階）", "30日以内"),
];

const FEW_MARRIAGE_242021: [(&str, &str, &str); 4] = [
    ("konin", "市民課 3番窓口（戸籍の届出）（本庁舎1階）", ""),
    (
        "tennyu",
        "市民課 1番窓口（転入・転出・転居）（本庁舎1階）",
        "住み始めた日から14日以内",
    ),
    (
        "mynumber-card-henko",
        "市民課 4番窓口（マイナンバーカード）（本庁舎1階）",
        "氏名・住所が変わった日から14日以内（遅れるとカードが失効することがあります）",
    ),
    (
        "kokuho-shikaku",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "加入・脱退の理由が生じた日から14日以内",
    ),
];

/// (tenant, event, number of questions, yes to all, its list, yes to few, its list)
type Case = (
    &'static str,
    &'static str,
    usize,
    &'static [&'static str],
    &'static [(&'static str, &'static str, &'static str)],
    &'static [&'static str],
    &'static [(&'static str, &'static str, &'static str)],
);

const CASES: [Case; 8] = [
    (
        "122289",
        "moving-in",
        15,
        &MOVING_IN_ALL,
        &ALL_MOVING_IN_122289,
        &MOVING_IN_FEW,
        &FEW_MOVING_IN_122289,
    ),
    (
        "242021",
        "moving-in",
        15,
        &MOVING_IN_ALL,
        &ALL_MOVING_IN_242021,
        &MOVING_IN_FEW,
        &FEW_MOVING_IN_242021,
    ),
    (
        "122289",
        "moving-out",
        11,
        &MOVING_OUT_ALL,
        &ALL_MOVING_OUT_122289,
        &MOVING_OUT_FEW,
        &FEW_MOVING_OUT_122289,
    ),
    (
        "242021",
        "moving-out",
        11,
        &MOVING_OUT_ALL,
        &ALL_MOVING_OUT_242021,
        &MOVING_OUT_FEW,
        &FEW_MOVING_OUT_242021,
    ),
    (
        "122289",
        "birth",
        6,
        &BIRTH_ALL,
        &ALL_BIRTH_122289,
        &BIRTH_FEW,
        &FEW_BIRTH_122289,
    ),
    (
        "242021",
        "birth",
        6,
        &BIRTH_ALL,
        &ALL_BIRTH_242021,
        &BIRTH_FEW,
        &FEW_BIRTH_242021,
    ),
    (
        "122289",
        "marriage",
        11,
        &MARRIAGE_ALL,
        &ALL_MARRIAGE_122289,
        &MARRIAGE_FEW,
        &FEW_MARRIAGE_122289,
    ),
    (
        "242021",
        "marriage",
        11,
        &MARRIAGE_ALL,
        &ALL_MARRIAGE_242021,
        &MARRIAGE_FEW,
        &FEW_MARRIAGE_242021,
    ),
];

async fn life_events_many_and_few(app: &TestApp) {
    for (t, code, questions, all_yes, all, few_yes, few) in CASES {
        let b = bundle(t, code);
        assert_eq!(
            b["questions"].as_array().unwrap().len(),
            questions,
            "{t} {code}"
        );
        assert!(all.len() >= 11, "{t} {code}: at least 11 tasks");
        assert_eq!(
            walk(app, t, code, all_yes).await,
            owned(all),
            "{t} {code}: many yes"
        );
        assert_eq!(
            walk(app, t, code, few_yes).await,
            owned(few),
            "{t} {code}: few yes"
        );
        // The printable page links every procedure listed, and each page opens.
        let qs = answers(t, code, all_yes);
        let html = app
            .client()
            .get(app.url(&format!("/t/{t}/navi/{code}/result?{qs}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (id, _, _) in all {
            let link = format!("/t/{t}/procedures/{id}");
            assert!(html.contains(&format!("{link}\"")), "{t} {code}: {link}");
            let r = app.client().get(app.url(&link)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{link}");
        }
    }
}

/// Every task of these navigators is a catalogue entry that search finds
/// by its own name among the first three answers.
async fn life_event_tasks_are_findable(app: &TestApp) {
    for (t, code, _, _, all, _, _) in CASES {
        for (id, _, _) in all {
            let p: Value = app
                .client()
                .get(app.url(&format!("/api/v1/t/{t}/procedures/{id}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let name = p["name"]["ja"].as_str().unwrap().to_string();
            let r: Value = app
                .client()
                .get(app.url(&format!("/api/v1/t/{t}/search")))
                .query(&[("q", name.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let top: Vec<String> = r["hits"]
                .as_array()
                .unwrap()
                .iter()
                .take(3)
                .map(|h| h["id"].as_str().unwrap().to_string())
                .collect();
            assert!(
                top.contains(&format!("procedure:{id}")),
                "{t} {code} {id} 「{name}」: {top:?}"
            );
        }
    }
}

testkit::on_both_backends!(life_events_many_and_few, life_event_tasks_are_findable);
