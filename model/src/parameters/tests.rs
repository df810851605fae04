use super::*;

/// The published example from DESIGN.md, all eight types.
const ALL_EIGHT: &str = r#"{"fields": [
  {"type": "text", "label": "Some Text", "name": "some_text", "required": true, "description": "This field is required"},
  {"type": "textarea", "label": "Some Textarea", "name": "some_textarea"},
  {"type": "file", "label": "Some File", "name": "some_file"},
  {"type": "int", "label": "Some Number", "name": "some_number", "default": 1, "min": 0, "max": 10},
  {"type": "float", "label": "Some Float", "name": "some_float", "placeholder": "0.01", "step": 0.01, "min": 0, "max": 10},
  {"type": "select", "label": "Some Select", "name": "some_select", "default": "value 2",
   "choices": [{"title": "Choice 1", "value": "value 1"}, {"title": "Choice 2", "value": "value 2"}]},
  {"type": "multiselect", "label": "Some MultiSelect", "name": "some_multiselect", "default": ["value 2"],
   "choices": [{"title": "Choice 1", "value": "value 1"}, {"title": "Choice 2", "value": "value 2"}]},
  {"type": "radio", "label": "Some Radio", "name": "some_radio",
   "choices": [{"title": "Choice 1", "value": "value 1"}, {"title": "Choice 2", "value": "value 2"}]}
]}"#;

fn submission(pairs: &[(&str, &str)]) -> Submission {
    let mut s = Submission::default();
    for (k, v) in pairs {
        s.values.entry(k.to_string()).or_default().push(v.to_string());
    }
    s
}

#[test]
fn parses_the_published_example() {
    let form = ParameterForm::parse(ALL_EIGHT).unwrap();
    let kinds: Vec<&str> = form.fields.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["text", "textarea", "file", "int", "float", "select", "multiselect", "radio"]);
    assert_eq!(form.fields[4].placeholder_text().as_deref(), Some("0.01"));
    assert!(form.fields[6].is_default_choice("value 2"));
    assert!(!form.fields[6].is_default_choice("value 1"));
}

#[test]
fn values_arrive_typed() {
    let form = ParameterForm::parse(ALL_EIGHT).unwrap();
    let mut s = submission(&[
        ("some_text", "hello world"),
        ("some_textarea", "a\nb"),
        ("some_number", "7"),
        ("some_float", "2.5"),
        ("some_select", "value 1"),
        ("some_multiselect", "value 1"),
        ("some_multiselect", "value 2"),
        ("some_radio", "value 2"),
    ]);
    s.files.insert(
        "some_file".into(),
        UploadedFile { filename: "a.txt".into(), content_type: Some("text/plain".into()), bytes: b"hi".to_vec() },
    );
    let params = form.values(&s).unwrap();
    assert_eq!(params["some_text"], "hello world");
    assert_eq!(params["some_textarea"], "a\nb");
    assert_eq!(params["some_number"], 7);
    assert!(params["some_number"].is_i64());
    assert_eq!(params["some_float"], 2.5);
    assert_eq!(params["some_select"], "value 1");
    assert_eq!(params["some_multiselect"], serde_json::json!(["value 1", "value 2"]));
    assert_eq!(params["some_radio"], "value 2");
    assert_eq!(params["some_file"]["filename"], "a.txt");
    assert_eq!(params["some_file"]["content_base64"], "aGk=");
}

#[test]
fn wrong_values_are_named() {
    let form = ParameterForm::parse(ALL_EIGHT).unwrap();
    let s = submission(&[
        ("some_text", "  "),
        ("some_number", "11"),
        ("some_float", "abc"),
        ("some_select", "value 9"),
        ("some_multiselect", "nope"),
    ]);
    let err = form.values(&s).unwrap_err();
    let fields: Vec<&str> = err.0.keys().map(String::as_str).collect();
    assert_eq!(fields, ["some_float", "some_multiselect", "some_number", "some_select", "some_text"]);
    assert!(err.0["some_number"].contains("above the maximum 10"), "{err}");
    assert!(err.0["some_text"].contains("required"), "{err}");
}

#[test]
fn absent_fields_take_their_default() {
    let form = ParameterForm::parse(ALL_EIGHT).unwrap();
    let params = form.values(&submission(&[("some_text", "x")])).unwrap();
    assert_eq!(params["some_number"], 1);
    assert_eq!(params["some_select"], "value 2");
    assert!(!params.contains_key("some_radio"));
}

#[test]
fn oversized_files_are_refused() {
    let form = ParameterForm::parse(ALL_EIGHT).unwrap();
    let mut s = submission(&[("some_text", "x")]);
    s.files.insert(
        "some_file".into(),
        UploadedFile { filename: "big".into(), content_type: None, bytes: vec![0; MAX_FILE_BYTES + 1] },
    );
    assert!(form.values(&s).unwrap_err().0["some_file"].contains("at most"));
}

#[test]
fn broken_forms_name_the_problem() {
    let syntax = ParameterForm::parse("{\"fields\": [\n  {\"type\": \"text\",}\n]}").unwrap_err();
    assert!(matches!(syntax, FormError::Syntax { line: 2, .. }), "{syntax}");

    let unknown = ParameterForm::parse(r#"{"fields": [{"type": "colour", "name": "c"}]}"#).unwrap_err();
    assert!(unknown.to_string().contains("colour"), "{unknown}");

    let no_choices = ParameterForm::parse(r#"{"fields": [{"type": "select", "name": "s"}]}"#).unwrap_err();
    assert_eq!(no_choices, FormError::Field { field: "s".into(), message: "a `select` field needs `choices`".into() });

    let bad_default = ParameterForm::parse(r#"{"fields": [{"type": "int", "name": "n", "default": 5, "max": 3}]}"#);
    assert!(bad_default.unwrap_err().to_string().contains("above the maximum"));

    let duplicate =
        ParameterForm::parse(r#"{"fields": [{"type": "text", "name": "a"}, {"type": "text", "name": "a"}]}"#);
    assert!(duplicate.unwrap_err().to_string().contains("more than one"));
}
