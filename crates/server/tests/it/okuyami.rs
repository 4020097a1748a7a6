//! The おくやみ navigator of both demo municipalities over HTTP, on SQLite
//! and PostgreSQL: answers that select every task and answers that select
//! few give exactly these procedures, counters and deadlines.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;

const QUESTIONS: [&str; 15] = [
    "deceased_head",
    "deceased_nhi",
    "deceased_koki",
    "deceased_over_65",
    "deceased_pension",
    "deceased_nenkin_1go",
    "has_child_under_18",
    "spouse_dependent",
    "received_jido_teate",
    "had_inkan",
    "had_mynumber_card",
    "owned_property",
    "had_techo",
    "had_dog",
    "had_moped",
];

async fn walk(app: &TestApp, tenant: &str, yes: &[&str]) -> Vec<(String, String, String)> {
    let qs: Vec<String> = QUESTIONS
        .iter()
        .map(|q| format!("{q}={}", if yes.contains(q) { "yes" } else { "no" }))
        .collect();
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/t/{tenant}/navi/death?{}", qs.join("&"))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{tenant}");
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

/// 122289, answers all yes.
const ALL_122289: [(&str, &str, &str); 21] = [
    ("shibo", "窓口サービス課 3番窓口（戸籍の届出）（本庁舎1階）", "亡くなったことを知った日から7日以内"),
    ("koseki-shomei", "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）", ""),
    ("juminhyo-copy", "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）", ""),
    ("setainushi-henko", "窓口サービス課 1番窓口（住所異動の届出）（本庁舎1階）", "世帯主が変わった日から14日以内"),
    ("kokuho-shikaku", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "加入・脱退の理由が生じた日から14日以内"),
    ("sosai-hi", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "葬儀を行った日の翌日から2年以内"),
    ("koki-soshitsu", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "14日以内"),
    ("koki-sosai-hi", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "葬儀を行った日の翌日から2年以内"),
    ("kaigo-soshitsu", "高齢者支援課 8番窓口（高齢者・介護保険）（本庁舎1階）", "14日以内"),
    ("nenkin-mishikyu", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "未支給年金は5年以内（国民年金の受給者死亡届は14日以内。マイナンバーが登録されていれば原則不要）"),
    ("shibo-ichijikin", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "亡くなった日の翌日から2年以内"),
    ("izoku-kiso-nenkin", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "亡くなった日の翌日から5年以内"),
    ("kokumin-nenkin", "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）", "14日以内"),
    ("jido-teate", "子育て支援課 7番窓口（子育て・保育）（本庁舎1階）", "亡くなった日の翌日から15日以内（遅れるとその月の分が受け取れません）"),
    ("inkan-touroku-henkan", "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）", ""),
    ("mynumber-henno", "窓口サービス課 4番窓口（マイナンバーカード）（本庁舎1階）", ""),
    ("kotei-genshoyusha", "課税課 6番窓口（税の証明）（本庁舎1階）", ""),
    ("sozokunin-daihyo", "課税課 6番窓口（税の証明）（本庁舎1階）", ""),
    ("shogaisha-techo-henkan", "障害者支援課（本庁舎1階）", ""),
    ("inu-shoyusha-henko", "環境政策課（本庁舎3階）", "30日以内"),
    ("keijidosha-haisha", "課税課 6番窓口（税の証明）（本庁舎1階）", ""),
];

/// 122289, answers yes only to 後期高齢者医療 and 印鑑登録.
const FEW_122289: [(&str, &str, &str); 6] = [
    (
        "shibo",
        "窓口サービス課 3番窓口（戸籍の届出）（本庁舎1階）",
        "亡くなったことを知った日から7日以内",
    ),
    (
        "koseki-shomei",
        "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）",
        "",
    ),
    (
        "juminhyo-copy",
        "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）",
        "",
    ),
    (
        "koki-soshitsu",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "14日以内",
    ),
    (
        "koki-sosai-hi",
        "国保年金課 5番窓口（国民健康保険・国民年金）（本庁舎1階）",
        "葬儀を行った日の翌日から2年以内",
    ),
    (
        "inkan-touroku-henkan",
        "窓口サービス課 2番窓口（証明書発行）（本庁舎1階）",
        "",
    ),
];

/// 242021, answers all yes.
const ALL_242021: [(&str, &str, &str); 21] = [
    ("shibo", "市民課 3番窓口（戸籍の届出）（本庁舎1階）", "亡くなったことを知った日から7日以内"),
    ("koseki-shomei", "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）", ""),
    ("juminhyo-copy", "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）", ""),
    ("setainushi-henko", "市民課 1番窓口（転入・転出・転居）（本庁舎1階）", "世帯主が変わった日から14日以内"),
    ("kokuho-shikaku", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "加入・脱退の理由が生じた日から14日以内"),
    ("sosai-hi", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "葬儀を行った日の翌日から2年以内"),
    ("koki-soshitsu", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "14日以内"),
    ("koki-sosai-hi", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "葬儀を行った日の翌日から2年以内"),
    ("kaigo-soshitsu", "介護保険課 8番窓口（介護保険）（本庁舎3階）", "14日以内"),
    ("nenkin-mishikyu", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "未支給年金は5年以内（国民年金の受給者死亡届は14日以内。マイナンバーが登録されていれば原則不要）"),
    ("shibo-ichijikin", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "亡くなった日の翌日から2年以内"),
    ("izoku-kiso-nenkin", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "亡くなった日の翌日から5年以内"),
    ("kokumin-nenkin", "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）", "14日以内"),
    ("jido-teate", "こども未来課 7番窓口（児童手当・ひとり親家庭）（本庁舎2階）", "亡くなった日の翌日から15日以内（遅れるとその月の分が受け取れません）"),
    ("inkan-touroku-henkan", "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）", ""),
    ("mynumber-henno", "市民課 4番窓口（マイナンバーカード）（本庁舎1階）", ""),
    ("kotei-genshoyusha", "資産税課", ""),
    ("sozokunin-daihyo", "資産税課", ""),
    ("shogaisha-techo-henkan", "障害福祉課（本庁舎3階）", ""),
    ("inu-shoyusha-henko", "衛生指導課（総合会館4階）", "30日以内"),
    ("keijidosha-haisha", "市民税課 6番窓口（税の証明）（本庁舎2階）", ""),
];

/// 242021, answers yes only to 後期高齢者医療 and 印鑑登録.
const FEW_242021: [(&str, &str, &str); 6] = [
    (
        "shibo",
        "市民課 3番窓口（戸籍の届出）（本庁舎1階）",
        "亡くなったことを知った日から7日以内",
    ),
    (
        "koseki-shomei",
        "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）",
        "",
    ),
    (
        "juminhyo-copy",
        "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）",
        "",
    ),
    (
        "koki-soshitsu",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "14日以内",
    ),
    (
        "koki-sosai-hi",
        "保険年金課 5番窓口（国民健康保険・年金・医療費助成）（本庁舎3階）",
        "葬儀を行った日の翌日から2年以内",
    ),
    (
        "inkan-touroku-henkan",
        "市民課 2番窓口（住民票・戸籍・印鑑証明）（本庁舎1階）",
        "",
    ),
];

fn owned(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(i, p, d)| (i.to_string(), p.to_string(), d.to_string()))
        .collect()
}

async fn okuyami_everything_and_little(app: &TestApp) {
    let few = ["deceased_koki", "had_inkan"];
    for (t, all, little) in [
        ("122289", owned(&ALL_122289), owned(&FEW_122289)),
        ("242021", owned(&ALL_242021), owned(&FEW_242021)),
    ] {
        assert!(all.len() >= 20, "{t}: at least 20 tasks");
        assert_eq!(
            walk(app, t, &QUESTIONS).await,
            all,
            "{t}: every question yes"
        );
        assert_eq!(
            walk(app, t, &few).await,
            little,
            "{t}: yes to two questions"
        );
    }
}

/// Every task of the おくやみ navigator is a catalogue entry that search
/// finds by its own name among the first three answers.
async fn okuyami_tasks_are_findable(app: &TestApp) {
    for (t, all) in [("122289", &ALL_122289[..]), ("242021", &ALL_242021[..])] {
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
                "{t} {id} 「{name}」: {top:?}"
            );
        }
    }
}

testkit::on_both_backends!(okuyami_everything_and_little, okuyami_tasks_are_findable);
