//! Browser safety on every route. A state-changing request that the browser marks as coming from another
//! site — `Sec-Fetch-Site: cross-site` / `same-site`, or an `Origin` that is not this host — is refused
//! with 403 before anything runs, so a page elsewhere cannot start a run in the browser of someone who has
//! k8x open. Requests without those headers (curl, webhooks, other servers) are not sent by a browser on
//! another site's behalf and pass. Every response forbids framing and content-type sniffing.

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::api_error::ApiError;

/// Refuses cross-site state changes, then adds the protective headers.
pub async fn guard(request: Request, next: Next) -> Response {
    if changes_state(request.method()) {
        if let Some(why) = cross_site(&request) {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), why, "refused a cross-site request");
            let mut refused = ApiError::Forbidden(format!("cross-site request refused: {why}")).into_response();
            protect(&mut refused);
            return refused;
        }
    }
    let mut response = next.run(request).await;
    protect(&mut response);
    response
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why the request comes from another site, if it does.
fn cross_site(request: &Request) -> Option<&'static str> {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            _ => Some("Sec-Fetch-Site says another site sent it"),
        };
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("null");
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
    (origin_host != Some(host) || host.is_empty()).then_some("its Origin is not this host")
}

fn protect(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}
