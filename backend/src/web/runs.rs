//! `POST /services/{name}/run`: the manual-run form (multipart, so files can come along). Works without
//! JavaScript: success redirects to the execution page, refused values back to the service page with the
//! reason. The values are checked here against the service's `parameters.json`, whatever the browser did.

use axum::{
    extract::{Multipart, Path, State},
    response::Redirect,
    routing::post,
    Router,
};
use model::parameters::{Submission, UploadedFile};

use super::ApiError;
use crate::{access::Permission, auth::Principal, dispatcher::request_run, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/services/{name}/run", post(run))
}

async fn run(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    form: Multipart,
) -> Result<Redirect, ApiError> {
    principal.require(Permission::Operate)?;
    let row = state.store.service(&name).await?.ok_or_else(|| ApiError::NotFound(format!("no service `{name}`")))?;
    let service = crate::catalog::read_service(&row).map_err(|e| ApiError::Internal(e.to_string()))?;
    let back = |why: String| Redirect::to(&format!("/services/{name}?run_error={}", encode(&why)));
    // A service without parameters.json takes no values: its form is just the Run button.
    let params = match &service.parameters {
        None => Default::default(),
        Some(parameters) => {
            let submission = match read(form).await {
                Ok(submission) => submission,
                Err(why) => return Ok(back(why)),
            };
            match parameters.values(&submission) {
                Ok(params) => params,
                Err(invalid) => return Ok(back(invalid.to_string())),
            }
        }
    };
    match request_run(state.bus.as_ref(), &service, params).await {
        Ok(requested) => {
            let mut record = principal.audit("run", &name);
            record.detail = Some(format!("execution {}", requested.execution_id));
            state.store.audit(record).await?;
            wait_for_dispatch(&state, &requested.execution_id).await;
            Ok(Redirect::to(&format!("/executions/{}", requested.execution_id)))
        }
        Err(crate::dispatcher::RunError::Bus(err)) => {
            tracing::error!(%err, "could not publish a run request");
            Err(ApiError::Unavailable("the event bus is not accepting events right now; retry later".into()))
        }
        Err(refused) => Ok(back(refused.to_string())),
    }
}

/// Gives the dispatcher a moment, so the page usually opens on a created execution (it copes if not).
async fn wait_for_dispatch(state: &AppState, execution_id: &str) {
    for _ in 0..40 {
        if matches!(state.store.execution(execution_id).await, Ok(Some(_))) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn read(mut form: Multipart) -> Result<Submission, String> {
    let mut submission = Submission::default();
    while let Some(field) = form.next_field().await.map_err(|e| format!("the form could not be read: {e}"))? {
        let Some(name) = field.name().map(str::to_owned) else { continue };
        match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|e| format!("field `{name}`: {e}"))?.to_vec();
                submission.files.insert(name, UploadedFile { filename, content_type, bytes });
            }
            None => {
                let text = field.text().await.map_err(|e| format!("field `{name}`: {e}"))?;
                submission.values.entry(name).or_default().push(text);
            }
        }
    }
    Ok(submission)
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
