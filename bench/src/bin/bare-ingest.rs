//! The baseline for the ingest benchmark: parse a binary- or structured-mode CloudEvent with cloudevents-sdk
//! and answer 202 — no authentication, no storage. `bare-ingest 127.0.0.1:3999`.

use axum::{body::Bytes, http::HeaderMap, http::StatusCode, routing::post, Router};

async fn ingest(headers: HeaderMap, body: Bytes) -> StatusCode {
    match cloudevents::binding::http::to_event(&headers, body.to_vec()) {
        Ok(_) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3999".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, Router::new().route("/api/v1/events", post(ingest))).await?;
    Ok(())
}
