//! Signing in and out: `POST /auth/login` (the form on `/login`) and `POST /auth/logout`. Plain forms that
//! redirect, so they work without JavaScript. A sign-in gets a new session id (no fixation); failures are
//! slowed per account and address, and every attempt goes to the audit trail.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    response::Redirect,
    routing::post,
    Extension, Form, Router,
};
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    authenticate::{SessionUser, USER_KEY},
    ApiError,
};
use crate::{auth::password, auth::Principal, state::AppState, store::AuditRecord};

pub fn router() -> Router<AppState> {
    Router::new().route("/auth/login", post(login)).route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: SecretString,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Result<Redirect, ApiError> {
    let address = connect.map(|Extension(ConnectInfo(peer))| peer.ip().to_string()).unwrap_or_default();
    let name = form.name.trim().to_owned();
    let next = safe_next(&form.next);
    let audit = |action: &'static str, detail: Option<String>| AuditRecord {
        actor: name.escape_debug().to_string(),
        action,
        target: "k8x".into(),
        address: Some(address.clone()),
        detail,
    };
    if let Some(wait) = state.login_throttle.wait(&name, &address) {
        state.store.audit(audit("signin-refused", Some("too many failed sign-ins".into()))).await?;
        let why = format!("Too many failed sign-ins. Try again in {} s.", wait.as_secs().max(1));
        return Ok(back(&why, &next));
    }
    let hash = state.store.user(&name).await?.map(|user| user.password_hash);
    if !password::verify(form.password, hash).await {
        state.login_throttle.failed(&name, &address);
        state.store.audit(audit("signin-failed", None)).await?;
        return Ok(back("Wrong name or password.", &next));
    }
    state.login_throttle.succeeded(&name);
    let unavailable = |err: tower_sessions::session::Error| {
        tracing::error!(%err, "the session store failed");
        ApiError::Unavailable("sessions cannot be written right now; retry later".into())
    };
    session.cycle_id().await.map_err(unavailable)?;
    let user = SessionUser { name: name.clone(), signed_in_at: Utc::now().timestamp() };
    session.insert(USER_KEY, user).await.map_err(unavailable)?;
    state.store.audit(audit("signin", None)).await?;
    Ok(Redirect::to(&next))
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    principal: Option<Extension<Principal>>,
) -> Result<Redirect, ApiError> {
    if let Some(Extension(principal)) = principal {
        state.store.audit(principal.audit("signout", "k8x")).await?;
    }
    if let Err(err) = session.flush().await {
        tracing::error!(%err, "could not end a session");
        return Err(ApiError::Unavailable("the session could not be ended; retry".into()));
    }
    Ok(Redirect::to("/login"))
}

/// Only paths on this site: `//evil.example` or `https://…` would send the user elsewhere after sign-in.
fn safe_next(next: &str) -> String {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains("://");
    if local && !next.starts_with("/login") {
        next.to_owned()
    } else {
        "/services".into()
    }
}

fn back(why: &str, next: &str) -> Redirect {
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    Redirect::to(&format!("/login?error={}&next={}", encode(why), encode(next)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(super::safe_next("/executions/abc?x=1"), "/executions/abc?x=1");
        for hostile in ["//evil.example/", "https://evil.example/", "/\\evil.example", "", "/login?next=/x", "x"] {
            assert_eq!(super::safe_next(hostile), "/services", "{hostile}");
        }
    }
}
