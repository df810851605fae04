//! A service's `schedule` (as FX manifests carry it): a cron expression, or
//! `{"cron": "0 6 * * MON-FRI", "timezone": "Europe/Zurich", "missed": "skip" | "run_once"}`. Parsed with
//! `croner` (five fields, or six with seconds first), zones from `chrono-tz`; UTC when none is given.
//!
//! [`Schedule::plan`] decides, from the next due time not yet run and the time now, which due time runs now:
//! the one just due; after an outage (several due times passed, or one long past) the `missed` policy says —
//! `skip` (the default) runs none of the missed times, `run_once` runs the latest of them once.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde_json::Value;

/// A due time later than this is missed (k8x was down or far behind), not merely late.
pub const GRACE: chrono::Duration = chrono::Duration::seconds(60);

/// What to do about due times missed while k8x was down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    Skip,
    RunOnce,
}

/// A checked schedule.
#[derive(Clone, Debug)]
pub struct Schedule {
    cron: Cron,
    /// As written.
    pub expression: String,
    pub timezone: Tz,
    pub missed: Missed,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

/// What to do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The due time to run now, if any.
    pub run: Option<DateTime<Utc>>,
    /// The next due time not yet run.
    pub next: Option<DateTime<Utc>>,
}

impl Schedule {
    /// Reads a manifest's `schedule` value.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let (expression, timezone, missed) = match value {
            Value::String(cron) => (cron.as_str(), None, None),
            Value::Object(fields) => {
                if let Some(unknown) = fields.keys().find(|k| !["cron", "timezone", "missed"].contains(&k.as_str())) {
                    return Err(format!("`{unknown}` is not a schedule field (`cron`, `timezone`, `missed`)"));
                }
                let text = |key: &str| match fields.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.as_str())),
                    Some(_) => Err(format!("`{key}` must be a string")),
                };
                let cron = text("cron")?.ok_or("a schedule object needs `cron`")?;
                (cron, text("timezone")?, text("missed")?)
            }
            _ => return Err("must be a cron expression or an object with `cron`".into()),
        };
        let cron = Cron::from_str(expression.trim())
            .map_err(|e| format!("`{}` is not a cron expression: {e}", expression.escape_debug()))?;
        let timezone = match timezone {
            None => Tz::UTC,
            Some(zone) => Tz::from_str(zone).map_err(|_| format!("`{}` is not a time zone", zone.escape_debug()))?,
        };
        let missed = match missed {
            None | Some("skip") => Missed::Skip,
            Some("run_once") => Missed::RunOnce,
            Some(other) => return Err(format!("`missed` is `skip` or `run_once`, not `{}`", other.escape_debug())),
        };
        let schedule = Self { cron, expression: expression.trim().to_owned(), timezone, missed };
        if schedule.next_after(Utc::now()).is_none() {
            return Err(format!("`{expression}` is never due"));
        }
        Ok(schedule)
    }

    /// What identifies the schedule: a changed one starts afresh.
    pub fn key(&self) -> String {
        let missed = if self.missed == Missed::Skip { "skip" } else { "run_once" };
        format!("{} {} {missed}", self.expression, self.timezone.name())
    }

    /// The first due time after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.timezone);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The next `count` due times after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        std::iter::successors(self.next_after(after), |t| self.next_after(*t)).take(count).collect()
    }

    /// Which due time runs now, given `mark` (the next due time not yet run) and `now`.
    pub fn plan(&self, mark: DateTime<Utc>, now: DateTime<Utc>) -> Plan {
        if mark > now {
            return Plan { run: None, next: Some(mark) };
        }
        // The latest due time not after now (the mark itself when only one has passed).
        let latest = self
            .cron
            .find_previous_occurrence(&now.with_timezone(&self.timezone), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t >= mark)
            .unwrap_or(mark);
        let next = self.next_after(now);
        let missed = latest > mark || now - latest > GRACE;
        let run = match (missed, self.missed) {
            (false, _) => Some(latest),
            (true, Missed::RunOnce) => Some(latest),
            (true, Missed::Skip) => (now - latest <= GRACE).then_some(latest),
        };
        Plan { run, next }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, h, m, s).unwrap()
    }

    #[test]
    fn schedules_parse_and_bad_ones_are_named() {
        let s = Schedule::parse(&json!("*/5 * * * *")).unwrap();
        assert_eq!((s.timezone, s.missed), (Tz::UTC, Missed::Skip));
        let s = Schedule::parse(&json!({"cron": "0 6 * * *", "timezone": "Europe/Zurich", "missed": "run_once"}));
        let s = s.unwrap();
        assert_eq!(s.next_after(at(0, 0, 0)), Some(at(5, 0, 0)), "06:00 in Zurich is 05:00 UTC in November");
        for (bad, says) in [
            (json!("every day"), "not a cron expression"),
            (json!({"cron": "* * * * *", "timezone": "Mars/Olympus"}), "not a time zone"),
            (json!({"cron": "* * * * *", "missed": "later"}), "`missed`"),
            (json!({"timezone": "UTC"}), "needs `cron`"),
            (json!({"cron": "* * * * *", "when": 1}), "`when`"),
            (json!(5), "cron expression"),
        ] {
            let err = Schedule::parse(&bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_due_time_runs_once_and_missed_ones_follow_the_policy() {
        let skip = Schedule::parse(&json!("*/10 * * * *")).unwrap();
        let once = Schedule::parse(&json!({"cron": "*/10 * * * *", "missed": "run_once"})).unwrap();
        // Not due yet.
        assert_eq!(skip.plan(at(9, 10, 0), at(9, 5, 0)), Plan { run: None, next: Some(at(9, 10, 0)) });
        // Just due: it runs, the mark moves on.
        let plan = skip.plan(at(9, 10, 0), at(9, 10, 1));
        assert_eq!(plan, Plan { run: Some(at(9, 10, 0)), next: Some(at(9, 20, 0)) });
        // Down from 09:05 to 10:03: 09:10 … 10:00 were missed.
        assert_eq!(skip.plan(at(9, 10, 0), at(10, 3, 0)), Plan { run: None, next: Some(at(10, 10, 0)) });
        assert_eq!(once.plan(at(9, 10, 0), at(10, 3, 0)), Plan { run: Some(at(10, 0, 0)), next: Some(at(10, 10, 0)) });
        // Down across several, back right at one: that one is on time and runs under either policy.
        assert_eq!(skip.plan(at(9, 10, 0), at(10, 0, 20)).run, Some(at(10, 0, 0)));
        assert_eq!(skip.upcoming(at(9, 5, 0), 3), [at(9, 10, 0), at(9, 20, 0), at(9, 30, 0)]);
    }
}
