//! Which deliveries may be handled now, and how far the group may commit: deliveries with different ordering
//! keys are handled side by side, those sharing a key one after another in bus order; and a partition is
//! committed only up to the first delivery not yet handled, so a crash redelivers whatever was unfinished (and
//! perhaps some that were finished, which changes nothing).

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::bus::{ordering_key, Delivery};

/// Deliveries in flight, waiting, and handled but not yet committed.
#[derive(Default)]
pub struct Flow {
    /// Keys with a delivery being handled, each with the deliveries waiting behind it.
    busy: HashMap<String, VecDeque<Delivery>>,
    /// Deliveries being handled.
    in_flight: usize,
    /// Per partition, every delivery taken and not yet committed, by offset: `Some` once handled.
    partitions: HashMap<i32, BTreeMap<i64, Option<Delivery>>>,
    /// How many deliveries `partitions` holds.
    taken: usize,
}

impl Flow {
    /// Takes a delivery from the bus: it comes back at once to be handled, or later from [`Flow::finish`] when
    /// its key is free. One already taken (a bus that went back to its committed offset) is dropped.
    pub fn add(&mut self, delivery: Delivery) -> Option<Delivery> {
        let taken = self.partitions.entry(delivery.position.partition).or_default();
        if taken.contains_key(&delivery.position.offset) {
            return None;
        }
        taken.insert(delivery.position.offset, None);
        self.taken += 1;
        match self.busy.get_mut(&key(&delivery)) {
            Some(waiting) => {
                waiting.push_back(delivery);
                None
            }
            None => {
                self.busy.insert(key(&delivery), VecDeque::new());
                self.in_flight += 1;
                Some(delivery)
            }
        }
    }

    /// Marks a delivery handled; returns the next one of its key, to be handled now.
    pub fn finish(&mut self, delivery: Delivery) -> Option<Delivery> {
        let key = key(&delivery);
        if let Some(slot) =
            self.partitions.get_mut(&delivery.position.partition).and_then(|p| p.get_mut(&delivery.position.offset))
        {
            *slot = Some(delivery);
        }
        self.in_flight -= 1;
        let next = self.busy.get_mut(&key).and_then(VecDeque::pop_front);
        match next {
            Some(next) => {
                self.in_flight += 1;
                Some(next)
            }
            None => {
                self.busy.remove(&key);
                None
            }
        }
    }

    /// Per partition, the last delivery of the handled run at its start: what to commit (the deliveries up to
    /// it are forgotten).
    pub fn committable(&mut self) -> Vec<Delivery> {
        let mut commits = Vec::new();
        for taken in self.partitions.values_mut() {
            let mut last = None;
            while let Some(entry) = taken.first_entry() {
                if entry.get().is_none() {
                    break;
                }
                last = entry.remove();
                self.taken -= 1;
            }
            commits.extend(last);
        }
        commits
    }

    /// Whether [`Flow::committable`] has something to give.
    pub fn can_commit(&self) -> bool {
        self.partitions.values().any(|taken| taken.first_key_value().is_some_and(|(_, done)| done.is_some()))
    }

    /// Deliveries taken and not yet committed (being handled, waiting, or handled).
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// Deliveries being handled now.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

/// The ordering key of a delivery; a record that is not a CloudEvent orders with nothing.
fn key(delivery: &Delivery) -> String {
    match &delivery.event {
        Ok(event) => ordering_key(event),
        // A NUL cannot start a CloudEvent's subject or source, so this key is nobody else's.
        Err(_) => format!("\u{0}undecodable/{}/{}", delivery.position.partition, delivery.position.offset),
    }
}

#[cfg(test)]
mod tests {
    use cloudevents::{EventBuilder, EventBuilderV10};

    use super::*;
    use crate::bus::Position;

    fn delivery(partition: i32, offset: i64, subject: &str) -> Delivery {
        let event = EventBuilderV10::new().id(offset.to_string()).source("/t").ty("t").subject(subject).build();
        Delivery {
            origin: "t".into(),
            position: Position { partition, offset },
            event: Ok(event.unwrap()),
            raw: String::new(),
            record: None,
        }
    }

    fn offsets(deliveries: &[Delivery]) -> Vec<(i32, i64)> {
        deliveries.iter().map(|d| (d.position.partition, d.position.offset)).collect()
    }

    #[test]
    fn keys_run_side_by_side_and_one_key_in_order() {
        let mut flow = Flow::default();
        let a0 = flow.add(delivery(0, 0, "a")).unwrap();
        let b1 = flow.add(delivery(0, 1, "b")).unwrap();
        assert!(flow.add(delivery(0, 2, "a")).is_none(), "a's second waits behind its first");
        assert!(flow.add(delivery(0, 1, "b")).is_none(), "taken already");
        assert_eq!((flow.in_flight(), flow.taken()), (2, 3));

        // b finishes first: nothing can be committed while offset 0 is still being handled.
        assert!(flow.finish(b1).is_none());
        assert!(flow.committable().is_empty() && !flow.can_commit());
        // a's first finishes: its second comes next, and offsets 0 and 1 may be committed.
        let a2 = flow.finish(a0).unwrap();
        assert_eq!(a2.position.offset, 2);
        assert!(flow.can_commit());
        assert_eq!(offsets(&flow.committable()), [(0, 1)]);
        assert!(flow.committable().is_empty(), "committed once");
        assert!(flow.finish(a2).is_none());
        assert_eq!(offsets(&flow.committable()), [(0, 2)]);
        assert_eq!((flow.in_flight(), flow.taken()), (0, 0));
    }

    #[test]
    fn partitions_commit_apart_and_an_undecodable_record_waits_for_nobody() {
        let mut flow = Flow::default();
        let mut bad = delivery(1, 5, "a");
        bad.event = Err("not a CloudEvent".into());
        let p0 = flow.add(delivery(0, 9, "a")).unwrap();
        let bad = flow.add(bad).expect("orders with nothing");
        assert!(flow.finish(bad).is_none());
        assert_eq!(offsets(&flow.committable()), [(1, 5)]);
        assert!(flow.finish(p0).is_none());
        assert_eq!(offsets(&flow.committable()), [(0, 9)]);
    }
}
