//! `parameters.json`: the manual-run form, read by `model::parameters`; here its problems are placed and,
//! when several fields break a rule, each is reported.

use std::collections::HashSet;

use model::parameters::{Field, FormError, ParameterForm};

use super::{
    locate::Step,
    problems::{self, Problems, Syntax},
    CatalogError,
};

/// Parses `parameters.json`; stops at the first problem: see [`check_parameters`].
pub fn parse_parameters(file: &str, json: &str) -> Result<ParameterForm, CatalogError> {
    check_parameters(file, json).map_err(|all| problems::first(file, all))
}

/// Parses `parameters.json` and reports every field that breaks a rule.
pub fn check_parameters(file: &str, json: &str) -> Result<ParameterForm, Vec<CatalogError>> {
    let (field, message) = match ParameterForm::parse(json) {
        Ok(form) => return Ok(form),
        Err(FormError::Syntax { line, column, message }) => {
            let mut problem = CatalogError::new(file, message);
            if line > 0 {
                problem = problem.line(line);
                if column > 0 {
                    problem = problem.column(column);
                }
            }
            return Err(vec![problem]);
        }
        Err(FormError::Field { field, message }) => (field, message),
    };
    // The form reads but breaks a rule somewhere: each field is checked on its own (and a repeated name as
    // a pair), so that the rules stay the model's and every field that breaks one is named.
    let mut problems = Problems::new(file, json, Syntax::Json);
    let fields = serde_json::from_str::<ParameterForm>(json).map(|form| form.fields).unwrap_or_default();
    let mut names = HashSet::new();
    for (index, one) in fields.iter().enumerate() {
        let repeated = !names.insert(one.name.as_str());
        let broken = rule_broken(vec![one.clone()])
            .or_else(|| repeated.then(|| rule_broken(vec![one.clone(), one.clone()])).flatten());
        if let Some((name, message)) = broken {
            let field = if name.trim().is_empty() { format!("fields[{index}]") } else { format!("fields.{name}") };
            problems.at(&[Step::Key("fields"), Step::Index(index)], field, message);
        }
    }
    if problems.is_empty() {
        problems.push(CatalogError::new(file, message).field(format!("fields.{field}")));
    }
    Err(problems.into_vec())
}

/// The field and rule a form of just `fields` breaks, if it breaks one.
fn rule_broken(fields: Vec<Field>) -> Option<(String, String)> {
    let json = serde_json::to_string(&ParameterForm { fields }).ok()?;
    match ParameterForm::parse(&json) {
        Err(FormError::Field { field, message }) => Some((field, message)),
        Err(FormError::Syntax { message, .. }) => Some((String::new(), message)),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broken_field_is_named_at_its_line() {
        let json = "{\"fields\": [\n  {\"type\": \"int\", \"name\": \"n\", \"min\": 5, \"max\": 1},\n  {\"type\": \"text\", \"name\": \"ok\"},\n  {\"type\": \"select\", \"name\": \"pick\"},\n  {\"type\": \"text\", \"name\": \"ok\"}\n]}";
        let all = check_parameters("p.json", json).unwrap_err();
        let found: Vec<_> = all.iter().map(|p| (p.field.as_deref().unwrap_or(""), p.line.unwrap_or(0))).collect();
        assert_eq!(found, [("fields.n", 2), ("fields.pick", 4), ("fields.ok", 5)], "{all:?}");
        assert!(all[2].message.contains("more than one"), "{all:?}");
        let first = parse_parameters("p.json", json).unwrap_err();
        assert_eq!(first.field.as_deref(), Some("fields.n"));
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err =
            parse_parameters("p.json", "{\"fields\": [\n  {\"type\": \"colour\", \"name\": \"c\"}]}").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.column.is_some(), "{err}");
        assert!(parse_parameters("p.json", r#"{"fields": [{"type": "text", "name": "a"}]}"#).is_ok());
    }
}
