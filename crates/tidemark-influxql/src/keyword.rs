//! InfluxQL's reserved words (1.x `token.go`). A keyword is matched without regard to ASCII
//! case and cannot be an unquoted identifier.

macro_rules! keywords {
    ($($variant:ident = $text:literal,)*) => {
        /// A reserved word.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Keyword {
            $($variant,)*
        }

        impl Keyword {
            /// The keyword as 1.x prints it in errors: upper case.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Keyword::$variant => $text,)*
                }
            }

            /// The keyword spelled by `word` (any ASCII case), if it is one.
            pub(crate) fn lookup(word: &str) -> Option<Keyword> {
                if word.len() > LONGEST {
                    return None;
                }
                let mut buf = [0u8; LONGEST];
                let upper = &mut buf[..word.len()];
                upper.copy_from_slice(word.as_bytes());
                upper.make_ascii_uppercase();
                match &*upper {
                    $(x if x == $text.as_bytes() => Some(Keyword::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

/// The length of the longest keyword, `SUBSCRIPTIONS`.
const LONGEST: usize = 13;

keywords! {
    All = "ALL",
    Alter = "ALTER",
    Analyze = "ANALYZE",
    And = "AND",
    Any = "ANY",
    As = "AS",
    Asc = "ASC",
    Begin = "BEGIN",
    By = "BY",
    Cardinality = "CARDINALITY",
    Continuous = "CONTINUOUS",
    Create = "CREATE",
    Database = "DATABASE",
    Databases = "DATABASES",
    Default = "DEFAULT",
    Delete = "DELETE",
    Desc = "DESC",
    Destinations = "DESTINATIONS",
    Diagnostics = "DIAGNOSTICS",
    Distinct = "DISTINCT",
    Drop = "DROP",
    Duration = "DURATION",
    End = "END",
    Every = "EVERY",
    Exact = "EXACT",
    Explain = "EXPLAIN",
    False = "FALSE",
    Field = "FIELD",
    For = "FOR",
    From = "FROM",
    Future = "FUTURE",
    Grant = "GRANT",
    Grants = "GRANTS",
    Group = "GROUP",
    Groups = "GROUPS",
    In = "IN",
    Inf = "INF",
    Insert = "INSERT",
    Into = "INTO",
    Key = "KEY",
    Keys = "KEYS",
    Kill = "KILL",
    Limit = "LIMIT",
    Measurement = "MEASUREMENT",
    Measurements = "MEASUREMENTS",
    Name = "NAME",
    Offset = "OFFSET",
    On = "ON",
    Or = "OR",
    Order = "ORDER",
    Password = "PASSWORD",
    Past = "PAST",
    Policies = "POLICIES",
    Policy = "POLICY",
    Privileges = "PRIVILEGES",
    Queries = "QUERIES",
    Query = "QUERY",
    Read = "READ",
    Replication = "REPLICATION",
    Resample = "RESAMPLE",
    Retention = "RETENTION",
    Revoke = "REVOKE",
    Select = "SELECT",
    Series = "SERIES",
    Set = "SET",
    Shard = "SHARD",
    Shards = "SHARDS",
    Show = "SHOW",
    Slimit = "SLIMIT",
    Soffset = "SOFFSET",
    Stats = "STATS",
    Subscription = "SUBSCRIPTION",
    Subscriptions = "SUBSCRIPTIONS",
    Tag = "TAG",
    To = "TO",
    True = "TRUE",
    User = "USER",
    Users = "USERS",
    Values = "VALUES",
    Verbose = "VERBOSE",
    Where = "WHERE",
    With = "WITH",
    Write = "WRITE",
}
