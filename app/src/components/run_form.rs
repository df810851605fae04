//! The manual-run form. Without `parameters.json` it is a single Run button; with one, the Run button opens
//! the form with a control for each field. It is a plain multipart form posted to `/services/{name}/run`, so
//! it works before hydration and can carry files; the browser checks what HTML can (required, min, max,
//! step) and the server checks everything again.

use leptos::prelude::*;
use model::parameters::{Field, FieldKind, ParameterForm};

#[component]
pub fn RunForm(service: String, form: Option<ParameterForm>) -> impl IntoView {
    let action = format!("/services/{service}/run");
    match form {
        None => view! {
            <form method="post" action=action enctype="multipart/form-data" class="run">
                <button type="submit" id="run-button">"Run"</button>
            </form>
        }
        .into_any(),
        Some(form) => view! {
            <details class="run" id="run-details">
                <summary id="run-button">"Run…"</summary>
                <form method="post" action=action enctype="multipart/form-data" class="run-form" id="run-form">
                    {form.fields.into_iter().map(|field| view! { <FieldControl field/> }).collect_view()}
                    <button type="submit" id="run-submit">"Run"</button>
                </form>
            </details>
        }
        .into_any(),
    }
}

#[component]
fn FieldControl(field: Field) -> impl IntoView {
    let id = format!("field-{}", field.name);
    let label = field.title().to_owned();
    let description = field.description.clone();
    let marker = field.required.then_some(" *");
    view! {
        <div class=format!("field field-{}", field.kind.as_str())>
            <label for=id.clone()>{label}{marker}</label>
            {control(&field, id)}
            {description.map(|d| view! { <div class="muted">{d}</div> })}
        </div>
    }
}

fn control(field: &Field, id: String) -> AnyView {
    let name = field.name.clone();
    let required = field.required;
    let placeholder = field.placeholder_text();
    let number = |n: Option<f64>| n.map(|n| n.to_string());
    match field.kind {
        FieldKind::Text => view! {
            <input type="text" id=id name=name required=required placeholder=placeholder value=field.default_text()/>
        }
        .into_any(),
        FieldKind::Textarea => view! {
            <textarea id=id name=name required=required placeholder=placeholder rows="4">{field.default_text()}</textarea>
        }
        .into_any(),
        FieldKind::File => view! { <input type="file" id=id name=name required=required/> }.into_any(),
        FieldKind::Int => view! {
            <input type="number" id=id name=name required=required placeholder=placeholder step="1"
                min=number(field.min) max=number(field.max) value=field.default_text()/>
        }
        .into_any(),
        FieldKind::Float => view! {
            <input type="number" id=id name=name required=required placeholder=placeholder
                step=number(field.step).unwrap_or_else(|| "any".into())
                min=number(field.min) max=number(field.max) value=field.default_text()/>
        }
        .into_any(),
        FieldKind::Select | FieldKind::Multiselect => {
            let multiple = field.kind == FieldKind::Multiselect;
            let options = field
                .choices
                .iter()
                .map(|c| view! { <option value=c.value.clone() selected=field.is_default_choice(&c.value)>{c.title.clone()}</option> })
                .collect_view();
            view! { <select id=id name=name required=required multiple=multiple>{options}</select> }.into_any()
        }
        FieldKind::Radio => view! {
            <div class="choices" id=id>
                {field.choices.iter().map(|c| view! {
                    <label class="choice">
                        <input type="radio" name=name.clone() value=c.value.clone() required=required
                            checked=field.is_default_choice(&c.value)/>
                        {c.title.clone()}
                    </label>
                }).collect_view()}
            </div>
        }
        .into_any(),
    }
}
