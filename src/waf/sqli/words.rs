//! The word tables: SQL keywords, known functions (with a tier), system catalog names and
//! PostgreSQL type names, in one hash map, and how a word is classed from them.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use super::prefilter::{has_glued_union, GATE_CODE, GATE_WORDS, GLUED};
use super::token::*;

pub(super) fn lower<'a>(w: &[u8], buf: &'a mut [u8; 40]) -> Option<&'a [u8]> {
    if w.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(w) {
        *d = s.to_ascii_lowercase();
    }
    Some(&buf[..w.len()])
}

/// What the word tables say about one lowercase word.
#[derive(Clone, Copy, Default)]
pub(super) struct Entry {
    /// keyword (type, attribute), type 0 when not a keyword
    pub(super) kw: (u8, u8),
    /// function tier, 0 when not a function
    pub(super) func: u8,
    pub(super) catalog: bool,
    /// an Oracle package whose procedures only SQL calls (`dbms_pipe`)
    pub(super) package: bool,
}

/// FNV-1a: tiny, no allocation, good enough for a few hundred fixed keys.
#[derive(Default)]
pub(super) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(super) type WordMap = HashMap<&'static [u8], Entry, BuildHasherDefault<Fnv>>;

/// One lookup table built from [`KEYWORDS`], [`FUNCS`] and [`CATALOG`].
pub(super) static WORDS: LazyLock<WordMap> = LazyLock::new(|| {
    let mut m = WordMap::default();
    for &(n, t, a) in KEYWORDS {
        m.entry(n.as_bytes()).or_default().kw = (t, a);
    }
    for &(n, tier) in FUNCS {
        m.entry(n.as_bytes()).or_default().func = tier;
    }
    for &n in CATALOG {
        m.entry(n.as_bytes()).or_default().catalog = true;
    }
    for &n in PACKAGES {
        m.entry(n.as_bytes()).or_default().package = true;
    }
    m
});

/// Longest name in the word tables (`sqlite_compileoption_used`).
pub(super) const MAX_WORD: usize = 26;

pub(super) fn lookup(lw: &[u8]) -> Entry {
    if lw.len() < 2 || lw.len() > MAX_WORD {
        return Entry::default();
    }
    WORDS.get(lw).copied().unwrap_or_default()
}

/// The gate key of a word: the 5-bit codes of its first three bytes (case folded), a code
/// after a byte with none being 0.
pub(super) fn gate_key(w: &[u8]) -> usize {
    let code = |k: usize| w.get(k).map_or(0, |&c| GATE_CODE[c as usize]);
    let c1 = code(1);
    let c2 = if c1 == 0 { 0 } else { code(2) };
    usize::from(code(0)) << 10 | usize::from(c1) << 5 | usize::from(c2)
}

/// The gate keys of every word in [`WORDS`]: a word whose key is not here is no keyword,
/// function or catalog name, and is classified without a lookup (most words of prose).
static WORD_GATE: LazyLock<[u64; GATE_WORDS]> = LazyLock::new(|| {
    let mut gate = [0u64; GATE_WORDS];
    for w in WORDS.keys() {
        let k = gate_key(w);
        gate[k >> 6] |= 1 << (k & 63);
    }
    gate
});

/// Could `w` be a table word (or, holding a `.`, name a catalog object by its parts)?
fn may_be_listed(w: &[u8]) -> bool {
    let k = gate_key(w);
    WORD_GATE[k >> 6] & (1u64 << (k & 63)) != 0 || w.contains(&b'.')
}

/// Classifies one word token: keyword, function (when `called`), catalog name, glued
/// `unionselect`, or a plain word (English-looking or not).
pub(super) fn classify_word(w: &[u8], called: bool, s: usize, e: usize) -> Tok {
    if w.len() <= 40 && w.iter().all(u8::is_ascii_alphabetic) {
        // plain letters (most words of text): no `.`, English-looking when in no table
        let k = gate_key(w);
        if WORD_GATE[k >> 6] & (1u64 << (k & 63)) == 0 {
            if w.len() >= GLUED.len() && has_glued_union(w) {
                return tok(T_WORD, W_GLUED, s, e);
            }
            return tok(T_WORD, W_ENGLISHY, s, e);
        }
        return classify_listed(w, called, s, e);
    }
    if w.len() <= 40 && !may_be_listed(w) {
        // what the lookup below would conclude for a word in no table
        if w.len() >= GLUED.len() && has_glued_union(w) {
            return tok(T_WORD, W_GLUED, s, e);
        }
        let englishy = w.iter().all(|c| c.is_ascii_alphabetic() || *c == b'\'');
        return tok(T_WORD, if englishy { W_ENGLISHY } else { 0 }, s, e);
    }
    classify_listed(w, called, s, e)
}

/// [`classify_word`] by lookup in the tables.
pub(super) fn classify_listed(w: &[u8], called: bool, s: usize, e: usize) -> Tok {
    let mut buf = [0u8; 40];
    let Some(lw) = lower(w, &mut buf) else {
        return tok(T_WORD, 0, s, e);
    };
    let en = lookup(lw);
    if called && package_call(lw) {
        return tok(T_FUNC, FN_STRONG, s, e);
    }
    if called && en.func != 0 {
        return tok(T_FUNC, en.func, s, e);
    }
    if en.kw.0 != 0 {
        return tok(en.kw.0, en.kw.1, s, e);
    }
    if en.catalog || (lw.contains(&b'.') && is_catalog(lw)) {
        return tok(T_WORD, W_CATALOG, s, e);
    }
    if lw.len() >= GLUED.len() && has_glued_union(lw) {
        return tok(T_WORD, W_GLUED, s, e);
    }
    if !called && en.func == FN_STRONG && lw.len() > 5 {
        return tok(T_WORD, W_STRONG, s, e);
    }
    let englishy = lw.iter().all(|c| c.is_ascii_lowercase() || *c == b'\'');
    tok(T_WORD, if englishy { W_ENGLISHY } else { 0 }, s, e)
}

/// `dbms_pipe.receive_message`, `sys.dbms_lock.sleep`: a procedure of a database package
/// (named by a qualifier part of the dotted word).
fn package_call(lw: &[u8]) -> bool {
    let mut parts = lw.rsplit(|&c| c == b'.');
    parts.next();
    parts.any(|p| lookup(p).package)
}

/// Catalog name, as a whole word or as one of its dot-separated parts (`mysql.user`,
/// `information_schema.tables`, `master..xp_cmdshell`).
pub(super) fn is_catalog(w: &[u8]) -> bool {
    let mut buf = [0u8; 40];
    let Some(lw) = lower(w, &mut buf) else {
        return false;
    };
    if lookup(lw).catalog {
        return true;
    }
    lw.contains(&b'.') && lw.split(|&c| c == b'.').any(|p| lookup(p).catalog)
}

pub(super) fn is_pg_type(w: &[u8]) -> bool {
    let lowercase = w.iter().all(|c| !c.is_ascii_uppercase());
    let uppercase = w.iter().all(|c| !c.is_ascii_lowercase());
    if !(lowercase || uppercase) {
        return false;
    }
    let mut buf = [0u8; 40];
    let Some(lw) = lower(w, &mut buf) else {
        return false;
    };
    PG_TYPES.iter().any(|t| t.as_bytes() == lw)
}

pub(super) const PG_TYPES: &[&str] = &[
    "bigint", "bool", "boolean", "bytea", "double", "float", "float4", "float8", "inet", "int",
    "int2", "int4", "int8", "integer", "json", "jsonb", "numeric", "oid", "real", "regclass",
    "smallint", "text", "varchar",
];

/// System catalog objects and procedures that only appear in SQL against the server itself.
pub(super) const CATALOG: &[&str] = &[
    "all_tab_columns",
    "all_tables",
    "all_users",
    "dba_users",
    "information_schema",
    "msdasql",
    "msdb",
    "msysaccessobjects",
    "msysobjects",
    "msysqueries",
    "msysrelationships",
    "mysql.db",
    "mysql.user",
    "opendatasource",
    "openrowset",
    "pg_catalog",
    "pg_database",
    "pg_shadow",
    "pg_user",
    "rdb$character_sets",
    "rdb$collations",
    "rdb$database",
    "rdb$fields",
    "rdb$functions",
    "rdb$generators",
    "rdb$indices",
    "rdb$procedures",
    "rdb$relation_fields",
    "rdb$relations",
    "rdb$roles",
    "rdb$triggers",
    "rdb$types",
    "rdb$user_privileges",
    "schema_name",
    "sp_addextendedproc",
    "sp_executesql",
    "sp_makewebtask",
    "sp_oacreate",
    "sp_password",
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "syscolumns",
    "sysdatabases",
    "sysobjects",
    "sysusers",
    "tempdb",
    "utl_http",
    "utl_inaddr",
    "xp_cmdshell",
    "xp_dirtree",
    "xp_fileexist",
    "xp_regread",
];

/// Oracle packages whose procedures a probe calls to wait (`dbms_pipe.receive_message`,
/// `dbms_lock.sleep`) or to reach out (`utl_http` is in [`CATALOG`]): a call qualified by one
/// is a strong function wherever it is.
pub(super) const PACKAGES: &[&str] = &[
    "dbms_java",
    "dbms_lock",
    "dbms_pipe",
    "dbms_scheduler",
    "dbms_session",
    "dbms_sql",
    "dbms_xmlgen",
    "user_lock",
];

/// Keywords: (lowercase name, token type, attribute). Sorted by name.
pub(super) const KEYWORDS: &[(&str, u8, u8)] = &[
    ("all", T_KW, K_ALL),
    ("alter", T_STMT, S_DDL),
    ("analyse", T_WORD, W_ANALYSE),
    ("analyze", T_WORD, W_ANALYSE),
    ("and", T_LOGIC, 0),
    ("as", T_KW, K_AS),
    ("between", T_CMP, C_LIKE),
    ("binary", T_OP, O_NOT),
    ("by", T_WORD, W_BY),
    ("call", T_STMT, S_CALL),
    ("collate", T_WORD, W_COLLATE),
    ("create", T_STMT, S_DDL),
    ("database", T_KW, K_TABLE),
    ("declare", T_STMT, S_DECLARE),
    ("delay", T_KW, K_DELAY),
    ("delete", T_STMT, S_DELETE),
    ("distinct", T_KW, K_ALL),
    ("distinctrow", T_KW, K_ALL),
    ("div", T_OP, O_ARITH),
    ("drop", T_STMT, S_DDL),
    ("dumpfile", T_KW, K_OUTFILE),
    ("except", T_UNION, 0),
    ("exec", T_STMT, S_EXEC),
    ("execute", T_STMT, S_EXEC),
    ("exists", T_KW, K_EXISTS),
    ("false", T_NUM, 0),
    ("from", T_KW, K_FROM),
    ("function", T_KW, K_TABLE),
    ("glob", T_CMP, C_LIKE),
    ("group", T_WORD, W_GROUP),
    ("having", T_KW, K_HAVING),
    ("ilike", T_CMP, C_LIKE),
    ("immediate", T_KW, K_IMMEDIATE),
    ("in", T_CMP, C_LIKE),
    ("index", T_KW, K_TABLE),
    ("insert", T_STMT, S_INSERT),
    ("intersect", T_UNION, 0),
    ("into", T_KW, K_INTO),
    ("is", T_CMP, C_IS),
    ("like", T_CMP, C_LIKE),
    ("mod", T_OP, O_ARITH),
    ("not", T_OP, O_NOT),
    ("notnull", T_CMP, C_IS),
    ("null", T_NUM, 0),
    ("or", T_LOGIC, 0),
    ("order", T_WORD, W_ORDER),
    ("outfile", T_KW, K_OUTFILE),
    ("procedure", T_KW, K_PROCEDURE),
    ("regexp", T_CMP, C_LIKE),
    ("replace", T_STMT, S_REPLACE),
    ("rlike", T_CMP, C_LIKE),
    ("schema", T_KW, K_TABLE),
    ("select", T_STMT, S_SELECT),
    ("set", T_STMT, S_SET),
    ("shutdown", T_STMT, S_SHUTDOWN),
    ("similar", T_WORD, W_SIMILAR),
    ("sounds", T_WORD, W_SOUNDS),
    ("table", T_KW, K_TABLE),
    ("to", T_KW, K_TO),
    ("trigger", T_KW, K_TABLE),
    ("true", T_NUM, 0),
    ("truncate", T_STMT, S_TRUNCATE),
    ("union", T_UNION, 0),
    ("update", T_STMT, S_UPDATE),
    ("values", T_KW, K_VALUES),
    ("view", T_KW, K_TABLE),
    ("waitfor", T_STMT, S_WAITFOR),
    ("where", T_KW, K_WHERE),
    ("xor", T_LOGIC, 0),
];

/// Known SQL functions (lowercase, sorted) with a tier: STRONG names are attack-typical and
/// rare outside SQL; WEAK names are ordinary SQL functions that also look like English/code.
pub(super) const FUNCS: &[(&str, u8)] = &[
    ("abs", FN_WEAK),
    ("aes_decrypt", FN_STRONG),
    ("aes_encrypt", FN_STRONG),
    ("ascii", FN_WEAK),
    ("benchmark", FN_STRONG),
    ("bin", FN_WEAK),
    ("cast", FN_WEAK),
    ("ceil", FN_WEAK),
    ("char", FN_WEAK),
    ("char_length", FN_WEAK),
    ("chr", FN_WEAK),
    ("coalesce", FN_WEAK),
    ("compress", FN_WEAK),
    ("concat", FN_WEAK),
    ("concat_ws", FN_STRONG),
    ("conv", FN_WEAK),
    ("convert", FN_WEAK),
    ("cos", FN_WEAK),
    ("count", FN_WEAK),
    ("crc32", FN_WEAK),
    ("current_database", FN_STRONG),
    ("current_user", FN_STRONG),
    ("database", FN_STRONG),
    ("db_name", FN_STRONG),
    ("dblink", FN_STRONG),
    ("decode", FN_WEAK),
    ("div", FN_WEAK),
    ("elt", FN_WEAK),
    ("encode", FN_WEAK),
    ("exp", FN_WEAK),
    ("extractvalue", FN_STRONG),
    ("field", FN_WEAK),
    ("find_in_set", FN_WEAK),
    ("floor", FN_WEAK),
    ("from_base64", FN_WEAK),
    ("geometrycollection", FN_STRONG),
    ("glob", FN_WEAK),
    ("group_concat", FN_STRONG),
    ("gtid_subset", FN_STRONG),
    ("hex", FN_WEAK),
    ("if", FN_WEAK),
    ("ifnull", FN_WEAK),
    ("iif", FN_WEAK),
    ("insert", FN_WEAK),
    ("instr", FN_WEAK),
    ("is_srvrolemember", FN_STRONG),
    ("isnull", FN_WEAK),
    ("json", FN_WEAK),
    ("json_array", FN_WEAK),
    ("json_extract", FN_WEAK),
    ("json_keys", FN_STRONG),
    ("json_search", FN_WEAK),
    ("json_valid", FN_WEAK),
    ("jsonb_pretty", FN_WEAK),
    ("lcase", FN_WEAK),
    ("left", FN_WEAK),
    ("length", FN_WEAK),
    ("likelihood", FN_WEAK),
    ("likely", FN_WEAK),
    ("linestring", FN_STRONG),
    ("lo_export", FN_STRONG),
    ("lo_get", FN_STRONG),
    ("lo_import", FN_STRONG),
    ("load_extension", FN_STRONG),
    ("load_file", FN_STRONG),
    ("locate", FN_WEAK),
    ("lower", FN_WEAK),
    ("lpad", FN_WEAK),
    ("ltrim", FN_WEAK),
    ("make_set", FN_STRONG),
    ("max", FN_WEAK),
    ("md5", FN_WEAK),
    ("mid", FN_WEAK),
    ("min", FN_WEAK),
    ("mod", FN_WEAK),
    ("multipoint", FN_STRONG),
    ("name_const", FN_STRONG),
    ("now", FN_WEAK),
    ("nullif", FN_WEAK),
    ("nvl", FN_WEAK),
    ("oct", FN_WEAK),
    ("ord", FN_WEAK),
    ("overlay", FN_WEAK),
    ("pg_ls_dir", FN_STRONG),
    ("pg_read_file", FN_STRONG),
    ("pg_sleep", FN_STRONG),
    ("pg_sleep_for", FN_STRONG),
    ("pg_sleep_until", FN_STRONG),
    ("pi", FN_WEAK),
    ("polygon", FN_STRONG),
    ("position", FN_WEAK),
    ("pow", FN_WEAK),
    ("power", FN_WEAK),
    ("rand", FN_WEAK),
    ("randomblob", FN_STRONG),
    ("regexp_instr", FN_WEAK),
    ("regexp_like", FN_WEAK),
    ("regexp_replace", FN_WEAK),
    ("regexp_substr", FN_WEAK),
    ("regexp_substring", FN_WEAK),
    ("repeat", FN_WEAK),
    ("replace", FN_WEAK),
    ("reverse", FN_WEAK),
    ("right", FN_WEAK),
    ("round", FN_WEAK),
    ("row", FN_WEAK),
    ("rpad", FN_WEAK),
    ("rtrim", FN_WEAK),
    ("schema", FN_WEAK),
    ("session_user", FN_STRONG),
    ("sha1", FN_WEAK),
    ("sin", FN_WEAK),
    ("sleep", FN_STRONG),
    ("soundex", FN_WEAK),
    ("space", FN_WEAK),
    ("sqlite_compileoption_get", FN_STRONG),
    ("sqlite_compileoption_used", FN_STRONG),
    ("sqlite_version", FN_STRONG),
    ("starts_with", FN_WEAK),
    ("strcmp", FN_WEAK),
    ("string_agg", FN_WEAK),
    ("substr", FN_WEAK),
    ("substring", FN_WEAK),
    ("substring_index", FN_WEAK),
    ("sys_context", FN_STRONG),
    ("sysdate", FN_WEAK),
    ("system_user", FN_STRONG),
    ("to_base64", FN_WEAK),
    ("trim", FN_WEAK),
    ("ucase", FN_WEAK),
    ("uncompress", FN_WEAK),
    ("unhex", FN_STRONG),
    ("unistr", FN_WEAK),
    ("unlikely", FN_WEAK),
    ("updatexml", FN_STRONG),
    ("upper", FN_WEAK),
    ("user", FN_WEAK),
    ("user_name", FN_STRONG),
    ("version", FN_WEAK),
    ("xmltype", FN_STRONG),
];

/// Weak functions that, called with no arguments, are information-gathering SQL.
pub(super) const NILADIC: &[&str] = &[
    "database", "now", "schema", "sysdate", "user", "version", "pi", "rand",
];
