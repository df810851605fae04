//! Who may do what, over real HTTP: every route as every kind of caller, sign-in and its throttling,
//! session expiry (idle and absolute), sign-out, tokens (scopes, revocation, rate limit), signed event
//! sources, CSRF refusals, the Content-Security-Policy, the first start, the audit trail and the CLI.

use backend::access::{Role, Scope};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{self, spawn_app, Setup, TestApp};

/// A caller in the matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    Viewer,
    Operator,
    Admin,
    IngestToken,
    ReadToken,
    OperateToken,
}

/// What a caller gets from a route: let through (any answer but 401/403), or refused.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Through,
    Unauthorized,
    Forbidden,
    /// Pages send the anonymous to the login page.
    ToLogin,
}

use Caller::*;
use Outcome::*;

async fn clients(app: &TestApp) -> Vec<(Caller, reqwest::Client)> {
    let mut clients = vec![(Anonymous, app.anonymous.clone())];
    for (caller, role) in [(Viewer, Role::Viewer), (Operator, Role::Operator), (Admin, Role::Admin)] {
        clients.push((caller, app.signed_in(role).await.0));
    }
    for (caller, scope) in [(IngestToken, Scope::Ingest), (ReadToken, Scope::Read), (OperateToken, Scope::Operate)] {
        clients.push((caller, token_client(app, scope).await));
    }
    clients
}

/// A client that sends a new token of `scope` owned by the admin.
async fn token_client(app: &TestApp, scope: Scope) -> reqwest::Client {
    let created = backend::auth::manage::create_token(&app.state.store, "admin", "test", &[scope], None).await.unwrap();
    bearer(secrecy::ExposeSecret::expose_secret(&created.token))
}

fn bearer(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    helpers::client_builder().default_headers(headers).build().unwrap()
}

fn outcome(status: StatusCode, location: Option<&str>) -> Outcome {
    match status {
        StatusCode::UNAUTHORIZED => Unauthorized,
        StatusCode::FORBIDDEN => Forbidden,
        StatusCode::SEE_OTHER if location.is_some_and(|l| l.starts_with("/login")) => ToLogin,
        _ => Through,
    }
}

/// The expected outcome per caller, in the order of [`Caller`].
fn expect(table: [Outcome; 7]) -> impl Fn(Caller) -> Outcome {
    move |caller| {
        let index = [Anonymous, Viewer, Operator, Admin, IngestToken, ReadToken, OperateToken]
            .iter()
            .position(|c| *c == caller)
            .unwrap();
        table[index]
    }
}

#[tokio::test]
async fn every_route_lets_through_exactly_the_callers_it_should() {
    let app = spawn_app().await;
    let clients = clients(&app).await;
    let reader = expect([Unauthorized, Through, Through, Through, Forbidden, Through, Through]);
    let page = expect([ToLogin, Through, Through, Through, Forbidden, Through, Through]);
    let operator = expect([Unauthorized, Forbidden, Through, Through, Forbidden, Forbidden, Through]);
    let admin = expect([Unauthorized, Forbidden, Forbidden, Through, Forbidden, Forbidden, Forbidden]);
    let ingest = expect([Unauthorized, Forbidden, Forbidden, Through, Through, Forbidden, Forbidden]);
    let public = expect([Through; 7]);
    // No signature here: only callers that may ingest get past (then 404: no such source).
    let ingest_or_signed =
        expect([Unauthorized, Unauthorized, Unauthorized, Through, Through, Unauthorized, Unauthorized]);
    let event = json!({"specversion": "1.0", "id": "m-1", "source": "/t", "type": "access.test"});
    // (method, path, JSON body, who gets through)
    let routes: Vec<(Method, &str, Option<serde_json::Value>, &dyn Fn(Caller) -> Outcome)> = vec![
        (Method::GET, "/health", None, &public),
        (Method::GET, "/login", None, &public),
        (Method::GET, "/services", None, &page),
        (Method::GET, "/services/quick", None, &page),
        (Method::GET, "/executions", None, &page),
        (Method::GET, "/admin/users", None, &page),
        (Method::GET, "/api/v1/executions", None, &reader),
        (Method::GET, "/api/v1/executions/none", None, &reader),
        (Method::GET, "/api/v1/executions/none/log", None, &reader),
        (Method::GET, "/api/v1/executions/none/log/stream", None, &reader),
        (Method::POST, "/api/v1/executions/none/cancel", None, &operator),
        (Method::POST, "/executions/none/cancel", None, &operator),
        (Method::POST, "/services/auto_only/run", None, &operator),
        (Method::POST, "/api/v1/events", Some(event), &ingest),
        (Method::GET, "/api/v1/users", None, &admin),
        (Method::POST, "/api/v1/users", Some(json!({"name": "x", "role": "viewer", "password": "short"})), &admin),
        (Method::PATCH, "/api/v1/users/nobody", Some(json!({"role": "viewer"})), &admin),
        (Method::DELETE, "/api/v1/users/nobody", None, &admin),
        (Method::GET, "/api/v1/tokens", None, &admin),
        (Method::POST, "/api/v1/tokens", Some(json!({"name": "n", "scopes": []})), &admin),
        (Method::DELETE, "/api/v1/tokens/none", None, &admin),
        (Method::GET, "/api/v1/sources", None, &admin),
        (Method::POST, "/api/v1/sources", Some(json!({"name": "bad name!"})), &admin),
        (Method::DELETE, "/api/v1/sources/none", None, &admin),
        (Method::GET, "/api/v1/audit", None, &admin),
        (Method::GET, "/api/v1/dead-letters", None, &admin),
        (Method::POST, "/api/v1/dead-letters/999/replay", None, &admin),
        (Method::GET, "/ready", None, &public),
        (Method::POST, "/api/v1/webhooks/none", Some(json!({})), &ingest_or_signed),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &routes {
        for (caller, client) in &clients {
            let mut request = client.request(method.clone(), app.url(path));
            if let Some(body) = body {
                request = request.json(body);
            }
            if *path == "/services/auto_only/run" {
                request = request.multipart(reqwest::multipart::Form::new());
            }
            let response = request.send().await.unwrap();
            let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
            let got = outcome(response.status(), location.as_deref());
            if got != expected(*caller) {
                wrong.push(format!(
                    "{method} {path} as {caller:?}: {got:?} ({}), expected {:?}",
                    response.status(),
                    expected(*caller)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn server_functions_check_the_role_themselves() {
    let app = spawn_app().await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let call = |client: reqwest::Client, endpoint: &'static str, form: Vec<(&'static str, &'static str)>| {
        let url = app.url(&format!("/api/{endpoint}"));
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    // Reads: the anonymous are refused before the function runs; viewers may read.
    assert_eq!(call(app.anonymous.clone(), "list_executions", vec![]).await.0, StatusCode::UNAUTHORIZED);
    assert!(call(viewer.clone(), "list_executions", vec![]).await.0.is_success());
    // Admin functions refuse a viewer inside the function, whatever the page showed.
    for (endpoint, form) in [
        ("list_users", vec![]),
        ("add_user", vec![("name", "mallory"), ("role", "admin"), ("password", "a long enough password")]),
        ("create_token", vec![("name", "x"), ("scopes", "admin"), ("owner", "")]),
        ("add_source", vec![("name", "evil")]),
        ("audit_trail", vec![]),
        ("list_dead_letters", vec![]),
        ("replay_dead_letter", vec![("id", "1")]),
    ] {
        let (status, body) = call(viewer.clone(), endpoint, form).await;
        assert!(!status.is_success() && body.contains("may not administer"), "{endpoint}: {status} {body}");
    }
    assert!(app.state.store.user("mallory").await.unwrap().is_none(), "the refused call changed nothing");
    let (status, body) = call(admin, "create_token", vec![("name", "ci"), ("scopes", "ingest"), ("owner", "")]).await;
    assert!(status.is_success() && body.contains("k8x_"), "{status} {body}");
}

#[tokio::test]
async fn sign_in_makes_a_new_httponly_session_and_sign_out_ends_it() {
    let app = spawn_app().await;
    // A session id planted before sign-in (fixation) is not the one after it.
    let planted = "k8x_session=AAAAAAAAAAAAAAAAAAAAAA";
    let response = app
        .anonymous
        .post(app.url("/auth/login"))
        .header("cookie", planted)
        .form(&[("name", "admin"), ("password", helpers::ADMIN_PASSWORD), ("next", "/services")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/services");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("k8x_session=") && !cookie.starts_with(planted), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag ({cookie})");

    let client = app.sign_in("admin", helpers::ADMIN_PASSWORD).await.unwrap();
    let page = client.get(app.url("/services")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Signed in as") && page.contains("admin"), "the header names the user");
    let out = client.post(app.url("/auth/logout")).send().await.unwrap();
    assert_eq!(out.headers()["location"], "/login");
    let after = client.get(app.url("/api/v1/executions")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_sign_ins_are_slowed_per_account_and_audited() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let refused = app.sign_in("admin", "wrong password").await.unwrap_err();
        assert!(refused.starts_with("/login?error=wrong&"), "{refused}");
    }
    let throttled = app.sign_in("admin", helpers::ADMIN_PASSWORD).await.unwrap_err();
    assert!(throttled.starts_with("/login?error=wait&wait="), "even the right password waits: {throttled}");
    // Another account from the same address is not held up by admin's failures.
    let (_, name) = app.signed_in(Role::Viewer).await;
    let trail = app.state.store.audit_trail(100).await.unwrap();
    let failed = trail.iter().filter(|e| e.action == "signin-failed" && e.actor == "admin").count();
    assert_eq!(failed, 5);
    let unknown = app.sign_in("correct-horse-battery", "x").await.unwrap_err();
    assert!(unknown.starts_with("/login?error=wrong"));
    let trail = app.state.store.audit_trail(100).await.unwrap();
    assert!(!trail.iter().any(|e| e.actor.contains("correct-horse")), "unknown names are not written down");
    assert!(trail.iter().any(|e| e.action == "signin-failed" && e.actor == "(unknown user)"));
    let signin = trail.iter().find(|e| e.action == "signin" && e.actor == name).expect("the sign-in is audited");
    assert_eq!(signin.address.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn sessions_end_when_idle_and_after_their_lifetime() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let (client, _) = app.signed_in(Role::Viewer).await;
    assert!(client.get(app.url("/api/v1/executions")).send().await.unwrap().status().is_success());
    let db = app.state.store.db();
    let sql = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    // Idle: the stored expiry passed.
    db.execute_raw(sql("UPDATE sessions SET expires_at = '2020-01-01 00:00:00+00:00'")).await.unwrap();
    assert_eq!(client.get(app.url("/api/v1/executions")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Lifetime: signed in two days ago, busy ever since.
    let (client, _) = app.signed_in(Role::Viewer).await;
    let cookie = session_cookie(&app).await;
    let id = cookie.strip_prefix("k8x_session=").unwrap();
    let store = &app.state.store;
    // Edited as text: the record's id is an i128, which a serde_json::Value would turn into a float.
    let record = store.session(id).await.unwrap().unwrap();
    let value: serde_json::Value = serde_json::from_str(&record).unwrap();
    let at = value["data"]["user"]["signed_in_at"].as_i64().unwrap();
    let record = record.replace(&format!("\"signed_in_at\":{at}"), &format!("\"signed_in_at\":{}", at - 2 * 24 * 3600));
    let in_an_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    store.save_session(id, &record, in_an_hour).await.unwrap();
    let response = client.get(app.url("/services")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "an expired session is sent to sign in");
    assert!(store.session(id).await.unwrap().is_none(), "and is gone");
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/login?next=%2Fservices"));
}

#[tokio::test]
async fn activity_moves_the_idle_expiry_on_and_a_new_password_ends_sessions() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let (client, name) = app.signed_in(Role::Operator).await;
    let cookie = session_cookie(&app).await;
    let id = cookie.strip_prefix("k8x_session=").unwrap().to_owned();
    let db = app.state.store.db();
    let expiry = || async {
        let sql = format!("SELECT expires_at FROM sessions WHERE id = '{id}'");
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        row.try_get::<chrono::DateTime<chrono::Utc>>("", "expires_at").unwrap()
    };
    // Last seen ten minutes ago, expiring then too: a request now moves the expiry a full idle period on.
    let store = &app.state.store;
    let record = store.session(&id).await.unwrap().unwrap();
    let value: serde_json::Value = serde_json::from_str(&record).unwrap();
    let seen = value["data"]["user"]["seen_at"].as_i64().unwrap();
    let record = record.replace(&format!("\"seen_at\":{seen}"), &format!("\"seen_at\":{}", seen - 600));
    let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
    store.save_session(&id, &record, soon).await.unwrap();
    assert!(client.get(app.url("/api/v1/executions")).send().await.unwrap().status().is_success());
    let moved = expiry().await;
    assert!(moved > chrono::Utc::now() + chrono::Duration::hours(7), "idle expiry moved on to {moved}");

    backend::auth::manage::set_password(store, &name, "another long password".into()).await.unwrap();
    assert_eq!(client.get(app.url("/api/v1/executions")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let last = app.client.delete(app.url("/api/v1/users/admin")).send().await.unwrap();
    assert_eq!(last.status(), StatusCode::BAD_REQUEST);
    assert!(last.text().await.unwrap().contains("last admin"));
}

#[tokio::test]
async fn a_signed_in_state_change_without_origin_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in(Role::Operator).await;
    // The session cookie alone, as a request forged without browser headers would carry it.
    let cookie_only = helpers::client_builder().build().unwrap();
    let cookies = client.get(app.url("/api/v1/executions")).send().await.unwrap();
    assert!(cookies.status().is_success());
    let response = app
        .anonymous
        .post(app.url("/services/quick/run"))
        .header("cookie", session_cookie(&app).await)
        .multipart(reqwest::multipart::Form::new())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("Origin"));
    drop(cookie_only);
    // With the browser's Origin it goes through.
    let ok = client.post(app.url("/services/quick/run")).multipart(reqwest::multipart::Form::new()).send().await;
    assert_eq!(ok.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(app.state.store.executions(Some("quick"), 10).await.unwrap().len(), 1, "only the second one ran");
}

/// The cookie of the one live session (the tests using it have one browser signed in).
async fn session_cookie(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.state.store.db();
    let sql = "SELECT id FROM sessions WHERE expires_at > CURRENT_TIMESTAMP".to_owned();
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    assert_eq!(rows.len(), 1, "one live session");
    format!("k8x_session={}", rows[0].try_get::<String>("", "id").unwrap())
}

#[tokio::test]
async fn tokens_are_scoped_revocable_and_rate_limited() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut config = helpers::config(Setup::default(), dir.path());
    config.token_requests_per_second = 3;
    let app = helpers::spawn_config(config, dir).await;
    let created: serde_json::Value = app
        .client
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"name": "ci", "scopes": ["ingest"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let listed: serde_json::Value =
        app.client.get(app.url("/api/v1/tokens")).send().await.unwrap().json().await.unwrap();
    let text = listed.to_string();
    assert!(!text.contains(&token), "a list never carries a token");
    assert!(text.contains(created["prefix"].as_str().unwrap()));
    let ingest = bearer(&token);
    let event = json!({"specversion": "1.0", "id": "t-1", "source": "/t", "type": "nobody.listens"});
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let request = ingest.post(app.url("/api/v1/events")).header("content-type", "application/cloudevents+json");
        statuses.push(request.body(event.to_string()).send().await.unwrap());
    }
    assert_eq!(statuses[0].status(), StatusCode::ACCEPTED);
    let limited = statuses.iter().find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).expect("over 3/s is refused");
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).send().await.unwrap().status(), 204);
    let revoked = ingest.post(app.url("/api/v1/events")).json(&event).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    assert!(revoked.text().await.unwrap().contains("revoked"));
    // Last use is kept.
    let row = app.state.store.tokens().await.unwrap().into_iter().find(|t| t.id == id).unwrap();
    assert!(row.last_used_at.is_some() && row.revoked_at.is_some());
}

#[tokio::test]
async fn signed_sources_are_accepted_only_with_the_right_signature() {
    let app = spawn_app().await;
    let added: serde_json::Value = app
        .client
        .post(app.url("/api/v1/sources"))
        .json(&json!({"name": "github"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = added["secret"].as_str().unwrap().to_owned();
    use sea_orm::EntityTrait;
    let raw = backend::store::entities::event_source::Entity::find_by_id("github".to_owned());
    let row = raw.one(app.state.store.db()).await.unwrap().unwrap();
    assert!(row.secret.starts_with("v1:") && !row.secret.contains(&secret), "the secret is sealed at rest");
    let body = json!({"specversion": "1.0", "id": "gh-1", "source": "/github", "type": "nobody.listens"}).to_string();
    let post = |signature: Option<String>, path: &'static str| {
        let mut request =
            app.anonymous.post(app.url(path)).header("content-type", "application/cloudevents+json").body(body.clone());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        async move { request.send().await.unwrap().status() }
    };
    let good = backend::auth::signature::sign(secret.as_bytes(), body.as_bytes());
    let bad = backend::auth::signature::sign(b"guessed", body.as_bytes());
    assert_eq!(post(Some(good.clone()), "/api/v1/sources/github/events").await, StatusCode::ACCEPTED);
    // The event speaks for its source only: `source` is the registered one, the claimed one kept aside.
    let event = app.published("gh-1").await;
    assert_eq!((event["source"].as_str(), event["claimedsource"].as_str()), (Some("/sources/github"), Some("/github")));
    assert_eq!(post(Some(bad), "/api/v1/sources/github/events").await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(None, "/api/v1/sources/github/events").await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(Some(good.clone()), "/api/v1/sources/gitlab/events").await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(Some(good), "/api/v1/events").await, StatusCode::UNAUTHORIZED, "a signature is no token");
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_the_scripts_nonce() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/services")).send().await.unwrap();
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let html = response.text().await.unwrap();
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce");
    assert!(nonce.len() >= 16);
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the page's scripts carry the nonce");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{policy}");
    let again = app.client.get(app.url("/services")).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(nonce), "a nonce per response");
}

#[tokio::test]
async fn the_first_start_writes_the_admin_password_and_an_ingest_token_for_the_quickstart() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut config = helpers::config(Setup::default(), dir.path());
    config.admin_password = None;
    config.bootstrap_token = None;
    let data = config.data_dir.clone();
    let app = helpers::spawn_config(config, dir).await;
    let password = std::fs::read_to_string(data.join("admin-password")).unwrap();
    let token = std::fs::read_to_string(data.join("ingest-token")).unwrap();
    #[cfg(unix)]
    for file in ["admin-password", "ingest-token"] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(data.join(file)).unwrap().permissions().mode() & 0o777, 0o600, "{file}");
    }
    app.sign_in("admin", &password).await.expect("the written password signs in");
    let ingest = bearer(&token);
    let event = json!({"specversion": "1.0", "id": "q-1", "source": "/q", "type": "nobody.listens"});
    let posted =
        ingest.post(app.url("/api/v1/events")).header("content-type", "application/cloudevents+json").json(&event);
    assert_eq!(posted.send().await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(ingest.get(app.url("/api/v1/executions")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // A restart makes no second admin and leaves the files alone.
    let dir = app.stop().await;
    let app = helpers::spawn_config(
        {
            let mut config = helpers::config(Setup::default(), dir.path());
            config.admin_password = None;
            config.bootstrap_token = None;
            config
        },
        dir,
    )
    .await;
    assert_eq!(std::fs::read_to_string(data.join("admin-password")).unwrap(), password);
    assert_eq!(app.state.store.user_count().await.unwrap(), 1);
}

#[tokio::test]
async fn runs_cancels_and_changes_are_in_the_audit_trail() {
    let app = spawn_app().await;
    let (operator, name) = app.signed_in(Role::Operator).await;
    let ran = operator.post(app.url("/services/quick/run")).multipart(reqwest::multipart::Form::new()).send().await;
    assert_eq!(ran.unwrap().status(), StatusCode::SEE_OTHER);
    app.client.post(app.url("/api/v1/users")).json(&json!({"name": "dora", "role": "viewer"})).send().await.unwrap();
    let trail: Vec<serde_json::Value> =
        app.client.get(app.url("/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    let find = |action: &str| trail.iter().find(|e| e["action"] == action).cloned();
    let run = find("run").expect("the run is audited");
    assert_eq!((run["actor"].as_str(), run["target"].as_str()), (Some(name.as_str()), Some("quick")));
    assert_eq!(run["address"], "127.0.0.1");
    let added = find("user-add").expect("the new user is audited");
    assert!(added["actor"].as_str().unwrap().starts_with("admin (token k8x_test_adm"), "{added}");
    assert_eq!(added["target"], "dora");
}

#[tokio::test]
async fn the_command_line_manages_users_and_tokens() {
    let dir = tempfile::TempDir::new().unwrap();
    let k8x = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_k8x"))
            .args(args)
            .env("K8X_DATA_DIR", dir.path())
            .env("K8X_CONFIG", dir.path().join("none.toml"))
            .env_remove("K8X_DATABASE_URL")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };
    let (ok, out) = k8x(&["user", "add", "carol", "--role", "operator"]);
    assert!(ok && out.contains("added carol (operator)") && out.contains("password: "), "{out}");
    let (ok, out) = k8x(&["user", "add", "carol"]);
    assert!(!ok && out.contains("exists already"), "{out}");
    let (ok, out) = k8x(&["user", "add", "bad name", "--role", "root"]);
    assert!(!ok && out.contains("root"), "{out}");
    let (ok, out) = k8x(&["token", "create", "--name", "ci", "--scopes", "ingest", "--owner", "carol"]);
    assert!(!ok && out.contains("cannot own a token with scope `ingest`"), "{out}");
    let (ok, token) = k8x(&["token", "create", "--name", "ci", "--scopes", "read,operate", "--owner", "carol"]);
    assert!(ok && token.trim().starts_with("k8x_"), "{token}");
    let (ok, list) = k8x(&["token", "list"]);
    let prefix: String = token.trim().chars().take(12).collect();
    assert!(ok && list.contains(&prefix) && list.contains("read,operate") && !list.contains(token.trim()), "{list}");
    let (ok, out) = k8x(&["token", "revoke", &prefix]);
    assert!(ok && out.contains("revoked"), "{out}");
    let (ok, list) = k8x(&["token", "list"]);
    assert!(ok && list.contains("revoked"), "{list}");
    let (ok, out) = k8x(&["user", "passwd", "carol"]);
    assert!(ok && out.contains("password: "), "{out}");
    let (ok, out) = k8x(&["user", "remove", "carol"]);
    assert!(ok, "{out}");
    let (ok, list) = k8x(&["user", "list"]);
    assert!(ok && !list.contains("carol"), "{list}");
}
