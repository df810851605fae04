//! The outbox: completion events written with the endings they announce, taken by one relay pass at a time
//! (a claim with a lease, so that several processes never relay the same row at once and a pass that died is
//! taken over), deleted once the bus has them.

use chrono::{Duration, Utc};
use cloudevents::Event;
use sea_orm::{sea_query::Expr, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{entities::outbox, Result, Store};

impl Store {
    /// Claims up to `limit` unclaimed (or abandoned) outbox rows for the pass `claim`, oldest first, for
    /// `lease`; returns them with their events. A row whose event cannot be read is returned as an error text,
    /// for the relay to report and drop.
    pub async fn claim_outbox(
        &self,
        claim: &str,
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<(i64, std::result::Result<Event, String>)>> {
        use outbox::Column as C;
        let now = Utc::now();
        let free = || Condition::any().add(C::ClaimedUntil.is_null()).add(C::ClaimedUntil.lt(now));
        let candidates: Vec<i64> = outbox::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(free())
            .order_by_asc(C::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        // The condition is checked again by the update itself: of two passes racing for a row, one gets it.
        outbox::Entity::update_many()
            .col_expr(C::Claim, Expr::value(claim))
            .col_expr(C::ClaimedUntil, Expr::value(now + lease))
            .filter(C::Id.is_in(candidates))
            .filter(free())
            .exec(&self.db)
            .await?;
        let rows = outbox::Entity::find().filter(C::Claim.eq(claim)).order_by_asc(C::Id).all(&self.db).await?;
        Ok(rows.into_iter().map(|row| (row.id, serde_json::from_str(&row.event).map_err(|e| e.to_string()))).collect())
    }

    /// Deletes relayed outbox rows.
    pub async fn delete_outbox(&self, ids: &[i64]) -> Result<()> {
        if !ids.is_empty() {
            outbox::Entity::delete_many().filter(outbox::Column::Id.is_in(ids.iter().copied())).exec(&self.db).await?;
        }
        Ok(())
    }

    /// Lets go of the rows of pass `claim` that were not relayed, for the next pass.
    pub async fn release_outbox(&self, claim: &str) -> Result<()> {
        use outbox::Column as C;
        outbox::Entity::update_many()
            .col_expr(C::Claim, Expr::value(Option::<String>::None))
            .col_expr(C::ClaimedUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .filter(C::Claim.eq(claim))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// How many completion events wait to be relayed.
    pub async fn outbox_len(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(outbox::Entity::find().count(&self.db).await?)
    }

    /// Wakes when an ending was recorded (there may be an event to relay); relays also look on their own.
    pub async fn outbox_written(&self) {
        self.signals.outbox.notified().await
    }

    /// Wakes when an execution was queued again for a retry or a slot may have freed.
    pub async fn queue_changed(&self) {
        self.signals.queue.notified().await
    }

    /// Tells queue runners that a slot may have freed or an execution was queued.
    pub fn nudge_queue(&self) {
        self.signals.queue.notify_one()
    }
}
