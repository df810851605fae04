//! Named values k8x keeps about itself (the check that the secret key is the right one).

use sea_orm::{sea_query::OnConflict, ActiveValue::Set, EntityTrait};

use super::{entities::setting, Result, Store};

impl Store {
    /// A setting's value.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(setting::Entity::find_by_id(name.to_owned()).one(&self.db).await?.map(|row| row.value))
    }

    /// Sets a setting unless it is set; returns the value it has afterwards (another process may have been
    /// first).
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String> {
        let row = setting::ActiveModel { name: Set(name.to_owned()), value: Set(value.to_owned()) };
        setting::Entity::insert(row)
            .on_conflict(OnConflict::column(setting::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(super::not_inserted_is_fine)?;
        Ok(self.setting(name).await?.unwrap_or_else(|| value.to_owned()))
    }
}
