//! The live log stream and the download.

use futures::StreamExt;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_stream_follows_a_running_execution_to_its_end() {
    let app = spawn_app().await;
    app.post_event("live", "t.slow", serde_json::json!({})).await;
    let key = backend::ids::event_key("/tests", "live");
    let execution_id = backend::ids::execution_id(&key, "slow");

    // Opened before the execution even exists: the stream waits for it.
    let response =
        app.client.get(app.url(&format!("/api/v1/executions/{execution_id}/log/stream"))).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = String::new();
    let mut chunks = response.bytes_stream();
    let mut saw_running_before_done = false;
    let read = async {
        while let Some(chunk) = chunks.next().await {
            body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if body.contains(r#""status":"running""#) && !body.contains("DONE!") {
                saw_running_before_done = true;
            }
            if body.contains("event: end") {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), read).await.expect("the stream ends");
    assert!(saw_running_before_done, "lines arrive while the execution runs: {body}");
    let begin = body.find(r#""text":"BEGIN""#).expect("BEGIN streamed");
    let done = body.find(r#""text":"DONE!""#).expect("DONE! streamed");
    assert!(begin < done);
    assert!(body.contains(r#""status":"succeeded""#), "{body}");

    // Resuming after a line sends only what follows it.
    let resumed = app
        .client
        .get(app.url(&format!("/api/v1/executions/{execution_id}/log/stream?after=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!resumed.contains("BEGIN") && resumed.contains("DONE!"), "{resumed}");
}

#[tokio::test]
async fn the_whole_log_downloads_as_text() {
    let app = spawn_app().await;
    app.post_event("dl", "t.quick", serde_json::json!({})).await;
    let run = &app.executions_of("dl", 1).await[0];
    let response = app.client.get(app.url(&format!("/api/v1/executions/{}/log", run.id))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains(".log"));
    let text = response.text().await.unwrap();
    assert!(text.starts_with("BEGIN\n") && text.ends_with("DONE!\n"), "{text}");
    assert!(!text.contains("sup3r-s3cret"));
    let missing = app.client.get(app.url("/api/v1/executions/nope/log")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
