//! How an execution ended ([`Ending`]) and how that is announced: the completion event
//! `k8x.execution.<status>` whose `subject` is the service, so that another service can subscribe to one named
//! service's outcome. The store writes the event in the transaction that records the ending (the outbox);
//! nothing else builds it.

use chrono::Utc;
use cloudevents::{AttributesReader, Event, EventBuilder, EventBuilderV10};
use model::views::ExecutionStatus;
use serde_json::json;

use crate::chain;

/// Where completion events come from.
pub const SOURCE: &str = "/k8x/executions";

/// How an execution ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Ending {
    pub status: ExecutionStatus,
    pub exit_code: Option<i32>,
    /// Why it failed, for a person (`container \`main\` was OOMKilled`).
    pub error: Option<String>,
    /// The short reason, where the cluster gave one (`OOMKilled`, `DeadlineExceeded`).
    pub reason: Option<String>,
}

impl Ending {
    pub fn succeeded() -> Self {
        Self { status: ExecutionStatus::Succeeded, exit_code: Some(0), error: None, reason: None }
    }

    pub fn failed(exit_code: Option<i32>, error: impl Into<String>) -> Self {
        Self { status: ExecutionStatus::Failed, exit_code, error: Some(error.into()), reason: None }
    }

    pub fn cancelled() -> Self {
        Self { status: ExecutionStatus::Cancelled, exit_code: None, error: Some("cancelled".into()), reason: None }
    }

    /// k8x stopped (or its process died) while the execution ran.
    pub fn interrupted(error: impl Into<String>) -> Self {
        Self { status: ExecutionStatus::Interrupted, exit_code: None, error: Some(error.into()), reason: None }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Whether a service's retry policy applies: it failed or was interrupted (not cancelled, not succeeded).
    pub fn may_retry(&self) -> bool {
        matches!(self.status, ExecutionStatus::Failed | ExecutionStatus::Interrupted)
    }
}

/// The execution an announcement is about.
#[derive(Clone, Copy, Debug)]
pub struct Announced<'a> {
    pub execution_id: &'a str,
    pub service: &'a str,
    pub project: &'a str,
    pub attempt: i32,
}

/// The event announcing how an execution ended. Its id derives from the execution and the status, so a repeat
/// is a duplicate; `trigger` (the event that caused the execution, when it is still recorded) gives the
/// correlation id and the depth in the chain.
pub fn completion_event(of: Announced<'_>, trigger: Option<&Event>, ending: &Ending) -> Event {
    let status = ending.status.as_str();
    let correlation = trigger.map_or_else(|| of.execution_id.to_owned(), chain::correlation_id);
    let depth = trigger.map_or(1, |t| chain::depth(t) + 1);
    let about = trigger.map(|t| json!({"id": t.id(), "source": t.source().to_string(), "type": t.ty()}));
    EventBuilderV10::new()
        .id(crate::ids::derived(&[of.execution_id, status]))
        .source(SOURCE)
        .ty(format!("k8x.execution.{status}"))
        .subject(of.service)
        .time(Utc::now())
        .extension("correlationid", correlation)
        .extension(chain::DEPTH_EXTENSION, i64::from(depth))
        .data(
            "application/json",
            json!({
                "execution_id": of.execution_id,
                "service": of.service,
                "project": of.project,
                "status": status,
                "attempt": of.attempt,
                "exit_code": ending.exit_code,
                "error": ending.error,
                "reason": ending.reason,
                "trigger": about,
            }),
        )
        .build()
        .expect("every required attribute is set")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completion_event_names_the_service_as_subject_and_goes_one_deeper() {
        let trigger = EventBuilderV10::new()
            .id("e1")
            .source("/s")
            .ty("t")
            .extension("correlationid", "root")
            .extension(chain::DEPTH_EXTENSION, 2i64)
            .build()
            .unwrap();
        let of = Announced { execution_id: "x1", service: "build", project: "p", attempt: 2 };
        let event = completion_event(of, Some(&trigger), &Ending::failed(Some(3), "exited with 3"));
        assert_eq!(event.ty(), "k8x.execution.failed");
        assert_eq!(event.subject(), Some("build"));
        assert_eq!(chain::depth(&event), 3);
        assert_eq!(chain::correlation_id(&event), "root");
        let again = completion_event(of, Some(&trigger), &Ending::failed(Some(3), "exited with 3"));
        assert_eq!(event.id(), again.id(), "a repeat is a duplicate");
        let Some(cloudevents::Data::Json(data)) = event.data() else { panic!("JSON data") };
        assert_eq!((data["attempt"].as_i64(), data["exit_code"].as_i64()), (Some(2), Some(3)));
        let orphan = completion_event(of, None, &Ending::succeeded());
        assert_eq!((chain::depth(&orphan), chain::correlation_id(&orphan)), (1, "x1".to_owned()));
    }
}
