//! Time-based, heavy-query, ordering and concatenation probes, per database and class.
//!
//! Each class is a few SQL cores written for these tests, combined with the ways a probe
//! reaches the query: the injection point (a number, a closing quote, parenthesis or
//! backtick), how the core is joined (a logic operator, a stacked statement), what ends it
//! (a comment, a balancing condition) and how it is spelled (case, whitespace, inline
//! comments, URL-encoded once more). Every class must be detected at 99% or more; the
//! near-miss prose below, which names the same functions and keywords, must stay clean.

use super::detect;

/// How a class's cores join the value.
#[derive(Clone, Copy)]
enum Kind {
    /// a boolean or value expression: `<point> AND <core><end>`
    Expr,
    /// a statement: `<point>; <core><end>` (and with no `;` where the DBMS allows it)
    Stmt,
    /// the core carries its own injection point: `<text><core><end>`
    Tail,
}

struct Class {
    name: &'static str,
    kind: Kind,
    /// the free text a tail probe is appended to (unused by the other kinds)
    texts: &'static [&'static str],
    cores: &'static [&'static str],
}

/// Injection points and, for each, what may follow the core to balance the query.
const POINTS: &[(&str, &[&str])] = &[
    ("1", &["", "--", "-- -", "#"]),
    ("-7", &["", "/*", "-- x"]),
    ("1'", &["-- -", "#", " AND 'qX'='qX", "-- x"]),
    ("abc\"", &["-- x", "#", " AND \"a\"=\"a"]),
    ("1)", &["-- -", " AND (7=7", "#"]),
    ("x')", &["-- -", " AND ('k'='k", "#"]),
    ("1\")", &["--", " AND (\"z\"=\"z"]),
    ("1))", &["--", " AND ((9=9"]),
    ("'", &["-- -", "#", " OR 'a'='b"]),
];

/// Free-text values a tail probe is appended to (the last one longer than the prefix the
/// detector reads long values on when nothing else in them calls for the whole stream).
const TEXTS: &[&str] = &[
    "1",
    "Suite 5",
    "john",
    "42 Main Street",
    "x",
    "",
    "Please deliver to the side entrance next to the garage, ring twice and wait for a \
     minute because the bell is slow; if nobody answers leave the parcel with the neighbour \
     at number seven who knows about it, and send a message to the phone number on the \
     order so that we can pick it up in the evening after work, thanks a lot Suite 5",
];
/// Numbers a tail probe with no quote of its own is appended to.
const ONE_WORD: &[&str] = &["1", "42", "-5", "1337", "0"];

/// Ways a probe is spelled: the body in several cases and whitespaces, the whole value
/// URL-encoded once more (as an application that decodes it again would read it).
fn spellings(body: &str, end: &str) -> Vec<String> {
    let mixed = |v: &str| -> String {
        v.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    };
    let whole = format!("{body}{end}");
    let encoded: String = whole
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let form: String = whole
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'\'' | b'"' | b'=' | b'#' | b'(' | b')' | b'$' => format!("%{b:02X}"),
            _ => (b as char).to_string(),
        })
        .collect();
    let mut out = vec![
        whole.clone(),
        whole.to_ascii_lowercase(),
        mixed(&whole),
        format!("{}{end}", body.replace(' ', "/**/")),
        format!("{}{end}", body.replace(' ', "\t")),
        format!("{}{end}", body.replace(' ', "\n")),
        format!("{}{end}", body.replace(' ', "  ")),
        encoded,
    ];
    // (with no escape left the `+` would stay a plus: not what a form decoder reads)
    if form.contains('%') {
        out.push(form);
    }
    out
}

/// Every value of a class.
fn values(class: &Class) -> Vec<String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for core in class.cores {
        match class.kind {
            Kind::Expr => {
                for (point, ends) in POINTS {
                    for join in [" AND ", " OR ", " and ", " || "] {
                        for end in *ends {
                            out.push((format!("{point}{join}{core}"), (*end).to_owned()));
                        }
                    }
                }
            }
            Kind::Stmt => {
                for (point, _) in POINTS {
                    for join in [";", "; ", ";\n", " "] {
                        for end in ["", "--", "-- -", "#", "/*"] {
                            for semi in ["", ";"] {
                                out.push((format!("{point}{join}{core}{semi}"), end.to_owned()));
                            }
                        }
                    }
                }
            }
            Kind::Tail => {
                for text in class.texts {
                    for end in ["", "-- x", "#", "-- -", "/*"] {
                        out.push((format!("{text}{core}"), end.to_owned()));
                    }
                }
            }
        }
    }
    out.iter().flat_map(|(b, e)| spellings(b, e)).collect()
}

const CLASSES: &[Class] = &[
    Class {
        name: "postgresql pg_sleep",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "1234=(SELECT 1234 FROM PG_SLEEP(5))",
            "(SELECT 1 FROM PG_SLEEP(7))=1",
            "4821=(CASE WHEN (4821=4821) THEN (SELECT 4821 FROM PG_SLEEP(5)) ELSE 4821 END)",
            "(SELECT CASE WHEN (3>2) THEN PG_SLEEP(5) ELSE PG_SLEEP(0) END) IS NOT NULL",
            "1=(SELECT 1 FROM (SELECT PG_SLEEP(10)) AS t)",
            "(SELECT COUNT(*) FROM PG_SLEEP(3))>0",
            "7=(SELECT 7 FROM PG_SLEEP_FOR('5 seconds'))",
            "CAST(PG_SLEEP(6) AS TEXT)=''",
        ],
    },
    Class {
        name: "postgresql pg_sleep statement",
        texts: &[],
        kind: Kind::Stmt,
        cores: &[
            "SELECT PG_SLEEP(5)",
            "SELECT CASE WHEN 1=1 THEN PG_SLEEP(5) ELSE PG_SLEEP(0) END",
            "SELECT 1 FROM PG_SLEEP(9)",
            "SELECT pg_sleep(4) WHERE 5=5",
        ],
    },
    Class {
        name: "oracle dbms_pipe",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "1234=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65)||CHR(66)||CHR(67),5)",
            "DBMS_PIPE.RECEIVE_MESSAGE('a',10)=1",
            "1=(CASE WHEN (1=1) THEN DBMS_PIPE.RECEIVE_MESSAGE('x',5) ELSE 1 END)",
            "(SELECT DBMS_PIPE.RECEIVE_MESSAGE('q',5) FROM DUAL) IS NULL",
            "3=(SELECT 3 FROM DUAL WHERE DBMS_PIPE.RECEIVE_MESSAGE(CHR(120),8)=1)",
            "SYS.DBMS_PIPE.RECEIVE_MESSAGE('w',6) IS NOT NULL",
        ],
    },
    Class {
        name: "oracle dbms_lock/dbms_session block",
        texts: &[],
        kind: Kind::Stmt,
        cores: &[
            "BEGIN DBMS_LOCK.SLEEP(5); END",
            "BEGIN DBMS_SESSION.SLEEP(5); END;",
            "BEGIN IF (1=1) THEN DBMS_LOCK.SLEEP(5); ELSE DBMS_LOCK.SLEEP(0); END IF; END;",
            "BEGIN SYS.DBMS_SESSION.SLEEP(3); END",
            "DECLARE n NUMBER; BEGIN DBMS_LOCK.SLEEP(4); END;",
            "BEGIN USER_LOCK.SLEEP(500); END",
        ],
    },
    Class {
        name: "mssql waitfor",
        texts: &[],
        kind: Kind::Stmt,
        cores: &[
            "WAITFOR DELAY '0:0:5'",
            "IF (1=1) WAITFOR DELAY '0:0:5'",
            "IF(SYSTEM_USER='sa') WAITFOR DELAY '00:00:05'",
            "WAITFOR TIME '23:59:59'",
            "DECLARE @x CHAR(9);SET @x=0x303a303a35;WAITFOR DELAY @x",
            "IF ASCII(SUBSTRING(DB_NAME(),1,1))>64 WAITFOR DELAY '0:0:7'",
        ],
    },
    Class {
        name: "mysql sleep/benchmark",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "SLEEP(5)",
            "1234=BENCHMARK(5000000,MD5(0x41424344))",
            "(SELECT * FROM (SELECT(SLEEP(5)))abc)",
            "1=IF((1=1),SLEEP(5),0)",
            "BENCHMARK(3000000,SHA1(1))",
            "(SELECT 5 FROM (SELECT(SLEEP(5)))x)=5",
            "SLEEP(5)=0",
            "IF(1=1,SLEEP(5),0)",
        ],
    },
    Class {
        name: "mysql heavy query",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "REGEXP_SUBSTRING(REPEAT(0x41,90000000),NULL) IS NULL",
            "2048=(SELECT 2048 FROM (SELECT REGEXP_SUBSTRING(REPEAT(RIGHT(CHAR(65),0),500000000),NULL))x)",
            "1=(SELECT COUNT(*) FROM information_schema.columns A, information_schema.columns B)",
            "REGEXP_LIKE(REPEAT('a',99999999),'(a*)*b')",
            "8=(SELECT 8 WHERE REGEXP_SUBSTRING(REPEAT(LEFT('x',1),300000000),NULL) IS NULL)",
        ],
    },
    Class {
        name: "sqlite heavy query",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "1=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(500000000/2))))",
            "RANDOMBLOB(100000000) IS NOT NULL",
            "7=(SELECT 7 WHERE LIKE('A',UPPER(HEX(RANDOMBLOB(300000000)))))",
            "LENGTH(RANDOMBLOB(200000000))>0",
        ],
    },
    Class {
        name: "mssql/oracle heavy query",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "(SELECT COUNT(*) FROM sysusers AS s1, sysusers AS s2, sysusers AS s3)>0",
            "(SELECT COUNT(*) FROM sys.all_objects a1, sys.all_objects a2, sys.all_objects a3)>0",
            "(SELECT COUNT(*) FROM ALL_USERS T1, ALL_USERS T2, ALL_USERS T3)>0",
            "1=(SELECT COUNT(*) FROM master..sysdatabases a, master..sysdatabases b)",
        ],
    },
    Class {
        name: "firebird rdb$",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "(SELECT COUNT(*) FROM RDB$FIELDS AS T1, RDB$TYPES AS T2, RDB$COLLATIONS AS T3)>0",
            "1=(SELECT 1 FROM RDB$DATABASE)",
            "(SELECT FIRST 1 RDB$RELATION_NAME FROM RDB$RELATIONS) IS NOT NULL",
            "5=(SELECT COUNT(*) FROM rdb$functions)",
            "EXISTS(SELECT 1 FROM RDB$DATABASE)",
        ],
    },
    Class {
        name: "alias and condition after a closing token",
        texts: TEXTS,
        kind: Kind::Tail,
        cores: &[
            "') AS abcd WHERE 1234=1234 OR 5678=5678",
            ") AS qwer WHERE 9=9 AND 3=3",
            "\") AS x WHERE 12=12",
            "')) AS t1 WHERE 7=7 OR 2=2",
            "` WHERE 1=1 HAVING 2=3",
            "` WHERE 44=44 AND 5=5",
            "`) WHERE 8=8",
            "' AS zz WHERE 1=1",
        ],
    },
    Class {
        name: "elt/iif",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "ELT(1=1,2)",
            "ELT(4512=4512,7)",
            "1=ELT(2>1,1)",
            "IIF(1=1,1,1/0)=1",
            "1=IIF(3=3,1,0)",
            "IIF(5>4,2,3)=2",
        ],
    },
    Class {
        name: "order by column number",
        texts: ONE_WORD,
        kind: Kind::Tail,
        cores: &[
            " ORDER BY 12",
            "' ORDER BY 3",
            "') ORDER BY 1",
            "\" ORDER BY 7",
            ") ORDER BY 20",
            " GROUP BY 4",
        ],
    },
    Class {
        name: "postgresql $$-quoted",
        texts: &[],
        kind: Kind::Expr,
        cores: &[
            "$$abc$$=$$abc$$",
            "$$x$$ LIKE $$x$$",
            "1=(SELECT 1 WHERE $$q$$=$$q$$)",
            "$tag$v$tag$=$tag$v$tag$",
            "$$a$$||$$b$$=$$ab$$",
        ],
    },
    Class {
        name: "mysql full-text in boolean mode",
        texts: TEXTS,
        kind: Kind::Tail,
        cores: &[
            "') IN BOOLEAN MODE) AND 1=1",
            "' IN BOOLEAN MODE) OR 4=4",
            "\") IN BOOLEAN MODE) AND 7=8",
            "') in boolean mode) UNION SELECT 1,2",
            "') IN NATURAL LANGUAGE MODE) AND 3=3",
        ],
    },
    Class {
        name: "string-concatenated sub-select",
        texts: TEXTS,
        kind: Kind::Tail,
        cores: &[
            "' || (SELECT passwd FROM accounts LIMIT 1) || '",
            "'||(SELECT version())||'",
            "' || (SELECT username FROM users WHERE ROWNUM=1) || '",
            "'+(SELECT TOP 1 name FROM sysobjects)+'",
            "' + (SELECT TOP 1 password FROM logins) + '",
            "' || (SELECT current_user) || '",
            "\" || (SELECT email FROM members LIMIT 1 OFFSET 2) || \"",
        ],
    },
];

/// Near-miss values: prose and code that name the same functions and keywords.
const NEAR_MISSES: &[&str] = &[
    "sleep(8) hours a night",
    "I sleep (about 7h) most nights",
    "order by 12 items",
    "Please order by 3 pm",
    "order by 12",
    "benchmark results",
    "the benchmark (2024) results are in",
    "case when it rains",
    "In case when it rains we stay home",
    "begin ... end of the year",
    "Begin the meeting; end it at 5",
    "BEGIN with the basics; END with a quiz",
    "wait for delay notices from the airline",
    "waitfor is a T-SQL keyword",
    "pipe the message to receive it",
    "dbms_pipe is an Oracle package",
    "I use pg_sleep in tests",
    "repeat after me",
    "regexp substring help",
    "Firebird stores metadata in system tables",
    "costs $$ but worth it",
    "$$ money $$",
    "it's $5 or $$10",
    "Suite 5 || Floor 2",
    "rock 'n' roll || jazz",
    "search in boolean mode",
    "elt is a function name",
    "iif is short for immediate if",
    "as abcd where it was",
    "known as John where he lives",
    "x=1 where y=2",
    "select the best option (1 of 3)",
    "wait (5 min) then retry",
    "Delay: 5 minutes",
    "sleep(5)?",
    "Hotel rooms 1 or 2",
    "the 'rdb' files",
    "benchmark(s)",
    "end; begin again",
    "We ordered 12 by noon",
    "Group by 4 students",
];

fn rate(class: &Class) -> (usize, usize, Vec<String>) {
    let vs = values(class);
    let missed: Vec<String> = vs.iter().filter(|v| detect(v).is_none()).cloned().collect();
    (vs.len() - missed.len(), vs.len(), missed)
}

#[test]
fn probe_classes_are_detected() {
    let mut failures = Vec::new();
    for class in CLASSES {
        let (hit, total, missed) = rate(class);
        let pct = 100.0 * hit as f64 / total as f64;
        println!("{:<45} {hit:>5}/{total:<5} {pct:6.2}%", class.name);
        if std::env::var_os("SQLI_PROBE_MISSES").is_some() {
            for m in &missed {
                println!("  {m:?}");
            }
        }
        if pct < 99.0 {
            failures.push(format!(
                "{}: {pct:.2}% ({hit}/{total}); missed e.g. {:?}",
                class.name,
                &missed[..missed.len().min(8)]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn probe_near_misses_stay_clean() {
    let flagged: Vec<_> = NEAR_MISSES
        .iter()
        .filter_map(|v| detect(v).map(|f| format!("{v:?} -> {}", f.rule)))
        .collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
}

/// SQL quoted in technical prose: date arithmetic on `now()` and a statement inside a
/// code string (`execute("SELECT ...")`) stay clean; the probes they resemble still fire.
#[test]
fn quoted_sql_in_prose() {
    for b in [
        "My query is SELECT o.id FROM orders o WHERE o.created_at > now() - interval '7 days'. Any idea?",
        "Our job runs DELETE FROM sessions WHERE last_seen < now() - interval '30 days' nightly",
        "WHERE updated_at >= NOW() + INTERVAL 1 DAY",
        "Use cursor.execute(\"SELECT * FROM users WHERE email = %s\", (email,)) instead",
        "db.query('SELECT id FROM t WHERE x = ?', [x])",
        "sql = \"SELECT name FROM users\"",
    ] {
        assert_eq!(detect(b), None, "{b}");
    }
    for a in [
        "1 and now()=sysdate()",
        "' or now() > 0 --",
        "x' AND now()-1=1--",
        "admin' SELECT * FROM users--",
        "x';SELECT * FROM users",
        "1\" UNION SELECT password FROM users--",
    ] {
        assert!(detect(a).is_some(), "{a}");
    }
}
