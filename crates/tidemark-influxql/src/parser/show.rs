//! The schema `SHOW` statements (1.x `parseShow*Statement`); the keywords naming the statement
//! have been read.

use super::{PResult, Parser};
use crate::ast::{
    CardinalityKind, Measurement, MeasurementName, NameOrWildcard, ShowCardinalityStatement,
    ShowFieldKeysStatement, ShowMeasurementsStatement, ShowRetentionPoliciesStatement,
    ShowSeriesStatement, ShowTagKeysStatement, ShowTagValuesStatement, Source, Statement, WithKey,
};
use crate::keyword::Keyword;
use crate::lexer::{Punct, Tok};

impl Parser<'_> {
    /// A measurement name or regex, maybe qualified (a source where subqueries are not
    /// allowed).
    pub(crate) fn parse_measurement_or_regex(&mut self) -> PResult<Measurement> {
        match self.parse_regex_in(true)? {
            Some(re) => Ok(Measurement {
                database: None,
                retention_policy: None,
                name: MeasurementName::Regex(re),
            }),
            None => self.parse_measurement(),
        }
    }

    fn parse_name_or_wildcard(&mut self) -> PResult<NameOrWildcard> {
        let t = self.scan_ws();
        match t.tok {
            Tok::Ident(name) => Ok(NameOrWildcard::Name(name.into_owned())),
            Tok::Punct(Punct::Mul) => Ok(NameOrWildcard::Wildcard),
            _ => Err(self.found(&t, &["identifier or *"])),
        }
    }

    pub(crate) fn parse_show_measurements(&mut self) -> PResult<ShowMeasurementsStatement> {
        let on = if self.accept(Keyword::On) {
            let database = self.parse_name_or_wildcard()?;
            let retention_policy = if self.accept_punct(Punct::Dot) {
                Some(self.parse_name_or_wildcard()?)
            } else {
                None
            };
            Some((database, retention_policy))
        } else {
            None
        };
        let with_measurement = if self.accept(Keyword::With) {
            self.expect(Keyword::Measurement)?;
            let t = self.scan_ws();
            if !(t.is_punct(Punct::Eq) || t.is_punct(Punct::EqRegex)) {
                return Err(self.found(&t, &["=", "=~"]));
            }
            Some(self.parse_measurement_or_regex()?)
        } else {
            None
        };
        Ok(ShowMeasurementsStatement {
            on,
            with_measurement,
            condition: self.parse_condition()?,
            order: self.parse_order_by()?,
            limit: self.parse_optional_int(Keyword::Limit)?,
            offset: self.parse_optional_int(Keyword::Offset)?,
        })
    }

    pub(crate) fn parse_show_retention_policies(
        &mut self,
    ) -> PResult<ShowRetentionPoliciesStatement> {
        Ok(ShowRetentionPoliciesStatement {
            on: self.parse_optional_on()?,
        })
    }

    pub(crate) fn parse_show_tag_keys(&mut self) -> PResult<ShowTagKeysStatement> {
        let on = self.parse_optional_on()?;
        let from = self.parse_optional_from()?;
        let with_key = if self.peek_ws().is_keyword(Keyword::With) {
            Some(self.parse_with_key()?)
        } else {
            None
        };
        Ok(ShowTagKeysStatement {
            on,
            from,
            with_key,
            condition: self.parse_condition()?,
            order: self.parse_order_by()?,
            limit: self.parse_optional_int(Keyword::Limit)?,
            offset: self.parse_optional_int(Keyword::Offset)?,
            slimit: self.parse_optional_int(Keyword::Slimit)?,
            soffset: self.parse_optional_int(Keyword::Soffset)?,
        })
    }

    /// `SHOW TAG VALUES ...` or `SHOW TAG VALUES [EXACT] CARDINALITY ...`.
    pub(crate) fn parse_show_tag_values(&mut self) -> PResult<Statement> {
        let t = self.scan_ws();
        if t.is_keyword(Keyword::Exact) {
            self.expect(Keyword::Cardinality)?;
            return self.parse_tag_values_cardinality(true);
        }
        if t.is_keyword(Keyword::Cardinality) {
            return self.parse_tag_values_cardinality(false);
        }
        self.unscan(&t);
        let on = self.parse_optional_on()?;
        let from = self.parse_optional_from()?;
        let with_key = self.parse_with_key()?;
        Ok(Statement::ShowTagValues(Box::new(ShowTagValuesStatement {
            on,
            from,
            with_key,
            condition: self.parse_condition()?,
            order: self.parse_order_by()?,
            limit: self.parse_optional_int(Keyword::Limit)?,
            offset: self.parse_optional_int(Keyword::Offset)?,
        })))
    }

    fn parse_tag_values_cardinality(&mut self, exact: bool) -> PResult<Statement> {
        let on = self.parse_optional_on()?;
        let from = self.parse_optional_from()?;
        let with_key = self.parse_with_key()?;
        let kind = CardinalityKind::TagValues(with_key);
        let statement = self.parse_cardinality_rest(kind, exact, on, from)?;
        Ok(Statement::ShowCardinality(Box::new(statement)))
    }

    /// `WITH KEY = k | != k | =~ /re/ | !~ /re/ | IN (k, ...)`.
    fn parse_with_key(&mut self) -> PResult<WithKey> {
        self.expect(Keyword::With)?;
        self.expect(Keyword::Key)?;
        let t = self.scan_ws();
        match t.tok {
            Tok::Keyword(Keyword::In) => {
                self.expect_punct(Punct::LParen)?;
                let keys = self.parse_ident_list()?;
                self.expect_punct(Punct::RParen)?;
                Ok(WithKey::In(keys))
            }
            Tok::Punct(Punct::Eq) => Ok(WithKey::Eq(self.parse_ident()?)),
            Tok::Punct(Punct::Neq) => Ok(WithKey::NotEq(self.parse_ident()?)),
            Tok::Punct(op @ (Punct::EqRegex | Punct::NeqRegex)) => {
                let Some(re) = self.parse_regex()? else {
                    let t = self.scan_ws();
                    return Err(self.found(&t, &["regex"]));
                };
                Ok(if op == Punct::EqRegex {
                    WithKey::EqRegex(re)
                } else {
                    WithKey::NotEqRegex(re)
                })
            }
            _ => Err(self.found(&t, &["IN", "=", "=~"])),
        }
    }

    pub(crate) fn parse_show_field_keys(&mut self) -> PResult<ShowFieldKeysStatement> {
        Ok(ShowFieldKeysStatement {
            on: self.parse_optional_on()?,
            from: self.parse_optional_from()?,
            order: self.parse_order_by()?,
            limit: self.parse_optional_int(Keyword::Limit)?,
            offset: self.parse_optional_int(Keyword::Offset)?,
        })
    }

    /// `SHOW SERIES ...` or `SHOW SERIES [EXACT] CARDINALITY ...`. As in 1.x, an `EXACT` not
    /// followed by `CARDINALITY` is ignored.
    pub(crate) fn parse_show_series(&mut self) -> PResult<Statement> {
        let exact = self.accept(Keyword::Exact);
        if self.accept(Keyword::Cardinality) {
            let statement = self.parse_cardinality(CardinalityKind::Series, exact)?;
            return Ok(Statement::ShowCardinality(Box::new(statement)));
        }
        Ok(Statement::ShowSeries(Box::new(ShowSeriesStatement {
            on: self.parse_optional_on()?,
            from: self.parse_optional_from()?,
            condition: self.parse_condition()?,
            order: self.parse_order_by()?,
            limit: self.parse_optional_int(Keyword::Limit)?,
            offset: self.parse_optional_int(Keyword::Offset)?,
        })))
    }

    /// `SHOW MEASUREMENT EXACT CARDINALITY` or `SHOW MEASUREMENT CARDINALITY`; `exact` says
    /// which keyword followed `MEASUREMENT`.
    pub(crate) fn parse_show_measurement_cardinality(
        &mut self,
        exact: bool,
    ) -> PResult<ShowCardinalityStatement> {
        if exact {
            self.expect(Keyword::Cardinality)?;
        }
        self.parse_cardinality(CardinalityKind::Measurement, exact)
    }

    /// `SHOW TAG KEY [EXACT] CARDINALITY` and `SHOW FIELD KEY [EXACT] CARDINALITY`.
    pub(crate) fn parse_show_key_cardinality(
        &mut self,
        kind: CardinalityKind,
    ) -> PResult<ShowCardinalityStatement> {
        let exact = self.accept(Keyword::Exact);
        let t = self.scan_ws();
        if !t.is_keyword(Keyword::Cardinality) {
            let expected: &[&str] = if exact {
                &["CARDINALITY"]
            } else {
                &["EXACT", "CARDINALITY"]
            };
            return Err(self.found(&t, expected));
        }
        self.parse_cardinality(kind, exact)
    }

    fn parse_cardinality(
        &mut self,
        kind: CardinalityKind,
        exact: bool,
    ) -> PResult<ShowCardinalityStatement> {
        let on = self.parse_optional_on()?;
        let from = self.parse_optional_from()?;
        self.parse_cardinality_rest(kind, exact, on, from)
    }

    /// `[WHERE ..] [GROUP BY ..] [LIMIT n] [OFFSET n]` after `ON` and `FROM`.
    fn parse_cardinality_rest(
        &mut self,
        kind: CardinalityKind,
        exact: bool,
        on: Option<String>,
        from: Vec<Source>,
    ) -> PResult<ShowCardinalityStatement> {
        Ok(ShowCardinalityStatement {
            kind,
            exact,
            on,
            from,
            condition: self.parse_condition()?,
            group_by: self.parse_dimensions()?,
            limit: self.parse_optional_int(Keyword::Limit)?,
            offset: self.parse_optional_int(Keyword::Offset)?,
        })
    }
}
