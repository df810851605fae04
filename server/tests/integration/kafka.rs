//! The same event path on the Kafka bus, against librdkafka's in-process mock cluster.

use rdkafka::mocking::MockCluster;
use serde_json::json;

use crate::helpers::spawn_app_on_kafka;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_travel_over_kafka_and_run_once() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("k8x.events", 3, 1).unwrap();
    cluster.create_topic("k8x.events.dead-letters", 1, 1).unwrap();
    let app = spawn_app_on_kafka(cluster.bootstrap_servers()).await;

    for _ in 0..2 {
        assert_eq!(app.post_event("kafka-1", "t.quick", json!({"via": "kafka"})).await.status(), 202);
    }
    let runs = app.executions_of("kafka-1", 1).await;
    assert_eq!(runs[0].status, "succeeded");
    assert!(app.log(&runs[0].id).await.contains(&r#"params={"via":"kafka"}"#.to_owned()));

    // The completion event went over Kafka too and chains: `failing` → `on_failure`.
    app.post_event("kafka-2", "t.fail", json!({})).await;
    let chained = crate::helpers::wait_until(|| async {
        let rows = app.state.store.executions(Some("on_failure"), 1).await.unwrap();
        rows.into_iter().next().filter(|r| r.status == "succeeded")
    })
    .await;
    assert_eq!(chained.event_type, "k8x.execution.failed");
}
