//! Seven languages and the display preferences over HTTP, on SQLite and
//! PostgreSQL: every citizen page in every language with a valid `lang`,
//! the choice kept (also through a resident's sign-in), content without a
//! translation shown in Japanese and marked, translations entered in the
//! staff editor, text size / high contrast / furigana set by a no-JS form
//! that only ever goes back to this site.

use kernel::i18n::Lang;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;

const T: &str = "122289";

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn html_lang(html: &str) -> &str {
    let at = html.find("<html lang=\"").expect("html lang") + 12;
    &html[at..at + html[at..].find('"').unwrap()]
}

async fn every_page_in_every_language(app: &TestApp) {
    let pages = [
        "/".to_string(),
        format!("/t/{T}"),
        format!("/t/{T}/procedures"),
        format!("/t/{T}/procedures?event=moving"),
        format!("/t/{T}/procedures/juminhyo-copy"),
        format!("/t/{T}/navi"),
        format!("/t/{T}/navi/moving-in"),
        format!("/t/{T}/sign-in"),
        format!("/t/{T}/counter/congestion"),
    ];
    for lang in Lang::ALL {
        // A fresh browser picks the language once with ?lang=…
        let c = app.client();
        let r = c
            .get(app.url(&format!("/t/{T}?lang={}", lang.code())))
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("mdg_lang="))
            .unwrap_or_default()
            .to_string();
        assert!(
            cookie.starts_with(&format!("mdg_lang={};", lang.code()))
                && cookie.contains("Max-Age=31536000"),
            "{}: {cookie}",
            lang.code()
        );
        // …and every page after it is in that language, without ?lang.
        for path in &pages {
            let (status, html) = get(&c, app, path).await;
            assert_eq!(status, StatusCode::OK, "{} {path}", lang.code());
            assert_eq!(html_lang(&html), lang.html_lang(), "{} {path}", lang.code());
            // The language switch: every language by its own name, each
            // with its lang attribute, the page's own query kept.
            for other in Lang::ALL {
                let name = format!(
                    "lang=\"{}\" hreflang=\"{}\"",
                    other.html_lang(),
                    other.html_lang()
                );
                assert!(html.contains(&name), "{} {path}: {name}", lang.code());
                assert!(html.contains(other.native_name()), "{} {path}", lang.code());
            }
            if path.ends_with("?event=moving") {
                assert!(
                    html.contains("href=\"?event=moving&#38;lang=vi\""),
                    "{} {path}: the switch keeps the query",
                    lang.code()
                );
            }
            // The municipality by its name in the language (demo data).
            if path.starts_with("/t/") && lang == Lang::Vi {
                assert!(
                    html.contains("<strong>Thành phố Yotsukaido</strong>"),
                    "{path}"
                );
            }
            // The display settings are on every page.
            assert!(
                html.contains("action=\"/preferences\""),
                "{} {path}",
                lang.code()
            );
        }
    }
    // Unknown pages too, with the chosen language.
    let c = app.client();
    let (status, html) = get(&c, app, "/no-such-page?lang=ko").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(html_lang(&html), "ko");
    assert!(html.contains("action=\"/preferences\""));
    // A language the browser prefers; an unknown one falls back to Japanese.
    for (header, want) in [
        ("vi-VN,vi;q=0.9,en;q=0.5", "vi"),
        ("pt-BR", "pt-BR"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("ko-KR", "ko"),
        ("fr-FR, de;q=0.5", "ja"),
    ] {
        let html = app
            .client()
            .get(app.url(&format!("/t/{T}")))
            .header("accept-language", header)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(html_lang(&html), want, "{header}");
    }
    // Aliases in ?lang= are accepted and stored as the language's code.
    let r = app
        .client()
        .get(app.url(&format!("/t/{T}?lang=PT")))
        .send()
        .await
        .unwrap();
    assert!(r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("mdg_lang=pt-BR;")));
    // The API speaks every language too (field messages; the top-level
    // message is Japanese with message_en), named in the body or by alias.
    let first_field_message = |code: &'static str| async move {
        let r = app
            .client()
            .post(app.url(&format!(
                "/api/v1/t/{T}/procedures/smartphone-class/validate"
            )))
            .json(&serde_json::json!({"answers": {}, "lang": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        let body: Value = r.json().await.unwrap();
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ja = first_field_message("ja").await;
    let mut seen = vec![ja.clone()];
    for (code, label) in [
        ("vi", "Họ tên người tham gia"),
        ("zh-CN", "参加者姓名"),
        ("pt", "Nome do participante"),
        ("ko-KR", "참가자 성명"),
    ] {
        let m = first_field_message(code).await;
        // The field is named by its label in that language.
        assert!(m.contains(label), "{code}: the field is named: {m}");
        assert!(!seen.contains(&m), "{code}: its own language: {m}");
        seen.push(m);
    }
    let r = app
        .client()
        .post(app.url(&format!(
            "/api/v1/t/{T}/procedures/smartphone-class/validate"
        )))
        .json(&serde_json::json!({"answers": {}, "lang": "klingon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an unknown language is bad input"
    );
    assert!(r.json::<Value>().await.unwrap()["error"]["code"].is_string());
    // Easy Japanese is marked up as Japanese and its own name in the switch.
    let (_, html) = get(&app.client(), app, &format!("/t/{T}?lang=ja-x-easy")).await;
    assert_eq!(html_lang(&html), "ja");
    assert!(html.contains("aria-current=\"true\">やさしい にほんご</a>"));
}

async fn a_resident_keeps_the_language(app: &TestApp) {
    let c = app.client();
    let (_, _) = get(&c, app, &format!("/t/{T}?lang=pt-BR")).await;
    let token = app.csrf(&c, &format!("/t/{T}/sign-in")).await;
    let r = c
        .post(app.url(&format!("/t/{T}/sign-in/dev")))
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "四街道 花子"),
            ("address", "千葉県四街道市鹿渡無番地"),
            ("birthdate", "1990-04-01"),
            ("gender", "female"),
            ("level", "my_number_card"),
            ("return_to", &format!("/t/{T}")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (status, html) = get(&c, app, &format!("/t/{T}/account")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html_lang(&html), "pt-BR", "signed in, still Portuguese");
    let (_, html) = get(&c, app, &format!("/t/{T}/procedures/juminhyo-copy/apply")).await;
    assert_eq!(html_lang(&html), "pt-BR");
}

/// Creates a procedure in the staff editor with a Vietnamese translation
/// only; returns its id.
async fn procedure_with_vietnamese(app: &TestApp) -> String {
    let admin = app.staff(T, "dx-admin").await;
    let token = app
        .csrf(&admin, &format!("/t/{T}/staff/catalogue/new"))
        .await;
    let (status, html) = get(&admin, app, &format!("/t/{T}/staff/catalogue/new")).await;
    assert_eq!(status, StatusCode::OK);
    // One group of translation fields per language but Japanese.
    for lang in Lang::ALL.iter().filter(|l| **l != Lang::Ja) {
        for field in ["name", "description", "processing_time", "documents"] {
            let id = format!("id=\"field-{field}_{}\"", lang.code());
            assert!(html.contains(&id), "{id}");
        }
    }
    let id = "gomi-calendar".to_string();
    let r = admin
        .post(app.url(&format!("/t/{T}/staff/catalogue/new")))
        .form(&[
            ("_csrf", token.as_str()),
            ("version", "0"),
            ("id", &id),
            ("name_ja", "ごみ収集カレンダーの請求"),
            ("name_vi", "Yêu cầu lịch thu gom rác"),
            (
                "description_ja",
                "地区ごとの収集日を記したカレンダーを送ります。",
            ),
            (
                "description_vi",
                "Chúng tôi gửi lịch thu gom rác của khu vực.",
            ),
            ("processing_time_ja", "1週間"),
            ("processing_time_vi", "1 tuần"),
            ("documents_ja", "住所の分かるもの\n本人確認書類"),
            ("documents_vi", "Giấy tờ có địa chỉ\n"),
            ("department", "haikibutsu"),
            ("channels", "counter"),
            ("identity_level", "none"),
            ("fee_yen", "0"),
            ("legal_basis", ""),
            ("form_json", "{\"fields\": []}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    id
}

async fn untranslated_content_is_japanese_and_marked(app: &TestApp) {
    let id = procedure_with_vietnamese(app).await;
    let api: Value = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/procedures/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["name"]["vi"], "Yêu cầu lịch thu gom rác");
    assert!(api["name"].get("ko").is_none(), "{}", api["name"]);
    assert_eq!(api["documents"][0]["vi"], "Giấy tờ có địa chỉ");
    assert!(
        api["documents"][1].get("vi").is_none(),
        "an empty line is no translation"
    );

    let path = format!("/t/{T}/procedures/{id}");
    // Vietnamese: translated, nothing marked but the untranslated document.
    let (_, html) = get(&app.client(), app, &format!("{path}?lang=vi")).await;
    assert!(html.contains("<h1>Yêu cầu lịch thu gom rác</h1>"), "{html}");
    assert!(html.contains("<li>Giấy tờ có địa chỉ</li>"));
    let marker = kernel::i18n::t(Lang::Vi, "content.ja_only");
    assert!(
        html.contains(&format!(
            "<li><span lang=\"ja\">本人確認書類</span><span class=\"ja-only\">{marker}</span></li>"
        )),
        "{html}"
    );
    // Korean: the Japanese, in lang="ja", with the Korean marker.
    let (_, html) = get(&app.client(), app, &format!("{path}?lang=ko")).await;
    let marker = kernel::i18n::t(Lang::Ko, "content.ja_only");
    assert!(
        html.contains(&format!(
            "<h1><span lang=\"ja\">ごみ収集カレンダーの請求</span><span class=\"ja-only\">{marker}</span></h1>"
        )),
        "{html}"
    );
    // Japanese: never marked.
    let (_, html) = get(&app.client(), app, &format!("{path}?lang=ja")).await;
    assert!(html.contains("<h1>ごみ収集カレンダーの請求</h1>"));
    assert!(!html.contains("class=\"ja-only\""));
    // The list marks too, and English has the demo's own translations.
    let (_, html) = get(&app.client(), app, &format!("/t/{T}/procedures?lang=en")).await;
    assert!(
        html.contains("<span lang=\"ja\">ごみ収集カレンダーの請求</span><span class=\"ja-only\">")
    );
    assert!(!html.contains("<span lang=\"ja\">住民票の写しの交付請求</span>"));
    // The editor shows the translation back.
    let admin = app.staff(T, "dx-admin").await;
    let (_, html) = get(&admin, app, &format!("/t/{T}/staff/catalogue/{id}")).await;
    assert!(
        html.contains("value=\"Yêu cầu lịch thu gom rác\" lang=\"vi\""),
        "{html}"
    );
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

async fn display_preferences(app: &TestApp) {
    let c = app.client();
    let page = format!("/t/{T}/procedures?q=%E4%BD%8F%E6%B0%91");
    let token = app.csrf(&c, &page).await;
    let post =
        |form: Vec<(&'static str, String)>| c.post(app.url("/preferences")).form(&form).send();
    // Without the CSRF token: refused, nothing set.
    let r = post(vec![("text_size", "large".into()), ("back", page.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookies(&r).iter().all(|c| !c.starts_with("mdg_text=")));

    // Text size: set, then back to the same page with its query.
    let r = post(vec![
        ("_csrf", token.clone()),
        ("text_size", "large".into()),
        ("back", page.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], page.as_str());
    assert!(set_cookies(&r)
        .iter()
        .any(|c| c.starts_with("mdg_text=large;") && c.contains("Max-Age=31536000")));
    let (_, html) = get(&c, app, &page).await;
    assert!(
        html.contains("<html lang=\"ja\" class=\"text-large\">"),
        "{}",
        &html[..300]
    );
    assert!(html.contains("value=\"large\" aria-pressed=\"true\""));

    // High contrast, kept alongside.
    let r = post(vec![
        ("_csrf", token.clone()),
        ("contrast", "high".into()),
        ("back", page.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, app, &page).await;
    assert!(html.contains("class=\"text-large contrast-high\""));
    assert!(html.contains("name=\"contrast\" value=\"standard\" aria-pressed=\"true\""));

    // Nowhere but this site: other hosts, schemes and odd paths go to the portal.
    for back in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
    ] {
        let r = post(vec![
            ("_csrf", token.clone()),
            ("text_size", "standard".into()),
            ("back", back.into()),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{back}");
        assert_eq!(r.headers()["location"], "/", "{back}");
    }
    // A value that is not a choice changes nothing (and is no error page).
    let r = post(vec![
        ("_csrf", token.clone()),
        ("text_size", "gigantic".into()),
        ("contrast", "<script>".into()),
        ("furigana", "maybe".into()),
        ("back", page.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(set_cookies(&r).is_empty(), "{:?}", set_cookies(&r));

    // Furigana: ruby over the kanji of citizen pages, text only.
    let detail = format!("/t/{T}/procedures/juminhyo-copy");
    let (_, html) = get(&c, app, &detail).await;
    assert!(!html.contains("<ruby>"), "off by default in Japanese");
    let r = post(vec![
        ("_csrf", token.clone()),
        ("furigana", "on".into()),
        ("back", detail.clone()),
    ])
    .await
    .unwrap();
    assert!(set_cookies(&r)
        .iter()
        .any(|c| c.starts_with("mdg_furigana=on;")));
    let (status, html) = get(&c, app, &detail).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<ruby>住民票<rp>(</rp><rt>じゅうみんひょう</rt><rp>)</rp></ruby>"),
        "{html}"
    );
    assert!(html.contains("name=\"furigana\" value=\"off\" aria-pressed=\"true\""));
    let title = &html[html.find("<title>").unwrap()..html.find("</title>").unwrap()];
    assert!(!title.contains("<ruby>"), "{title}");
    // Not in the back office, not in the API.
    let (_, staff) = get(&c, app, &format!("/t/{T}/staff/sign-in")).await;
    assert!(!staff.contains("<ruby>"));
    let (_, api) = get(&c, app, &format!("/api/v1/t/{T}/procedures/juminhyo-copy")).await;
    assert!(!api.contains("<ruby>") && api.contains("住民票"));
    // Chinese text is not Japanese: no readings over hanzi. (A procedure
    // with no Chinese translation, whose Japanese stands in.)
    let untranslated = procedure_with_vietnamese(app).await;
    let (_, zh) = get(
        &c,
        app,
        &format!("/t/{T}/procedures/{untranslated}?lang=zh-Hans"),
    )
    .await;
    let size = kernel::i18n::t(Lang::ZhHans, "prefs.size");
    assert!(
        zh.contains(&format!(">{size}</span>")),
        "zh-Hans UI text has no ruby"
    );
    // Only the Japanese standing in for a translation does.
    assert!(
        zh.contains("<span lang=\"ja\"><ruby>"),
        "Japanese fallback gets ruby"
    );
    // Easy Japanese shows furigana unless switched off.
    let fresh = app.client();
    let (_, easy) = get(&fresh, app, &format!("{detail}?lang=ja-x-easy")).await;
    assert!(
        easy.contains("<ruby>"),
        "easy Japanese has furigana by default"
    );
    // Switched off, it stays off.
    let r = post(vec![
        ("_csrf", token.clone()),
        ("furigana", "off".into()),
        ("back", detail.clone()),
    ])
    .await
    .unwrap();
    assert!(set_cookies(&r)
        .iter()
        .any(|c| c.starts_with("mdg_furigana=off;")));
    let (_, html) = get(&c, app, &format!("{detail}?lang=ja-x-easy")).await;
    assert!(!html.contains("<ruby>"));
}

testkit::on_both_backends!(
    every_page_in_every_language,
    a_resident_keeps_the_language,
    untranslated_content_is_japanese_and_marked,
    display_preferences,
);
