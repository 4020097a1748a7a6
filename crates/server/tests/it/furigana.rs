//! Furigana on real pages, on SQLite and PostgreSQL: counters read with
//! their numbers, verbs and words as the analyser reads them, a weekday
//! header, and each municipality's own readings from its tenant.json,
//! which are data: a changed list changes that city's pages only.

use reqwest::StatusCode;
use testkit::TestApp;

/// `base` with `rt` over it, as the furigana filter writes it.
fn ruby(base: &str, rt: &str) -> String {
    format!("<ruby>{base}<rp>(</rp><rt>{rt}</rt><rp>)</rp></ruby>")
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

/// A browser that asked for furigana.
fn with_furigana() -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::COOKIE,
                reqwest::header::HeaderValue::from_static("mdg_furigana=on"),
            )]
            .into_iter()
            .collect(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn readings_on_pages(app: &TestApp) {
    let c = with_furigana();
    // Easy Japanese congestion page: office hours, a verb, nobody waiting
    // and the forecast table's weekday headers.
    let html = page(&c, app, "/t/122289/counter/congestion?lang=ja-x-easy").await;
    let eight_thirty = format!("8{}30{}", ruby("時", "じ"), ruby("分", "ぷん"));
    assert!(html.contains(&eight_thirty), "8時30分: {html}");
    assert!(
        html.contains(&format!("{}て ください", ruby("来", "き"))),
        "来て"
    );
    assert!(
        html.contains(&format!(
            "<td class=\"numeric\" data-field=\"waiting\">0{}</td>",
            ruby("人", "にん")
        )),
        "0人"
    );
    for (day, rt) in [("月", "げつ"), ("火", "か"), ("水", "すい"), ("金", "きん")] {
        assert!(
            html.contains(&format!("<th scope=\"col\">{}</th>", ruby(day, rt))),
            "weekday header {day}"
        );
    }
    // A procedure's processing time, and the city's name in the header.
    let html = page(&c, app, "/t/122289/procedures/juminhyo-copy").await;
    assert!(html.contains(&ruby("開庁日", "かいちょうび")), "開庁日");
    let yotsukaido = format!("{}{}", ruby("四街道", "よつかいどう"), ruby("市", "し"));
    assert!(html.contains(&yotsukaido), "四街道市");
    // お金 in easy Japanese (the search hint of the home page).
    let html = page(&c, app, "/t/122289?lang=ja-x-easy").await;
    assert!(html.contains(&format!("お{}", ruby("金", "かね"))), "お金");
    let html = page(&c, app, "/t/242021").await;
    assert!(
        html.contains(&format!(
            "{}{}",
            ruby("四日市", "よっかいち"),
            ruby("市", "し")
        )),
        "四日市市"
    );
}

async fn a_city_edits_its_readings(app: &TestApp) {
    let c = with_furigana();
    let yotsukaido = format!("{}{}", ruby("四街道", "よつかいどう"), ruby("市", "し"));
    // The city changes its list (here: a reading the dictionary does not
    // have, so the change shows) and loads its tenant.json again.
    let mut t = kernel::tenant::load(&app.app.db, "122289").await.unwrap();
    assert!(t
        .readings
        .iter()
        .any(|r| r.surface == "鹿渡" && r.reading == "しかわたし"));
    t.readings = vec![kernel::readings::ReadingOverride {
        surface: "四街道市".into(),
        reading: "よつかいどうしやくしょ".into(),
    }];
    kernel::tenant::upsert(&app.app.db, &t).await.unwrap();
    let html = page(&c, app, "/t/122289").await;
    assert!(
        html.contains(&ruby("四街道市", "よつかいどうしやくしょ")),
        "the edited list applies"
    );
    assert!(!html.contains(&yotsukaido));
    // The other city's pages keep their own list.
    let html = page(&c, app, "/t/242021").await;
    assert!(!html.contains("よつかいどうしやくしょ"));
    assert!(html.contains(&ruby("四日市", "よっかいち")));
    // A bad list is refused with a message naming the entry; nothing changes.
    let mut bad = t.clone();
    bad.readings.push(kernel::readings::ReadingOverride {
        surface: "鹿渡".into(),
        reading: "シカワタシ".into(),
    });
    match kernel::tenant::upsert(&app.app.db, &bad).await {
        Err(kernel::AppError::BadRequest(m)) => assert_eq!(
            m,
            "readings の「鹿渡」の reading「シカワタシ」はひらがな40文字以内で指定してください"
        ),
        other => panic!("{other:?}"),
    }
    let html = page(&c, app, "/t/122289").await;
    assert!(html.contains(&ruby("四街道市", "よつかいどうしやくしょ")));
    // Without furigana, no ruby at all.
    let plain = page(&app.client(), app, "/t/122289").await;
    assert!(!plain.contains("<ruby>"));
}

testkit::on_both_backends!(readings_on_pages, a_city_edits_its_readings);
