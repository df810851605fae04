//! The UI's pages render on the server, with the data in them, before any WebAssembly runs.

use crate::helpers::{spawn_app, spawn_app_with, Db};

async fn page(app: &crate::helpers::TestApp, path: &str) -> String {
    let response = app.client.get(app.url(path)).send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn services_executions_and_logs_render_on_the_server() {
    let app = spawn_app().await;
    let services = page(&app, "/services").await;
    for name in ["quick", "slow", "form", "inactive_one"] {
        assert!(services.contains(&format!(r#"href="/services/{name}""#)), "{name} listed");
    }
    let found = page(&app, "/services?q=T.SLOW").await;
    assert!(found.contains(r#"href="/services/slow""#), "search matches trigger events, ignoring case");
    assert!(!found.contains(r#"href="/services/quick""#), "search leaves out what does not match");
    let form = page(&app, "/services/form").await;
    assert!(form.contains(r#"name="count""#) && form.contains(r#"type="number""#), "the form renders its fields");
    assert!(form.contains(r#"type="file""#));
    let quick = page(&app, "/services/quick").await;
    assert!(quick.contains("TOKEN"), "secret names are shown");
    assert!(!quick.contains("sup3r-s3cret"), "secret values never are");

    app.post_event("page-1", "t.quick", serde_json::json!({})).await;
    let run = &app.executions_of("page-1", 1).await[0];
    let executions = page(&app, "/executions").await;
    assert!(executions.contains(&format!(r#"href="/executions/{}""#, run.id)));
    let execution = page(&app, &format!("/executions/{}", run.id)).await;
    assert!(execution.contains("DONE!") && execution.contains("succeeded"));
}

#[tokio::test]
async fn a_long_log_shows_its_tail_and_downloads_whole() {
    let app = spawn_app().await;
    app.post_event("chatty-1", "t.chatty", serde_json::json!({})).await;
    let run = &app.executions_of("chatty-1", 1).await[0];
    let html = page(&app, &format!("/executions/{}", run.id)).await;
    assert!(html.contains("log-truncated"));
    assert!(html.contains(">line-6000") && html.contains(">line-1001<"), "the newest 5000 lines are shown");
    assert!(!html.contains(">line-1000<"), "older lines are left out");
    let first = page(&app, &format!("/executions/{}?log=all", run.id)).await;
    assert!(first.contains(">line-1<") && first.contains(">line-5000<") && !first.contains(">line-5001<"));
    assert!(first.contains("Lines 1–5000 of 6000") && !first.contains("log-truncated"));
    assert!(
        first.contains(&format!(r#"rel="next external" href="/executions/{}?log_page=2""#, run.id)),
        "a link to the next page"
    );
    let second = page(&app, &format!("/executions/{}?log_page=2", run.id)).await;
    assert!(second.contains(">line-5001<") && second.contains(">line-6000<") && !second.contains(">line-5000<"));
    assert!(second.contains("Lines 5001–6000 of 6000") && !second.contains(r#"rel="next external""#));
    // A search finds the lines containing the text, ignoring case, and only those.
    let found = page(&app, &format!("/executions/{}?log_q=LINE-599", run.id)).await;
    assert!(found.contains("of 11 containing"), "line-599 and line-5990…5999");
    assert!(found.contains(">line-599<") && found.contains(">line-5999<") && !found.contains(">line-600<"));
    let text = app.client.get(app.url(&format!("/api/v1/executions/{}/log", run.id))).send().await.unwrap();
    assert_eq!(text.text().await.unwrap().lines().count(), 6000);
}

#[tokio::test]
async fn the_demo_project_loads_without_problems() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo");
    copy_dir(&demo, &dir.path().join("project"));
    let app = spawn_app_with(Db::Sqlite, dir).await;
    let problems = app.state.projects.problems().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<String> = app.state.store.services().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["form_demo", "k8s_test_job"]);
    let form = page(&app, "/services/form_demo").await;
    for kind in ["text", "textarea", "file", "int", "float", "select", "multiselect", "radio"] {
        assert!(form.contains(&format!("field field-{kind}")), "the demo form has a {kind} field");
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn the_services_list_comes_in_pages_with_each_services_last_run_and_a_literal_search() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    for n in 0..120 {
        let manifest = format!(
            r#"{{"name": "svc-{n:03}", "type": "k8x_job", "description": "{}", "trigger_events": ["t.svc-{n:03}"]}}"#,
            if n == 77 { "50% done" } else { "5 of 10 done" }
        );
        crate::helpers::service(&project, &format!("svc-{n:03}"), &manifest, "echo ran", &[]);
    }
    let app = spawn_app_with(Db::Sqlite, dir).await;
    app.post_event("pages-1", "t.svc-001", serde_json::json!({})).await;
    let run = app.finished(&app.executions_of("pages-1", 1).await[0].id).await;

    let first = page(&app, "/services").await;
    assert!(first.contains("Services 1–50 of 120"), "the pager counts");
    assert!(first.contains(r#"href="/services/svc-049""#) && !first.contains(r#"href="/services/svc-050""#));
    assert!(first.contains(r#"href="/services?page=2""#) && !first.contains(r#"rel="prev""#));
    assert!(first.contains(&format!(r#"href="/executions/{}""#, run.id)), "svc-001's last run is shown");
    let last = page(&app, "/services?page=3").await;
    assert!(last.contains("Services 101–120 of 120") && last.contains(r#"href="/services/svc-119""#));
    assert!(last.contains(r#"href="/services?page=2""#) && !last.contains(r#"rel="next""#));
    // `%` is a character to look for, not a wildcard.
    let found = page(&app, "/services?q=50%25").await;
    assert!(
        found.contains(r#"href="/services/svc-077""#) && found.contains("Services 1–1 of 1"),
        "only the literal match"
    );
    let none = page(&app, "/services?q=nothing-like-it").await;
    assert!(none.contains("No services match."), "an empty search says so");
}
