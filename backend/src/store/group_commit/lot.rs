//! A lot: the jobs of one kind of grouped write that go into a transaction together, with where to answer
//! each. The writer holds lots of every kind behind one trait object; a lot knows its own kind.

use std::any::{Any, TypeId};
use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{DatabaseTransaction, DbErr};
use tokio::sync::oneshot;

use super::Batch;

/// Jobs of one kind, as the writer sees them.
#[async_trait]
pub(super) trait Lot: Send + 'static {
    /// Its kind: the [`Batch`]'s type and which one of them (two handles may write the same type
    /// differently).
    fn kind(&self) -> (TypeId, usize);
    /// Where its batch comes in the transaction ([`Batch::RANK`]).
    fn rank(&self) -> u8;
    /// Its weight, summed over its jobs ([`Batch::weight`]).
    fn weight(&self) -> usize;
    /// How many callers it answers.
    fn jobs(&self) -> usize;
    /// Takes in `other` if it is of the same kind and both fit in one batch ([`Batch::LIMIT`]); else gives it
    /// back.
    fn join(&mut self, other: Box<dyn Lot>) -> Result<(), Box<dyn Lot>>;
    /// Itself, for [`Lot::join`] to tell its kind.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    /// Writes its jobs inside `txn`, keeping their answers for [`Lot::answer`].
    async fn write(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr>;
    /// Once committed: gives each caller its answer, then tells its kind ([`Batch::committed`]).
    fn answer(self: Box<Self>);
    /// Gives each caller the error `err` makes.
    fn fail(self: Box<Self>, err: &mut dyn FnMut() -> DbErr);
    /// One lot per job (to write each alone).
    fn split(self: Box<Self>) -> Vec<Box<dyn Lot>>;
}

/// Puts `next` into the last lot of its kind in `lots` if it has room (so a kind's jobs stay in the order
/// they came), or after them.
pub(super) fn gather(lots: &mut Vec<Box<dyn Lot>>, next: Box<dyn Lot>) {
    let next = match lots.iter_mut().rev().find(|lot| lot.kind() == next.kind()) {
        Some(last) => match last.join(next) {
            Ok(()) => return,
            Err(back) => back,
        },
        None => next,
    };
    lots.push(next);
}

/// The lot of one [`Batch`].
pub(super) struct Typed<B: Batch> {
    batch: Arc<B>,
    jobs: Vec<B::Job>,
    /// The jobs' weight, summed.
    weight: usize,
    answers: Vec<oneshot::Sender<Result<B::Done, DbErr>>>,
    /// Filled by [`Lot::write`].
    done: Vec<B::Done>,
}

impl<B: Batch> Typed<B> {
    /// One caller's job.
    pub(super) fn new(batch: Arc<B>, job: B::Job, answer: oneshot::Sender<Result<B::Done, DbErr>>) -> Self {
        Self { batch, weight: B::weight(&job), jobs: vec![job], answers: vec![answer], done: Vec::new() }
    }
}

#[async_trait]
impl<B: Batch> Lot for Typed<B> {
    fn kind(&self) -> (TypeId, usize) {
        (TypeId::of::<B>(), Arc::as_ptr(&self.batch) as *const () as usize)
    }

    fn rank(&self) -> u8 {
        B::RANK
    }

    fn weight(&self) -> usize {
        self.weight
    }

    fn jobs(&self) -> usize {
        self.jobs.len()
    }

    fn join(&mut self, other: Box<dyn Lot>) -> Result<(), Box<dyn Lot>> {
        if other.kind() != self.kind() || self.weight() + other.weight() > B::LIMIT {
            return Err(other);
        }
        let Ok(other) = other.into_any().downcast::<Self>() else { unreachable!("a lot of the kind just checked") };
        let Self { jobs, weight, answers, .. } = *other;
        self.weight += weight;
        self.jobs.extend(jobs);
        self.answers.extend(answers);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

    async fn write(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        let done = self.batch.write(txn, &self.jobs).await?;
        if done.len() != self.jobs.len() {
            return Err(super::no_answer());
        }
        self.done = done;
        Ok(())
    }

    fn answer(self: Box<Self>) {
        for (answer, done) in self.answers.into_iter().zip(self.done) {
            let _ = answer.send(Ok(done));
        }
        // A kind's hook that panics must not take the writer, and every later write, down with it.
        let batch = &self.batch;
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch.committed())) {
            let why = crate::panics::message(&*panic);
            tracing::error!(%why, "a grouped write's after-commit hook panicked; its writes are committed");
        }
    }

    fn fail(self: Box<Self>, err: &mut dyn FnMut() -> DbErr) {
        for answer in self.answers {
            let _ = answer.send(Err(err()));
        }
    }

    fn split(self: Box<Self>) -> Vec<Box<dyn Lot>> {
        let batch = self.batch;
        self.jobs
            .into_iter()
            .zip(self.answers)
            .map(|(job, answer)| Box::new(Typed::new(batch.clone(), job, answer)) as Box<dyn Lot>)
            .collect()
    }
}
