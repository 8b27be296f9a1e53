//! The two column types whose storage differs between the backends, in one place:
//! money (`NUMERIC(20,2)` on Postgres, decimal text on SQLite, which has no decimal type in
//! sqlx) and timestamps (`TIMESTAMPTZ` on Postgres, RFC 3339 text on SQLite). Binding these
//! wrappers lets a store write one query body for both backends.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// An amount of money as stored: two decimal places, like the Postgres column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub Decimal);

impl Money {
    /// What Postgres does to a value written to `NUMERIC(20,2)`, done by hand for SQLite so
    /// that both backends give back the same amount: round half away from zero to two
    /// places, and refuse what does not fit.
    fn to_column(self) -> Result<Decimal, BoxDynError> {
        let mut amount = self.0;
        amount.rescale(2);
        // `NUMERIC(20,2)` holds at most 18 digits before the point.
        if amount.abs() >= Decimal::from(1_000_000_000_000_000_000_i64) {
            return Err(format!("amount {amount} does not fit NUMERIC(20,2)").into());
        }
        Ok(amount)
    }
}

impl Type<Postgres> for Money {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Money {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Decimal as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for Money {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        <Decimal as Decode<Postgres>>::decode(value).map(Money)
    }
}

impl Type<Sqlite> for Money {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Money {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.to_column()?.to_string(), buf)
    }
}

impl Decode<'_, Sqlite> for Money {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Money(text.parse::<Decimal>()?))
    }
}

/// A point in time as stored: microseconds, the precision of `TIMESTAMPTZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now())
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Postgres>>::decode(value).map(Timestamp)
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        // Fixed width (always six fraction digits, always `Z`) so that text order is time
        // order, which the `created_at` indexes rely on.
        let text = self
            .0
            .trunc_subsecs(6)
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        <String as Encode<Sqlite>>::encode(text, buf)
    }
}

impl Decode<'_, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Timestamp(
            DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_is_kept_to_two_places_like_numeric_20_2() {
        let cents = |s: &str| {
            Money(Decimal::from_str(s).unwrap())
                .to_column()
                .map(|d| d.to_string())
        };
        assert_eq!(cents("45000").unwrap(), "45000.00");
        assert_eq!(cents("0.1").unwrap(), "0.10");
        assert_eq!(cents("12.345").unwrap(), "12.35");
        assert_eq!(cents("-12.345").unwrap(), "-12.35");
        assert_eq!(
            cents("999999999999999999.99").unwrap(),
            "999999999999999999.99"
        );
        assert!(cents("1000000000000000000").is_err());
    }
}
