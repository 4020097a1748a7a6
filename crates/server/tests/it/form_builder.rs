//! フォームビルダー over HTTP on SQLite and PostgreSQL (issue 15): staff
//! build a procedure's form field by field in a server-side draft (every
//! bad input 422 with its Japanese message, nothing changed), the live
//! form stays as it is until the draft is published as a new procedure
//! version (audited, in the history), and a resident then submits the new
//! form. Only the procedure's department (and system admins) of the
//! tenant in the path may touch a draft.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::TestApp;

const T: &str = "122289";
const P: &str = "shimin-no-koe";

fn base() -> String {
    format!("/t/{T}/staff/catalogue/{P}/form")
}

async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let token = app.csrf(c, &base()).await;
    let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    let r = c.post(app.url(path)).form(&form).send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status(), location, r.text().await.unwrap())
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The live procedure's version and its form's field names (the API).
async fn live(app: &TestApp) -> (i64, Vec<String>) {
    let version = app
        .count(&format!(
            "SELECT version FROM procedures WHERE tenant = '{T}' AND id = '{P}'"
        ))
        .await;
    let p: Value = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/procedures/{P}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names = p["form"]["fields"]
        .as_array()
        .or_else(|| p["procedure"]["form"]["fields"].as_array())
        .expect("the form's fields")
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    (version, names)
}

async fn draft_fields(app: &TestApp) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM form_drafts WHERE tenant = '{T}' AND procedure_id = '{P}'"
    ))
    .await
}

fn choice_field() -> Vec<(&'static str, &'static str)> {
    vec![
        ("fb-kind", "choice"),
        ("fb-name", "contact"),
        ("fb-label-ja", "連絡方法"),
        ("fb-label-en", "How to contact you"),
        ("fb-options-ja", "mail=郵便\nother=その他"),
        ("fb-options-en", "Post\nOther"),
        ("fb-required", "true"),
    ]
}

async fn build_publish_and_submit(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let (v0, names0) = live(app).await;
    let audits = |action: &'static str| {
        format!("SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = '{action}' AND actor LIKE '%dx-admin%'")
    };
    let (status, html) = get(&admin, app, &base()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(
        "下書きはありません。公開中のフォーム（第{v0}版）を表示しています。"
    )));
    assert!(
        html.contains("<code>reply_email</code>"),
        "the live fields listed"
    );

    // Every bad input: 422, its message naming the input, nothing kept.
    let (status, _, html) = post(
        app,
        &admin,
        &format!("{}/add", base()),
        &[
            ("fb-kind", "choice"),
            ("fb-name", "Contact Way"),
            ("fb-options-ja", "mail"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "「項目名（英字）」は英小文字で始まり、英小文字・数字・_ だけの64文字までにしてください（例：purpose_other）。",
        "「表示名（日本語）」を入力してください。",
        "「選択肢（日本語）」の1行目「mail」は「値=表示名」の形にしてください（例：other=その他）。",
        "「選択肢（日本語）」は2つ以上、1行に1つ「値=表示名」の形で入力してください。",
    ] {
        assert!(html.contains(m), "{m}\n{html}");
    }
    assert!(
        html.contains("value=\"Contact Way\""),
        "what was typed is shown back"
    );
    assert_eq!(draft_fields(app).await, 0, "no draft from a mistake");

    // Power users: JSON into the draft, its mistakes in Japanese.
    let (status, _, html) = post(
        app,
        &admin,
        &format!("{}/json", base()),
        &[(
            "form_json",
            r#"{"fields": [{"name": "a", "type": "banana", "label": {"ja": "あ"}}]}"#,
        )],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(
            "「フォームの定義（JSON）」のfields[0].type: &#34;banana&#34; は使えません。"
        ),
        "{html}"
    );
    let (status, location, _) = post(
        app,
        &admin,
        &format!("{}/json", base()),
        &[("form_json", r#"{"fields": []}"#)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{}?done=imported", base()));

    // Three fields: a choice, a condition on it, a checkbox.
    let add = format!("{}/add", base());
    let (status, location, _) = post(app, &admin, &add, &choice_field()).await;
    assert_eq!(
        (status, location.as_str()),
        (
            StatusCode::SEE_OTHER,
            format!("{}?done=added", base()).as_str()
        )
    );
    let (status, _, html) = post(app, &admin, &add, &choice_field()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("「項目名（英字）」の「contact」はこのフォームですでに使われています。別の名前にしてください。"));
    let (status, _, _) = post(
        app,
        &admin,
        &add,
        &[
            ("fb-kind", "textarea"),
            ("fb-name", "contact_other"),
            ("fb-label-ja", "その他の連絡方法"),
            ("fb-required", "true"),
            ("fb-max_length", "100"),
            ("fb-show_if", "contact:other"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = post(
        app,
        &admin,
        &add,
        &[
            ("fb-kind", "checkbox"),
            ("fb-name", "agree"),
            ("fb-label-ja", "内容を確認しました"),
            ("fb-required", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        live(app).await,
        (v0, names0.clone()),
        "the live form is untouched"
    );

    // The rules of the form refuse an order that breaks the condition.
    let (status, _, html) = post(
        app,
        &admin,
        &format!("{}/fields/contact/move", base()),
        &[("direction", "down")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("移動できません。フォーム項目「contact_other」: 表示条件の項目「contact」が、この項目より前にありません。"), "{html}");
    // A number that is not one.
    let (status, _, html) = post(
        app,
        &admin,
        &format!("{}/fields/contact_other", base()),
        &[
            ("fb-name", "contact_other"),
            ("fb-label-ja", "その他の連絡方法"),
            ("fb-max_length", "たくさん"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("「最大文字数」は1から100000までの整数で入力してください。"));

    // Delete after a confirmation page, then undo.
    let (status, html) = get(&admin, app, &format!("{}/fields/agree/delete", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("「内容を確認しました」を下書きから削除します。"));
    let (status, _, _) = post(app, &admin, &format!("{}/fields/agree/delete", base()), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get(&admin, app, &base()).await;
    assert!(!html.contains("<code>agree</code>"));
    let (status, _, _) = post(app, &admin, &format!("{}/undo", base()), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get(&admin, app, &base()).await;
    assert!(html.contains("<code>agree</code>"), "undo brought it back");
    let (status, _, _) = post(app, &admin, &format!("{}/undo", base()), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "one step of undo");

    // The preview: as residents see it, checked by the form engine.
    let (status, html) = get(&admin, app, &format!("{}/preview", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-show-if-field=\"contact\" data-show-if-equals=\"other\""));
    assert!(html.contains("「連絡方法」で「その他」を選んだ場合に入力してください。"));
    let (status, html) = get(
        &admin,
        app,
        &format!(
            "{}/preview?_check=1&contact=other&contact_other=&agree=true",
            base()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("「その他の連絡方法」を入力してください。"),
        "{html}"
    );

    // Publish: a new version, audited, the draft gone, in the history.
    let publishes = app.count(&audits("procedure.form_publish")).await;
    let (status, location, _) = post(app, &admin, &format!("{}/publish", base()), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{}?done=published-{}", base(), v0 + 1));
    assert_eq!(
        live(app).await,
        (
            v0 + 1,
            vec!["contact".into(), "contact_other".into(), "agree".into()]
        )
    );
    assert_eq!(draft_fields(app).await, 0);
    assert_eq!(
        app.count(&audits("procedure.form_publish")).await,
        publishes + 1
    );
    let (_, html) = get(&admin, app, &location).await;
    assert!(html.contains(&format!("第{}版として公開しました。", v0 + 1)));
    assert!(
        html.contains(&format!("<td>{} (現在の版)</td>", v0 + 1)),
        "{html}"
    );

    // A resident submits the new form.
    let submit = |answers: Value| {
        app.client()
            .post(app.url(&format!("/api/v1/t/{T}/procedures/{P}/applications")))
            .header("idempotency-key", kernel::ids::token())
            .json(&json!({ "answers": answers }))
            .send()
    };
    let r = submit(json!({"contact": "other", "agree": true}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = submit(json!({"contact": "other", "contact_other": "電話で", "agree": true}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Restoring the earlier version still works (the same versioning).
    let token = app
        .csrf(&admin, &format!("/t/{T}/staff/catalogue/{P}"))
        .await;
    let r = admin
        .post(app.url(&format!("/t/{T}/staff/catalogue/{P}/restore")))
        .form(&[
            ("_csrf", token.as_str()),
            ("restore_version", &v0.to_string()),
            ("version", &(v0 + 1).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(live(app).await, (v0 + 2, names0));
}

async fn conflict_and_discard_leave_the_live_form(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let before = live(app).await;
    let (status, _, _) = post(app, &admin, &format!("{}/add", base()), &choice_field()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(draft_fields(app).await, 1);
    // Someone saves the procedure in its editor meanwhile: publishing the
    // draft over that version is a conflict, never an overwrite.
    let p: Value = app
        .client()
        .get(app.url(&format!("/api/v1/t/{T}/procedures/{P}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let form = p
        .get("form")
        .or_else(|| p["procedure"].get("form"))
        .unwrap()
        .to_string();
    let version = before.0.to_string();
    let (status, _, _) = post(
        app,
        &admin,
        &format!("/t/{T}/staff/catalogue/{P}"),
        &[
            ("version", version.as_str()),
            ("name_ja", "市民の声（ご意見・ご提案）"),
            ("description_ja", "市政へのご意見をお寄せください。"),
            ("processing_time_ja", "即日"),
            ("department", "seisaku"),
            ("channels", "online"),
            ("identity_level", "none"),
            ("fee_yen", "0"),
            ("form_json", form.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, html) = post(app, &admin, &format!("{}/publish", base()), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains(
        "この手続は他の職員が先に更新しました。最新の内容を確認してから保存してください。"
    ));
    assert_eq!(draft_fields(app).await, 1, "the draft is kept");
    assert_eq!(live(app).await, (before.0 + 1, before.1.clone()));
    let (status, location, _) = post(app, &admin, &format!("{}/discard", base()), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{}?done=discarded", base()));
    assert_eq!(draft_fields(app).await, 0);
    assert_eq!(live(app).await, (before.0 + 1, before.1));
}

async fn only_the_department_of_the_tenant(app: &TestApp) {
    let admin = app.staff(T, "dx-admin").await;
    let (status, _, _) = post(app, &admin, &format!("{}/add", base()), &choice_field()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // 子育て's admin and a clerk: another department's procedure.
    for who in ["kodomo", "clerk"] {
        let c = app.staff(T, who).await;
        let (status, _) = get(&c, app, &base()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let token = app.csrf(&c, &format!("/t/{T}/staff/catalogue")).await;
        let r = c
            .post(app.url(&format!("{}/discard", base())))
            .form(&[("_csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
        // The procedure's page offers them no control they may not use:
        // it says who may change it, without the builder, save or restore.
        let page = format!("/t/{T}/staff/catalogue/juminhyo-copy");
        let (status, html) = get(&c, app, &page).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(
            html.contains("この手続を変更できるのは、担当課の管理者とシステム管理者です。")
                && !html.contains(&format!("{page}/form\""))
                && !html.contains("保存する</button>")
                && !html.contains("/restore\""),
            "{who}: {html}"
        );
    }
    // The department's own administrator has them.
    let (status, html) = get(
        &admin,
        app,
        &format!("/t/{T}/staff/catalogue/juminhyo-copy"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("この手続を変更できるのは")
            && html.contains("/t/122289/staff/catalogue/juminhyo-copy/form\"")
            && html.contains("保存する</button>"),
        "{html}"
    );
    // Another city's administrator is not signed in to this city: sent
    // to its sign-in, nothing done.
    let other = app.staff("242021", "dx-admin").await;
    let r = other.get(app.url(&base())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/t/122289/staff/sign-in"
    );
    let token = app.csrf(&other, "/t/242021/staff/catalogue").await;
    let r = other
        .post(app.url(&format!("{}/publish", base())))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/t/122289/staff/sign-in"
    );
    // Its own catalogue's procedure of the same id has no draft.
    let (status, html) = get(&other, app, "/t/242021/staff/catalogue/juminhyo-copy/form").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("下書きはありません。"));
    assert_eq!(draft_fields(app).await, 1, "the draft is still there");
}

/// テンプレート共有: 四街道市 shares a form, 四日市市 starts a draft of its
/// own procedure from it; unsharing takes it off the list. Both audited.
async fn templates_travel_between_cities(app: &TestApp) {
    let a = app.staff(T, "dx-admin").await;
    let count = |sql: String| async move { app.count(&sql).await };
    let shared = || format!("SELECT COUNT(*) FROM form_templates WHERE tenant = '{T}'");
    let audited = |action: &str| {
        format!("SELECT COUNT(*) FROM audit_log WHERE tenant = '{T}' AND action = '{action}'")
    };
    let (status, _, html) = post(
        app,
        &a,
        &format!("{}/share", base()),
        &[("fb-template-name", " "), ("fb-template-description", "")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("「テンプレート名」を入力してください。"));
    assert_eq!(count(shared()).await, 0);
    let (status, location, _) = post(
        app,
        &a,
        &format!("{}/share", base()),
        &[
            ("fb-template-name", "市民の声（意見募集）"),
            ("fb-template-description", "分野・ご意見・回答の希望"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{}?done=shared", base()));
    assert_eq!(count(shared()).await, 1);
    assert_eq!(count(audited("form_template.share")).await, 1);

    // 四日市市's administrator sees it with its source and uses it.
    let b = app.staff("242021", "dx-admin").await;
    let b_base = "/t/242021/staff/catalogue/juminhyo-copy/form";
    let b_version =
        "SELECT version FROM procedures WHERE tenant = '242021' AND id = 'juminhyo-copy'";
    let v_before = count(b_version.to_string()).await;
    let (status, html) = get(&b, app, &format!("{b_base}/templates")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("市民の声（意見募集）"));
    assert!(html.contains("提供：四街道市"), "{html}");
    let token = app.csrf(&b, b_base).await;
    let use_it = |token: String| {
        b.post(app.url(&format!("{b_base}/templates/use")))
            .form(&[
                ("_csrf", token),
                ("source", T.to_string()),
                ("template", P.to_string()),
            ])
            .send()
    };
    let r = use_it(token.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&b, app, b_base).await;
    assert!(
        html.contains("<code>reply_email</code>"),
        "the template's fields in B's draft"
    );
    assert_eq!(
        count(b_version.to_string()).await,
        v_before,
        "B's live form untouched"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM form_drafts WHERE tenant = '242021' AND procedure_id = 'juminhyo-copy'".into()).await,
        1
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM form_drafts WHERE tenant = '{T}'"
        ))
        .await,
        0,
        "nothing written in A"
    );

    // Unshared: gone from the list, and using it is 404.
    let (status, _, _) = post(app, &a, &format!("{}/unshare", base()), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(count(audited("form_template.unshare")).await, 1);
    let (_, html) = get(&b, app, &format!("{b_base}/templates")).await;
    assert!(!html.contains("市民の声（意見募集）"));
    assert!(html.contains("共有されたテンプレートはまだありません。"));
    let r = use_it(token).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

testkit::on_both_backends!(
    build_publish_and_submit,
    conflict_and_discard_leave_the_live_form,
    only_the_department_of_the_tenant,
    templates_travel_between_cities,
);
