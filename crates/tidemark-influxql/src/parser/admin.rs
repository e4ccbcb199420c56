//! The grammar of 1.x statements this server does not run: users, privileges, retention
//! policies, continuous queries, subscriptions and the like. They are checked as 1.x checks
//! them, so a malformed one gets 1.x's parse error, and a well-formed one becomes
//! [`crate::ast::UnsupportedStatement`]. The keywords naming the statement have been read.

use super::select::IntoClause;
use super::{PResult, Parser};
use crate::keyword::Keyword as K;
use crate::lexer::{Punct, Tok};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Privilege {
    ReadOrWrite,
    All,
}

impl Parser<'_> {
    /// `READ`, `WRITE` or `ALL [PRIVILEGES]`.
    fn parse_privilege(&mut self) -> PResult<Privilege> {
        let t = self.scan_ws();
        match t.tok {
            Tok::Keyword(K::Read | K::Write) => Ok(Privilege::ReadOrWrite),
            Tok::Keyword(K::All) => {
                self.accept(K::Privileges);
                Ok(Privilege::All)
            }
            _ => Err(self.found(&t, &["READ", "WRITE", "ALL [PRIVILEGES]"])),
        }
    }

    /// `GRANT privilege ON db TO user` or `GRANT ALL [PRIVILEGES] TO user`.
    pub(super) fn parse_grant(&mut self) -> PResult<()> {
        self.parse_privilege_target(K::To)
    }

    /// `REVOKE privilege ON db FROM user` or `REVOKE ALL [PRIVILEGES] FROM user`.
    pub(super) fn parse_revoke(&mut self) -> PResult<()> {
        self.parse_privilege_target(K::From)
    }

    fn parse_privilege_target(&mut self, to: K) -> PResult<()> {
        let privilege = self.parse_privilege()?;
        let t = self.scan_ws();
        if t.is_keyword(K::On) {
            self.parse_ident()?;
            self.expect(to)?;
            return self.parse_ident().map(drop);
        }
        if t.is_keyword(to) && privilege == Privilege::All {
            return self.parse_ident().map(drop);
        }
        if privilege == Privilege::All && !t.is_keyword(to) {
            return Err(self.found(&t, &["ON", to.as_str()]));
        }
        Err(self.found(&t, &["ON"]))
    }

    /// `name = 'password'` after `SET PASSWORD FOR`.
    pub(super) fn parse_set_password(&mut self) -> PResult<()> {
        self.parse_ident()?;
        self.expect_punct(Punct::Eq)?;
        self.parse_string().map(drop)
    }

    /// `id [ON host]` after `KILL QUERY`.
    pub(super) fn parse_kill_query(&mut self) -> PResult<()> {
        self.parse_u64()?;
        self.parse_optional_on().map(drop)
    }

    /// `[FOR 'module']` after `SHOW STATS` and `SHOW DIAGNOSTICS`.
    pub(super) fn parse_for_module(&mut self) -> PResult<()> {
        if self.accept(K::For) {
            self.parse_string()?;
        }
        Ok(())
    }

    /// `name WITH PASSWORD 'password' [WITH ALL PRIVILEGES]`.
    pub(super) fn parse_create_user(&mut self) -> PResult<()> {
        self.parse_ident()?;
        self.expect(K::With)?;
        self.expect(K::Password)?;
        self.parse_string()?;
        if self.accept(K::With) {
            self.expect(K::All)?;
            self.expect(K::Privileges)?;
        }
        Ok(())
    }

    /// `name ON db` (dropping a continuous query or a retention policy).
    pub(super) fn parse_name_on_database(&mut self) -> PResult<()> {
        self.parse_ident()?;
        self.expect(K::On)?;
        self.parse_ident().map(drop)
    }

    /// A shard duration, which may not be `INF`.
    fn parse_shard_duration(&mut self) -> PResult<()> {
        self.expect(K::Duration)?;
        let t = self.peek_ws();
        if t.is_keyword(K::Inf) {
            return Err(self.error_at("invalid duration INF for shard duration", t.start));
        }
        self.parse_duration().map(drop)
    }

    /// `name ON db DURATION d REPLICATION n [SHARD DURATION d] [DEFAULT] [FUTURE LIMIT d]
    /// [PAST LIMIT d]`.
    pub(super) fn parse_create_rp(&mut self) -> PResult<()> {
        self.parse_name_on_database()?;
        self.expect(K::Duration)?;
        self.parse_duration()?;
        self.expect(K::Replication)?;
        self.parse_int(1, i64::from(i32::MAX))?;
        if self.accept(K::Shard) {
            self.parse_shard_duration()?;
        }
        self.accept(K::Default);
        if self.accept(K::Future) {
            self.parse_write_limit()?;
        }
        if self.accept(K::Past) {
            self.parse_write_limit()?;
        }
        Ok(())
    }

    /// `name|DEFAULT ON db option...`, options `DURATION d`, `REPLICATION n`,
    /// `SHARD DURATION d`, `DEFAULT`, `FUTURE LIMIT d`, `PAST LIMIT d` in any order, each once.
    pub(super) fn parse_alter_rp(&mut self) -> PResult<()> {
        let t = self.scan_ws();
        if !matches!(t.tok, Tok::Ident(_) | Tok::Keyword(K::Default)) {
            return Err(self.found(&t, &["identifier"]));
        }
        self.expect(K::On)?;
        self.parse_ident()?;
        let mut seen: Vec<K> = Vec::new();
        loop {
            let t = self.scan_ws();
            let option = match t.tok {
                Tok::Keyword(
                    k
                    @ (K::Duration | K::Replication | K::Shard | K::Default | K::Future | K::Past),
                ) => k,
                _ if seen.is_empty() => {
                    let expected = [
                        "DURATION",
                        "REPLICATION",
                        "SHARD",
                        "DEFAULT",
                        "FUTURE",
                        "PAST",
                    ];
                    return Err(self.found(&t, &expected));
                }
                _ => {
                    self.unscan(&t);
                    return Ok(());
                }
            };
            if seen.contains(&option) {
                let message = format!("found duplicate {} option", option.as_str());
                return Err(self.error_at(message, t.start));
            }
            match option {
                K::Duration => drop(self.parse_duration()?),
                K::Replication => drop(self.parse_int(1, i64::from(i32::MAX))?),
                K::Shard => self.parse_shard_duration()?,
                K::Future | K::Past => drop(self.parse_write_limit()?),
                _ => {}
            }
            seen.push(option);
        }
    }

    /// `db.rp`, the dot right after the database name.
    fn parse_database_dot_rp(&mut self) -> PResult<()> {
        self.parse_ident()?;
        let t = self.scan();
        if !t.is_punct(Punct::Dot) {
            return Err(self.found(&t, &["."]));
        }
        self.parse_ident().map(drop)
    }

    /// `name ON db.rp DESTINATIONS ALL|ANY 'dest', ...`.
    pub(super) fn parse_create_subscription(&mut self) -> PResult<()> {
        self.parse_ident()?;
        self.expect(K::On)?;
        self.parse_database_dot_rp()?;
        self.expect(K::Destinations)?;
        let t = self.scan_ws();
        if !(t.is_keyword(K::All) || t.is_keyword(K::Any)) {
            return Err(self.found(&t, &["ALL", "ANY"]));
        }
        self.parse_string()?;
        while self.accept_punct(Punct::Comma) {
            self.parse_string()?;
        }
        Ok(())
    }

    /// `name ON db.rp`.
    pub(super) fn parse_drop_subscription(&mut self) -> PResult<()> {
        self.parse_ident()?;
        self.expect(K::On)?;
        self.parse_database_dot_rp()
    }

    /// `[FROM sources] [WHERE cond]`; `start` is where the statement starts.
    pub(super) fn parse_drop_series(&mut self, start: usize) -> PResult<()> {
        self.parse_series_selection(start, true).map(drop)
    }

    /// `name ON db [RESAMPLE [EVERY d] [FOR d]] BEGIN SELECT ... INTO ... END`.
    pub(super) fn parse_create_cq(&mut self) -> PResult<()> {
        self.parse_name_on_database()?;
        if self.accept(K::Resample) {
            let mut given = false;
            for keyword in [K::Every, K::For] {
                if self.accept(keyword) {
                    let t = self.scan_ws();
                    let Tok::Duration(text) = &t.tok else {
                        return Err(self.found(&t, &["duration"]));
                    };
                    let d = crate::duration::Duration::parse(text)
                        .map_err(|e| self.error_at(e.to_string(), t.start))?;
                    given |= d.0 != 0;
                }
            }
            if !given {
                let t = self.scan_ws();
                return Err(self.found(&t, &["EVERY", "FOR"]));
            }
        }
        self.expect(K::Begin)?;
        self.expect(K::Select)?;
        self.parse_select(IntoClause::Required)?;
        self.expect(K::End)
    }
}
