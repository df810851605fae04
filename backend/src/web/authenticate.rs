//! Authentication on every route: a request carries an API token (`Authorization: Bearer …`) or a session
//! cookie of a signed-in user, and leaves here with a [`Principal`] in its extensions — or, where a route is
//! not public, with a 401 (API) or a redirect to `/login` (pages). Which permission a route needs is the
//! route's own check ([`Principal::require`]); this layer only establishes who is asking.
//!
//! A state-changing request authenticated by the session cookie must also show where it comes from
//! (`Origin` or `Sec-Fetch-Site`, which browsers send and [`super::browser`] checks): a cookie travels by
//! itself, a bearer token does not.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::{
    access::Permission,
    api_error::ApiError,
    auth::{manage, password, token, Principal, Via},
    state::AppState,
};

/// The session key under which a signed-in user is kept.
pub const USER_KEY: &str = "user";

/// What a session remembers of its user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub name: String,
    /// Unix seconds of the sign-in: the session ends `session_lifetime_hours` later whatever happens.
    pub signed_in_at: i64,
    /// Unix seconds of the last request that was written down: each write moves the idle expiry on.
    pub seen_at: i64,
    /// The fingerprint of the password hash signed in with: a new password ends the session.
    pub credential: String,
}

/// Token use is written down at most this often per token.
const TOUCH_EVERY: Duration = Duration::seconds(60);
/// A session's activity is written down (moving its idle expiry on) at most this often.
const SEEN_EVERY: i64 = 60;

/// Establishes the principal, or refuses a request that needs one.
pub async fn authenticate(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let address = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
    let principal = match bearer(&request) {
        Some(value) => match from_token(&state, value, address.clone()).await {
            Ok(principal) => Some(principal),
            Err(refused) => return refused.into_response(),
        },
        None => match from_session(&state, &session, address).await {
            Ok(principal) => principal,
            Err(failed) => return failed.into_response(),
        },
    };
    let path = request.uri().path().to_owned();
    match principal {
        Some(principal) => {
            if matches!(principal.via, Via::Session { .. })
                && changes_state(request.method())
                && !shows_origin(&request)
            {
                return ApiError::Forbidden(
                    "a signed-in browser request that changes something must carry Origin or Sec-Fetch-Site".into(),
                )
                .into_response();
            }
            // Every page shows k8x's state: a caller who may not read gets none (an ingest token, say).
            if !public(&path) && !path.starts_with("/api/") && request.method() == Method::GET {
                if let Err(refused) = principal.require(Permission::Read) {
                    return refused.into_response();
                }
            }
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        None if public(&path) => next.run(request).await,
        None if path.starts_with("/api/") || request.method() != Method::GET => {
            ApiError::Unauthorized("sign in, or send an API token as `Authorization: Bearer …`".into()).into_response()
        }
        None => {
            let wanted = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next: String = form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
    }
}

/// Routes anyone may reach: the sign-in page and form, health, static assets, and the signed event-source,
/// webhook and Git push endpoints (which check the signature themselves).
fn public(path: &str) -> bool {
    matches!(path, "/login" | "/auth/login" | "/auth/logout" | "/health" | "/ready" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || (path.starts_with("/api/v1/sources/") && path.ends_with("/events"))
        || path.starts_with("/api/v1/webhooks/")
        || path == crate::projects::views::WEBHOOK_PATH
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn from_token(state: &AppState, value: &str, address: Option<String>) -> Result<Principal, ApiError> {
    let invalid = || ApiError::Unauthorized("the API token is not valid: unknown or revoked".into());
    let value = SecretString::from(value.to_owned());
    let hash = token::hash(&value);
    let found = state.store.token_with_owner(&hash).await?.ok_or_else(invalid)?;
    let (row, owner) = (&found.token, &found.owner);
    if row.revoked_at.is_some() {
        return Err(invalid());
    }
    state.token_rate.check(&row.id).map_err(|retry_after| ApiError::TooManyRequests {
        message: format!(
            "token {}… is over its limit of {} requests a second; retry later",
            row.prefix, state.config.token_requests_per_second
        ),
        retry_after,
    })?;
    let now = Utc::now();
    if row.last_used_at.is_none_or(|last| now - last > TOUCH_EVERY) {
        state.store.remember_token_use(&hash, now);
        let (store, id) = (state.store.clone(), row.id.clone());
        tokio::spawn(async move {
            if let Err(err) = store.touch_token(&id, now).await {
                tracing::warn!(%err, "could not note a token's use");
            }
        });
    }
    let scopes = manage::scopes_of(row);
    Ok(Principal {
        name: owner.name.clone(),
        via: Via::Token { id: row.id.clone(), prefix: row.prefix.clone(), scopes, owner_role: owner.role },
        address,
    })
}

async fn from_session(
    state: &AppState,
    session: &Session,
    address: Option<String>,
) -> Result<Option<Principal>, ApiError> {
    let unavailable = |err: tower_sessions::session::Error| {
        tracing::error!(%err, "the session store failed");
        ApiError::Unavailable("sessions cannot be read right now; retry later".into())
    };
    let Some(mut user) = session.get::<SessionUser>(USER_KEY).await.map_err(unavailable)? else { return Ok(None) };
    let lifetime = i64::try_from(state.config.session_lifetime_hours.saturating_mul(3600)).unwrap_or(i64::MAX);
    let now = Utc::now().timestamp();
    let current = match now.saturating_sub(user.signed_in_at) > lifetime {
        true => None,
        false => state.store.user(&user.name).await?,
    };
    // Over its lifetime, the user removed, or a new password since: the session is over.
    let Some(current) = current.filter(|row| password::fingerprint(&row.password_hash) == user.credential) else {
        session.flush().await.map_err(unavailable)?;
        return Ok(None);
    };
    if now - user.seen_at >= SEEN_EVERY {
        user.seen_at = now;
        session.insert(USER_KEY, &user).await.map_err(unavailable)?;
    }
    Ok(Some(Principal { name: user.name, via: Via::Session { role: current.role }, address }))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn shows_origin(request: &Request) -> bool {
    request.headers().contains_key(header::ORIGIN) || request.headers().contains_key("sec-fetch-site")
}
