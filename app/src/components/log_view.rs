//! The log viewer. The server renders the lines stored so far; in the browser, while the execution has not
//! ended, it follows the server-sent event stream at `/api/v1/executions/{id}/log/stream` and appends lines
//! and status changes as they come. A line is appended only if it is newer than the last one shown, so a
//! reconnecting stream never duplicates.

use leptos::prelude::*;
use model::views::{ExecutionStatus, LogLine};

use super::status::StatusBadge;

#[component]
pub fn LogView(
    execution_id: String,
    initial: Vec<LogLine>,
    status: ExecutionStatus,
    exit_code: Option<i32>,
    /// Called once the stream reports that the execution has ended.
    on_end: Callback<()>,
    /// Follow the execution live (the tail of its log); a page or search result stays as it is.
    #[prop(default = true)]
    live: bool,
) -> impl IntoView {
    let (lines, set_lines) = signal(initial);
    let (status, set_status) = signal((status, exit_code));
    let download = format!("/api/v1/executions/{execution_id}/log");

    let log_ref = NodeRef::<leptos::html::Pre>::new();
    #[cfg(feature = "hydrate")]
    {
        // Keep the newest line in view while the execution runs.
        Effect::new(move |_| {
            lines.track();
            if let Some(pre) = log_ref.get() {
                if status.get_untracked().0 == ExecutionStatus::Running {
                    pre.set_scroll_top(pre.scroll_height());
                }
            }
        });
        let id = execution_id.clone();
        Effect::new(move |_| {
            if live && !status.get_untracked().0.is_finished() {
                let after = lines.with_untracked(|l| l.last().map_or(0, |l| l.seq));
                follow::follow(&id, after, set_lines, set_status, on_end);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&set_lines, &set_status, &execution_id, on_end, live);

    view! {
        <div class="log-toolbar">
            <span id="log-status">{move || view! { <StatusBadge status=status.get().0/> }}</span>
            <span class="muted" id="log-exit">{move || status.get().1.map(|code| format!("exit code {code}"))}</span>
            <a href=download download="">"Download"</a>
        </div>
        <pre class="log" id="log" node_ref=log_ref>
            <For each=move || lines.get() key=|line| line.seq let:line>
                <span class=format!("line {}", line.stream)>{line.text}"\n"</span>
            </For>
        </pre>
    }
}

#[cfg(feature = "hydrate")]
mod follow {
    use leptos::prelude::*;
    use model::views::{ExecutionStatus, LogLine, StatusUpdate};
    use send_wrapper::SendWrapper;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    /// Opens the stream; it is closed when the stream ends or the component goes away.
    pub fn follow(
        id: &str,
        after: i64,
        set_lines: WriteSignal<Vec<LogLine>>,
        set_status: WriteSignal<(ExecutionStatus, Option<i32>)>,
        on_end: Callback<()>,
    ) {
        let Ok(source) = EventSource::new(&format!("/api/v1/executions/{id}/log/stream?after={after}")) else {
            return;
        };
        listen(&source, "line", move |data| {
            if let Ok(line) = serde_json::from_str::<LogLine>(&data) {
                set_lines.update(|lines| {
                    if lines.last().is_none_or(|last| last.seq < line.seq) {
                        lines.push(line);
                    }
                    // The live view keeps the newest lines only (the pages have them all): bounded memory.
                    let keep = model::views::LOG_PAGE_LINES as usize;
                    if lines.len() > 2 * keep {
                        lines.drain(..lines.len() - keep);
                    }
                });
            }
        });
        listen(&source, "status", move |data| {
            if let Ok(update) = serde_json::from_str::<StatusUpdate>(&data) {
                set_status.set((update.status, update.exit_code));
            }
        });
        let closing = source.clone();
        listen(&source, "end", move |_| {
            closing.close();
            on_end.run(());
        });
        let closing = source.clone();
        listen(&source, "gone", move |_| closing.close());
        let source = SendWrapper::new(source);
        on_cleanup(move || source.close());
    }

    fn listen(source: &EventSource, event: &str, mut on: impl FnMut(String) + 'static) {
        let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            on(ev.data().as_string().unwrap_or_default());
        });
        let _ = source.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        // The listener lives as long as the EventSource, which the page closes; leaking the closure is how
        // wasm-bindgen keeps it callable.
        callback.forget();
    }
}
