//! Hostile `parameters.json` files and form submissions: a form or a refusal with a reason, never a panic.

use proptest::prelude::*;

use super::{ParameterForm, Submission, UploadedFile};

const FORM: &str = r#"{"fields": [
    {"type": "text", "name": "t", "required": true},
    {"type": "int", "name": "i", "min": -5, "max": 10},
    {"type": "float", "name": "f", "min": 0.5, "step": 0.5},
    {"type": "select", "name": "s", "choices": [{"title": "A", "value": "a"}]},
    {"type": "multiselect", "name": "m", "choices": [{"title": "A", "value": "a"}, {"title": "B", "value": "b"}]},
    {"type": "radio", "name": "r", "choices": [{"title": "A", "value": "a"}]},
    {"type": "textarea", "name": "x"},
    {"type": "file", "name": "u"}
]}"#;

proptest! {
    #[test]
    fn any_parameters_json_gets_an_answer(text in ".{0,400}", fields in prop::collection::vec(".{0,60}", 0..6)) {
        let _ = ParameterForm::parse(&text);
        let _ = ParameterForm::parse(&format!(r#"{{"fields": [{}]}}"#, fields.join(",")));
    }

    #[test]
    fn any_submission_gets_values_or_reasons(
        values in prop::collection::btree_map("[a-z]{1,2}", prop::collection::vec(".{0,30}", 0..4), 0..8),
        file in prop::option::of((".{0,20}", prop::collection::vec(any::<u8>(), 0..64))),
    ) {
        let form = ParameterForm::parse(FORM).unwrap();
        let mut submission = Submission { values, ..Submission::default() };
        if let Some((filename, bytes)) = file {
            submission.files.insert("u".into(), UploadedFile { filename, content_type: None, bytes });
        }
        let _ = form.values(&submission);
    }
}
