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
use crate::{
    auth::{manage, password, AuthError, Principal},
    state::AppState,
    store::AuditRecord,
};

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
    if manage::check_name("user", &name).is_err() {
        return Ok(back(Refusal::Wrong, &next));
    }
    if let Err(wait) = state.login_throttle.attempt(&name, &address) {
        tracing::warn!(%address, "sign-in refused: too many failed sign-ins");
        return Ok(back(Refusal::Wait(wait.as_secs().max(1)), &next));
    }
    let user = state.store.user(&name).await?;
    // Names that are no user are not written down as typed: people type passwords into the name field.
    let actor = if user.is_some() { name.clone() } else { "(unknown user)".into() };
    let audit = |action: &'static str| AuditRecord {
        actor: actor.clone(),
        action,
        target: "k8x".into(),
        address: Some(address.clone()),
        detail: None,
    };
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    if !password::verify(form.password, hash.clone()).await.map_err(AuthError::from)? {
        state.store.audit(audit("signin-failed")).await?;
        return Ok(back(Refusal::Wrong, &next));
    }
    state.login_throttle.succeeded(&name, &address);
    let unavailable = |err: tower_sessions::session::Error| {
        tracing::error!(%err, "the session store failed");
        ApiError::Unavailable("sessions cannot be written right now; retry later".into())
    };
    session.cycle_id().await.map_err(unavailable)?;
    let now = Utc::now().timestamp();
    let credential = password::fingerprint(hash.as_deref().unwrap_or_default());
    let user = SessionUser { name: name.clone(), signed_in_at: now, seen_at: now, credential };
    session.insert(USER_KEY, user).await.map_err(unavailable)?;
    state.store.audit(audit("signin")).await?;
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

/// Only paths on this site, spelt with URL-safe characters: `//evil.example`, `https://…`, a backslash or a
/// tab (which browsers drop, turning `/\t/evil.example` into `//evil.example`) would lead elsewhere.
fn safe_next(next: &str) -> String {
    let safe_chars = next.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.~?=&%+,:@".contains(c));
    let local = safe_chars && next.starts_with('/') && !next.starts_with("//") && !next.contains("://");
    if local && !next.starts_with("/login") {
        next.to_owned()
    } else {
        "/services".into()
    }
}

/// Why the login page is shown again: a code, so that a link cannot put words of its own on the page.
enum Refusal {
    Wrong,
    Wait(u64),
}

fn back(refusal: Refusal, next: &str) -> Redirect {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    let error = match refusal {
        Refusal::Wrong => "wrong".to_owned(),
        Refusal::Wait(seconds) => format!("wait&wait={seconds}"),
    };
    Redirect::to(&format!("/login?error={error}&next={next}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(super::safe_next("/executions/abc?x=1"), "/executions/abc?x=1");
        for hostile in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "",
            "/login?next=/x",
            "x",
        ] {
            assert_eq!(super::safe_next(hostile), "/services", "{hostile}");
        }
    }
}
