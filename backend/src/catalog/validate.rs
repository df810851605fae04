//! What `k8x validate <dir>` prints: a line per problem in the form editors and CI logs link
//! (`file:line:column: field `x`: message`), a line per directory k8x does not run, and a summary.

use std::fmt::Write as _;

use super::{CatalogError, Scan};

impl Scan {
    /// Whether nothing is wrong: directories of a type k8x does not run are not wrong, only listed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The whole report, one line each: problems, directories not run, then the summary.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let _ = writeln!(out, "{}", problem_line(problem));
        }
        for skipped in &self.not_run {
            let dir = if skipped.dir.is_empty() { "." } else { skipped.dir.as_str() };
            let _ = writeln!(out, "{dir}: type `{}` is not run by k8x (skipped)", skipped.kind);
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    /// `N services valid, M not run by k8x, P problems`.
    pub fn summary(&self) -> String {
        format!(
            "{} valid, {} not run by k8x, {}",
            counted(self.services.len(), "service"),
            self.not_run.len(),
            counted(self.problems.len(), "problem")
        )
    }
}

/// `file:line:column: field `x`: message`, leaving out the parts that are not known.
fn problem_line(problem: &CatalogError) -> String {
    let mut line = problem.file.clone();
    if let Some(at) = problem.line {
        let _ = write!(line, ":{at}");
        if let Some(column) = problem.column {
            let _ = write!(line, ":{column}");
        }
    }
    line.push_str(": ");
    if let Some(field) = &problem.field {
        let _ = write!(line, "field `{field}`: ");
    }
    line.push_str(&problem.message);
    line
}

fn counted(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

#[cfg(test)]
mod tests {
    use super::{super::NotRun, *};

    #[test]
    fn lines_leave_out_what_is_not_known() {
        let full = CatalogError::new("a/manifest.json", "the name is empty").field("name").line(2).column(11);
        assert_eq!(problem_line(&full), "a/manifest.json:2:11: field `name`: the name is empty");
        let no_column = CatalogError::new("a/p.json", "bad").line(3);
        assert_eq!(problem_line(&no_column), "a/p.json:3: bad");
        let bare = CatalogError::new("a/deployment.yaml", "the file is missing");
        assert_eq!(problem_line(&bare), "a/deployment.yaml: the file is missing");
    }

    #[test]
    fn the_report_lists_then_sums_up() {
        let scan = Scan {
            problems: vec![CatalogError::new("a/deployment.yaml", "the file is missing")],
            not_run: vec![NotRun { dir: "fx/py".into(), kind: "python".into(), name: None }],
            broken_dirs: vec!["a".into()],
            ..Scan::default()
        };
        assert_eq!(
            scan.report(),
            "a/deployment.yaml: the file is missing\nfx/py: type `python` is not run by k8x (skipped)\n\
             0 services valid, 1 not run by k8x, 1 problem\n"
        );
        assert!(!scan.passed());
        assert!(Scan::default().passed());
        assert_eq!(Scan::default().summary(), "0 services valid, 0 not run by k8x, 0 problems");
    }
}
